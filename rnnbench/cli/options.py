"""The options several commands share, and the choices they offer.

Choices are enums where --help should list them and cost nothing to list; `--metric`'s names come from the tasks
(compare.COMPARABLE), which import torch, so they are read only when a value is checked or completed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnbench.errors import UsageError


# Choices as enums, so that --help lists them and shell completion offers them. Each mirrors what the code behind
# it takes (a test keeps them equal); reading those instead would import torch or pandas for --help.
class Format(str, Enum):  # --format of every command that prints results; --json is short for --format json
    table = "table"
    json = "json"


class CompareFormat(str, Enum):  # "table", then compare.RENDERERS
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"


class PredictFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Executor(str, Enum):  # sweep.EXECUTORS
    local = "local"
    ray = "ray"


class MultiLanguage(str, Enum):  # the names task's data.multi_language
    drop = "drop"
    keep = "keep"


class Split(str, Enum):  # the names task's data.split
    by_name = "by_name"
    leaky = "leaky"


class LazyChoice:
    """A choice among names that cost an import to read (`names()`, called only when needed): as an option's
    parser it checks a value given, failing as a bad enum choice does, and `complete` offers the names to shell
    completion. --help, which checks nothing, never calls it."""

    def __init__(self, names: Callable[[], Sequence[str]]):
        self.names = names

    def __call__(self, value: str) -> str:
        names = self.names()
        if value not in names:
            raise ValueError(f"{value!r} is not one of {', '.join(map(repr, names))}.")
        return value

    def complete(self, incomplete: str) -> list[str]:
        return [name for name in self.names() if name.startswith(incomplete)]


def _comparable() -> tuple[str, ...]:
    from rnnbench.compare import COMPARABLE

    return COMPARABLE


METRIC = LazyChoice(_comparable)

ResultsOption = Annotated[Path, typer.Option("--results", metavar="DIR", help="Folder that holds run directories.")]
DataDirOption = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Folder with the names corpus (DIR/names/*.txt or DIR/*.txt). "
        "Default: $RNNBENCH_DATA_DIR, else a per-user cache filled by a verified download.",
    ),
]
ThreadsOption = Annotated[
    Optional[int],
    typer.Option(
        "--threads",
        metavar="N",
        min=1,
        help="CPU threads torch trains with (recorded in each run). Default: "
        "$RNNBENCH_THREADS, else $OMP_NUM_THREADS, else the free cores (the cores less those other processes keep "
        "busy now, at least 1).",
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table, for reading, or json, for programs.")]
JsonOption = Annotated[bool, typer.Option("--json", help="The same as --format json.")]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a field before validation, e.g. train.max_epochs=2. Repeatable."
    ),
]
MetricOption = Annotated[
    Optional[str],
    typer.Option(
        "--metric",
        metavar="METRIC",
        parser=METRIC,
        autocompletion=METRIC.complete,
        help="The score variants are compared on (a name from the tasks' scores, e.g. test_accuracy, test_rmse, "
        "validation_loss; a wrong name lists them all). Default: the task's first column (test accuracy; test "
        "RMSE for a regressor).",
        show_default=False,
    ),
]

# where runs train: `run` and `tune`
JobsOption = Annotated[
    Optional[str],
    typer.Option(
        "--jobs",
        "-j",
        metavar="N|auto",
        show_default="auto",
        help=(
            "Train N runs at once in worker processes (at most one per core), each with its share of the threads "
            "(--threads ÷ N, at least 1). auto: one per free core, no more than the threads (--threads, "
            "$RNNBENCH_THREADS or $OMP_NUM_THREADS, if set) nor the runs left to train; one run left trains in "
            "this process, as with 1. Same metrics as one at a time with that thread count."
        ),
    ),
]
ExecutorOption = Annotated[
    Executor,
    typer.Option("--executor", help="local (this machine) or ray (one Ray task per run; needs rnnbench\\[ray])."),
]
AddressOption = Annotated[
    Optional[str],
    typer.Option(
        "--address",
        metavar="HOST:PORT",
        help=(
            "With --executor ray: the cluster to join (host:port, or auto for the one `ray start` runs here). "
            "Default: $RAY_ADDRESS, else a new local Ray."
        ),
    ),
]
CpusPerRunOption = Annotated[
    float,
    typer.Option(
        "--cpus-per-run",
        metavar="N",
        min=0.01,
        help="With --executor ray: CPUs each run asks for (its torch threads).",
    ),
]
GpusPerRunOption = Annotated[
    float,
    typer.Option(
        "--gpus-per-run",
        metavar="N",
        min=0,
        help="With --executor ray: GPUs each run asks for; a fraction (0.25) lets small runs share one.",
    ),
]


def parse_jobs(text: str) -> int | str:
    """--jobs as given: a whole number of worker processes (1 or more), or "auto". Example: ' 02' -> 2."""
    text = text.strip().lower()
    if text == "auto":
        return text
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise UsageError(f"--jobs: a whole number of worker processes (1 or more) or auto (got {text!r})")
    return int(text)


def check_placement(
    jobs: int | str | None, executor: str, threads: int | None, address, cpus_per_run: float, gpus_per_run: float
) -> None:
    """Refuse options that belong to the other executor (`jobs`: as typed, None if not)."""
    ray_only = [
        flag
        for flag, given in (
            ("--address", address is not None),
            ("--cpus-per-run", cpus_per_run != 1),
            ("--gpus-per-run", gpus_per_run != 0),
        )
        if given
    ]
    if ray_only and executor != "ray":
        raise UsageError(f"{', '.join(ray_only)}: only with --executor ray")
    if executor == "ray" and (jobs not in (None, 1) or threads is not None):
        raise UsageError(
            f"{'--jobs' if jobs not in (None, 1) else '--threads'}: for --executor local; on Ray, each run's "
            "threads are its --cpus-per-run, and as many run at once as the cluster has room for"
        )
