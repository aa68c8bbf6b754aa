"""Shared fixtures, and the names corpus the tests train on, found before any test runs: in $RNNBENCH_DATA_DIR
(CI sets it to the copy beside the checkout), in ../shared/data beside the checkout, or in the per-user cache,
which is downloaded into first (and verified) if it is empty, as `make demo` does. If the corpus can be found
nowhere and not downloaded, the session stops at once with one line saying why: a suite that passes has run
every test. RNNBENCH_SKIP_CORPUS_TESTS=1 skips the tests that need it instead (and downloads nothing)."""

from __future__ import annotations

import os

# Tiny models train faster on one thread than on several (and the tests start `rnnbench` subprocesses too, which
# inherit this): set before torch is imported. A value set outside is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pathlib import Path

import pytest
import yaml

from rnnbench.data import corpus
from rnnbench.errors import RnnbenchError

REPO = Path(__file__).resolve().parents[1]
SKIP_CORPUS = "RNNBENCH_SKIP_CORPUS_TESTS"  # set to 1: skip the tests that need the corpus if it is not here

_corpus: dict[str, Path | str] = {}  # "found": the verified names folder, or "missing": why there is none


def find_corpus(download: bool, say=print) -> Path:
    """The verified names folder: $RNNBENCH_DATA_DIR's (which must hold it, if set), ../shared/data's, or the
    cache's, downloaded into it first if `download` (saying so). Raises RnnbenchError saying why there is none."""
    explicit = os.environ.get("RNNBENCH_DATA_DIR")
    if explicit:
        return corpus.locate(Path(explicit))
    beside = REPO.parent / "shared" / "data"
    if corpus.find_names_dir(beside):
        return corpus.locate(beside)
    cached = corpus.find_names_dir(corpus.cache_dir())
    if cached is None and not download:
        raise RnnbenchError(f"not in $RNNBENCH_DATA_DIR (unset), {beside} or {corpus.cache_dir()}")
    if cached is None:
        say(f"the names corpus is not here: downloading it into {corpus.cache_dir()}, as `make demo` does")
    return corpus.locate()


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what they deselect
def pytest_collection_modifyitems(session, config, items):
    """Find the corpus once, before any test runs, if a test collected needs it: stop the session with one line
    if it cannot be had (unless RNNBENCH_SKIP_CORPUS_TESTS is set: those tests are then skipped)."""
    needing = sum("names_dir" in getattr(item, "fixturenames", ()) for item in items)
    if not needing:
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    skip = os.environ.get(SKIP_CORPUS, "") not in ("", "0")
    try:
        _corpus["found"] = find_corpus(download=not skip, say=terminal.write_line if terminal else print)
    except RnnbenchError as error:
        if skip:
            _corpus["missing"] = f"names corpus: {error} ({SKIP_CORPUS} is set: skipped)"
            return
        pytest.exit(
            f"names corpus: {error}; needed by {needing} of the tests collected (set {SKIP_CORPUS}=1 to skip them)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@pytest.fixture(scope="session")
def names_dir() -> Path:
    if "found" not in _corpus:  # a test that asked for it after collection
        if "missing" in _corpus:
            pytest.skip(str(_corpus["missing"]))
        _corpus["found"] = find_corpus(download=True)
    return _corpus["found"]


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
