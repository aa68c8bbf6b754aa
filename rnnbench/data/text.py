"""A CSV's texts split for a regression without leaks, and what the tokenizer makes of the split.

Reading the file is csvfile.py's job, turning texts into ids tokenizer.py's.
Why a regression is split by distinct text: the same text twice, once in training and once in test, turns the
test score into a memory test (names.py splits the classification tasks the same way, per class).
Why the inputs are compared after tokenizing as well: a split by text cannot see that the tokenizer makes two
texts one input (word tokens drop case and punctuation: "Good!" and "good", '(:0' and '(-:0' are both "0"), so
the data report counts the test texts that read exactly as a training text does.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from rnnbench.data.names import SPLITS, split_overlap
from rnnbench.data.tokenizer import Tokenizer, word_tokens
from rnnbench.errors import RnnbenchError


@dataclass(frozen=True)
class NumberSplits:
    train: list[tuple[str, float]]  # (text, value)
    validation: list[tuple[str, float]]
    test: list[tuple[str, float]]
    report: dict  # what deduplication and splitting did


def split_numbers(
    texts: list[str],
    values: list[float],
    *,
    seed: int,
    validation_fraction: float,
    test_fraction: float,
    conflicts: str = "drop",
    test: list[tuple[str, float]] | None = None,
) -> NumberSplits:
    """Keep each (text, value) once, settle texts listed with several values, then split by distinct text.

    conflicts: "drop" removes a text listed with different values (its target is ambiguous); "keep" keeps one
    example per distinct (text, value), all of them in the same split.
    Example: texts ['a', 'a', 'b', 'b'], values [1, 1, 2, 3] -> 'a' once (duplicates_removed 1); 'b' is a
    conflicting text, dropped or kept as ('b', 2.0) and ('b', 3.0) in one split.
    The distinct texts are sorted, shuffled with random.Random(seed) and cut into test, validation and train,
    as names.build_splits cuts each language. `test`: a separate test set of (text, value) instead of a test split
    cut from these texts; its texts are removed from them first, so none is trained on.
    """
    if test is not None:
        held_out = {text for text, _ in test}
        kept_rows = [(text, value) for text, value in zip(texts, values) if text not in held_out]
        texts, values = [text for text, _ in kept_rows], [value for _, value in kept_rows]
        test_fraction = 0.0
    if conflicts not in ("drop", "keep"):
        raise ValueError(f"conflicts must be 'drop' or 'keep', not {conflicts!r}")
    pairs = list(dict.fromkeys(zip(texts, map(float, values))))  # distinct (text, value), in first-seen order
    values_of = defaultdict(list)
    for text, value in pairs:
        values_of[text].append(value)
    conflicting = {text for text, seen in values_of.items() if len(seen) > 1}
    kept = [(text, value) for text, value in pairs if conflicts == "keep" or text not in conflicting]

    distinct = sorted({text for text, _ in kept})
    random.Random(seed).shuffle(distinct)
    n_test, n_validation = round(len(distinct) * test_fraction), round(len(distinct) * validation_fraction)
    split_of = {
        text: "test" if i < n_test else "validation" if i < n_test + n_validation else "train"
        for i, text in enumerate(distinct)
    }
    examples = {name: [] for name in SPLITS}
    for text, value in kept:
        examples[split_of[text]].append((text, value))
    if test is not None:
        examples["test"] = list(dict.fromkeys((text, float(value)) for text, value in test))

    empty = [name for name in SPLITS if not examples[name] and (name != "validation" or validation_fraction > 0)]
    if empty:
        raise RnnbenchError(
            f"data: the {' and '.join(empty)} split would be empty with {len(distinct):,} distinct "
            f"texts, validation_fraction {validation_fraction:g} and test_fraction "
            f"{test_fraction:g}"
        )
    report = {
        "rows": len(texts),
        "distinct": len(values_of),
        "duplicates_removed": len(texts) - len(pairs),
        "conflicting_texts": len(conflicting),
        "conflicts_policy": conflicts,
        "conflict_examples": [[text, values_of[text]] for text in sorted(conflicting)[:5]],
        "sizes": {name: len(examples[name]) for name in SPLITS},
        "overlap": split_overlap(examples),
    }
    return NumberSplits(examples["train"], examples["validation"], examples["test"], report)


def read_alike(splits, tokenizer: Tokenizer) -> dict:
    """How many validation and test texts are, token for token, a training text once tokenized (the vocabulary
    aside): different texts that the tokenizer makes one input. A text with no token at all is left out (it reads
    as one unknown token and carries nothing of its own).

    Example: train 'good movie', test 'Good movie!', word tokens -> {'validation_read_as_training': 0,
    'test_read_as_training': 1}. Char tokens of distinct texts differ unless truncated, so they are compared only
    then.
    """
    keep = tokenizer.max_length

    def inputs(examples) -> list:
        if tokenizer.kind == "char":
            texts = [text for text, _ in examples]
        else:
            texts = [tuple(word_tokens(text)) for text, _ in examples]
        if keep is None:
            return texts
        return [text[-keep:] if tokenizer.truncate == "pre" else text[:keep] for text in texts]

    if tokenizer.kind == "char" and keep is None:
        return {"validation_read_as_training": 0, "test_read_as_training": 0}
    train = set(inputs(splits.train))
    return {
        f"{name}_read_as_training": sum(1 for item in inputs(getattr(splits, name)) if item and item in train)
        for name in ("validation", "test")
    }
