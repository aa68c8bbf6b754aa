"""run_one(): the only code that seeds, builds, trains, scores and saves a run, for every task:
seed → build → fit → score → save → RunRecord. sweep.run_experiment calls it for every (seed, variant) not already
finished.

attempt_run wraps run_one for one pending run (skip it if finished, leave it if another process holds it, record
it as failed if it raises); it takes picklable arguments and returns a small Attempt, so that sweep.py's loop, a
pool of worker processes and Ray tasks (executors.py) all run every run through the same code.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnbench import metrics, rundir, studies
from rnnbench.config import RunSpec, task_of
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


def check_data(settings: list[tuple[object, int]], source, device: torch.device, on_event=ignore):
    """Prepare each (data setting, seed) in turn before anything trains, and return the first one prepared (the
    runs start with it), letting the others go.

    Preparing is where a task checks the data a setting reads (the log of a series that holds a 0, a split that
    leaves a class without test texts); `validate` runs the same checks without tensors (the task's model_sizes),
    so a problem validate reports stops run too, once and before any training, rather than failing every run
    that reads the data."""
    first = None
    for data, seed in settings:
        prepared = prepare_seed(data, source, seed, device, on_event)
        first = prepared if first is None else first
    return first


@dataclass(frozen=True)
class Attempt:
    """What became of one run: "finished" (trained now, `path`), "skipped" (finished before, `path`), "busy"
    (another process is training it) or "failed" (`error`, one line, and the traceback in `details`; `repeats`:
    the failure is one a retry repeats, a problem of the data or the settings, not a crash or an interruption)."""

    spec: RunSpec
    status: str
    path: Path | None = None
    error: str | None = None
    details: str | None = None
    repeats: bool = False


class PreparedCache:
    """The data of the last (data setting, seed) prepared, for the runs that share it: a process prepares each
    seed's data once per data setting, as run_experiment orders the runs."""

    def __init__(self, device: torch.device, first=None):
        """first: (data setting, seed, prepared) already prepared on `device` (check_data's), kept for its runs."""
        self.device, self.key, self.prepared = device, None, None
        if first is not None:
            data, seed, self.prepared = first
            self.key = (data.model_dump_json(), seed)

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
            # an rnnbench error is a problem of the data or settings (never a bug): the same run repeats it
            repeats = isinstance(error, RnnbenchError)
            return failed(results, spec, describe_failure(error), traceback.format_exc(), on_event, repeats)
        rundir.clear_failure(results, spec)
        return Attempt(spec, "finished", record.path)


def failed(
    results: Path,
    spec: RunSpec,
    error: str,
    details: str | None,
    on_event: Callable[[Event], None],
    repeats: bool = False,
) -> Attempt:
    """A run's failure: recorded beside its checkpoint (rundir.record_failure), announced, and returned. `repeats`:
    a retry repeats it (see Attempt); a crash, a worker killed or out of memory may go otherwise next time."""
    record = rundir.record_failure(results, spec, error, details)
    on_event(RunFailed(spec, error, record))
    return Attempt(spec, "failed", error=error, details=details, repeats=repeats)


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
    architecture, arguments = task.build(spec.model, spec.data, prepared.sizes)
    model = task.model_classes()[architecture](**arguments).to(device)
    parameters = metrics.count_parameters(model)
    resume = rundir.load_checkpoint(results, spec, device)
    trains = any(p.requires_grad for p in model.parameters())  # else a baseline, scored once (train.scored_once)
    on_event(RunStarted(spec, *position, parameters, resumed=len(resume["history"]) if resume else 0, trains=trains))
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
        prune=studies.pruning(spec, results, watch[0]),
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
        **({"pruned_after_epoch": result.pruned} if result.pruned else {}),
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
