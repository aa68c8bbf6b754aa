"""The long-range memory tasks: their data (data/memory.py) against hand-checked examples; the adding problem and
copy memory run for real (a tiny run scores the network beside the baseline, predict answers, bad input gets one
line); behind the slow marker, a GRU solves the adding problem at T = 50."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_cli import assert_clean_failure, invoke

from rnnbench import config, rundir
from rnnbench.data import memory
from rnnbench.errors import ConfigError


def test_adding_sequences_mark_one_value_in_each_half_and_ask_for_their_sum():
    inputs, targets = memory.adding(500, 9, memory.generator(0, "adding", "train"))
    assert inputs.shape == (500, 9, 2) and targets.shape == (500,) and inputs.dtype == np.float32
    values, markers = inputs[..., 0], inputs[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0} and (markers.sum(axis=1) == 2).all()
    assert (markers[:, :4].sum(axis=1) == 1).all() and (markers[:, 4:].sum(axis=1) == 1).all()  # halves of 9: 4 | 5
    np.testing.assert_allclose(targets, (values * markers).sum(axis=1), rtol=1e-6)
    assert 0 <= values.min() and values.max() < 1
    assert abs(float(((targets - 1) ** 2).mean()) - 1 / 6) < 0.03  # the constant predictor's MSE: Var(U1 + U2)
    again, _ = memory.adding(500, 9, memory.generator(0, "adding", "train"))
    other, _ = memory.adding(500, 9, memory.generator(0, "adding", "test"))
    assert np.array_equal(again, inputs) and not np.array_equal(other, inputs)  # seeded; each split its own stream
    with pytest.raises(ValueError, match="2 steps"):
        memory.adding(1, 1, memory.generator(0, "adding", "train"))


def test_copy_memory_is_laid_out_as_bai_et_al_and_no_string_is_in_two_splits():
    inputs, targets = memory.copy(4, 3, np.random.default_rng(0))
    assert inputs.shape == targets.shape == (4, 23)
    symbols = inputs[:, :10]
    assert ((symbols >= 2) & (symbols <= 9)).all()
    assert (inputs[:, 10:12] == memory.BLANK).all() and (inputs[:, 12:] == memory.DELIMITER).all()  # T - 1 blanks, 11 D
    assert (targets[:, :13] == memory.BLANK).all() and np.array_equal(targets[:, 13:], symbols)
    taken: set = set()
    first, _ = memory.copy(300, 5, np.random.default_rng(1), taken)
    second, _ = memory.copy(300, 5, np.random.default_rng(1), taken)  # the same stream: every string a repeat
    strings = {tuple(row[:10]) for row in first}
    assert not strings & {tuple(row[:10]) for row in second} and len(taken) == 600
    assert memory.memoryless_cross_entropy(100) == pytest.approx(10 * math.log(8) / 120)
    assert round(memory.memoryless_cross_entropy(1000), 4) == 0.0204  # Bai et al.'s T = 1000 baseline, ~0.02


ADDING = {
    "name": "adding_tiny",
    "data": {"dataset": "adding", "length": 10, "train_samples": 400, "validation_samples": 100, "test_samples": 300},
    "model": {"cell": "gru", "hidden_size": 8},
    "train": {"max_epochs": 2, "batch_size": 50},
    "device": "cpu",
}


def test_an_adding_run_is_scored_beside_the_constant_predictor_and_predict_adds(tmp_path):
    experiment = {**ADDING, "data": {**ADDING["data"], "long_length": 20, "long_samples": 100}}
    (tmp_path / "e.yaml").write_text(json.dumps(experiment))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    assert "predict-1" in result.stdout  # the constant predictor beside the network
    (run,) = rundir.find_runs(tmp_path / "results")[0]
    scores = run.scores
    assert scores["test_mse"] > 0 and scores["long_mse"] > 0 and scores["test_solved"] in (0.0, 1.0)
    assert scores["test_solved"] == float(scores["test_mse"] < 0.01)
    assert abs(scores["test_baseline_mse"] - 1 / 6) < 0.05
    answer = invoke("predict", "0.3 0.9* 0.4 0.5* 0.1 0.2 0.3 0.4 0.5 0.6", "--results", tmp_path / "results",
                    "--experiment", "adding_tiny", "--json")  # fmt: skip
    assert answer.exit_code == 0, answer.output
    (found,) = json.loads(answer.stdout)
    assert found["sum"] == pytest.approx(1.4) and isinstance(found["output"], float) and "notes" not in found
    shorter = invoke("predict", "0.3* 0.9*", "--results", tmp_path / "results", "--experiment", "adding_tiny")
    assert shorter.exit_code == 0 and "2 steps; the model trained on 10" in shorter.output, shorter.output
    for text, message in (("0.3 0.9 0.4", "mark exactly two values"), ("0.3 x* 0.4*", "value 2: 'x' is not")):
        refused = invoke("predict", text, "--results", tmp_path / "results", "--experiment", "adding_tiny")
        assert_clean_failure(refused, 1, message)


def test_the_adding_tasks_settings_are_checked_in_one_line_each():
    def problems(**changes) -> list[str]:
        raw = {**ADDING, **changes}
        with pytest.raises(ConfigError) as found:
            config.validate(raw)
        return found.value.problems

    assert (
        "data.long_length: the longer test set measures lengths never trained on"
        in problems(data={**ADDING["data"], "long_length": 10})[0]
    )
    assert "the adding problem needs a recurrent cell" in problems(model={"cell": "gru", "architecture": "tagger"})[0]
    assert "data.length" in problems(data={**ADDING["data"], "length": 1})[0]


COPY = {
    "name": "copy_tiny",
    "data": {"dataset": "copy", "length": 5, "train_samples": 300, "validation_samples": 50, "test_samples": 100},
    "model": {"cell": "lstm", "hidden_size": 8, "forget_bias": 1.0},
    "train": {"max_epochs": 2, "batch_size": 50},
    "device": "cpu",
}


def test_a_copy_run_is_scored_beside_the_memoryless_baseline_and_predict_copies(tmp_path):
    experiment = {**COPY, "data": {**COPY["data"], "long_length": 9, "long_samples": 50}}
    (tmp_path / "e.yaml").write_text(json.dumps(experiment))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    (run,) = rundir.find_runs(tmp_path / "results")[0]
    scores = run.scores
    assert scores["test_baseline_loss"] == pytest.approx(10 * math.log(8) / 25)  # 10 log 8 / (T + 20)
    assert scores["test_loss"] > 0 and 0 <= scores["test_accuracy"] <= scores["test_symbol_accuracy"] <= 1
    assert scores["test_solved"] == float(scores["test_accuracy"] >= 0.99)
    assert scores["long_accuracy"] is not None and run.data["long_size"] == 50
    report = json.loads((run.path / "data.json").read_text())
    assert set(report["overlap"].values()) == {0}  # no symbol string in two splits
    answer = invoke("predict", "3 1 4 1 5 2 6 5 3 5", "--results", tmp_path / "results", "--experiment", "copy_tiny")
    assert answer.exit_code == 0, answer.output
    written = answer.stdout.split(":")[-1].split()
    assert len(written) == 10 and all(symbol == "_" or 1 <= int(symbol) <= 8 for symbol in written)
    refused = invoke("predict", "3 1 4 9", "--results", tmp_path / "results", "--experiment", "copy_tiny")
    assert_clean_failure(refused, 1, "give 10 symbols from 1 to 8")


def test_copy_memory_refuses_what_cannot_copy():
    def problems(**model) -> list[str]:
        with pytest.raises(ConfigError) as found:
            config.validate({**COPY, "model": {**COPY["model"], **model}})
        return found.value.problems

    assert "regression: copy memory answers symbols, not values" in problems(regression=True)[0]
    assert "copy memory needs a recurrent tagger" in problems(architecture="encoder_decoder")[0]


@pytest.mark.slow
def test_a_gru_solves_the_adding_problem_at_t_50(tmp_path):
    experiment = {
        "name": "adding_50",
        "data": {"dataset": "adding", "length": 50, "train_samples": 10_000, "validation_samples": 500},
        "model": {"cell": "gru", "hidden_size": 64},
        "train": {"max_epochs": 8, "batch_size": 50, "learning_rate": 0.002, "patience": 0},
        "device": "cpu",
    }
    (tmp_path / "e.yaml").write_text(json.dumps(experiment))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    (run,) = rundir.find_runs(tmp_path / "results")[0]
    assert run.scores["test_solved"] == 1.0, run.scores  # test MSE below 0.01; the constant predictor: ~0.167
