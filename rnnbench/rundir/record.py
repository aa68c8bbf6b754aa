"""A finished run as its readers see it: RunRecord, a typed record of metrics.json and config.yaml, and load_run,
which refuses a damaged, unfinished or foreign run directory, naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from rnnbench.config import RunSpec, describe
from rnnbench.errors import RnnbenchError
from rnnbench.rundir.files import check_version, is_finished, no_such_run, read_file, strict_json
from rnnbench.tasks import TASKS

METRICS_KEYS = {
    "task": str,
    "variant_key": str,
    "parameters": int,
    "epochs_run": int,
    "best_epoch": int,
    "train_seconds": (int, float),
    "seconds_per_epoch": (int, float),
    "data": dict,
    "environment": dict,
}  # what every run records, of which type; a task's RECORDS adds its own
SPLIT_PREFIXES = ("train_", "validation_", "test_", "long_")


@dataclass(frozen=True)
class RunRecord:
    """One finished run, as `compare`, `report`, `plots`, `predict` and `show` read it.

    metrics.json is one flat mapping (format version 1); this record splits it: the fields every run has, the
    `scores` (every number recorded per split: test_accuracy, validation_loss, test_rmse, ...; None where a
    split was empty), and the `details` (per-split values that are not one number: a confusion matrix,
    per-class scores, accuracy per length). The task's METRICS say how scores read; its tables read details.
    """

    path: Path
    spec: RunSpec  # config.yaml: repeat the run from this alone
    task: str
    variant_key: str
    parameters: int
    hidden_size: int  # a parameter budget's solved size
    epochs_run: int
    best_epoch: int
    train_seconds: float
    seconds_per_epoch: float
    scores: dict[str, float | None]
    details: dict
    data: dict  # what the data decided: vocabulary, classes, split sizes, ...
    environment: dict  # versions, device, threads, seed, git commit, finished
    metrics: dict  # metrics.json as written
    diverged: dict | None = (
        None  # {"epoch": n, "reason": ...}: a run whose loss or weights became non-finite; no scores
    )

    @property
    def tuning_trial(self) -> bool:
        """A trial of `rnnbench tune`: tables and `predict` leave these out (their validation score chose a setting,
        and a pruned one stopped early); `compare --trials` shows them."""
        return self.spec.trial is not None and self.spec.trial.kind == "trial"

    @property
    def config(self) -> dict:
        """The resolved RunSpec as a mapping (what config.yaml holds)."""
        return self.spec.model_dump(mode="json")

    @classmethod
    def from_files(cls, path: Path, spec: RunSpec, metrics: dict) -> RunRecord:
        """Example: metrics {'task': 'names', 'test_accuracy': 0.9, 'test_confusion_matrix': [[...]], ...} ->
        scores {'test_accuracy': 0.9, ...}, details {'test_confusion_matrix': [[...]]}."""
        per_split = {key: value for key, value in metrics.items() if key.startswith(SPLIT_PREFIXES)}
        scores = {
            key: value
            for key, value in per_split.items()
            if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        }
        return cls(
            path=Path(path),
            spec=spec,
            task=metrics["task"],
            variant_key=metrics["variant_key"],
            parameters=metrics["parameters"],
            hidden_size=metrics.get("hidden_size") or spec.model.hidden_size,
            epochs_run=metrics["epochs_run"],
            best_epoch=metrics["best_epoch"],
            train_seconds=metrics["train_seconds"],
            seconds_per_epoch=metrics["seconds_per_epoch"],
            scores=scores,
            details={key: value for key, value in per_split.items() if key not in scores},
            data=metrics.get("data") or {},
            environment=metrics.get("environment") or {},
            metrics=metrics,
            diverged=metrics.get("diverged"),
        )


def load_run(path: Path) -> RunRecord:
    """The record of a finished run; a damaged or unfinished run directory raises, naming the file."""
    path = Path(path)
    if not path.exists():
        raise no_such_run(path)
    if not is_finished(path):
        raise RnnbenchError(f"{path}: not a finished run directory (no metrics.json)")
    config = read_file(path / "config.yaml", yaml.safe_load)
    metrics = read_file(path / "metrics.json", strict_json)
    for name, content in (("config.yaml", config), ("metrics.json", metrics)):
        check_version(path / name, content, "a run file")
    try:
        spec = RunSpec.model_validate({k: v for k, v in config.items() if k != "format_version"})
    except ValidationError as err:
        raise RnnbenchError(f"{path / 'config.yaml'}: damaged ({describe(err.errors()[0])})") from None
    absent = [
        key
        for key, kind in METRICS_KEYS.items()  # missing, or of another type (a hand-edited file)
        if not isinstance(metrics.get(key), kind) or isinstance(metrics.get(key), bool)
    ]
    task = TASKS.get(metrics["task"]) if "task" not in absent else None
    if task is None and "task" not in absent:
        raise RnnbenchError(
            f"{path / 'metrics.json'}: a run of task {metrics['task']!r}, which this rnnbench does not "
            f"know (it knows {', '.join(TASKS)})"
        )
    diverged = metrics.get("diverged")
    if diverged is not None and not (isinstance(diverged, dict) and isinstance(diverged.get("epoch"), int)):
        absent.append("diverged epoch")
    if diverged is None:  # a diverged run was never scored: it has none of the task's scores
        absent += [
            key for key, kind in (task.RECORDS.items() if task else ()) if not isinstance(_lookup(metrics, key), kind)
        ]
    if absent:
        raise RnnbenchError(f"{path / 'metrics.json'}: damaged (no {', '.join(absent)})")
    return RunRecord.from_files(path, spec, metrics)


MISSING = object()


def _lookup(mapping: dict, dotted: str):
    """Example: ({'data': {'labels': ['a']}}, 'data.labels') -> ['a']; a missing key -> MISSING."""
    for key in dotted.split("."):
        mapping = mapping.get(key, MISSING) if isinstance(mapping, dict) else MISSING
    return mapping
