"""The sequence-reversal task: generated, seeded symbol sequences and their reversals; nothing to download.

Token ids: 0 pads; 1..symbols are the symbols (digits 1–9 by default); EOS = symbols + 1 ends a decoded
sequence and BOS = symbols + 2 starts the decoder's input, so a model needs `symbols + 3` ids in all.
Train, validation and test sequences have lengths in [min_length, max_length]; the `long` test set has lengths
in [long_min_length, long_max_length], which no model sees in training: it measures length generalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnbench.data.batches import TensorSplit

PAD = 0
SPLITS = ("train", "validation", "test", "long")


def eos(symbols: int) -> int:
    return symbols + 1


def bos(symbols: int) -> int:
    return symbols + 2


def reverse_within_length(tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first `length` ids, padding left in place. Example: [[3, 7, 2, 0]], [3] -> [[2, 7, 3, 0]]."""
    steps = torch.arange(tokens.shape[1])[None, :]  # (1, T)
    lengths = lengths[:, None]  # (N, 1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return tokens.gather(1, index.to(tokens.device))


def generate(count: int, min_length: int, max_length: int, symbols: int, generator: torch.Generator) -> TensorSplit:
    """`count` sequences with lengths uniform in [min_length, max_length] and symbols uniform in 1..symbols.

    Targets are the reversed sequences, padded like the inputs: (N, max_length) ids each.
    """
    lengths = torch.randint(min_length, max_length + 1, (count,), generator=generator)
    tokens = torch.randint(1, symbols + 1, (count, max_length), generator=generator)
    tokens = tokens.masked_fill(torch.arange(max_length)[None, :] >= lengths[:, None], PAD)
    return TensorSplit(tokens, lengths, reverse_within_length(tokens, lengths))


@dataclass(frozen=True)
class ReversalData:
    splits: dict[str, TensorSplit]  # "train", "validation", "test", "long", on the CPU
    symbols: int

    @property
    def sizes(self) -> dict:
        return {f"{name}_size": len(split) for name, split in self.splits.items()} | {"symbols": self.symbols}


def build(*, seed: int, samples: int = 1000, symbols: int = 9, min_length: int = 1, max_length: int = 5,
          validation_fraction: float = 0.1, test_fraction: float = 0.1, long_samples: int = 1000,
          long_min_length: int = 6, long_max_length: int = 10) -> ReversalData:  # fmt: skip
    """Generate `samples` sequences and cut them into test, validation and train; then the long test set.

    Short sequences repeat (there are only 9 of length 1), so a test sequence can also be a training one, as in
    the tutorials; the long set shares no sequence with training, since its lengths never occur there.
    """
    generator = torch.Generator().manual_seed(seed)
    pool = generate(samples, min_length, max_length, symbols, generator)
    n_test, n_validation = round(samples * test_fraction), round(samples * validation_fraction)
    cuts = {"test": (0, n_test), "validation": (n_test, n_test + n_validation), "train": (n_test + n_validation, samples)}
    splits = {name: pool.take(torch.arange(start, end)) for name, (start, end) in cuts.items()}
    splits["long"] = generate(long_samples, long_min_length, long_max_length, symbols, generator)
    return ReversalData({name: splits[name] for name in SPLITS}, symbols)
