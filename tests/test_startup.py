"""Commands that read no model answer without importing torch (seconds of start-up): `--help`, `validate` of an
experiment whose data is generated or downloaded, `params` (closed-form counts), `compare` and `show` of finished runs, and every error that
needs no model (a missing file, a malformed YAML, an unknown cell, a bad option, a missing results folder).
`run --jobs auto`, the default, sizes its workers by the threads and the runs left.

Each command runs in a fresh Python process that then says whether torch was imported (an in-process test could
not tell: the test session imported torch long before)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from test_cli import invoke

from rnnbench.cli import inputs

# run the app as `rnnbench` does, then say on the last line of stderr whether torch was imported
PROBE = """
import sys
from rnnbench.cli import app
try:
    app(sys.argv[1:], prog_name="rnnbench")
except SystemExit as done:
    code = done.code
else:
    code = 0
print("torch imported:", "torch" in sys.modules, file=sys.stderr)
sys.exit(code)
"""

TINY_REVERSAL = {
    "name": "tiny_reversal",
    "data": {
        "dataset": "reversal",
        "samples": 60,
        "long_samples": 20,
        "max_length": 3,
        "long_min_length": 4,
        "long_max_length": 5,
    },
    "model": {"hidden_size": 4, "embedding_dim": 4},
    "grid": {"cell": ["gru", "rnn"]},
    "train": {"max_epochs": 1, "batch_size": 16},
    "seeds": [0],
    "device": "cpu",
}


def probe(*args) -> tuple[int, bool, str]:
    """(exit status, whether torch was imported, stderr) of `rnnbench ARGS` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    *said, last = done.stderr.rstrip("\n").splitlines() or [""]
    assert last.startswith("torch imported:"), done.stderr
    return done.returncode, last.endswith("True"), "\n".join(said)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A results folder with two finished runs of a generated task (no corpus needed), trained in this process."""
    folder = tmp_path_factory.mktemp("startup")
    experiment = folder / "tiny.yaml"
    experiment.write_text(json.dumps(TINY_REVERSAL))  # JSON is YAML
    result = invoke("run", experiment, "--results", folder / "results", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return folder / "results"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "malformed": "name: x\ndata: [unclosed\n",
        "unknown_cell": json.dumps({**TINY_REVERSAL, "grid": {"cell": ["lstmm"]}}),
        "missing_csv": json.dumps({"name": "x", "data": {"dataset": "csv", "path": str(folder / "nowhere.csv")}}),
    }
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return {name: folder / f"{name}.yaml" for name in files}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["validate", "experiments/names_18.yaml"],
        ["validate", "experiments/reversal.yaml"],
        ["validate", "experiments/names_de_it.yaml", "--json"],
        ["validate", "experiments/series_airline.yaml"],  # a file read, split and checked as run checks it
        ["validate", "experiments/text_valence.yaml"],
        ["params", "experiments/reversal.yaml"],
        ["params", "experiments/series_airline.yaml", "--json"],
        ["params", "experiments/text_valence.yaml"],
    ],
    ids=" ".join,
)
def test_commands_that_need_no_model_import_no_torch(args):
    code, torch_imported, said = probe(*args)
    assert code == 0, said
    assert not torch_imported


def test_params_of_a_budget_on_the_names_corpus_imports_no_torch(names_dir):
    code, torch_imported, said = probe("params", "experiments/names_de_it_budget.yaml", "--data-dir", names_dir)
    assert code == 0, said
    assert not torch_imported


def test_compare_and_show_of_finished_runs_import_no_torch(finished):
    code, torch_imported, said = probe("compare", "--results", finished)
    assert code == 0 and not torch_imported, said
    for shown in ("table", "markdown", "json"):
        code, torch_imported, said = probe("compare", "--results", finished, "--format", shown)
        assert code == 0 and not torch_imported, said
    run = next(finished.glob("tiny_reversal/*/seed-0"))
    code, torch_imported, said = probe("show", run)
    assert code == 0 and not torch_imported, said


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["run", "missing.yaml"], 2, "missing.yaml: no such file"),
        (["validate", "missing.yaml"], 2, "missing.yaml: no such file"),
        (["params", "missing.yaml"], 2, "missing.yaml: no such file"),
        (["run", "experiments/names_18.yaml", "--jobs", "two"], 2, "--jobs: a whole number"),
        (["run", "experiments/names_18.yaml", "--set", "train.epochs=2"], 2, "did you mean max_epochs?"),
        (["run", "--repeat", "nowhere/seed-0", "--jobs", "2"], 2, "--repeat: trains one run here"),
        (["run", "malformed"], 2, "malformed.yaml"),
        (["validate", "malformed"], 2, "malformed.yaml"),
        (["run", "unknown_cell"], 2, "(got 'lstmm'); did you mean lstm?"),
        (["validate", "unknown_cell"], 2, "(got 'lstmm'); did you mean lstm?"),
        (["params", "unknown_cell"], 2, "(got 'lstmm'); did you mean lstm?"),
        (["run", "missing_csv"], 1, "nowhere.csv: no such file"),
        (["validate", "missing_csv"], 1, "nowhere.csv: no such file"),
        (["params", "missing_csv"], 1, "nowhere.csv: no such file"),
        (["params", "experiments/names_de_it.yaml", "--data-dir", "nowhere"], 1, "nowhere"),
        (["compare", "--results", "nowhere"], 1, "nowhere: no such results folder"),
        (["show", "nowhere/seed-0"], 1, "nowhere/seed-0: no such run directory"),
        (["predict", "Rossi", "--results", "nowhere"], 1, "nowhere"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_errors_that_need_no_model_import_no_torch(args, code, message, bad_files):
    args = [str(bad_files.get(arg, arg)) for arg in args]
    found, torch_imported, said = probe(*args)
    assert found == code, said
    assert message in said and "Traceback" not in said
    assert not torch_imported


# ------------------------------------------------------------------------------------------ --jobs auto


@pytest.mark.parametrize(
    "threads, omp, cores, expected",
    [
        (4, None, 4, 4),  # the free cores, one worker each
        (1, None, 4, 1),  # one core free (or --threads 1): one at a time, as --jobs 1
        (8, None, 4, 4),  # never more than the cores
        (None, "2", 4, 2),  # $OMP_NUM_THREADS (torch's own setting) is the threads to share
        (None, "1", 4, 1),
        (None, None, 3, 3),  # nothing says (an unknown load): torch's default, one thread per core
    ],
)
def test_jobs_auto_is_one_worker_per_thread_never_more_than_the_cores(monkeypatch, threads, omp, cores, expected):
    monkeypatch.setattr(inputs.os, "cpu_count", lambda: cores)
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert inputs.worker_count("auto", threads, said=False) == expected
    assert inputs.worker_count(1, threads, said=False) == 1  # --jobs 1 is always one


def test_jobs_is_auto_unless_given(monkeypatch, tmp_path):
    """The default is auto, sized to the runs left: with one thread (the tests' OMP_NUM_THREADS) it trains here, as
    --jobs 1 does, and so does a single run left whatever the cores (sweep.run_experiment's fit_jobs)."""
    seen = {}

    def record(experiment, source, results, **options):
        seen.update(options)
        raise SystemExit(0)

    monkeypatch.setattr("rnnbench.sweep.run_experiment", record)
    experiment = tmp_path / "tiny.yaml"
    experiment.write_text(json.dumps(TINY_REVERSAL))
    invoke("run", experiment, "--results", tmp_path / "results", "--threads", "1")
    assert seen["jobs"] == 1 and seen["fit_jobs"] is True
    invoke("run", experiment, "--results", tmp_path / "results", "--jobs", "1")
    assert seen["jobs"] == 1 and seen["fit_jobs"] is False


def test_jobs_auto_trains_a_single_run_left_here(tmp_path):
    from rnnbench import config
    from rnnbench.events import WorkersStarted
    from rnnbench.sweep import run_experiment

    experiment = tmp_path / "one.yaml"
    experiment.write_text(json.dumps({**TINY_REVERSAL, "grid": {"cell": ["gru"]}}))
    events = []
    outcome = run_experiment(
        config.load(experiment), None, tmp_path / "results", on_event=events.append, jobs=2, fit_jobs=True
    )
    assert len(outcome.paths) == 1 and not outcome.failures
    assert not [event for event in events if isinstance(event, WorkersStarted)]  # no pool for one run
