"""The reversal task's data and models: generated sequences, teacher forcing, greedy decoding, attention, the
tutorial's regression framing and Keras conventions."""

import pytest
import torch

from rnnbench import metrics
from rnnbench.data import reversal
from rnnbench.models import keras_initialise
from rnnbench.sequence_models import EncoderDecoder, RepeatDecoder, Tagger, frame


def test_reverse_within_length_example():
    tokens = torch.tensor([[3, 7, 2, 0], [5, 0, 0, 0]])
    assert reversal.reverse_within_length(tokens, torch.tensor([3, 1])).tolist() == [[2, 7, 3, 0], [5, 0, 0, 0]]


def test_generated_data_is_seeded_and_in_range():
    data = reversal.build(seed=3, samples=200, long_samples=50)
    again = reversal.build(seed=3, samples=200, long_samples=50)
    other = reversal.build(seed=4, samples=200, long_samples=50)
    assert torch.equal(data.splits["train"].tokens, again.splits["train"].tokens)
    assert not torch.equal(data.splits["train"].tokens, other.splits["train"].tokens)
    assert data.sizes == {"train_size": 160, "validation_size": 20, "test_size": 20, "long_size": 50, "symbols": 9}
    for name, (low, high) in {"train": (1, 5), "test": (1, 5), "long": (6, 10)}.items():
        split = data.splits[name]
        assert low <= int(split.lengths.min()) and int(split.lengths.max()) <= high
        real = torch.arange(split.tokens.shape[1])[None, :] < split.lengths[:, None]
        assert bool(((split.tokens >= 1) & (split.tokens <= 9))[real].all()) and bool((split.tokens[~real] == 0).all())
        assert torch.equal(reversal.reverse_within_length(split.targets, split.lengths), split.tokens)


@pytest.mark.parametrize("attention, sentinels, readout", [
    ("none", False, "state_and_context"), ("none", True, "state_and_context"), ("dot", False, "state_and_context"),
    ("additive", True, "context"), ("location", False, "state_and_context"), ("location", True, "state_and_context"),
    ("location", True, "context")])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_encoder_decoder_shapes_and_padding(cell, bidirectional, attention, sentinels, readout):
    torch.manual_seed(0)
    model = EncoderDecoder(9, cell, 8, num_layers=2, bidirectional=bidirectional, attention=attention,
                           sentinels=sentinels, readout=readout).eval()
    tokens, lengths = torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1])
    targets = reversal.reverse_within_length(tokens, lengths)
    logits, loss = model(tokens, lengths, targets)
    assert logits.shape == (2, 4, 12) and loss.item() > 0
    # padding after a sequence never changes its decoding
    wider = torch.nn.functional.pad(tokens, (0, 4))
    torch.testing.assert_close(model.predict(wider, lengths, 6), model.predict(tokens, lengths, 6))


def test_tagger_answers_one_id_per_real_step():
    model = Tagger(9, "rnn", 8, bidirectional=True).eval()
    predictions = model.predict(torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1]))
    assert predictions.shape == (2, 3) and predictions[1, 1:].tolist() == [0, 0]


def train(model, data, epochs: int):
    """Adam at 5e-3, batch 32, a seeded order per epoch: the plain loop the model tests below share."""
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(epochs):
        for batch in data.splits["train"].batches(32, torch.Generator().manual_seed(epoch)):
            _, loss = model(batch.tokens, batch.lengths, batch.targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@pytest.mark.slow
def test_encoder_decoder_learns_to_reverse():
    data = reversal.build(seed=0)
    torch.manual_seed(0)
    model = train(EncoderDecoder(9, "lstm", 64), data, epochs=30)
    test = data.splits["test"]
    predictions = model.predict(test.tokens, test.lengths, max_steps=6)
    targets = torch.nn.functional.pad(test.targets, (0, 6 - test.targets.shape[1]))  # also checks the EOS came
    exact = (predictions == targets).all(dim=1).float().mean().item()
    assert exact >= 0.95, exact  # 0.98 on this seed


def test_frame_puts_sentinels_around_each_sequence():
    tokens, lengths = torch.tensor([[3, 7], [5, 0]]), torch.tensor([2, 1])
    framed, framed_lengths = frame(tokens, lengths, symbols=9)
    assert framed.tolist() == [[11, 3, 7, 10], [11, 5, 10, 0]] and framed_lengths.tolist() == [4, 3]


def test_location_attention_starts_half_on_each_sentinel():
    model = EncoderDecoder(9, "gru", 8, attention="location", sentinels=True)
    *_, start = model._encode(torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1]))
    assert start.tolist() == [[0.5, 0, 0, 0, 0.5], [0.5, 0, 0.5, 0, 0]]  # BOS at 0, EOS after the last symbol
    assert EncoderDecoder(9, "gru", 8, attention="location")._encode(torch.tensor([[3]]), torch.tensor([1]))[3] is None


@pytest.mark.slow
def test_location_attention_from_the_sentinels_generalises_to_longer_sequences():
    """The claim behind `sentinels` + `readout: context`: trained on lengths 1-5 only, it reverses lengths 6-8."""
    data = reversal.build(seed=0, long_samples=200, long_min_length=6, long_max_length=8)
    torch.manual_seed(0)
    model = train(EncoderDecoder(9, "lstm", 32, attention="location", sentinels=True, readout="context"), data, 15)
    long = data.splits["long"]
    scores = metrics.sequence_scores(model.predict(long.tokens, long.lengths, 9), long.targets, long.lengths)
    assert scores["exact_accuracy"] >= 0.9, scores  # 1.0 on this seed; location attention from zeros: ~0.3


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_repeat_decoder_answers_one_id_per_real_step_whatever_the_padding(cell, bidirectional):
    torch.manual_seed(0)
    model = RepeatDecoder(9, cell, 8, num_layers=2, bidirectional=bidirectional).eval()
    tokens, lengths = torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1])
    logits, loss = model(tokens, lengths, reversal.reverse_within_length(tokens, lengths))
    assert logits.shape == (2, 3, 12) and loss.item() > 0
    predictions = model.predict(tokens, lengths)
    assert predictions[1, 1:].tolist() == [0, 0]
    torch.testing.assert_close(model.predict(torch.nn.functional.pad(tokens, (0, 4)), lengths)[:, :3], predictions)


@pytest.mark.parametrize("architecture", [Tagger, RepeatDecoder])
def test_regression_reads_and_scores_the_fixed_length_padding_included(architecture):
    torch.manual_seed(0)
    model = architecture(9, "lstm", 8, regression=True, length=5).eval()
    tokens, lengths = torch.tensor([[3, 7, 2], [5, 0, 0]]), torch.tensor([3, 1])
    targets = reversal.reverse_within_length(tokens, lengths)
    values, loss = model(tokens, lengths, targets)
    assert values.shape == (2, 5, 1)  # padded to the fixed length 5, every step read
    padded_targets = torch.nn.functional.pad(targets, (0, 2)).float()
    torch.testing.assert_close(loss, ((values.squeeze(-1) - padded_targets) ** 2).mean())
    answer = model.predict(tokens, lengths)
    expected = values.squeeze(-1).round().clamp(0, 9).long()[:, :5]
    assert answer[0, :3].tolist() == expected[0, :3].tolist() and answer[1, 1:].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("model, published", [
    (lambda: Tagger(9, "lstm", 64, impl="scratch", bias="single", activation="relu", regression=True, length=5), 16_961),
    (lambda: Tagger(9, "lstm", 64, bidirectional=True, impl="scratch", bias="single", activation="relu",
                    regression=True, length=5), 33_921),
    (lambda: RepeatDecoder(9, "lstm", 64, impl="scratch", bias="single", regression=True, length=5), 49_985),
], ids=["tagger", "bidirectional-tagger", "repeat-decoder"])
def test_keras_convention_models_have_the_published_parameter_counts(model, published):
    assert metrics.count_parameters(model()) == published


@pytest.mark.parametrize("impl", ["torch", "scratch"])
def test_keras_initialisation(impl):
    torch.manual_seed(0)
    model = RepeatDecoder(9, "lstm", 16, impl=impl, bias="single" if impl == "scratch" else "double")
    keras_initialise(model)
    state = dict(model.named_parameters())
    bias = state["encoder.bias_ih_l0"]
    assert bias[16:32].eq(1).all() and bias[:16].eq(0).all() and bias[32:].eq(0).all()  # forget gate at 1
    recurrent = state["decoder.weight_hh_l0"].T  # Keras' (H, 4H) recurrent kernel: orthonormal rows
    torch.testing.assert_close(recurrent @ recurrent.T, torch.eye(16), atol=1e-5, rtol=0)
    limit = (6 / (16 + 64)) ** 0.5  # glorot-uniform bound for the decoder's input kernel (I 16, 4H 64)
    assert state["decoder.weight_ih_l0"].abs().max() <= limit and state["out.bias"].eq(0).all()
