"""run_experiment(): the recipe that trains every (seed, variant) run of an experiment not already finished,
in this process, in worker processes or on Ray, and what it hands back (the run paths and the failures).

    source = task.load(data)                      once per experiment: the corpus, the user's file, ...
    for each seed and data setting: prepared = task.prepare(...)   one split, encoded once, shared by its variants
        for each variant: runner.attempt_run(...)  seed → build → fit → score → save (runner.run_one)

It sits above both runner.py (one run) and executors.py (where runs go), and calls one or the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnbench import rundir
from rnnbench.config import Experiment, RunSpec, task_of
from rnnbench.environment import resolve_device
from rnnbench.errors import RnnbenchError
from rnnbench.events import Event, RunSkipped
from rnnbench.runner import PreparedCache, attempt_run, check_data, ignore


@dataclass
class Outcome:
    """What run_experiment did: the experiment's finished run paths (trained now or before), its failures, and
    the unfinished runs its results folder holds that are none of its runs (started with other settings: their
    checkpoints stay until removed, rundir.remove_unfinished)."""

    paths: list[Path] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    abandoned: list[rundir.Unfinished] = field(default_factory=list)


EXECUTORS = ("local", "ray")


def run_experiment(
    experiment: Experiment,
    source,
    results: Path,
    on_event: Callable[[Event], None] = ignore,
    keep_checkpoint: bool = False,
    jobs: int = 1,
    fit_jobs: bool = False,
    executor: str = "local",
    address: str | None = None,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
    specs: list[RunSpec] | None = None,
) -> Outcome:
    """Train and save every (seed, variant) run not already finished, continuing interrupted ones from their
    checkpoints; return all the experiment's run paths and the runs that failed.

    Where the runs go: this process (`jobs` 1), `jobs` local worker processes, or Ray tasks (`executor` "ray",
    on the cluster at `address`, each run asking for `cpus_per_run` CPUs and `gpus_per_run` GPUs). A run that
    fails (an exception, out of memory) is recorded as failed (rundir.record_failure) and the others go on.
    With `fit_jobs` (`run --jobs auto`), `jobs` is at most the runs left to train, and one run left trains
    in this process, as with `jobs` 1: never a worker with nothing to do, whose share of the threads is lost.
    `specs`: the runs to train, if not the experiment's own (`tune`'s trials and evaluation runs).
    """
    if executor not in EXECUTORS:
        raise RnnbenchError(f"--executor: '{executor}' is not one of {', '.join(EXECUTORS)}")
    device = resolve_device(experiment.device)
    rundir.check_writable(results)
    specs = experiment.run_specs() if specs is None else specs
    finished = [rundir.finished_run(results, spec) for spec in specs]  # damaged runs fail here, before training
    for spec, done in zip(specs, finished):  # and so do damaged checkpoints of the runs still to train
        if done is None:
            rundir.load_checkpoint(results, spec, torch.device("cpu"))
    check_one_data_section(experiment, results)
    check_same_data(experiment.data, source, [path for path in finished if path is not None])
    outcome = Outcome()
    pending = []  # (spec, position), by seed, then by data setting: each seed's data is prepared once per setting
    for seed in dict.fromkeys(spec.seed for spec in specs):
        mine = [(spec, done) for spec, done in zip(specs, finished) if spec.seed == seed]
        for spec, done in mine:
            if done is not None:
                outcome.paths.append(done)
                on_event(RunSkipped(spec, done))
        settings = [spec.data for spec, done in mine if done is None]  # one, unless variants set INPUT_FIELDS
        pending += sorted(
            ((spec, (specs.index(spec) + 1, len(specs))) for spec, done in mine if done is None),
            key=lambda item: settings.index(item[0].data),
        )
    if fit_jobs:
        jobs = min(jobs, len(pending))
    # each data setting's first data, prepared (and so checked) before any run trains: a problem stops here, once
    local = executor == "local" and jobs <= 1  # then its runs reuse the first; workers prepare their own
    firsts = {}  # each setting's first (data, seed), in the order the runs need them
    for spec, _ in pending:
        firsts.setdefault(spec.data.model_dump_json(), (spec.data, spec.seed))
    needed = list(firsts.values())
    first = check_data(needed, source, device if local else torch.device("cpu"), on_event if local else ignore)
    if not pending:
        attempts = (attempt for attempt in ())
    elif executor == "ray":
        from rnnbench.executors import run_on_ray

        attempts = run_on_ray(pending, results, source, on_event, keep_checkpoint, address, cpus_per_run, gpus_per_run)
    elif jobs > 1:
        from rnnbench.executors import run_in_pool

        attempts = run_in_pool(pending, results, source, on_event, keep_checkpoint, jobs, torch.get_num_threads())
    else:
        cache = PreparedCache(device, (*needed[0], first))
        attempts = (
            attempt_run(spec, results, source, cache, on_event, position, keep_checkpoint) for spec, position in pending
        )
    try:
        with contextlib.closing(attempts):  # Ctrl-C here closes the executor too: its workers stop at once
            for attempt in attempts:
                if attempt.status in ("finished", "skipped"):
                    outcome.paths.append(attempt.path)
                elif attempt.status == "failed":
                    outcome.failures.append(
                        Failure(
                            attempt.spec, attempt.error, rundir.failure_path(results, attempt.spec), attempt.repeats
                        )
                    )
    finally:
        rundir.tidy(results, experiment.name)  # no lock left behind, nor an empty .incomplete/
    outcome.abandoned = rundir.abandoned_runs(results, experiment.name, specs)
    return outcome


@dataclass(frozen=True)
class Failure:
    """A run that failed: its spec, the error in one line, the file that records it with its traceback, and
    whether a retry repeats the failure (a problem of the data or settings) or may go otherwise (a crash, a worker
    killed, out of memory)."""

    spec: RunSpec
    error: str
    record: Path
    repeats: bool = False


def check_one_data_section(experiment: Experiment, results: Path) -> None:
    """Refuse, before any training, to add runs to an experiment whose finished runs were trained on other data
    settings (other languages, another split, another file): one experiment's table, its statistics and the run
    `predict` picks from it must compare runs that answer the same question on the same splits."""
    inputs = task_of(experiment.data).INPUT_FIELDS  # a variant may set these: they leave the splits as they are
    for record in rundir.find_runs(results, experiment.name)[0]:  # damaged ones are compare's to report
        now, then = experiment.data.model_dump(mode="json"), record.spec.data.model_dump(mode="json")
        fields = [
            f"data.{key}" for key in sorted(set(now) | set(then)) if now.get(key) != then.get(key) and key not in inputs
        ]
        if fields:
            raise RnnbenchError(
                f"{record.path}: a run of experiment '{experiment.name}' on other data settings "
                f"({', '.join(fields)}); an experiment's runs share one data section, so its table "
                "compares like with like: name this one otherwise (--set name=...) or move those "
                "results away"
            )


def check_same_data(data, source, paths: list[Path]) -> None:
    """Refuse, before any training, to reuse finished runs trained on other data than `source` (a CSV edited in
    place, say): their key hashes the settings, not the file's contents."""
    now = task_of(data).fingerprint(data, source)
    for path in paths:
        recorded = rundir.load_run(path).data
        changed = [key for key, value in now.items() if recorded.get(key) != value]  # not recorded: not known the same
        if changed:
            key = changed[0]
            then = str(recorded[key])[:12] if key in recorded else "not recorded"
            raise RnnbenchError(
                f"{path}: trained on other data ({key} {then}, now {str(now[key])[:12]}): "
                "the data changed since (a file edited in place, or data an older rnnbench drew "
                "otherwise); rename the experiment (--set name=...) or move its results away to "
                "train on today's data"
            )
