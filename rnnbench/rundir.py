"""The run-directory format, owned here alone: `run` writes through it, `compare` and `predict` read through it.

    results/<experiment>/
        summary.csv, summary.md          the experiment's table, rewritten from all finished runs
        <variant>-<key>/seed-<seed>/     one finished run; <key> hashes the variant's exact configuration
            config.yaml                  the resolved RunSpec: repeat the run from this alone
            history.csv                  one row per epoch
            model.safetensors            weights only: loading them never executes code
            model.json                   what rebuilds the model: constructor arguments, vocabulary, labels
            metrics.json                 scores, timing, memory and the environment record
            data.json                    names runs: what cleaning and splitting did (the data hygiene report)
            predictions.csv              names runs: each test name, its language, the prediction and its probability
            checkpoint.pt                only with `run --keep-checkpoint`: the last epoch's training state
        .incomplete/                     runs being written, and the state of runs being trained:
            <key>-seed-<seed>.lock       held by the process training the run
            <key>-seed-<seed>.checkpoint.pt   the last finished epoch's training state, replaced after each epoch
            <key>-seed-<seed>.failed.json     a failed run's error and traceback, until it finishes

A run is assembled in `.incomplete/` and moved into place with one rename, so a run directory either holds
every file or does not exist: a finished run is one whose directory exists, which is what lets an
interrupted experiment resume by skipping finished runs, and parallel processes share one results tree. A run
interrupted mid-training continues from its checkpoint's epoch.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from pydantic import ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rnnbench.config import RunSpec, describe
from rnnbench.errors import RnnbenchError
from rnnbench.tasks import TASKS
from rnnbench.views import to_json

FORMAT_VERSION = 1
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
FILES = ("config.yaml", "history.csv", "model.safetensors", "model.json", "metrics.json")


def run_dir(results: Path, spec: RunSpec) -> Path:
    return Path(results) / spec.experiment / f"{spec.variant}-{spec.variant_key()}" / f"seed-{spec.seed}"


class WriteError(RnnbenchError):
    """The results folder cannot be written (full, read-only, gone): no run could be saved there."""


class AlreadyFinished(RnnbenchError):
    """Another process published the same run first; its directory was kept and this copy discarded."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: already holds a finished run; it was kept")


def is_finished(path: Path) -> bool:
    return (path / "metrics.json").is_file()


def check_writable(results: Path) -> None:
    """Fail before any training if run directories could not be written under `results`."""
    results = Path(results)
    try:
        results.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=results):
            pass
    except OSError as err:
        raise RnnbenchError(
            f"{results}: cannot write results here ({err.strerror or err}); pass --results DIR"
        ) from None


def finished_run(results: Path, spec: RunSpec) -> Path | None:
    """The finished run of this spec's configuration and seed, if any, whatever its variant was called then.

    Raises, before anything is trained, if the run's directory exists but is damaged or unfinished, since
    writing over it would lose what it holds.
    """
    path = run_dir(results, spec)
    matches = sorted(path.parent.parent.glob(f"*-{spec.variant_key()}/{path.name}"))
    found = path if path.exists() else matches[0] if matches else None
    if found is None:
        return None
    if not is_finished(found):
        raise RnnbenchError(
            f"{found}: holds no metrics.json (an unfinished or damaged run); move or delete it to retrain"
        )
    try:
        load_run(found)
        load_model_files(found)  # a run is skipped only if its weights can answer too
    except RnnbenchError as err:
        raise RnnbenchError(f"{err}; delete {found} to retrain it") from None
    return found


@contextmanager
def claim(results: Path, spec: RunSpec):
    """Hold one run for this process while it trains it: yields True, or False if another process holds it now.

    An advisory lock (flock) on a file in `.incomplete/`, which the system releases when its process ends, however
    it ends, so a killed `run` never leaves a run claimed. Where there are no such locks (Windows), yields True:
    two processes may then train one run, and the first to publish it wins (save_run never replaces a run).
    """
    folder = Path(results) / spec.experiment / ".incomplete"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{spec.variant_key()}-seed-{spec.seed}.lock", "a")
    except OSError as err:
        raise WriteError(f"{folder}: cannot write here ({err.strerror or err}); pass --results DIR") from None
    try:
        import fcntl
    except ImportError:
        handle.close()
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkpoint_path(results: Path, spec: RunSpec) -> Path:
    return Path(results) / spec.experiment / ".incomplete" / f"{spec.variant_key()}-seed-{spec.seed}.checkpoint.pt"


def save_checkpoint(results: Path, spec: RunSpec, state: dict) -> None:
    """Replace the run's checkpoint with `state` (train.checkpoint_state) in one rename: a run killed while it
    writes keeps the previous one whole."""
    path = checkpoint_path(results, spec)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", delete=False) as file:
            torch.save(
                {"format_version": FORMAT_VERSION, "variant_key": spec.variant_key(), "seed": spec.seed, **state}, file
            )
        os.replace(file.name, path)
    except OSError as err:
        raise WriteError(f"{path}: cannot write checkpoint ({err.strerror or err})") from None


CHECKPOINT_KEYS = (
    "model",
    "optimizer",
    "generator",
    "cpu_rng",
    "cuda_rng",
    "history",
    "best_epoch",
    "best_value",
    "train_seconds",
    "best_state",
    "stopped",
)


def load_checkpoint(results: Path, spec: RunSpec, device: torch.device) -> dict | None:
    """The checkpoint an interrupted run of this spec left (its tensors on `device`), or None if it left none.

    Read with weights_only (tensors, numbers and text: loading it never runs code). Raises RnnbenchError naming
    the file if it cannot be read or belongs to another run; nothing is deleted.
    """
    path = checkpoint_path(results, spec)
    if not path.is_file():
        return None
    advice = "delete it to train this run from epoch 1"
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises many kinds (pickle, zip, runtime) for a damaged file
        raise RnnbenchError(f"{path}: cannot resume from this checkpoint ({_unreadable(err)}); {advice}") from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise RnnbenchError(f"{path}: not a checkpoint rnnbench wrote (no {missing[0]}); {advice}")
    if (state.get("variant_key"), state.get("seed")) != (spec.variant_key(), spec.seed):
        raise RnnbenchError(
            f"{path}: the checkpoint of another run (key {state.get('variant_key')}, seed "
            f"{state.get('seed')}); {advice}"
        )
    return state


def _unreadable(err: Exception) -> str:
    """Why torch.load could not read a file, in a few words (torch's own messages run to paragraphs)."""
    if "Unsupported global" in str(err):  # a pickle of Python objects, which weights_only refuses to build
        return "it holds objects other than tensors, numbers and text"
    return "empty, truncated or not a torch file"


def save_run(
    results: Path,
    spec: RunSpec,
    *,
    history: list[dict],
    metrics: dict,
    state_dict: dict[str, torch.Tensor],
    model_info: dict,
    data_report: dict | None = None,
    predictions: list[dict] | None = None,
    keep_checkpoint: bool = False,
) -> Path:
    """Write all files of one run, then publish them with one rename; never replaces a finished run.

    `data_report` (names runs) is what cleaning and splitting did; `predictions`, one row per test example. The
    run's checkpoint goes with it as checkpoint.pt if `keep_checkpoint`, else is deleted once the run is published.
    """
    checkpoint = checkpoint_path(results, spec)  # copied into the run if kept; deleted once the run is published

    def write(staging: Path) -> None:
        (staging / "config.yaml").write_text(
            yaml.safe_dump({"format_version": FORMAT_VERSION, **spec.model_dump(mode="json")}, sort_keys=False),
            encoding="utf-8",
        )
        _write_csv(staging / "history.csv", history)
        if predictions:
            _write_csv(staging / "predictions.csv", predictions)
        if data_report is not None:
            _write_json(staging / "data.json", {"format_version": FORMAT_VERSION, **data_report})
        tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
        save_file(tensors, staging / "model.safetensors", metadata={"format_version": str(FORMAT_VERSION)})
        _write_json(staging / "model.json", {"format_version": FORMAT_VERSION, **model_info})
        weights_sha256 = hashlib.sha256((staging / "model.safetensors").read_bytes()).hexdigest()
        _write_json(
            staging / "metrics.json", {"format_version": FORMAT_VERSION, **metrics, "weights_sha256": weights_sha256}
        )
        if keep_checkpoint and checkpoint.is_file():
            shutil.copyfile(checkpoint, staging / "checkpoint.pt")

    return _publish(results, spec, write)


def run_files(path: Path) -> dict[str, bytes]:
    """A finished run directory's files by name (a run trained where the driver cannot write: a cluster node)."""
    return {file.name: file.read_bytes() for file in sorted(Path(path).iterdir()) if file.is_file()}


def publish_files(results: Path, spec: RunSpec, files: dict[str, bytes]) -> Path:
    """Write a run's files (run_files of a run trained elsewhere) as the run of `spec` under `results`, published
    with one rename as save_run does; raises AlreadyFinished if it is there already, RnnbenchError if the files
    are not a whole run."""
    if not set(FILES) <= set(files) or any("/" in name or name.startswith(".") for name in files):
        raise RnnbenchError(
            f"{run_dir(results, spec)}: the files sent back are not a whole run ({', '.join(sorted(files))})"
        )

    def write(staging: Path) -> None:
        for name, content in files.items():
            (staging / name).write_bytes(content)

    return _publish(results, spec, write)


def _publish(results: Path, spec: RunSpec, write) -> Path:
    """Let `write(folder)` fill a staging folder beside the experiment's runs, then rename it into the run's
    place: readers see no run or a whole one, and a finished run is never replaced (AlreadyFinished). The run's
    checkpoint is deleted once it is published. Raises WriteError if the folder cannot be written."""
    final = run_dir(results, spec)
    staging = None
    try:
        staging_root = Path(results) / spec.experiment / ".incomplete"
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=staging_root, prefix=f"{final.parent.name}-{final.name}-"))
        write(staging)
        for file in staging.iterdir():
            file.chmod(0o644)  # mkdtemp and safetensors create owner-only files; runs are meant to be shared
        staging.chmod(0o755)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, final)  # atomic; fails rather than replace an existing non-empty directory
    except OSError as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if is_finished(final):
            raise AlreadyFinished(final) from None
        raise WriteError(f"{final}: cannot write run ({err.strerror or err})") from None
    with contextlib.suppress(OSError):
        checkpoint_path(results, spec).unlink(missing_ok=True)  # the run is whole: nothing left to resume
    return final


def failure_path(results: Path, spec: RunSpec) -> Path:
    """Where a failed run's error is recorded: beside its checkpoint, until the run finishes."""
    return Path(results) / spec.experiment / ".incomplete" / f"{spec.variant_key()}-seed-{spec.seed}.failed.json"


def record_failure(results: Path, spec: RunSpec, error: str, details: str | None = None) -> Path:
    """Record why a run failed (one line, and the traceback in `details`); the next `run` trains it again."""
    path = failure_path(results, spec)
    with contextlib.suppress(OSError):  # a failure that cannot be recorded is still reported by the command
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(
            path,
            to_json(
                {
                    "variant": spec.variant,
                    "variant_key": spec.variant_key(),
                    "seed": spec.seed,
                    "error": error,
                    "traceback": details,
                }
            )
            + "\n",
        )
    return path


def clear_failure(results: Path, spec: RunSpec) -> None:
    """Forget a run's recorded failure: it has finished since."""
    with contextlib.suppress(OSError):
        failure_path(results, spec).unlink(missing_ok=True)


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
        raise RnnbenchError(f"{path}: no such run directory")
    if not is_finished(path):
        raise RnnbenchError(f"{path}: not a finished run directory (no metrics.json)")
    config = _read(path / "config.yaml", yaml.safe_load)
    metrics = _read(path / "metrics.json", _strict_json)
    for name, content in (("config.yaml", config), ("metrics.json", metrics)):
        _check_version(path / name, content, "a run file")
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


def _check_version(path: Path, content, what: str) -> None:
    """Refuse a file of another format version, saying which: a newer rnnbench wrote it, or it is not ours."""
    version = content.get("format_version") if isinstance(content, dict) else None
    if version == FORMAT_VERSION:
        return
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise RnnbenchError(
            f"{path}: written by a newer rnnbench (format version {version}); this one reads format "
            f"version {FORMAT_VERSION}: upgrade rnnbench to read it"
        )
    raise RnnbenchError(f"{path}: not {what} of format version {FORMAT_VERSION}")


def load_model_files(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(state dict, model.json contents) of a finished run."""
    path = Path(path)
    if not path.exists():
        raise RnnbenchError(f"{path}: no such run directory")
    if not (path / "model.json").is_file():
        raise RnnbenchError(
            f"{path}: not a run directory (no model.json); pass a folder like "
            "results/<experiment>/<variant>-<key>/seed-0"
        )
    info = _read(path / "model.json", _strict_json)
    _check_version(path / "model.json", info, "a model file")
    recorded = _read(path / "metrics.json", _strict_json) if is_finished(path) else None
    recorded = recorded.get("weights_sha256") if isinstance(recorded, dict) else None
    try:
        if recorded is not None and hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest() != recorded:
            raise RnnbenchError(
                f"{path / 'model.safetensors'}: changed since the run wrote it (its sha256 is not the "
                "one metrics.json recorded)"
            )
        state_dict = load_file(path / "model.safetensors")
    except FileNotFoundError:
        raise RnnbenchError(f"{path / 'model.safetensors'}: missing") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise RnnbenchError(f"{path / 'model.safetensors'}: not a readable weights file ({err})") from None
    return state_dict, info


def load_history(path: Path) -> list[dict]:
    """A finished run's history.csv: one dict per epoch, numbers as floats (empty cells as None)."""
    rows = _read(Path(path) / "history.csv", _csv_rows)
    try:
        return [{key: float(value) if value else None for key, value in row.items()} for row in rows]
    except (TypeError, ValueError):
        raise RnnbenchError(f"{Path(path) / 'history.csv'}: damaged (a value is not a number)") from None


def load_predictions(path: Path) -> list[dict] | None:
    """A run's predictions.csv (one row per test example: the example, its truth, `predicted`, and for a classifier
    its probability; names runs: name, language, ...), or None if it has none."""
    if not (Path(path) / "predictions.csv").is_file():
        return None
    rows = _read(Path(path) / "predictions.csv", _csv_rows)
    if rows and (len(rows[0]) < 3 or "predicted" not in rows[0]):
        raise RnnbenchError(
            f"{Path(path) / 'predictions.csv'}: damaged (expected an example, its truth and a predicted column)"
        )
    return rows


def load_data_report(path: Path) -> dict | None:
    """A run's data.json (what cleaning and splitting did), or None if it has none (generated data)."""
    if not (Path(path) / "data.json").is_file():
        return None
    report = _read(Path(path) / "data.json", _strict_json)
    keys = ("sizes", "overlap")  # what every task's report has; the rest is the task's to read
    if not isinstance(report, dict) or any(key not in report for key in keys):
        raise RnnbenchError(f"{Path(path) / 'data.json'}: damaged (expected {', '.join(keys)})")
    return report


def find_runs(results: Path, experiment: str = "*") -> tuple[list[RunRecord], list[str]]:
    """Every finished run under `results` (of one experiment, if named), sorted by path, and one line per run
    directory that could not be read."""
    runs, problems = [], []
    folder = experiment if experiment == "*" else glob.escape(experiment)
    for metrics_file in sorted(Path(results).glob(f"{folder}/*/seed-*/metrics.json")):
        try:
            runs.append(load_run(metrics_file.parent))
        except RnnbenchError as err:
            problems.append(str(err))
    return runs, problems


def write_summary(results: Path, experiment: str, csv_text: str, markdown: str) -> list[Path]:
    """Rewrite the experiment's summary.csv and summary.md (derived from its runs, so safe to replace)."""
    folder = Path(results) / experiment
    paths = [folder / "summary.csv", folder / "summary.md"]
    try:
        for path, text in zip(paths, (csv_text, markdown)):
            write_text_atomic(path, text)
    except OSError as err:
        raise RnnbenchError(f"{folder}: cannot write the summary ({err.strerror or err}); the runs are kept") from None
    return paths


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _write_json(path: Path, content: dict) -> None:
    """Strict JSON that any reader accepts: a NaN or infinite number is written as null."""
    path.write_text(to_json(content) + "\n", encoding="utf-8")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace a derived file (a summary, a report) in one step: a reader sees the old text or the new, never half."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _strict_json(text: str):
    """JSON as rnnbench writes it: NaN, Infinity and -Infinity (which Python's reader takes) are damage."""

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _read(path: Path, parse):
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RnnbenchError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise RnnbenchError(f"{path}: unreadable ({str(err).splitlines()[0]})") from None
