"""`rnnbench run --repeat RUN_DIR`: train a recorded run again from its config.yaml alone, in a temporary folder,
and compare what it records with what the original recorded."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnbench import rundir, runner
from rnnbench.config import task_of
from rnnbench.environment import environment_record, resolve_device
from rnnbench.events import Event

NOT_REPEATABLE = (
    "train_seconds",
    "seconds_per_epoch",
    "peak_memory_mb",
    "peak_memory_kind",
    "environment",
    "format_version",
    "weights_sha256",
)  # not expected to reproduce, or compared tensor by tensor


@dataclass(frozen=True)
class Repeated:
    differences: list[str]  # one line per recorded metric, history value or weight tensor that came out otherwise
    metrics: int  # how many recorded metrics were compared
    epochs: int  # how many epochs of history were compared
    tensors: int  # how many weight tensors were compared
    notes: list[str]  # how this machine differs from the one that recorded the run


def repeat_run(path: Path, source, on_event: Callable[[Event], None] = runner.ignore) -> Repeated:
    """Train the run recorded at `path` again and compare every metric and every epoch's history, except timing,
    memory and the environment, and every weight tensor. On the same machine and torch version, on the CPU, they
    are identical. `source` is what the run's task loads (runner.load_source)."""
    recorded = rundir.load_run(path)
    weights, _ = rundir.load_model_files(path)  # damaged weights fail here, before any training
    spec = recorded.spec
    device = resolve_device(spec.device)
    with tempfile.TemporaryDirectory(prefix="rnnbench-repeat-") as scratch:
        prepared = runner.prepare_seed(spec.data, source, spec.seed, device, on_event)
        repeated = runner.run_one(spec, Path(scratch), source, prepared=prepared, on_event=on_event).path
        again, history, history_again = (
            rundir.load_run(repeated),
            rundir.load_history(path),
            rundir.load_history(repeated),
        )
        weights_again, _ = rundir.load_model_files(repeated)
    now = environment_record(device, spec.seed)
    now_data = task_of(spec.data).fingerprint(spec.data, source)
    changed = [key for key, value in now_data.items() if recorded.data.get(key) != value]
    notes = [
        f"the data changed since the run was recorded ({key} {str(recorded.data.get(key, 'not recorded'))[:12]}, "
        f"now {str(now_data[key])[:12]}): identical numbers are not expected"
        for key in changed
    ]
    notes += [
        f"recorded with {key} {recorded.environment.get(key)}, repeated with {now[key]}: identical "
        "numbers are not expected"
        for key in ("torch", "device", "threads")
        if recorded.environment.get(key) not in (None, now[key])
    ]
    compared = [key for key in recorded.metrics if key not in NOT_REPEATABLE]
    differences = [
        f"{key}: recorded {_short(recorded.metrics[key])}, repeated {_short(again.metrics.get(key))}"
        for key in compared
        if not _same(recorded.metrics[key], again.metrics.get(key))
    ]
    if len(history) != len(history_again):
        differences.append(f"history: recorded {len(history)} epochs, repeated {len(history_again)}")
    for row, row_again in zip(history, history_again):
        changed = [key for key in row if key != "seconds" and not _same(row[key], row_again.get(key))]
        differences += [
            f"history epoch {int(row['epoch'])} {key}: recorded {row[key]}, repeated {row_again.get(key)}"
            for key in changed
        ]
    unequal = [
        name for name in weights if name not in weights_again or not _same_tensor(weights[name], weights_again[name])
    ]
    unequal += [name for name in weights_again if name not in weights]
    if unequal:
        differences.append(
            f"weights: {len(unequal)} of {len(weights)} tensors differ ({', '.join(unequal[:3])}"
            f"{', ...' if len(unequal) > 3 else ''})"
        )
    return Repeated(differences, len(compared), len(history), len(weights), notes)


def _same_tensor(recorded: torch.Tensor, repeated: torch.Tensor) -> bool:
    """Bit for bit the same values, NaN where the other has NaN (a diverged run's weights repeat as NaN)."""
    return recorded.shape == repeated.shape and torch.allclose(recorded, repeated, rtol=0, atol=0, equal_nan=True)


def _same(recorded, repeated) -> bool:
    """Equal, counting NaN equal to NaN (a diverged run's loss repeats as NaN)."""
    both_nan = (
        isinstance(recorded, float) and isinstance(repeated, float) and math.isnan(recorded) and math.isnan(repeated)
    )
    return both_nan or recorded == repeated


def _short(value) -> str:
    """A value for a one-line message. Example: a 18×18 confusion matrix -> '[[2, 0, ...' (60 characters at most)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
