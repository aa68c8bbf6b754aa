"""run_one(): the only code that seeds, builds, trains, scores and saves a run, for every task; and
run_experiment(), the recipe that calls it for every (seed, variant) not already finished.

    source = task.load(data)                      once per experiment: the corpus, the user's file, ...
    for each seed and data setting: prepared = task.prepare(...)   one split, encoded once, shared by its variants
        for each variant: run_one(spec, ...)       seed → build → fit → score → save → RunRecord

attempt_run wraps run_one for one pending run (skip it if finished, leave it if another process holds it, record
it as failed if it raises); it takes picklable arguments and returns a small Attempt, so that the loop here, a
pool of worker processes and Ray tasks (executors.py) all run every run through the same code.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnbench import metrics, rundir
from rnnbench.config import Experiment, RunSpec, task_of
from rnnbench.environment import environment_record, peak_memory_mb, resolve_device
from rnnbench.errors import RnnbenchError
from rnnbench.events import DataPrepared, EpochFinished, Event, RunBusy, RunFailed, RunFinished, RunSkipped, RunStarted
from rnnbench.train import fit


def ignore(event: Event) -> None:
    pass


def load_source(data, data_dir: Path | None = None, on_download=None) -> tuple[object, str | None]:
    """(what the task learns from, a line saying where it came from): read and checked before anything trains."""
    return task_of(data).load(data, data_dir, on_download)


def prepare_seed(data, source, seed: int, device: torch.device, on_event: Callable[[Event], None] = ignore):
    """One seed's data for the task, announced with a DataPrepared event."""
    task = task_of(data)
    prepared = task.prepare(data, source, seed, device)
    table = task.data_table(prepared.report, f"data (seed {seed})")
    on_event(DataPrepared(seed, device, task.describe(prepared.sizes, prepared.report), table, torch.get_num_threads()))
    return prepared


@dataclass
class Outcome:
    """What run_experiment did: the experiment's finished run paths (trained now or before) and its failures."""

    paths: list[Path] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class Attempt:
    """What became of one run: "finished" (trained now, `path`), "skipped" (finished before, `path`), "busy"
    (another process is training it) or "failed" (`error`, one line, and the traceback in `details`)."""

    spec: RunSpec
    status: str
    path: Path | None = None
    error: str | None = None
    details: str | None = None


EXECUTORS = ("local", "ray")


def run_experiment(
    experiment: Experiment,
    source,
    results: Path,
    on_event: Callable[[Event], None] = ignore,
    keep_checkpoint: bool = False,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
) -> Outcome:
    """Train and save every (seed, variant) run not already finished, continuing interrupted ones from their
    checkpoints; return all the experiment's run paths and the runs that failed.

    Where the runs go: this process (`jobs` 1), `jobs` local worker processes, or Ray tasks (`executor` "ray",
    on the cluster at `address`, each run asking for `cpus_per_run` CPUs and `gpus_per_run` GPUs). A run that
    fails (an exception, out of memory) is recorded as failed (rundir.record_failure) and the others go on.
    """
    if executor not in EXECUTORS:
        raise RnnbenchError(f"--executor: '{executor}' is not one of {', '.join(EXECUTORS)}")
    device = resolve_device(experiment.device)
    rundir.check_writable(results)
    specs = experiment.run_specs()
    finished = [rundir.finished_run(results, spec) for spec in specs]  # damaged runs fail here, before training
    for spec, done in zip(specs, finished):  # and so do damaged checkpoints of the runs still to train
        if done is None:
            rundir.load_checkpoint(results, spec, torch.device("cpu"))
    check_one_data_section(experiment, results)
    check_same_data(experiment.data, source, [path for path in finished if path is not None])
    outcome = Outcome()
    pending = []  # (spec, position), by seed, then by data setting: each seed's data is prepared once per setting
    for seed in experiment.seeds:
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
    if not pending:
        attempts = (attempt for attempt in ())
    elif executor == "ray":
        from rnnbench.executors import run_on_ray

        attempts = run_on_ray(pending, results, source, on_event, keep_checkpoint, address, cpus_per_run, gpus_per_run)
    elif jobs > 1:
        from rnnbench.executors import run_in_pool

        attempts = run_in_pool(pending, results, source, on_event, keep_checkpoint, jobs, torch.get_num_threads())
    else:
        cache = PreparedCache(device)
        attempts = (
            attempt_run(spec, results, source, cache, on_event, position, keep_checkpoint) for spec, position in pending
        )
    with contextlib.closing(attempts):  # Ctrl-C here closes the executor too: its workers stop at once
        for attempt in attempts:
            if attempt.status in ("finished", "skipped"):
                outcome.paths.append(attempt.path)
            elif attempt.status == "failed":
                outcome.failures.append(
                    Failure(attempt.spec, attempt.error, rundir.failure_path(results, attempt.spec))
                )
    return outcome


@dataclass(frozen=True)
class Failure:
    """A run that failed: its spec, the error in one line, and the file that records it with its traceback."""

    spec: RunSpec
    error: str
    record: Path


class PreparedCache:
    """The data of the last (data setting, seed) prepared, for the runs that share it: a process prepares each
    seed's data once per data setting, as run_experiment orders the runs."""

    def __init__(self, device: torch.device):
        self.device, self.key, self.prepared = device, None, None

    def get(self, data, source, seed: int, on_event: Callable[[Event], None]):
        key = (data.model_dump_json(), seed)
        if key != self.key:
            self.key, self.prepared = None, None  # the previous one is freed first: one at a time in memory
            self.prepared = prepare_seed(data, source, seed, self.device, on_event)
            self.key = key
        return self.prepared


class _FromHandler(Exception):
    """An exception raised by the caller's event handler (a test interrupting a run, say): not the run's own."""


def attempt_run(
    spec: RunSpec,
    results: Path,
    source,
    cache: PreparedCache,
    on_event: Callable[[Event], None],
    position: tuple[int, int],
    keep_checkpoint: bool = False,
) -> Attempt:
    """Train and save one run unless it is finished or another process holds it; an exception of the run's own
    (a bug, out of memory, data a variant's settings cannot read) is recorded as its failure and returned, so
    that the experiment's other runs go on. Ctrl-C (KeyboardInterrupt) and the handler's exceptions propagate."""

    def forward(event: Event) -> None:
        try:
            on_event(event)
        except Exception as error:
            raise _FromHandler() from error

    with rundir.claim(results, spec) as mine:  # several `run` processes on one folder share the work
        done = rundir.finished_run(results, spec)  # another process may have finished it since
        if done is not None:
            on_event(RunSkipped(spec, done))
            return Attempt(spec, "skipped", done)
        if not mine:
            on_event(RunBusy(spec))
            return Attempt(spec, "busy")
        try:
            prepared = cache.get(spec.data, source, spec.seed, forward)
            record = run_one(
                spec,
                results,
                source,
                prepared=prepared,
                on_event=forward,
                position=position,
                keep_checkpoint=keep_checkpoint,
            )
        except _FromHandler as handler:
            raise handler.__cause__ from None
        except rundir.AlreadyFinished as finished:  # a process without locks (another system) finished it first
            on_event(RunSkipped(spec, finished.path))
            return Attempt(spec, "skipped", finished.path)
        except rundir.WriteError:  # the results folder cannot be written: no other run could be saved either
            raise
        except Exception as error:  # noqa: BLE001 - recorded, reported, and the other runs go on
            return failed(results, spec, describe_failure(error), traceback.format_exc(), on_event)
        rundir.clear_failure(results, spec)
        return Attempt(spec, "finished", record.path)


def failed(results: Path, spec: RunSpec, error: str, details: str | None, on_event: Callable[[Event], None]) -> Attempt:
    """A run's failure: recorded beside its checkpoint (rundir.record_failure), announced, and returned."""
    record = rundir.record_failure(results, spec, error, details)
    on_event(RunFailed(spec, error, record))
    return Attempt(spec, "failed", error=error, details=details)


def describe_failure(error: BaseException) -> str:
    """One line for a run's failure: the message of an rnnbench error, else the exception's type and message
    (out of memory named as such)."""
    if isinstance(error, RnnbenchError):
        return str(error).splitlines()[0]
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    if isinstance(error, MemoryError) or any(
        sign in text.lower() for sign in ("out of memory", "can't allocate memory")
    ):
        return f"out of memory ({text})"
    return text


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


def run_one(
    spec: RunSpec,
    results: Path,
    source,
    *,
    prepared=None,
    on_event: Callable[[Event], None] = ignore,
    position: tuple[int, int] = (1, 1),
    keep_checkpoint: bool = False,
) -> rundir.RunRecord:
    """Seed, build, fit, score and save one run; return its record. Without `prepared`, the seed's data is
    prepared here from `source` (what the task's load returned).

    Each epoch leaves a checkpoint (rundir.save_checkpoint); a run interrupted mid-training continues from it
    and ends as the uninterrupted run would have. The finished run deletes it, or keeps it as checkpoint.pt."""
    task = task_of(spec.data)
    device = resolve_device(spec.device)
    if prepared is None:
        prepared = task.prepare(spec.data, source, spec.seed, device)
    torch.manual_seed(spec.seed)  # the same seed gives every variant the same init stream and batch order
    architecture, arguments = task.build(spec.model, prepared)
    model = task.MODELS[architecture](**arguments).to(device)
    parameters = metrics.count_parameters(model)
    resume = rundir.load_checkpoint(results, spec, device)
    on_event(RunStarted(spec, *position, parameters, resumed=len(resume["history"]) if resume else 0))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train = spec.train
    watch = ("train_loss", "min") if train.stop_on == "train_loss" else task.watch(spec.data)
    result = fit(
        model,
        prepared.tensors["train"],
        prepared.tensors["validation"],
        learning_rate=train.learning_rate,
        batch_size=train.batch_size,
        max_epochs=train.max_epochs,
        patience=train.patience,
        grad_clip=train.grad_clip,
        weight_decay=train.weight_decay,
        restore_best=train.restore_best,
        generator=torch.Generator().manual_seed(spec.seed),
        score=task.validator(prepared),
        watch=watch,
        on_epoch=lambda row: on_event(EpochFinished(spec, row)),
        resume=resume,
        on_checkpoint=lambda state: rundir.save_checkpoint(results, spec, state),
        bucketed=train.batching == "bucketed",
    )
    memory, memory_kind = peak_memory_mb(device)
    # a diverged model's answers mean nothing: it is recorded, with its history, but never scored
    scores, files = task.score(model, prepared, spec) if result.diverged is None else ({}, {})
    run_metrics = {
        "task": spec.data.dataset,
        "experiment": spec.experiment,
        "variant": spec.variant,
        "variant_key": spec.variant_key(),
        "seed": spec.seed,
        "architecture": architecture,
        "parameters": parameters,
        "parameter_breakdown": metrics.parameter_breakdown(model),
        "hidden_size": arguments.get("hidden_size", spec.model.hidden_size),
        "param_budget": spec.model.param_budget,
        **scores,
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "watched": watch[0],
        **({"diverged": result.diverged} if result.diverged else {}),
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.train_seconds / len(result.history),
        "peak_memory_mb": memory,
        "peak_memory_kind": memory_kind,
        "data": prepared.sizes,
        "environment": environment_record(device, spec.seed)
        | ({"resumed_after_epoch": len(resume["history"])} if resume else {}),
    }
    model_info = {
        "task": spec.data.dataset,
        "architecture": architecture,
        "arguments": arguments,
        **task.model_info(prepared, spec.data),
    }
    path = rundir.save_run(
        results,
        spec,
        history=result.history,
        metrics=run_metrics,
        state_dict=model.state_dict(),
        model_info=model_info,
        data_report=prepared.report,
        predictions=files.get("predictions"),
        keep_checkpoint=keep_checkpoint,
    )
    on_event(RunFinished(spec, path, run_metrics))
    return rundir.load_run(path)
