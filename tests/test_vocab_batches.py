import torch

from rnnbench.data.batches import TensorSplit
from rnnbench.data.vocab import PAD, UNK, Vocab


def test_vocab_from_texts_and_encode():
    vocab = Vocab.from_texts(["ab", "ba"])
    assert vocab.chars == ("a", "b") and vocab.size == 4
    tokens, lengths = vocab.encode(["ab", "b", "z"])
    assert tokens.tolist() == [[2, 3], [3, PAD], [UNK, PAD]]
    assert lengths.tolist() == [2, 1, 1]


def test_batches_cover_every_example_once_and_trim_padding():
    tokens = torch.arange(1, 7).repeat(10, 1)  # (10, 6)
    lengths = torch.tensor([1, 2, 3, 4, 5, 6, 1, 2, 3, 1])
    split = TensorSplit(tokens, lengths, torch.arange(10))
    seen = []
    for batch in split.batches(4, torch.Generator().manual_seed(0)):
        assert batch.tokens.shape[1] == int(batch.lengths.max())
        seen += batch.targets.tolist()
        assert (lengths[batch.targets] == batch.lengths).all()  # rows stay aligned with their lengths
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    assert [b.targets.tolist() for b in split.batches(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_same_generator_seed_same_order():
    split = TensorSplit(torch.zeros(20, 3, dtype=torch.long), torch.ones(20, dtype=torch.long), torch.arange(20))
    orders = [[b.targets.tolist() for b in split.batches(8, torch.Generator().manual_seed(7))] for _ in range(2)]
    assert orders[0] == orders[1]


def test_bucketed_batches_hold_one_length_and_cover_every_example_once():
    lengths = torch.tensor([3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 5, 5])
    split = TensorSplit(torch.ones(12, 5, dtype=torch.long), lengths, torch.arange(12))
    batches = list(split.batches(3, torch.Generator().manual_seed(0), by_length=True))
    assert len(batches) == len(list(split.batches(3, torch.Generator().manual_seed(0))))  # as many batches
    assert sorted(i for b in batches for i in b.targets.tolist()) == list(range(12))
    assert all(b.tokens.shape[1] == int(b.lengths.max()) for b in batches)
    # sorted by length before cutting: at most one batch where two lengths meet, per length boundary
    assert sum(len(set(b.lengths.tolist())) > 1 for b in batches) <= 3
    # the batch order is drawn, and so is the order within a length: another seed, other batches
    orders = [
        [b.targets.tolist() for b in split.batches(3, torch.Generator().manual_seed(s), by_length=True)]
        for s in (0, 0, 1)
    ]
    assert orders[0] == orders[1] != orders[2]
    assert [b.lengths.tolist() for b in batches] != sorted([b.lengths.tolist() for b in batches])
