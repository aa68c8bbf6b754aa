"""What commands read before they work, with what the reader should see meanwhile: a task's data source (a
progress bar while the names corpus downloads) and the finished runs of a results folder (damaged ones listed
as skipped)."""

from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from rnnbench.cli.output import err, note, skipped
from rnnbench.errors import RnnbenchError


def source(data, data_dir: Path | None):
    """What the experiment's task learns from, read and checked before any training, with a progress bar if the
    names corpus has to be downloaded."""
    from rnnbench.config import task_of  # not runner.load_source, the same call: the runner imports torch

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:  # off a terminal, no bar (nor the blank line it leaves)
        download = None

        def show_download(done: int, total: int | None):
            nonlocal download
            if download is None:
                download = bar.add_task("downloading the names corpus", total=total)
            bar.update(download, completed=done)

        found, said = task_of(data).load(data, data_dir, on_download=show_download)
    if said:
        note(said)
    return found


def finished_runs(results: Path, experiment: str | None = None, unreadable: list[str] | None = None) -> list:
    """The finished runs under `results` (of one experiment, if named); damaged run directories are listed as
    skipped (and added to `unreadable`, if given) and left alone."""
    from rnnbench import rundir

    if not Path(results).is_dir():
        raise RnnbenchError(f"{results}: no such results folder; run an experiment first or pass --results DIR")
    runs, problems = rundir.find_runs(results)
    for problem in problems:
        skipped(problem)
    if unreadable is not None:
        unreadable += problems
    if experiment is not None:
        runs = [run for run in runs if run.spec.experiment == experiment]
    if not runs:
        raise RnnbenchError(
            f"{results}: no finished runs"
            + (f" of experiment '{experiment}'" if experiment else "")
            + "; run one first: rnnbench run EXPERIMENT.yaml"
        )
    return runs
