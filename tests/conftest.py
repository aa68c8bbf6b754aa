"""Shared fixtures. The names corpus is never downloaded by tests: it comes from $RNNBENCH_DATA_DIR
(set by CI to the copy beside the checkout), ../shared/data beside the checkout, or the per-user cache
that `make demo` fills."""

from __future__ import annotations

import os

# Tiny models train faster on one thread than on several (and the tests start `rnnbench` subprocesses too, which
# inherit this): set before torch is imported. A value set outside is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path

import pytest
import yaml

from rnnbench.data import corpus

REPO = Path(__file__).resolve().parents[1]


def _find_corpus() -> Path | None:
    candidates = [os.environ.get("RNNBENCH_DATA_DIR"), REPO.parent / "shared" / "data", corpus.cache_dir()]
    for candidate in candidates:
        if candidate and (found := corpus.find_names_dir(Path(candidate))):
            return found
    return None


@pytest.fixture(scope="session")
def names_dir() -> Path:
    found = _find_corpus()
    if found is None:
        message = "names corpus not found: set RNNBENCH_DATA_DIR or run `make demo` once to download it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def write_experiment(tmp_path):
    """Write an experiment mapping as YAML in tmp_path and return its path."""

    def write(content: dict, name: str = "exp.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        return path

    return write


TINY = {
    "name": "tiny",
    "data": {"languages": ["German", "Italian"]},
    "model": {"hidden_size": 8, "embedding_dim": 8},
    "grid": {"cell": ["gru", "lstm"], "bidirectional": [False, True]},
    "train": {"max_epochs": 2, "batch_size": 128, "patience": 0},
    "seeds": [0],
    "device": "cpu",
}

SINE = {  # a series experiment's data: a generated sine, small
    "dataset": "series",
    "length": 150,
    "period": 12,
    "input_length": 12,
    "horizon": 4,
    "seasonal_period": 12,
    "test_length": 16,
    "validation_length": 8,
}
