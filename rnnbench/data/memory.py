"""The long-range memory problems, generated from a seed: the adding problem and copy memory.

Adding problem (Hochreiter & Schmidhuber 1997; the form of Le, Jaitly & Hinton 2015 and Bai, Kolter & Koltun
2018): T steps of (value, marker) pairs, values drawn from U[0, 1], exactly two markers set to 1 — one at a step
drawn uniformly from the first half (0 .. T//2 - 1), one from the second (T//2 .. T - 1) — and the target the sum
of the two marked values. Predicting the constant 1 (the target's mean) scores an MSE of Var(U1 + U2) = 1/6.

Copy memory (Hochreiter & Schmidhuber 1997; the form of Arjovsky, Shah & Bengio 2016 and Bai et al. 2018): 10
symbols drawn from an alphabet of 8, then T - 1 blanks, then a delimiter repeated 11 times (T + 20 steps in all);
the answer at every step is a blank, except the last 10, which repeat the 10 symbols. A model that answers blanks
and then guesses uniformly scores a cross-entropy of 10 log 8 / (T + 20) per step. Ids here start at 1 (0 pads in
the models): blank 1, symbols 2 .. 9, delimiter 10.

Each split is drawn from its own stream of the seed's generator, so the training set of one T never depends on
another's, and a seed draws the same examples whatever else the experiment holds. With continuous values (adding)
two examples coincide with probability 0; copy memory's 8^10 ≈ 1.1e9 symbol strings are drawn without a string
in two splits (a repeat is redrawn), which `overlap` checks.
"""

from __future__ import annotations

import math

import numpy as np

SPLITS = ("train", "validation", "test", "long")
STREAMS = {"adding": 1, "copy": 2}  # one generator stream per problem and split: (seed, problem, split)
COPIED = 10  # copy memory: symbols to remember
ALPHABET = 8  # ... drawn from this many
BLANK, FIRST_SYMBOL, DELIMITER = 1, 2, 2 + ALPHABET  # ids: 1 blank, 2..9 symbols, 10 delimiter
CONSTANT_MSE = 1 / 6  # the adding problem's constant predictor (1): Var(U1 + U2)


def generator(seed: int, problem: str, split: str) -> np.random.Generator:
    """The stream one split of one problem is drawn from."""
    return np.random.default_rng([seed, STREAMS[problem], SPLITS.index(split)])


def adding(count: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (count, length, 2) float32: value then marker per step, targets (count,) float32: the sum of the two
    marked values). Raises ValueError for length < 2.

    Example: values [0.2, 0.9, 0.4, 0.5], markers [0, 1, 0, 1] -> target 1.4."""
    if length < 2:
        raise ValueError(f"length {length}: the adding problem needs 2 steps at least")
    values = rng.random((count, length))
    half = length // 2
    rows = np.arange(count)
    first, second = rng.integers(0, half, count), rng.integers(half, length, count)
    markers = np.zeros((count, length))
    markers[rows, first] = markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1).astype(np.float32), targets.astype(np.float32)


def copy(count: int, length: int, rng: np.random.Generator, taken: set | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (count, length + 20) int64, targets (count, length + 20) int64) of copy memory with T = length;
    strings already in `taken` (a set of 10-symbol tuples, updated) are redrawn, so that splits drawn with one set
    share none.

    Example (T = 3, 2 of the 10 symbols shown): inputs s1 s2 … s10 _ _ D D … D (11 D), targets _ … _ (13) s1 … s10,
    where _ is the blank (1) and D the delimiter (10)."""
    if length < 1:
        raise ValueError(f"length {length}: copy memory needs 1 blank at least")
    taken = set() if taken is None else taken
    strings = []
    while len(strings) < count:
        for row in rng.integers(FIRST_SYMBOL, FIRST_SYMBOL + ALPHABET, (count - len(strings), COPIED)):
            key = tuple(row.tolist())
            if key not in taken:
                taken.add(key)
                strings.append(row)
    symbols = np.array(strings, dtype=np.int64).reshape(count, COPIED)
    steps = length + 2 * COPIED
    inputs = np.full((count, steps), BLANK, dtype=np.int64)
    inputs[:, :COPIED] = symbols
    inputs[:, COPIED + length - 1 :] = DELIMITER
    targets = np.full((count, steps), BLANK, dtype=np.int64)
    targets[:, -COPIED:] = symbols
    return inputs, targets


def memoryless_cross_entropy(length: int) -> float:
    """Copy memory's baseline: blanks, then a uniform guess over the alphabet, per step (nats). Example: T = 100 ->
    10 log 8 / 120 = 0.1733."""
    return COPIED * math.log(ALPHABET) / (length + 2 * COPIED)
