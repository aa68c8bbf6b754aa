"""`rnnbench export`: finished runs into the trackers people already use, MLflow and TensorBoard.

Each run goes in whole: its resolved settings as parameters, its history as per-epoch metrics (`epoch/<column>`,
step = epoch), its final scores and costs as metrics, its identity and environment as tags, and (MLflow) its run
directory as artefacts. A run is known by its run key, `<experiment>/<variant>-<key>/seed-<n>` (its place under
the results folder), and its content by the SHA-256 of its metrics.json: exporting again adds nothing for a run
already there, and never replaces a run exported before with other content (a run trained again after its
directory was deleted), which is reported instead.

This module holds what every tracker receives, read from the run record alone; mlflow.py and tensorboard.py write
it. MLflow and TensorBoard are extras (`rnnbench[mlflow]`, `rnnbench[tensorboard]`), imported there only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rnnbench import rundir
from rnnbench.errors import RnnbenchError
from rnnbench.rundir import RunRecord
from rnnbench.tasks import TASKS

MAX_PARAM_CHARS = 6000  # MLflow's limit on a parameter's value; config.yaml, an artefact, holds it whole
LOSSES = ("train_loss", "validation_loss")  # the history's losses, which a baseline without one never sends


@dataclass(frozen=True)
class Exported:
    """What happened to one run: status is 'exported', 'already there' (same content), 'differs' (the key holds
    other content, left as it was) or 'skipped' (its files could not be read); `where` is the MLflow run id or the
    TensorBoard folder, or for a skipped run why."""

    run_key: str
    status: str
    where: str


def run_key(run: RunRecord) -> str:
    """The run's place under its results folder. Example: 'names_de_it/gru-uni-1x64-3f2a9c/seed-0'."""
    return f"{run.spec.experiment}/{run.path.parent.name}/{run.path.name}"


def content_sha256(run: RunRecord) -> str:
    """SHA-256 of the run's metrics.json: a run trained again gets another (its timing, at least)."""
    return hashlib.sha256((run.path / "metrics.json").read_bytes()).hexdigest()


def params_of(run: RunRecord) -> dict[str, str]:
    """The resolved config, flattened with dots, as strings (lists as JSON). Example: {'model.cell': 'gru',
    'train.learning_rate': '0.005', 'data.languages': '["German", "Italian"]', 'seed': '0', ...}; plus the
    hidden size a parameter budget solved for, as model.hidden_size_resolved."""
    flat = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            flat[prefix] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"

    walk("", run.config)
    flat["model.hidden_size_resolved"] = str(run.hidden_size)
    return flat


def curves_of(run: RunRecord) -> list[tuple[str, int, float, int]]:
    """history.csv as (name `epoch/<column>`, epoch, value, when the epoch ended in ms since the epoch: the run's
    start plus the seconds its epochs took). Example: [('epoch/train_loss', 1, 0.61, 1796127563830), ...].
    Empty cells are left out, and so are the losses of a baseline that has none (its task's NO_LOSS: a benchmark
    forecast), even where a run recorded by an earlier rnnbench holds the naive forecast's loss there.
    RnnbenchError, naming the file, if history.csv cannot be read or has no epochs."""
    curves, clock, history = [], times_of(run)[0], rundir.load_history(run.path)
    if not history or any(row.get("epoch") is None for row in history):
        raise RnnbenchError(f"{run.path / 'history.csv'}: damaged (no epoch numbers)")
    never = LOSSES if run.spec.model.cell in TASKS[run.task].NO_LOSS else ()
    for row in history:
        clock += int(1000 * (row.get("seconds") or 0.0))
        curves += [
            (f"epoch/{column}", int(row["epoch"]), value, clock)
            for column, value in row.items()
            if column != "epoch" and column not in never and value is not None
        ]
    return curves


def final_metrics_of(run: RunRecord) -> dict[str, float]:
    """The run's recorded scores (test_accuracy, validation_loss, test_rmse, ...; empty splits left out) and its
    costs: parameters, epochs_run, best_epoch, train_seconds, seconds_per_epoch."""
    costs = {
        key: getattr(run, key)
        for key in ("parameters", "epochs_run", "best_epoch", "train_seconds", "seconds_per_epoch")
    }
    return {
        **{key: float(value) for key, value in run.scores.items() if value is not None},
        **{key: float(value) for key, value in costs.items()},
    }


def tags_of(run: RunRecord, digest: str) -> dict[str, str]:
    """Who the run is (rnnbench.*; `digest` its content_sha256) and what trained it (environment.*: versions,
    device, threads, git commit)."""
    tags = {
        "rnnbench.run_key": run_key(run),
        "rnnbench.experiment": run.spec.experiment,
        "rnnbench.variant": run.spec.variant,
        "rnnbench.variant_key": run.variant_key,
        "rnnbench.task": run.task,
        "rnnbench.seed": str(run.spec.seed),
        "rnnbench.run_dir": str(run.path.resolve()),
        "rnnbench.metrics_sha256": digest,
    }
    if run.diverged is not None:
        tags["rnnbench.diverged"] = f"epoch {run.diverged['epoch']}"
    tags.update({f"environment.{key}": str(value) for key, value in run.environment.items() if value is not None})
    return tags


def times_of(run: RunRecord) -> tuple[int, int]:
    """(start, end) in milliseconds since the epoch: end when the run finished (now, for a run that did not record
    it), start its training time earlier."""
    try:
        end = int(datetime.fromisoformat(run.environment["finished"]).timestamp() * 1000)
    except (KeyError, TypeError, ValueError):
        end = int(time.time() * 1000)
    return end - int(run.train_seconds * 1000), end


@contextlib.contextmanager
def only_export(path: Path):
    """Hold the lock file `<path>.lock` while exporting into `path`: a second export at once would take the first
    one's half-written runs for interrupted ones. Raises RnnbenchError at once if another export holds it."""
    from filelock import FileLock, Timeout

    lock = path.with_name(path.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(lock, timeout=0):
            yield
    except Timeout:
        raise RnnbenchError(
            f"{path}: another rnnbench export is writing to it (it holds {lock}); wait for it to finish"
        ) from None
