"""The sequence-reversal task: generated, seeded symbol sequences and their reversals; nothing to download.

Token ids: 0 pads; 1..symbols are the symbols (digits 1–9 by default); EOS = symbols + 1 ends a decoded
sequence and BOS = symbols + 2 starts the decoder's input, so a model needs `symbols + 3` ids in all.
Train, validation and test sequences have lengths in [min_length, max_length]; the `long` test set has lengths
in [long_min_length, long_max_length], which no model sees in training: it measures length generalisation.

Why every sequence is distinct: short sequences repeat (with 9 symbols there are only 9 of length 1 and 81 of
length 2), so cutting 1,000 drawn sequences into splits put copies of test sequences into training: 33–45% of
the test set and 37% of the validation set, by seed, and a test score that partly measured memory. So `samples`
counts distinct sequences, each in one split; short lengths run out (all 9 of length 1 are used), which the data
report shows per length. `split: leaky` keeps the tutorials' draw, repeats included, to reproduce them and to
measure the leak; its report says how much leaks.
Why arrival times instead of drawing and discarding repeats: near the number of sequences that exist, the last
new ones take ~S·log S draws to find (the coupon collector); the arrival times give the same draw in O(samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rnnbench.data.batches import TensorSplit
from rnnbench.errors import RnnbenchError

if TYPE_CHECKING:  # imported where sequences are drawn: checking a `data:` section needs no torch
    import torch

PAD = 0
SPLITS = ("train", "validation", "test", "long")
HUGE = 2**62  # sequences of one length beyond this many are counted as this many (no draw comes near it)


def eos(symbols: int) -> int:
    return symbols + 1


def bos(symbols: int) -> int:
    return symbols + 2


def reverse_within_length(tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first `length` ids, padding left in place. Example: [[3, 7, 2, 0]], [3] -> [[2, 7, 3, 0]]."""
    import torch

    steps = torch.arange(tokens.shape[1])[None, :]  # (1, T)
    lengths = lengths[:, None]  # (N, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return tokens.gather(1, index.to(tokens.device))


def sequences_of_length(symbols: int, length: int) -> int:
    """How many distinct sequences of one length exist, up to HUGE. Example: 9, 2 -> 81."""
    return symbols**length if length * math.log2(symbols) < 62 else HUGE


def count_sequences(symbols: int, min_length: int, max_length: int, at_most: int) -> int:
    """How many distinct sequences have lengths in [min_length, max_length], counted until the count passes
    `at_most` (then some number above it). Example: 9, 1, 2, 1000 -> 90 (9 + 81)."""
    total = 0
    for length in range(min_length, max_length + 1):
        total += sequences_of_length(symbols, length)
        if total > at_most:
            break
    return total


def row_ids(tokens: torch.Tensor, base: int) -> torch.Tensor:
    """(N,) ids that are equal exactly where the rows of `tokens` (ids 0..base-1) are equal, for any width.

    Each row is read as a number in `base`, a chunk of columns at a time that fits in an int64; the chunks' ranks
    are combined one chunk after another. (torch.unique over rows does the same 20 times slower.)
    Example: [[1, 2], [1, 2], [2, 1]], 10 -> [0, 0, 1].
    """
    import torch

    digits = max(1, int(62 / math.log2(base)))  # columns per chunk: base**digits < 2**62
    ids = torch.zeros(len(tokens), dtype=torch.long)
    for start in range(0, tokens.shape[1], digits):
        chunk = tokens[:, start : start + digits]  # (N, <= digits)
        key = (chunk * base ** torch.arange(chunk.shape[1])).sum(1)  # (N,) exact: below 2**62
        rank = torch.unique(key, return_inverse=True)[1]  # (N,) below N
        ids = torch.unique(ids * len(tokens) + rank, return_inverse=True)[1]  # below N², which fits
    return ids


def first_copies(ids: torch.Tensor) -> torch.Tensor:
    """The positions of the first copy of each id, in order. Example: [4, 2, 4, 7] -> [0, 1, 3]."""
    import torch

    ranks = torch.unique(ids, return_inverse=True)[1]
    first = torch.full((int(ranks.max()) + 1 if len(ranks) else 0,), len(ids))
    first = first.scatter_reduce(0, ranks, torch.arange(len(ids)), "amin")
    return first.sort().values


def counts_per_length(samples: int, spaces: list[int], generator: torch.Generator) -> list[int]:
    """How many sequences of each length the first `samples` distinct draws hold, when every draw picks one of the
    lengths uniformly and then one of that length's `spaces[i]` sequences uniformly.

    The repeats are never drawn: within one length the k-th new sequence (k = 1, 2, ...) comes after a geometric
    number of draws with success rate (S - k + 1) / S. With the draws of each length arriving as a Poisson process
    (which keeps their order), the gap before it is exponential with mean S / (S - k + 1); the first `samples`
    new sequences over all lengths are the `samples` earliest arrivals.
    Example: 90, [9, 81] -> [9, 81] (every sequence there is); 20, [9, 6561] -> [7, 13] on average.
    """
    import torch

    times = [torch.zeros(0, dtype=torch.float64) for _ in spaces]  # per length, the arrival of each new sequence
    wanted = [min(space, samples * 5 // (4 * len(spaces)) + 8) for space in spaces]
    while True:
        for i, space in enumerate(spaces):
            have = len(times[i])
            if wanted[i] > have:
                k = torch.arange(have, wanted[i], dtype=torch.float64)
                gaps = torch.empty(len(k), dtype=torch.float64).exponential_(generator=generator) / (1 - k / space)
                times[i] = torch.cat([times[i], (times[i][-1] if have else 0.0) + gaps.cumsum(0)])
        every = torch.cat(times)
        cutoff = every.kthvalue(samples).values if len(every) >= samples else math.inf
        # a length whose arrivals ran out before the cutoff may have more before it: draw them, and look again
        short = [i for i, space in enumerate(spaces) if len(times[i]) < space and times[i][-1] < cutoff]
        if not short:  # the earliest `samples` arrivals, whose length each is (ties would miscount a cutoff)
            owner = torch.repeat_interleave(torch.arange(len(spaces)), torch.tensor([len(found) for found in times]))
            return torch.bincount(owner[every.topk(samples, largest=False).indices], minlength=len(spaces)).tolist()
        for i in short:
            wanted[i] = min(spaces[i], 2 * len(times[i]))


def distinct_of_length(count: int, length: int, symbols: int, generator: torch.Generator) -> torch.Tensor:
    """`count` distinct sequences of one length, a uniform choice among all of them: (count, length) ids 1..symbols."""
    import torch

    space = sequences_of_length(symbols, length)
    if space <= 2 * count:  # most of them: a random permutation of all, each index written in base `symbols`
        index = torch.randperm(space, generator=generator)[:count]  # (count,)
        return index[:, None] // symbols ** torch.arange(length) % symbols + 1
    rows = torch.zeros(0, length, dtype=torch.long)
    while len(rows) < count:  # a few of many: draw, keep the first copy of each, draw again what repeats took
        drawn = torch.randint(1, symbols + 1, (count - len(rows), length), generator=generator)
        rows = torch.cat([rows, drawn])
        rows = rows[first_copies(row_ids(rows, symbols + 1))]
    return rows


def draw_with_repeats(
    count: int, min_length: int, max_length: int, symbols: int, generator: torch.Generator
) -> TensorSplit:
    """`count` sequences as the tutorials draw them, repeats included (`split: leaky`): lengths uniform in
    [min_length, max_length], symbols uniform in 1..symbols. Targets as generate's."""
    import torch

    lengths = torch.randint(min_length, max_length + 1, (count,), generator=generator)
    tokens = torch.randint(1, symbols + 1, (count, max_length), generator=generator)
    tokens = tokens.masked_fill(torch.arange(max_length)[None, :] >= lengths[:, None], PAD)
    return TensorSplit(tokens, lengths, reverse_within_length(tokens, lengths))


def generate(count: int, min_length: int, max_length: int, symbols: int, generator: torch.Generator) -> TensorSplit:
    """`count` distinct sequences: the first `count` distinct ones of draws with lengths uniform in
    [min_length, max_length] and symbols uniform in 1..symbols, in a random order.

    Targets are the reversed sequences, padded like the inputs: (N, max_length) ids each.
    """
    import torch

    lengths = range(min_length, max_length + 1)
    exist = count_sequences(symbols, min_length, max_length, count)
    if count > exist:
        raise RnnbenchError(
            f"{count:,} distinct sequences of lengths {min_length}–{max_length} over {symbols} symbols "
            f"asked for; only {exist:,} exist"
        )
    spaces = [sequences_of_length(symbols, length) for length in lengths]
    counts = counts_per_length(count, spaces, generator) if count else [0] * len(spaces)
    tokens = torch.zeros(count, max_length, dtype=torch.long)
    row = 0
    for length, found in zip(lengths, counts):
        tokens[row : row + found, :length] = distinct_of_length(found, length, symbols, generator)
        row += found
    drawn_lengths = torch.repeat_interleave(torch.tensor(list(lengths)), torch.tensor(counts, dtype=torch.long))
    order = torch.randperm(count, generator=generator)  # made length by length: mixed before any cut
    tokens, drawn_lengths = tokens[order], drawn_lengths[order]
    return TensorSplit(tokens, drawn_lengths, reverse_within_length(tokens, drawn_lengths))


@dataclass(frozen=True)
class ReversalData:
    splits: dict[str, TensorSplit]  # "train", "validation", "test", "long", on the CPU
    symbols: int
    report: dict  # per length, how many sequences exist and each split holds; the split check

    @property
    def sizes(self) -> dict:
        return {f"{name}_size": len(split) for name, split in self.splits.items()} | {
            "symbols": self.symbols,
            "draw": self.report["split"],
        }


def build(
    *,
    seed: int,
    samples: int = 1000,
    symbols: int = 9,
    min_length: int = 1,
    max_length: int = 5,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    long_samples: int = 1000,
    long_min_length: int = 6,
    long_max_length: int = 10,
    split: str = "distinct",
) -> ReversalData:
    """Generate `samples` distinct sequences and cut them into test, validation and train; then the long test set,
    distinct too, of lengths beyond max_length. No sequence is in two splits.

    split "leaky" draws both sets with repeats, as the tutorials do: copies of test sequences then sit in
    training. It exists to reproduce them and to measure what that does.
    """
    import torch

    if long_samples and long_min_length <= max_length:
        raise RnnbenchError(
            f"data.long_min_length: {long_min_length} is a training length (1–{max_length}); the "
            "longer test set must start above max_length"
        )
    if split not in ("distinct", "leaky"):
        raise ValueError(f"split must be 'distinct' or 'leaky', not {split!r}")
    draw = generate if split == "distinct" else draw_with_repeats
    generator = torch.Generator().manual_seed(seed)
    pool = draw(samples, min_length, max_length, symbols, generator)
    n_test, n_validation = round(samples * test_fraction), round(samples * validation_fraction)
    cuts = {
        "test": (0, n_test),
        "validation": (n_test, n_test + n_validation),
        "train": (n_test + n_validation, samples),
    }
    splits = {name: pool.take(torch.arange(start, end)) for name, (start, end) in cuts.items()}
    splits["long"] = draw(long_samples, long_min_length, long_max_length, symbols, generator)
    splits = {name: splits[name] for name in SPLITS}
    return ReversalData(
        splits,
        symbols,
        data_report(splits, symbols, (min_length, max_length), (long_min_length, long_max_length), split),
    )


# ------------------------------------------------------------------------------------------- the data report


def data_report(
    splits: dict[str, TensorSplit],
    symbols: int,
    lengths: tuple[int, int],
    long_lengths: tuple[int, int],
    split: str = "distinct",
) -> dict:
    """What the data holds, per length and split, and the split check, counted from the splits themselves.

    Example: lengths (1, 2) with 9 symbols -> lengths [{'length': 1, 'exist': 9, 'train': 7, ...}, ...].
    """
    import torch

    per_length = {}
    for name, part in splits.items():
        for length, count in zip(*torch.unique(part.lengths, return_counts=True)):
            per_length.setdefault(int(length), dict.fromkeys(SPLITS, 0))[name] = int(count)
    ranges = [range(lengths[0], lengths[1] + 1)] + (
        [range(long_lengths[0], long_lengths[1] + 1)] if len(splits["long"]) else []
    )
    for length in (n for found in ranges for n in found):
        per_length.setdefault(length, dict.fromkeys(SPLITS, 0))
    rows = [
        {"length": length, "exist": exists(symbols, length), **counts} for length, counts in sorted(per_length.items())
    ]
    return {
        "split": split,
        "symbols": symbols,
        "lengths": rows,
        "sizes": {name: len(part) for name, part in splits.items()},
        "overlap": split_overlap(splits, symbols),
    }


def exists(symbols: int, length: int) -> int | None:
    """How many sequences of this length exist, or None beyond 10**15 (the report would print a long number)."""
    count = sequences_of_length(symbols, length)
    return count if count <= 10**15 else None


def split_overlap(splits: dict[str, TensorSplit], symbols: int) -> dict:
    """How many distinct sequences two splits share, per pair, and the share of validation, test and long sequences
    that are also training sequences: all zero unless something is wrong.

    Example: train [[3, 7]], test [[3, 7], [5, 0]] -> train_test 1, test_seen_in_training 0.5.
    """
    import torch

    width = max(split.tokens.shape[1] for split in splits.values())
    rows = torch.cat(
        [torch.nn.functional.pad(split.tokens.cpu(), (0, width - split.tokens.shape[1])) for split in splits.values()]
    )
    every = row_ids(rows, symbols + 1)  # (N,) one id per distinct sequence, below N
    ids = dict(zip(splits, every.split([len(split) for split in splits.values()])))
    holds = {name: torch.zeros(len(every), dtype=torch.bool).index_fill_(0, ids[name], True) for name in SPLITS}
    found = {}
    for i, first in enumerate(SPLITS):
        for second in SPLITS[i + 1 :]:
            found[f"{first}_{second}"] = int((holds[first] & holds[second]).sum())
    for name in ("validation", "test", "long"):
        found[f"{name}_seen_in_training"] = float(holds["train"][ids[name]].double().mean()) if len(ids[name]) else 0.0
    return found


def describe_overlap(report: dict) -> str:
    """The split check in one sentence, from the counts. Example: 'no sequence is in two splits (checked: train ∩
    validation 0, train ∩ test 0, validation ∩ test 0, train ∩ long 0)'."""
    overlap = report["overlap"]
    pairs = ["train_validation", "train_test", "validation_test"] + (["train_long"] if report["sizes"]["long"] else [])
    checked = ", ".join(f"{pair.replace('_', ' ∩ ')} {overlap[pair]:,}" for pair in pairs)
    shared = [pair for pair in overlap if not pair.endswith("_in_training") and overlap[pair]]
    if not shared:
        return f"no sequence is in two splits (checked: {checked})"
    leaky = "split: leaky: drawn with repeats, as the tutorials do; " if report.get("split") == "leaky" else ""
    shares = [
        f"{100 * overlap[f'{name}_seen_in_training']:.1f}% of {name}"
        for name in ("test", "validation")
        if report["sizes"][name]
    ]
    return f"{leaky}sequences in two splits: {checked}; {' and '.join(shares)} sequences are also training ones"
