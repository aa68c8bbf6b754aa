"""The scratch cells against torch's fused kernels (same weights, float64), and against their equations."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnbench.cells import ScratchRecurrent
from rnnbench.models import RecurrentClassifier

LENGTHS = torch.tensor([6, 2, 4, 1])  # mixed lengths, unsorted


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def _pair(cell, bidirectional, num_layers, **options):
    torch.manual_seed(0)
    fused = getattr(nn, cell.upper())(
        5, 4, num_layers, batch_first=True, bidirectional=bidirectional, **options
    ).double()
    scratch = ScratchRecurrent(cell, 5, 4, num_layers, bidirectional, activation=options.get("nonlinearity", "tanh"))
    scratch.double().load_state_dict(fused.state_dict())  # one state dict fits both: same names and shapes
    return fused, scratch


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_scratch_equals_fused_outputs_states_and_gradients(cell, bidirectional, num_layers):
    fused, scratch = _pair(cell, bidirectional, num_layers)
    x = torch.randn(4, 6, 5, dtype=torch.double, requires_grad=True)
    packed, fused_state = fused(pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False))
    fused_out = pad_packed_sequence(packed, batch_first=True, total_length=6)[0]
    scratch_out, scratch_state = scratch(x, LENGTHS)
    fused_h, scratch_h = (fused_state[0], scratch_state[0]) if cell == "lstm" else (fused_state, scratch_state)
    assert relative_error(scratch_out, fused_out) <= 1e-6
    assert relative_error(scratch_h, fused_h) <= 1e-6
    if cell == "lstm":
        assert relative_error(scratch_state[1], fused_state[1]) <= 1e-6
    # a loss that reaches every output, state and weight
    weights = torch.randn_like(fused_out)
    fused_grads = torch.autograd.grad((fused_out * weights).sum() + fused_h.pow(2).sum(), [x, *fused.parameters()])
    scratch_grads = torch.autograd.grad(
        (scratch_out * weights).sum() + scratch_h.pow(2).sum(), [x, *scratch.parameters()]
    )
    for fused_grad, scratch_grad in zip(fused_grads, scratch_grads, strict=True):
        assert relative_error(scratch_grad, fused_grad) <= 1e-6


def test_relu_rnn_equals_fused():
    fused, scratch = _pair("rnn", True, 2, nonlinearity="relu")
    x = torch.randn(4, 6, 5, dtype=torch.double)
    packed, _ = fused(pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False))
    assert (
        relative_error(scratch(x, LENGTHS)[0], pad_packed_sequence(packed, batch_first=True, total_length=6)[0]) <= 1e-6
    )


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("head", ["last", "mean", "max", "flatten"])
def test_classifiers_with_either_implementation_agree(cell, head):
    """Whole models, embedding to head: the scratch one loaded with the torch one's weights answers the same."""
    arguments = dict(
        vocab_size=9,
        num_classes=3,
        cell=cell,
        hidden_size=4,
        num_layers=2,
        bidirectional=True,
        embedding_dim=3,
        head=head,
        max_length=7,
    )
    torch.manual_seed(0)
    fused = RecurrentClassifier(**arguments, impl="torch").double().eval()
    scratch = RecurrentClassifier(**arguments, impl="scratch").double().eval()
    scratch.load_state_dict(fused.state_dict())
    tokens = torch.tensor([[2, 3, 4, 5, 6, 7], [8, 2, 0, 0, 0, 0], [3, 3, 3, 3, 0, 0]])
    lengths = torch.tensor([6, 2, 4])
    targets = torch.tensor([0, 2, 1])
    fused_logits, fused_loss = fused(tokens, lengths, targets)
    scratch_logits, scratch_loss = scratch(tokens, lengths, targets)
    assert relative_error(scratch_logits, fused_logits) <= 1e-6
    fused_grads = torch.autograd.grad(fused_loss, list(fused.parameters()))
    scratch_grads = torch.autograd.grad(scratch_loss, list(scratch.parameters()))
    for fused_grad, scratch_grad in zip(fused_grads, scratch_grads, strict=True):
        assert relative_error(scratch_grad, fused_grad) <= 1e-6


def _one_step(cell, **options):
    """A one-layer scratch cell run for one step from h0 = 0, its weights, and its input."""
    torch.manual_seed(1)
    layer = ScratchRecurrent(cell, 3, 2, **options).double()
    x = torch.randn(1, 1, 3, dtype=torch.double)
    out, _ = layer(x, torch.tensor([1]))
    return out[0, 0], {name: p.detach() for name, p in layer.named_parameters()}, x[0, 0]


def test_single_bias_keeps_one_vector_per_gate():
    layer = ScratchRecurrent("gru", 3, 2, bias="single")
    assert sorted(name for name, _ in layer.named_parameters()) == ["bias_ih_l0", "weight_hh_l0", "weight_ih_l0"]
    h, p, x = _one_step("gru", bias="single")
    # from h0 = 0: r and the hidden projections vanish except their (absent) biases
    xr, xz, xn = (p["weight_ih_l0"] @ x + p["bias_ih_l0"]).chunk(3)
    z, n = torch.sigmoid(xz), torch.tanh(xn)
    torch.testing.assert_close(h, (1 - z) * n)


def test_lstm_with_relu_uses_it_for_candidate_and_output():
    h, p, x = _one_step("lstm", activation="relu")
    i, f, g, o = (p["weight_ih_l0"] @ x + p["bias_ih_l0"] + p["bias_hh_l0"]).chunk(4)
    c = torch.sigmoid(i) * torch.relu(g)  # c0 = 0
    torch.testing.assert_close(h, torch.sigmoid(o) * torch.relu(c))


def test_linear_rnn_is_the_tutorial_cell():
    torch.manual_seed(2)
    layer = ScratchRecurrent("linear_rnn", 3, 2).double()
    p = {name: t.detach() for name, t in layer.named_parameters()}
    x = torch.randn(1, 2, 3, dtype=torch.double)
    out, _ = layer(x, torch.tensor([2]))
    h1 = torch.tanh(p["bias_hh_l0"]) + torch.tanh(p["weight_ih_l0"] @ x[0, 0] + p["bias_ih_l0"])
    h2 = torch.tanh(p["weight_hh_l0"] @ h1 + p["bias_hh_l0"]) + torch.tanh(
        p["weight_ih_l0"] @ x[0, 1] + p["bias_ih_l0"]
    )
    torch.testing.assert_close(out[0], torch.stack([h1, h2]))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_scratch_starts_from_a_given_state_as_fused_does(cell):
    fused, scratch = _pair(cell, True, 2)
    x = torch.randn(4, 6, 5, dtype=torch.double)
    h0 = torch.randn(4, 4, 4, dtype=torch.double)  # (layers * directions, B, H)
    initial = (h0, torch.randn_like(h0)) if cell == "lstm" else h0
    packed, _ = fused(pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False), initial)
    expected = pad_packed_sequence(packed, batch_first=True, total_length=6)[0]
    assert relative_error(scratch(x, LENGTHS, initial)[0], expected) <= 1e-6
