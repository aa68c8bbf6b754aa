"""A run whose loss or weights become NaN or infinite: stopped at that epoch, recorded as diverged, never scored,
never mixed into a mean, never picked as best, never served by predict, and never written as NaN in JSON."""

import json
import math

import torch
from typer.testing import CliRunner

from rnnbench import train
from rnnbench.cli import app
from rnnbench.data.batches import TensorSplit
from rnnbench.models import RecurrentClassifier

DIVERGING = {
    "name": "div",
    "data": {"languages": ["German", "Italian"]},
    "model": {"hidden_size": 16, "embedding_dim": 8, "impl": "scratch"},
    "variants": [{"name": "blowup", "cell": "rnn", "activation": "relu"}, {"name": "steady", "cell": "gru"}],
    "train": {"max_epochs": 3, "learning_rate": 1000.0, "grad_clip": None, "patience": 0, "batch_size": 128},
    "seeds": [0, 1],
    "device": "cpu",
}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_fit_stops_at_the_first_non_finite_epoch():
    torch.manual_seed(0)
    tokens = torch.randint(1, 10, (64, 6))
    split = TensorSplit(tokens, torch.full((64,), 6), torch.randint(0, 2, (64,)))
    model = RecurrentClassifier(vocab_size=10, num_classes=2, hidden_size=8, embedding_dim=4, cell="rnn")
    with torch.no_grad():
        model.head.weight.fill_(float("nan"))
    seen = []
    result = train.fit(
        model,
        split,
        split,
        learning_rate=0.01,
        batch_size=16,
        max_epochs=5,
        patience=0,
        grad_clip=1.0,
        weight_decay=0.0,
        generator=torch.Generator().manual_seed(0),
        on_epoch=seen.append,
    )
    assert result.diverged == {"epoch": 1, "reason": "train loss is nan"}
    assert len(result.history) == len(seen) == 1
    finite = RecurrentClassifier(vocab_size=10, num_classes=2, hidden_size=8, embedding_dim=4, cell="gru")
    fine = train.fit(
        finite,
        split,
        split,
        learning_rate=0.01,
        batch_size=16,
        max_epochs=2,
        patience=0,
        grad_clip=1.0,
        weight_decay=0.0,
        generator=torch.Generator().manual_seed(0),
    )
    assert fine.diverged is None and len(fine.history) == 2


def test_divergence_is_recorded_reported_and_never_served(write_experiment, names_dir, tmp_path):
    experiment, results = write_experiment(DIVERGING), tmp_path / "results"
    ran = invoke("run", experiment, "--results", results, "--data-dir", names_dir)
    assert ran.exit_code == 1 and "Traceback" not in ran.output  # the sweep went on, then said which diverged
    assert "warning: blowup seed 0: diverged in epoch 1" in ran.output
    assert "2 runs of 4 diverged: blowup seed 0 (epoch 1), blowup seed 1 (epoch 1)" in ran.output
    steady = sorted((results / "div").glob("steady-*/seed-*"))
    assert len(steady) == 2 and all((run / "metrics.json").is_file() for run in steady)
    blowup = sorted((results / "div").glob("blowup-*/seed-*"))
    metrics = json.loads((blowup[0] / "metrics.json").read_text())
    assert metrics["diverged"]["epoch"] == 1 and "test_accuracy" not in metrics and metrics["epochs_run"] == 1

    rows = {
        row["variant"]: row for row in json.loads(invoke("compare", "--results", results, "--format", "json").stdout)
    }
    assert rows["blowup"]["diverged"] == 2 and rows["blowup"]["test_accuracy_mean"] is None
    assert rows["blowup"]["epochs_mean"] is None  # its costs are left out too
    assert rows["steady"]["diverged"] == 0 and rows["steady"]["verdict"] == "reference"
    table = invoke("compare", "--results", results).stdout
    assert "2 (2 diverged)" in table and "diverged: runs whose loss" in table

    for command in (("compare", "--format", "json"), ("predict", "Rossi", "--json"), ("show", blowup[0], "--json")):
        output = invoke(*command, *(("--results", results) if command[0] != "show" else ())).stdout
        assert "NaN" not in output and "Infinity" not in output
        json.loads(output, parse_constant=lambda constant: math.nan / 0)  # a non-standard constant would raise
    chose = invoke("predict", "Rossi", "--results", results)
    assert chose.exit_code == 0 and "/steady-" in chose.stderr and "2 diverged run(s) passed over" in chose.stderr
    refused = invoke("predict", "Rossi", "--run", blowup[0])
    assert refused.exit_code == 1 and "diverged in epoch 1" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    shown = invoke("show", blowup[0])
    assert shown.exit_code == 0 and "diverged in epoch 1" in shown.stdout
    reported = invoke("report", "div", "--results", results, "--out", tmp_path / "report")
    assert reported.exit_code == 0, reported.output
    assert "2 runs diverged" in (tmp_path / "report" / "report.md").read_text()

    repeated = invoke("run", "--repeat", blowup[1], "--data-dir", names_dir)  # NaN weights repeat as NaN: identical
    assert repeated.exit_code == 0 and "repeated, identical" in repeated.output, repeated.output
    again = invoke("run", experiment, "--results", results, "--data-dir", names_dir)  # resumes nothing, says it again
    assert (
        again.exit_code == 1 and again.output.count("already finished") == 4 and "2 runs of 4 diverged" in again.output
    )
