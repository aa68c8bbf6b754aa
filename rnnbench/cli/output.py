"""What every command prints through, and how it ends: the two consoles (results on stdout; progress, notes and
errors on stderr), JSON for programs, --format with --json as its other spelling, and `reported`, which turns
RnnbenchError into one line on stderr and its exit code, Ctrl-C into a short note and a closed pipe into a quiet
exit 0. Commands write through these consoles (or terminal.py's tables and progress bars); nothing below the
CLI writes to the terminal.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from contextlib import contextmanager
from enum import Enum

import typer
from rich.console import Console
from rich.markup import escape

from rnnbench import views
from rnnbench.errors import RnnbenchError, UsageError


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader of the output went away (`rnnbench compare | head -1`): as `reported` does, stop quietly with
        exit status 0 (rich's own choice is 1)."""
        raise BrokenPipeError


# Piped output (CI logs, files) gets 200 columns rather than rich's default 80, so tables keep their natural
# width (a table never grows wider than its contents) and no cell is cut.
def _width(stream) -> int | None:
    return None if stream is not None and stream.isatty() else 200  # stdout is None when the shell closed it (>&-)


out = _Console(width=_width(sys.stdout))  # results: tables, JSON, predictions
err = _Console(stderr=True, width=_width(sys.stderr))  # progress, notes and errors


def say(text: str) -> None:
    """A line of results on stdout, printed as written: no markup, no highlighting, never wrapped."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def note(text: str) -> None:
    """A line for the reader on stderr (where it is, what was skipped or assumed), printed as written."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def skipped(what: str) -> None:
    """A run directory (or export) passed over, on stderr: 'skipped:' in yellow, then `what` as written."""
    err.print(f"[yellow]skipped:[/yellow] {escape(what)}", highlight=False, soft_wrap=True)


def output_format(chosen: Enum, as_json: bool) -> str:
    """--format, with --json as its other spelling: 'json' if either asks for it. Example: (Format.table, True) ->
    'json'; --json with another --format is a usage error."""
    if as_json and chosen.value not in ("table", "json"):
        raise UsageError(f"--json: the same as --format json; give one of them (got --format {chosen.value} too)")
    return "json" if as_json else chosen.value


def print_json(value) -> None:
    """Results for programs: strict JSON (views.to_json) on stdout, one document per command."""
    sys.stdout.write(views.to_json(value) + "\n")


def reported(command):
    """Turn RnnbenchError into one red line on stderr and its exit code; Ctrl-C into a short note; a closed pipe
    (output piped into `head`) into a quiet exit 0."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            result = command(*args, **kwargs)
            sys.stdout.flush()  # here, so that a closed pipe is caught below rather than at exit
            return result
        except RnnbenchError as error:
            for line in str(error).splitlines():
                err.print(f"[red]error:[/red] {escape(line)}", highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM where a command turns it into Stopped
            err.print("interrupted: finished runs are kept; run the same command again to resume", markup=False)
            raise typer.Exit(getattr(stop, "exit_code", 130)) from None
        except BrokenPipeError:  # the reader went away (`rnnbench compare | head -1`): not a failure
            raise closed_pipe() from None
        except OSError as error:  # the output cannot be written: a full disk (> /dev/full), a closed stdout
            closed_pipe()  # nothing more can go there, at exit either
            FAILED.append(error)  # a real failure, although stdout is now the null device (see cli.entry)
            err.print(
                f"[red]error:[/red] cannot write the output ({escape(error.strerror or str(error))})", highlight=False
            )
            raise typer.Exit(1) from None

    return wrapper


class Stopped(KeyboardInterrupt):
    """SIGTERM, which `run` handles as Ctrl-C: a KeyboardInterrupt (so that everything Ctrl-C stops, it stops), with
    the exit status of a process ended by that signal (128 + 15)."""

    exit_code = 143


FAILED: list[OSError] = []  # output that could not be written for another reason than a closed pipe


def stdout_is_null() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (AttributeError, OSError, ValueError):  # no stdout (closed by the shell)
        return False


def closed_pipe() -> typer.Exit:
    """What a command that finds its output's reader gone ends with: stdout pointed at the null device (so that
    the flush at exit cannot fail again) and exit status 0."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no stdout at all
        pass
    return typer.Exit(0)


@contextmanager
def sigterm_as_ctrl_c():
    """SIGTERM raises Stopped (a KeyboardInterrupt) here, so that `run` stops as Ctrl-C stops it: its workers are
    stopped, checkpoints kept, and the same line says how to resume (exit status 143). Further SIGTERMs are
    ignored meanwhile, so that a scheduler's second one cannot cut that short (SIGKILL still can)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Stopped()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
