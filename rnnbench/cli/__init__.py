"""The `rnnbench` command: parse arguments, call one function, render its result.

This package is the only part that exits, and with terminal.py (its tables and progress) the only one that
prints. One module per command or group of commands (validate, run, results, predict, data, export, clean), each
command a typed function; output.py holds what they all print through and `reported`, which every command is registered
with: domain code raises RnnbenchError, and here it becomes one line on stderr and a non-zero exit (2 for an
invalid experiment file), never a traceback.

Commands import what they use when they run (torch, pandas and scipy take seconds to import), so that
`rnnbench --help` and a mistyped command answer at once.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Annotated

import typer

from rnnbench.cli import clean, data, export, predict, results, run, tune, validate
from rnnbench.cli.output import FAILED, closed_pipe, out, reported, stdout_is_null
from rnnbench.version import version as installed_version


class _FlagsTakeNoValue:
    """Help that shows a flag (--json, --help) with no value after it: typer 0.29 writes `--json <bool>`, which
    reads as if it took one (and `predict X --json true` then predicts the name "true")."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""  # only what help shows; parsing is unchanged
        return params


class _Command(_FlagsTakeNoValue, typer.core.TyperCommand):
    def __init__(self, *args, **kwargs):
        """A docstring's lines joined into paragraphs, so that help wraps them to the terminal's width (typer keeps
        each line break, which ends lines raggedly)."""
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(self.help).split("\n\n"))


class _Group(_FlagsTakeNoValue, typer.core.TyperGroup):
    pass


app = typer.Typer(
    cls=_Group,
    help="Compare RNN, GRU and LSTM models, uni- or bidirectional, from one experiment YAML.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # subcommands inherit it
)


def version_callback(value: bool):
    if value:
        try:
            out.print(f"rnnbench {installed_version()}")
            sys.stdout.flush()
        except BrokenPipeError:
            raise closed_pipe() from None
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
):
    """rnnbench: honest, fast, reproducible RNN / GRU / LSTM comparisons."""


data_app = typer.Typer(cls=_Group, help="Look at a dataset before training on it.", no_args_is_help=True)
export_app = typer.Typer(cls=_Group, help="Send finished runs to MLflow or TensorBoard.", no_args_is_help=True)

# In the order --help lists them.
for group, name, command in (
    (app, "validate", validate.validate),
    (app, "run", run.run),
    (app, "tune", tune.tune),
    (app, "params", validate.params),
    (app, "compare", results.compare),
    (app, "predict", predict.predict),
    (app, "show", results.show),
    (app, "report", results.report),
    (app, "clean", clean.clean),
    (data_app, "names", data.names),
    (export_app, "mlflow", export.mlflow),
    (export_app, "tensorboard", export.tensorboard),
):
    group.command(name, cls=_Command)(reported(command))
app.add_typer(data_app, name="data")
app.add_typer(export_app, name="export")


def entry() -> None:
    """The `rnnbench` program: the app, except that output cut short by its reader (`rnnbench --help | head -1`)
    exits 0, as `reported` makes every command do. Help and usage are printed by typer, whose consoles exit 1
    there, pointing stdout at the null device first: that change (from something else) is the sign."""
    for name in ("stdout", "stderr"):  # closed by the shell (`>&-`): what would go there goes nowhere
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
    was_null = stdout_is_null()
    try:
        app(prog_name="rnnbench")
    except SystemExit as done:
        if done.code == 1 and not was_null and stdout_is_null() and not FAILED:
            raise SystemExit(0) from None
        raise
