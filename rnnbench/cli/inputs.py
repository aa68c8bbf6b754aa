"""What commands read before they work, with what the reader should see meanwhile: a task's data source (a
progress bar while the names corpus downloads), the finished runs of a results folder (damaged ones listed
as skipped) and its unfinished ones (a line on those no `run` will resume)."""

from __future__ import annotations

import os
import shlex
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
        others, runs = runs, [run for run in runs if run.spec.experiment == experiment]
        if not runs and others:  # a name mistyped, most likely: say which are there
            raise RnnbenchError(
                f"{results}: no finished runs of experiment '{experiment}'{rundir.experiment_hint(experiment, others)}"
            )
    if not runs:
        raise RnnbenchError(
            f"{results}: no finished runs"
            + (f" of experiment '{experiment}'" if experiment else "")
            + "; run one first: rnnbench run EXPERIMENT.yaml"
        )
    return runs


def clean_command(experiment_file: Path, overrides: list[str], results: Path) -> str:
    """The `rnnbench clean` command for an experiment file as `run` was given it. Example: (experiments/x.yaml, [],
    results) -> 'rnnbench clean experiments/x.yaml'."""
    words = [str(experiment_file)] + [word for override in overrides for word in ("--set", override)]
    words += ["--results", str(results)] if Path(results) != Path("results") else []
    return f"rnnbench clean {shlex.join(words)}"


def note_abandoned(results: Path, experiment: str, runs: list, experiment_file: Path, overrides: list[str]) -> None:
    """One line on stderr about `runs`, unfinished runs of `experiment` started with other settings than its file
    (`experiment_file` with `overrides`) has now: nothing resumes them, and how to remove them."""
    if runs:
        note(
            f"note: {_count(runs)} whose settings no longer match any variant of {experiment_file}: "
            f"{_listed(results, experiment, runs)} (in {Path(results) / experiment / '.incomplete'}); remove "
            f"{'it' if len(runs) == 1 else 'them'} with: {clean_command(experiment_file, overrides, results)}"
        )


def note_unfinished(results: Path, experiment: str) -> None:
    """One line on stderr about the unfinished runs (checkpoints, failure records) of `experiment`, which a table of
    finished runs leaves out: how to finish them or remove them. Nothing if it has none."""
    from rnnbench import rundir

    runs = rundir.unfinished_runs(results, experiment)
    if runs:
        note(
            f"note: {Path(results) / experiment / '.incomplete'}: {_count(runs)}, not in the table: "
            f"{_listed(results, experiment, runs)}; `rnnbench run EXPERIMENT.yaml` (`tune`, for its tuning) resumes "
            "those the file still has, `rnnbench clean EXPERIMENT.yaml` removes the others"
        )


def _count(runs: list) -> str:
    return f"{len(runs)} unfinished run{'s' if len(runs) != 1 else ''}"


def _listed(results: Path, experiment: str, runs: list, shown: int = 3) -> str:
    """Unfinished runs by variant and key where a finished run has that key (a variant's other seeds), else by key.
    Example: 'gru-uni-1x64@33d36dc6 seed 1, 1a2b3c4d seed 0 and 2 more'."""

    def name(run) -> str:
        folders = sorted((Path(results) / experiment).glob(f"*-{run.key}"))
        return f"{folders[0].name.removesuffix(f'-{run.key}')}@{run}" if folders else str(run)

    listed = ", ".join(name(run) for run in runs[:shown])
    return listed + (f" and {len(runs) - shown} more" if len(runs) > shown else "")


def worker_count(jobs: int | str, threads: int | None, said: bool) -> int:
    """How many worker processes at most: --jobs N, never more than the cores; auto, one per thread this process
    would compute with (`threads`, environment.thread_count's: the free cores unless --threads,
    $RNNBENCH_THREADS or $OMP_NUM_THREADS say), so that the workers, one thread each, never run more threads
    than the process alone would. Where auto runs fewer than the cores, a note says so if `said` (typed)."""
    cores = os.cpu_count() or 1
    if jobs == "auto":
        omp = os.environ.get("OMP_NUM_THREADS", "").strip()
        budget = threads or (int(omp) if omp.isdigit() and int(omp) >= 1 else cores)
        workers = max(1, min(budget, cores))
        if said and workers < cores:
            note(
                f"note: --jobs auto: {workers} of {cores} cores free (other processes busy now, or --threads, "
                f"$RNNBENCH_THREADS or $OMP_NUM_THREADS); running {workers} at once"
            )
        return workers
    if jobs > cores:
        note(
            f"note: --jobs {jobs}: this machine has {cores} cores; running {cores} at once (more would only "
            "slow each other down)"
        )
        jobs = cores
    return jobs


def where_to_train(
    jobs: int | str,
    jobs_given: bool,
    executor: str,
    threads: int | None,
    address: str | None,
    cpus_per_run: float,
    gpus_per_run: float,
) -> tuple[int | None, dict]:
    """(the threads this process computes with, run_experiment's arguments saying where runs train) for `run` and
    `tune`: --jobs as worker processes here (auto: one per free thread, worker_count), or one Ray task per run
    (Ray required before any data is read). `jobs`: parse_jobs's; torch's threads are set later (use_threads),
    once the data is read."""
    from rnnbench.environment import thread_count

    threads = thread_count(threads)  # the free cores unless asked otherwise (None: $OMP_NUM_THREADS says), read once
    workers = worker_count(jobs, threads, said=jobs_given) if executor == "local" else 1
    if executor == "ray":
        from rnnbench.executors import require_ray

        require_ray()  # before any data is read
    return threads, {
        "jobs": workers,
        "fit_jobs": jobs == "auto",
        "executor": executor,
        "address": address,
        "cpus_per_run": cpus_per_run,
        "gpus_per_run": gpus_per_run,
    }
