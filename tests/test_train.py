import pytest
import torch

from rnnbench.data import names
from rnnbench.data.batches import TensorSplit
from rnnbench.data.vocab import Vocab
from rnnbench.models import RecurrentClassifier
from rnnbench.train import evaluate, fit


@pytest.fixture(scope="module")
def de_it(names_dir):
    splits = names.build_splits(names.read_corpus(names_dir, ["German", "Italian"]), seed=0)
    vocab = Vocab.from_texts([n for n, _ in splits.train])

    def tensors(examples):
        tokens, lengths = vocab.encode([n for n, _ in examples])
        return TensorSplit(tokens, lengths, torch.tensor([label for _, label in examples]))

    return vocab, tensors(splits.train), tensors(splits.validation)


def _fit(de_it, seed=0, **overrides):
    vocab, train, validation = de_it
    torch.manual_seed(seed)
    model = RecurrentClassifier(vocab.size, 2, "gru", hidden_size=16, embedding_dim=8)
    settings = dict(learning_rate=0.01, batch_size=64, max_epochs=3, patience=0, grad_clip=1.0, weight_decay=0.0)
    result = fit(model, train, validation, generator=torch.Generator().manual_seed(seed), **{**settings, **overrides})
    return model, result


def test_training_learns_the_task(de_it):
    _, result = _fit(de_it, max_epochs=4)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.best_validation_accuracy > 0.85  # a majority guess scores about 0.5


def test_same_seed_bit_identical(de_it):
    first_model, first = _fit(de_it)
    second_model, second = _fit(de_it)
    strip = lambda history: [{k: v for k, v in row.items() if k != "seconds"} for row in history]  # noqa: E731
    assert strip(first.history) == strip(second.history)
    for a, b in zip(first_model.state_dict().values(), second_model.state_dict().values()):
        assert torch.equal(a, b)
    _, other = _fit(de_it, seed=1)
    assert strip(other.history) != strip(first.history)


def test_early_stopping_restores_the_best_epoch(de_it):
    model, result = _fit(de_it, max_epochs=40, patience=2, learning_rate=0.05)
    assert len(result.history) < 40  # stopped early
    assert len(result.history) - result.best_epoch == 2
    best = max(row["validation_accuracy"] for row in result.history)
    assert result.history[result.best_epoch - 1]["validation_accuracy"] == best
    _, predictions, _ = evaluate(model, de_it[2])
    assert (predictions == de_it[2].targets).float().mean().item() == pytest.approx(best)
