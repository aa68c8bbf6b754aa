"""Baselines are scored, not trained, and record their own loss or none: never another model's.

A series benchmark forecast (naive, seasonal naive, drift, mean) forecasts from the whole history in the series'
units: it has no loss in the scaled space the networks train in, so its history.csv, its progress line and what
`export` sends hold none (runs recorded by earlier versions held the naive forecast's under every benchmark's
name). The majority class has its own loss, the cross-entropy of its class frequencies; `linear` trains. The csv
regression's mean predictor is no run (every regression run records its test scores), and reversal has no
baseline: nothing of theirs records a loss.

The export tests here read what the exporters send (export.curves_of and final_metrics_of, which mlflow.py and
tensorboard.py both log), so they need neither extra."""

import io
import json
import math

import pytest
import torch
from conftest import SINE
from rich.console import Console
from test_cli import invoke

from rnnbench import config, export, rundir
from rnnbench.events import EpochFinished, RunStarted
from rnnbench.forecasters import BaselineForecaster
from rnnbench.models import MajorityClassifier
from rnnbench.tasks import TASKS
from rnnbench.terminal import Lines, progress_printer
from rnnbench.train import FitResult, fit

BENCHMARKS = ("naive", "seasonal_naive", "drift", "mean")
SERIES = {
    "name": "tiny_series",
    "data": SINE,
    "model": {"hidden_size": 8},
    "grid": {"cell": ["gru"]},
    "train": {"max_epochs": 2, "batch_size": 32, "patience": 0},
    "seeds": [0],
    "device": "cpu",
}
NAMES = {
    "name": "tiny",
    "data": {"languages": ["German", "Italian"]},
    "model": {"hidden_size": 8, "embedding_dim": 8},
    "grid": None,
    "variants": [{"cell": "majority"}, {"cell": "linear", "max_length": 18, "num_layers": 2}],
    "train": {"max_epochs": 2, "batch_size": 128, "patience": 0},
    "seeds": [0],
    "device": "cpu",
}
SETTINGS = dict(learning_rate=0.01, batch_size=4, max_epochs=5, patience=0, grad_clip=None, weight_decay=0.0)


def _fit_once(model, train, validation, score=None, watch=("validation_loss", "min")) -> tuple[FitResult, list]:
    rows, checkpoints = [], []
    result = fit(
        model,
        train,
        validation,
        generator=torch.Generator().manual_seed(0),
        on_epoch=rows.append,
        on_checkpoint=checkpoints.append,
        score=score,
        watch=watch,
        **SETTINGS,
    )
    assert rows == result.history and checkpoints == []  # each row announced once; nothing to resume
    return result, rows


def _split(inputs, targets):
    from rnnbench.data.batches import TensorSplit

    return TensorSplit(inputs, torch.full((len(inputs),), inputs.shape[1], dtype=torch.long), targets)


@pytest.fixture(scope="module")
def series_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series_baselines")
    (folder / "e.yaml").write_text(json.dumps(SERIES))  # JSON is YAML
    done = invoke("run", folder / "e.yaml", "--results", folder / "r")
    assert done.exit_code == 0, done.output
    runs, problems = rundir.find_runs(folder / "r")
    assert not problems
    return done.output, {run.spec.variant: run for run in runs}


@pytest.fixture(scope="module")
def names_runs(tmp_path_factory, names_dir):
    folder = tmp_path_factory.mktemp("names_baselines")
    (folder / "e.yaml").write_text(json.dumps(NAMES))
    done = invoke("run", folder / "e.yaml", "--results", folder / "r", "--data-dir", names_dir)
    assert done.exit_code == 0, done.output
    runs, problems = rundir.find_runs(folder / "r")
    assert not problems
    return done.output, {run.spec.variant: run for run in runs}


# ------------------------------------------------------------------------------ series benchmark forecasts


def test_a_benchmark_forecast_has_no_loss_and_is_scored_once():
    """forward answers no loss (the naive forecast's would be recorded under every benchmark's name), and fit
    scores it once, as epoch 1, with no loss at all, whatever max_epochs says."""
    window, targets = torch.randn(6, 5, 1), torch.randn(6, 3)
    for kind in BENCHMARKS:
        model = BaselineForecaster(kind, horizon=3)
        assert model(window, torch.full((6,), 5), targets)[1] is None
        result, rows = _fit_once(model, _split(window, targets), _split(window[:2], targets[:2]), score=_no_loss)
        assert [row["epoch"] for row in rows] == [1] and result.best_epoch == 1 and result.diverged is None
        assert {key: rows[0][key] for key in ("train_loss", "validation_loss")} == {
            "train_loss": None,
            "validation_loss": None,
        }


def _no_loss(model, split):
    from rnnbench.train import outputs

    return None, outputs(model, split)[1]  # the series task's validator


def test_series_benchmarks_record_no_loss_beside_the_networks_losses(series_runs):
    _, runs = series_runs
    assert sorted(runs) == sorted(["gru-uni-1x8", *BENCHMARKS])
    for name in BENCHMARKS:
        run = runs[name]
        history = rundir.load_history(run.path)
        assert len(history) == 1 and history[0]["epoch"] == 1 and history[0]["seconds"] is not None
        assert history[0]["train_loss"] is None and history[0]["validation_loss"] is None, name
        assert run.scores["validation_loss"] is None and run.scores["test_loss"] is None
        assert run.scores["validation_mase"] is not None and run.scores["test_mase"] is not None
        assert run.epochs_run == 1 and run.parameters == 0
    trained = rundir.load_history(runs["gru-uni-1x8"].path)
    assert [row["epoch"] for row in trained] == [1, 2]
    assert all(row["train_loss"] is not None and row["validation_loss"] is not None for row in trained)
    assert TASKS["series"].NO_LOSS == BENCHMARKS and runs["gru-uni-1x8"].spec.model.cell not in BENCHMARKS


def test_series_benchmarks_say_they_were_scored_not_trained(series_runs):
    output, _ = series_runs
    for name in BENCHMARKS:
        assert f"] {name} seed 0 (0 params): scored (no training)\n" in output
        assert f"] {name} seed 0 (0 params): epoch" not in output
    assert "] gru-uni-1x8 seed 0 (" in output and "params): epoch 2 loss " in output and "(2/2)" in output


def test_no_loss_is_exported_for_a_benchmark_forecast(series_runs):
    _, runs = series_runs
    for name in BENCHMARKS:
        curves, final = export.curves_of(runs[name]), export.final_metrics_of(runs[name])
        assert {curve[0] for curve in curves} == {"epoch/seconds"}, name
        assert not any("loss" in key for key in final) and "test_mase" in final
    trained = {curve[0] for curve in export.curves_of(runs["gru-uni-1x8"])}
    assert {"epoch/train_loss", "epoch/validation_loss", "epoch/seconds"} <= trained


def test_a_run_recorded_before_the_fix_sends_no_naive_loss_either(series_runs, tmp_path):
    """Earlier versions wrote the naive forecast's losses into every benchmark's history.csv: never sent."""
    import shutil

    _, runs = series_runs
    copy = tmp_path / "drift" / "seed-0"
    shutil.copytree(runs["drift"].path, copy)
    (copy / "history.csv").write_text(
        "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,seconds\n"
        "1,2.073411127813033,,2.1207470893859863,,0.0011\n"
    )
    old = rundir.load_run(copy)
    assert rundir.load_history(copy)[0]["train_loss"] == pytest.approx(2.0734, abs=1e-4)  # readers still read it
    assert [(name, step) for name, step, _, _ in export.curves_of(old)] == [("epoch/seconds", 1)]


# -------------------------------------------------------------------- classification and regression baselines


def test_the_majority_class_is_scored_once_with_its_own_loss():
    """Its loss is the cross-entropy of answering its class frequencies: recorded, as a classifier's is."""
    frequencies = [0.25, 0.75]
    targets = torch.tensor([1, 1, 1, 0] * 3)
    train, validation = (
        _split(torch.zeros(12, 3, dtype=torch.long), targets),
        _split(torch.zeros(4, 3, dtype=torch.long), torch.tensor([0, 0, 1, 1])),
    )
    result, rows = _fit_once(MajorityClassifier(frequencies), train, validation, watch=("validation_accuracy", "max"))
    [row] = rows
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))  # the training split is these frequencies
    assert row["epoch"] == 1 and row["train_loss"] == pytest.approx(entropy)
    assert row["train_accuracy"] == pytest.approx(0.75) and row["validation_accuracy"] == pytest.approx(0.5)
    assert row["validation_loss"] == pytest.approx(-(math.log(0.25) + math.log(0.75)) / 2)


def test_names_baselines_majority_scored_once_and_linear_trained(names_runs):
    output, runs = names_runs
    majority, linear = runs["majority"], runs["linear-2x8"]
    [row] = rundir.load_history(majority.path)
    frequencies = rundir.load_model_files(majority.path)[1]["arguments"]["class_frequencies"]
    assert row["epoch"] == 1 and row["train_loss"] == pytest.approx(-sum(f * math.log(f) for f in frequencies))
    assert row["validation_loss"] == pytest.approx(majority.scores["validation_loss"], rel=1e-5)
    assert "] majority seed 0 (0 params): scored (no training): loss " in output
    assert "] majority seed 0 (0 params): epoch" not in output
    assert [r["epoch"] for r in rundir.load_history(linear.path)] == [1, 2] and linear.parameters > 0
    assert "] linear-2x8 seed 0 (" in output and "epoch 2 loss " in output
    assert {"epoch/train_loss", "epoch/validation_loss"} <= {c[0] for c in export.curves_of(majority)}
    assert TASKS["names"].NO_LOSS == () and TASKS["csv"].NO_LOSS == ()


def test_no_other_task_has_a_baseline_without_a_loss():
    """The csv regression's mean predictor is no run, only scores every regression run records
    (test_baseline_*); reversal has no baseline; names and csv classifiers' baselines have their own loss."""
    assert {name: task.NO_LOSS for name, task in TASKS.items() if task.NO_LOSS} == {"series": BENCHMARKS}
    assert TASKS["reversal"].BASELINES == ()
    assert "test_baseline_rmse" in TASKS["csv"].METRICS


# ---------------------------------------------------------------------------------------------- the progress line


def test_the_progress_line_of_a_run_scored_not_trained():
    spec = config.validate(SERIES).run_specs()[0]
    err = Console(file=io.StringIO(), width=200)
    show = progress_printer(Lines(err))
    row = {"epoch": 1, "train_loss": None, "train_accuracy": None, "validation_loss": None}
    show(RunStarted(spec, 4, 7, 0, trains=False))
    show(EpochFinished(spec, {**row, "validation_accuracy": None, "seconds": 0.0}))
    show(RunStarted(spec, 5, 7, 0, trains=False))
    show(EpochFinished(spec, {**row, "train_loss": 0.6881, "validation_accuracy": 0.55, "seconds": 0.0}))
    show(RunStarted(spec, 6, 7, 1516))
    show(EpochFinished(spec, {**row, "train_loss": 0.5, "validation_loss": 0.25, "validation_accuracy": None}))
    lines = err.file.getvalue().splitlines()
    name = f"{spec.variant} seed 0"
    assert lines == [
        f"[4/7] {name} (0 params): scored (no training)",
        f"[5/7] {name} (0 params): scored (no training): loss 0.688 val 55.0%",
        f"[6/7] {name} (1,516 params): epoch 1 loss 0.500 val loss 0.250 (1/2)",
    ]
