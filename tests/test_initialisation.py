"""How weights start (rnnbench/initialisation.py): Keras' defaults, orthogonal and identity recurrent weights, the
LSTM's forget-gate bias and chrono initialisation, on fused and scratch layers alike; the experiment file's checks
of them; and a real run that records them."""

from __future__ import annotations

import json
import math

import pytest
import torch
from test_cli import invoke

from rnnbench import config
from rnnbench.errors import ConfigError
from rnnbench.forecasters import RecurrentForecaster
from rnnbench.initialisation import initialise
from rnnbench.sequence_models import RepeatDecoder

H = 16


def layer_of(cell: str, impl: str, **init) -> dict:
    """The parameters of a fresh one-layer forecaster's recurrent layer, started as `init` says."""
    torch.manual_seed(0)
    model = RecurrentForecaster(2, 1, cell, H, impl=impl, **init)
    return {name: parameter.detach() for name, parameter in model.rnn.named_parameters()}


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_keras_initialisation(impl):
    torch.manual_seed(0)
    model = RepeatDecoder(9, 9, "lstm", H, impl=impl, bias="single" if impl == "scratch" else "double")
    initialise(model, "keras")
    state = dict(model.named_parameters())
    bias = state["encoder.bias_ih_l0"]
    assert bias[16:32].eq(1).all() and bias[:16].eq(0).all() and bias[32:].eq(0).all()  # forget gate at 1
    recurrent = state["decoder.weight_hh_l0"].T  # Keras' (H, 4H) recurrent kernel: orthonormal rows
    torch.testing.assert_close(recurrent @ recurrent.T, torch.eye(16), atol=1e-5, rtol=0)
    limit = (6 / (16 + 64)) ** 0.5  # glorot-uniform bound for the decoder's input kernel (I 16, 4H 64)
    assert state["decoder.weight_ih_l0"].abs().max() <= limit and state["out.bias"].eq(0).all()


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_the_forget_gate_bias_is_the_bias_the_cell_starts_with(impl):
    torch_default = layer_of("lstm", impl)
    state = layer_of("lstm", impl, forget_bias=1.0)
    assert state["bias_ih_l0"][H : 2 * H].eq(1).all() and state["bias_hh_l0"][H : 2 * H].eq(0).all()
    for name in ("bias_ih_l0", "bias_hh_l0"):  # the other gates keep what torch drew
        torch.testing.assert_close(state[name][2 * H :], torch_default[name][2 * H :])


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_chrono_spreads_the_forget_biases_up_to_log_t_max_and_closes_the_input_gate_as_much(impl):
    state = layer_of("lstm", impl, chrono=100)
    forget, input_gate = state["bias_ih_l0"][H : 2 * H], state["bias_ih_l0"][:H]
    assert forget.min() >= 0 and forget.max() <= math.log(99) and forget.std() > 0.3  # log U[1, 99]
    torch.testing.assert_close(input_gate, -forget)
    assert state["bias_hh_l0"][: 2 * H].eq(0).all()
    torch.testing.assert_close(layer_of("lstm", impl, chrono=100)["bias_ih_l0"], state["bias_ih_l0"])  # seeded


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_identity_makes_an_irnn_and_orthogonal_gives_each_gate_an_orthogonal_block(impl):
    irnn = layer_of("rnn", impl, init="identity")
    assert irnn["weight_hh_l0"].equal(torch.eye(H)) and irnn["bias_ih_l0"].eq(0).all()
    gru = layer_of("gru", impl, init="orthogonal")["weight_hh_l0"]
    for gate in range(3):
        block = gru[gate * H : (gate + 1) * H]
        torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="rnn cell"):
        layer_of("gru", impl, init="identity")


def test_the_experiment_file_refuses_what_a_cell_cannot_start_with():
    base = {"name": "x", "data": {"dataset": "reversal"}, "model": {"cell": "lstm", "hidden_size": 8}}

    def problems(**model) -> list[str]:
        with pytest.raises(ConfigError) as found:
            config.validate({**base, "model": {**base["model"], **model}})
        return found.value.problems

    assert (
        "forget_bias is for the lstm cell's gates (cell gru has no forget gate)"
        in problems(cell="gru", forget_bias=1)[0]
    )
    assert "forget_bias and chrono both set the forget gate's bias: choose one" in problems(forget_bias=1, chrono=50)[0]
    assert "init identity is for the rnn cell" in problems(init="identity")[0]
    assert "chrono" in problems(chrono=2)[0]  # log U[1, T_max - 1] needs T_max >= 3
    grid = config.validate({**base, "grid": {"forget_bias": [None, 1.0], "chrono": [None]}})
    assert sorted(grid.resolved_variants()) == ["lstm-uni-1x8-fb-none", "lstm-uni-1x8-fb1"]


def test_a_run_records_how_its_weights_started(tmp_path):
    experiment = {
        "name": "started",
        "data": {"dataset": "reversal", "samples": 60, "long_samples": 10, "max_length": 3},
        "model": {"cell": "lstm", "hidden_size": 8, "embedding_dim": 4, "chrono": 20},
        "train": {"max_epochs": 1, "batch_size": 16},
        "device": "cpu",
    }
    (tmp_path / "e.yaml").write_text(json.dumps(experiment))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    run = next((tmp_path / "results" / "started").glob("*/seed-0"))
    assert json.loads((run / "model.json").read_text())["arguments"]["chrono"] == 20
    assert "chrono: 20" in (run / "config.yaml").read_text()
