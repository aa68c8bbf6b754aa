import pytest
import torch

from rnnbench.data.vocab import PAD
from rnnbench.models import LinearClassifier, MajorityClassifier, RecurrentClassifier, probabilities


def _model(cell, bidirectional, num_layers=2, embedding_dim=6, **options):
    torch.manual_seed(0)
    model = RecurrentClassifier(
        vocab_size=12,
        num_classes=3,
        cell=cell,
        hidden_size=5,
        num_layers=num_layers,
        bidirectional=bidirectional,
        embedding_dim=embedding_dim,
        dropout=0.3,
        **options,
    )
    return model.eval().double()


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("embedding_dim", [None, 6])
@pytest.mark.parametrize("impl", ["torch", "scratch"])
@pytest.mark.parametrize("head", ["last", "mean", "max"])
def test_padding_never_changes_a_prediction(cell, bidirectional, embedding_dim, impl, head):
    model = _model(cell, bidirectional, embedding_dim=embedding_dim, impl=impl, head=head)
    names = [[2, 5, 7, 3], [4, 9], [11]]
    lengths = torch.tensor([len(n) for n in names])
    with torch.no_grad():
        alone = torch.cat([model(torch.tensor([n]), torch.tensor([len(n)]))[0] for n in names])
        for width in (4, 9):
            batch = torch.full((len(names), width), PAD)
            for row, name in enumerate(names):
                batch[row, : len(name)] = torch.tensor(name)
            padded = model(batch, lengths)[0]
            torch.testing.assert_close(padded, alone, rtol=0, atol=1e-12)
            # garbage in the padded positions must not matter either
            noisy = batch.clone()
            for row, name in enumerate(names):
                noisy[row, len(name) :] = 10
            torch.testing.assert_close(model(noisy, lengths)[0], alone, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_bidirectional_head_reads_forward_state_at_last_and_backward_state_at_first_character(cell):
    model = _model(cell, True, num_layers=1)
    name = [3, 4, 5]
    padded = torch.tensor([name + [PAD, PAD]])

    def final_state(weights: dict, sequence: list[int]) -> torch.Tensor:
        """Run a one-direction copy of the model's recurrent layer by hand over the real characters only."""
        single = type(model.rnn)(6, 5, batch_first=True).double()
        single.load_state_dict(weights)
        _, state = single(model.embedding(torch.tensor([sequence])))
        return (state[0] if isinstance(state, tuple) else state)[-1]

    with torch.no_grad():
        parameters = dict(model.rnn.named_parameters())
        forward = final_state({k: v for k, v in parameters.items() if not k.endswith("_reverse")}, name)
        backward = final_state(
            {k.removesuffix("_reverse"): v for k, v in parameters.items() if k.endswith("_reverse")}, name[::-1]
        )
        expected = model.head(torch.cat([forward, backward], dim=-1))
        torch.testing.assert_close(model(padded, torch.tensor([3]))[0], expected)


def test_forward_returns_loss_only_with_targets():
    model = _model("gru", False)
    tokens, lengths = torch.tensor([[2, 3], [4, PAD]]), torch.tensor([2, 1])
    logits, loss = model(tokens, lengths)
    assert logits.shape == (2, 3) and loss is None
    _, loss = model(tokens, lengths, torch.tensor([0, 2]))
    assert loss.ndim == 0 and loss.item() > 0


def test_linear_rnn_and_keras_options_train_through_the_classifier():
    model = _model("linear_rnn", True, impl="scratch", bias="single", activation="relu")
    tokens, lengths = torch.tensor([[2, 3], [4, PAD]]), torch.tensor([2, 1])
    _, loss = model(tokens, lengths, torch.tensor([0, 2]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_flatten_head_reads_a_fixed_length():
    model = _model("rnn", False, head="flatten", max_length=4, head_hidden=7)
    assert model.head[0].in_features == 4 * 5
    short = model(torch.tensor([[2, 3]]), torch.tensor([2]))[0]
    padded = model(torch.tensor([[2, 3, PAD, PAD, PAD, PAD]]), torch.tensor([2]))[0]
    torch.testing.assert_close(short, padded)  # padded or cut to 4 either way
    cut = model(torch.tensor([[2, 3, 4, 5, 6, 7]]), torch.tensor([6]))[0]
    torch.testing.assert_close(cut, model(torch.tensor([[2, 3, 4, 5]]), torch.tensor([4]))[0])


def test_baselines():
    majority = MajorityClassifier([0.25, 0.75])
    tokens, lengths = torch.tensor([[2, 3], [4, PAD]]), torch.tensor([2, 1])
    torch.testing.assert_close(probabilities(majority, tokens, lengths), torch.tensor([[0.25, 0.75]] * 2))
    assert list(majority.parameters()) == []
    linear = LinearClassifier(vocab_size=12, num_classes=3, max_length=5, hidden_size=8, num_layers=3)
    assert [m.in_features for m in linear.layers if isinstance(m, torch.nn.Linear)] == [5 * 12, 8, 8]
    logits, loss = linear(tokens, lengths, torch.tensor([0, 1]))
    assert logits.shape == (2, 3) and loss.item() > 0


def test_softmax_output_quirk_returns_probabilities():
    model = _model("gru", False, softmax_output=True)
    tokens, lengths = torch.tensor([[2, 3], [4, PAD]]), torch.tensor([2, 1])
    outputs, loss = model(tokens, lengths, torch.tensor([0, 2]))
    torch.testing.assert_close(outputs.sum(-1), torch.ones(2, dtype=torch.double))
    torch.testing.assert_close(probabilities(model, tokens, lengths), outputs)
    # the loss applies softmax again, so it can never reach 0: its floor is -log(e / (e + C - 1)) for C classes
    assert loss.item() > -torch.log(torch.tensor(torch.e / (torch.e + 2))).item() - 1e-9
