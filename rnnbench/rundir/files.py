"""The files of a run directory, owned here alone: their names, the format version, writing each and reading each
back (a damaged or foreign file raises, naming it). record.py reads a whole run into a RunRecord; incomplete.py
writes a run where readers cannot see it half-written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from rnnbench.config import RunSpec, closest_path
from rnnbench.errors import RnnbenchError
from rnnbench.views import to_json

if TYPE_CHECKING:  # weights are read and written with torch, imported there: reading runs' scores needs none
    import torch

FORMAT_VERSION = 1
FILES = ("config.yaml", "history.csv", "model.safetensors", "model.json", "metrics.json")


def run_dir(results: Path, spec: RunSpec) -> Path:
    return Path(results) / spec.experiment / f"{spec.variant}-{spec.variant_key()}" / f"seed-{spec.seed}"


def is_finished(path: Path) -> bool:
    return (path / "metrics.json").is_file()


def no_such_run(path: Path) -> RnnbenchError:
    """The error for a run directory that does not exist, with the closest that do. Example: '…/gru-uni-1x64-33d36dc6/
    seed-9: no such run directory; did you mean …/gru-uni-1x64-33d36dc6/seed-0?'"""
    return RnnbenchError(f"{path}: no such run directory{closest_path(path, Path.is_dir)}")


def write_run(
    folder: Path,
    spec: RunSpec,
    *,
    history: list[dict],
    metrics: dict,
    state_dict: dict[str, torch.Tensor],
    model_info: dict,
    data_report: dict | None = None,
    predictions: list[dict] | None = None,
) -> None:
    """Write the files of one run into `folder` (a staging folder: save_run publishes it); metrics.json last,
    with the SHA-256 of the weights, so that load_model_files can tell weights changed since."""
    untagged = {"trial"} if spec.trial is None else set()  # a run of `run` reads as it always has
    (folder / "config.yaml").write_text(
        yaml.safe_dump(
            {"format_version": FORMAT_VERSION, **spec.model_dump(mode="json", exclude=untagged)}, sort_keys=False
        ),
        encoding="utf-8",
    )
    _write_csv(folder / "history.csv", history)
    if predictions:
        _write_csv(folder / "predictions.csv", predictions)
    if data_report is not None:
        _write_json(folder / "data.json", {"format_version": FORMAT_VERSION, **data_report})
    from safetensors.torch import save_file

    tensors = {name: t.detach().cpu().contiguous() for name, t in state_dict.items()}
    save_file(tensors, folder / "model.safetensors", metadata={"format_version": str(FORMAT_VERSION)})
    _write_json(folder / "model.json", {"format_version": FORMAT_VERSION, **model_info})
    weights_sha256 = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    _write_json(
        folder / "metrics.json", {"format_version": FORMAT_VERSION, **metrics, "weights_sha256": weights_sha256}
    )


def check_version(path: Path, content, what: str) -> None:
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
        raise no_such_run(path)
    if not (path / "model.json").is_file():
        raise RnnbenchError(
            f"{path}: not a run directory (no model.json); pass a folder like "
            "results/<experiment>/<variant>-<key>/seed-0"
        )
    info = read_file(path / "model.json", strict_json)
    check_version(path / "model.json", info, "a model file")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    recorded = read_file(path / "metrics.json", strict_json) if is_finished(path) else None
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
    rows = read_file(Path(path) / "history.csv", csv_rows)
    try:
        return [{key: float(value) if value else None for key, value in row.items()} for row in rows]
    except (TypeError, ValueError):
        raise RnnbenchError(f"{Path(path) / 'history.csv'}: damaged (a value is not a number)") from None


def load_predictions(path: Path) -> list[dict] | None:
    """A run's predictions.csv (one row per test example: the example, its truth, `predicted`, and for a classifier
    its probability; names runs: name, language, ...), or None if it has none."""
    if not (Path(path) / "predictions.csv").is_file():
        return None
    rows = read_file(Path(path) / "predictions.csv", csv_rows)
    if rows and (len(rows[0]) < 3 or "predicted" not in rows[0]):
        raise RnnbenchError(
            f"{Path(path) / 'predictions.csv'}: damaged (expected an example, its truth and a predicted column)"
        )
    return rows


def load_data_report(path: Path) -> dict | None:
    """A run's data.json (what cleaning and splitting did), or None if it has none (generated data)."""
    if not (Path(path) / "data.json").is_file():
        return None
    report = read_file(Path(path) / "data.json", strict_json)
    keys = ("sizes", "overlap")  # what every task's report has; the rest is the task's to read
    if not isinstance(report, dict) or any(key not in report for key in keys):
        raise RnnbenchError(f"{Path(path) / 'data.json'}: damaged (expected {', '.join(keys)})")
    return report


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


def csv_rows(text: str) -> list[dict]:
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


def strict_json(text: str):
    """JSON as rnnbench writes it: NaN, Infinity and -Infinity (which Python's reader takes) are damage."""

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def read_file(path: Path, parse):
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RnnbenchError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise RnnbenchError(f"{path}: unreadable ({str(err).splitlines()[0]})") from None
