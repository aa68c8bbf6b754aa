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
    assert result.best_value > 0.85  # a majority guess scores about 0.5


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


def test_without_a_validation_split_the_last_epoch_is_kept(de_it):
    vocab, train, validation = de_it
    empty = validation.head(0)
    torch.manual_seed(0)
    model = RecurrentClassifier(vocab.size, 2, "gru", hidden_size=16, embedding_dim=8)
    result = fit(
        model,
        train,
        empty,
        learning_rate=0.01,
        batch_size=64,
        max_epochs=2,
        patience=0,
        grad_clip=1.0,
        weight_decay=0.0,
        generator=torch.Generator().manual_seed(0),
    )
    assert [row["validation_accuracy"] for row in result.history] == [None, None]
    assert result.best_epoch == 2


def test_carried_state_starts_the_next_training_batch_only(de_it):
    vocab, train, _ = de_it
    batch = train.head(8)
    for impl in ("torch", "scratch"):
        torch.manual_seed(0)
        fresh = RecurrentClassifier(vocab.size, 2, "lstm", hidden_size=6, embedding_dim=4, impl=impl)
        torch.manual_seed(0)
        carrying = RecurrentClassifier(
            vocab.size, 2, "lstm", hidden_size=6, embedding_dim=4, impl=impl, carry_state=True
        )  # no dropout: train mode is deterministic here
        with torch.no_grad():
            first = carrying(batch.tokens, batch.lengths)[0]
            torch.testing.assert_close(first, fresh(batch.tokens, batch.lengths)[0])  # nothing carried yet
            second = carrying(batch.tokens, batch.lengths)[0]
            assert not torch.allclose(first, second)  # the same names, started from the last batch's state
            smaller = train.head(3)  # a batch of another size starts from zeros
            torch.testing.assert_close(
                carrying(smaller.tokens, smaller.lengths)[0], fresh(smaller.tokens, smaller.lengths)[0]
            )
            carrying.eval(), fresh.eval()  # scoring and prediction always start from zeros
            for _ in range(2):
                torch.testing.assert_close(carrying(batch.tokens, batch.lengths)[0], first)


def test_restore_best_false_keeps_the_last_epoch(de_it):
    vocab, train, validation = de_it
    for restore_best in (True, False):
        torch.manual_seed(0)
        model = RecurrentClassifier(vocab.size, 2, "gru", hidden_size=16, embedding_dim=8)
        result = fit(
            model,
            train,
            validation,
            learning_rate=0.05,
            batch_size=64,
            max_epochs=4,
            patience=0,
            grad_clip=1.0,
            weight_decay=0.0,
            generator=torch.Generator().manual_seed(0),
            restore_best=restore_best,
        )
        _, predictions, _ = evaluate(model, validation)
        accuracy = (predictions == validation.targets).float().mean().item()
        assert result.best_epoch < 4  # so the two choices differ in this setting
        expected = result.best_value if restore_best else result.history[-1]["validation_accuracy"]
        assert accuracy == pytest.approx(expected)


def test_bucketed_batching_learns_as_well_and_reads_batches_of_one_length_unpacked(de_it, monkeypatch):
    """train.batching: bucketed learns the task as well; its batches of one length run without packing, while
    shuffled training packs every batch, one length or not, as earlier versions did (bit for bit)."""
    import rnnbench.models

    packed = []
    real_pack = rnnbench.models.pack_padded_sequence
    monkeypatch.setattr(
        rnnbench.models,
        "pack_padded_sequence",
        lambda x, lengths, **kw: (packed.append(len(set(lengths.tolist())) == 1), real_pack(x, lengths, **kw))[1],
    )
    _, result = _fit(de_it, max_epochs=4, bucketed=True)
    assert result.best_value > 0.85
    bucketed_uniform = sum(packed)  # batches of one length that were packed anyway
    packed.clear()
    _, shuffled = _fit(de_it, max_epochs=4)
    assert bucketed_uniform == 0 and len(packed) > 0
    # shuffled: a batch of one length (here every validation batch of identical names) is packed all the same
    vocab, train, _ = de_it
    same = TensorSplit(train.tokens[:1].repeat(10, 1), train.lengths[:1].repeat(10), train.targets[:1].repeat(10))
    packed.clear()
    _fit((vocab, same, same), max_epochs=1)
    assert packed and all(packed)
    packed.clear()
    _fit((vocab, same, same), max_epochs=1, bucketed=True)
    assert packed == []
    assert [row["train_loss"] for row in result.history] != [row["train_loss"] for row in shuffled.history]
