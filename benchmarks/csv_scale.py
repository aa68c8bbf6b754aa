"""Time a user's CSV of texts at scale: read and check, split, fit tokenizers and encode, one stage at a time.

    python benchmarks/csv_scale.py                       # 1,000,000 rows, about 60 MB
    python benchmarks/csv_scale.py --rows 100000 --keep reviews.csv

Generates a file of short texts made of seeded pseudo-words (columns text,label; 5 classes; 2% of the texts
hold a comma and so are quoted), then runs in this process what a text-classification run does before training:
rnnbench.data.csvfile.read_table, names.build_splits on {label: [texts]} (seed 0, validation and test 0.1 each),
and Tokenizer.fit on the training texts + encode of all three splits, for characters and then for words. Prints
seconds per stage, the total, and this process's peak RSS (generation included; it works in small chunks).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from rnnbench.data import csvfile, names
from rnnbench.data.tokenizer import Tokenizer

LABELS = np.array(["sports", "politics", "science", "music", "travel"], dtype=object)
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
WORD_VOCAB_SIZE = 10_000  # ids in all for the word tokenizer, as Keras' num_words
ROWS_PER_CHUNK = 100_000  # generation works chunk by chunk, so its memory does not count in the peak


def pseudo_words(rng: np.random.Generator, count: int = 30_000) -> np.ndarray:
    """(count,) object array of words of 1-4 syllables. Example: 'tavo', 'bikezu'."""
    syllables = rng.integers(1, 5, count)
    picks = rng.integers(0, len(SYLLABLES), (count, 4))
    return np.array(["".join(SYLLABLES[j] for j in picks[i, : syllables[i]]) for i in range(count)], dtype=object)


def csv_rows(rng: np.random.Generator, words: np.ndarray, rows: int) -> str:
    """`rows` CSV lines 'text,label\\n', built with array operations rather than one Python call per row."""
    n_words = rng.integers(3, 15, rows)  # (rows,)
    labels = rng.integers(0, len(LABELS), rows)  # (rows,)
    ends = np.cumsum(n_words) - 1  # (rows,) index of each text's last word
    starts = ends - n_words + 1
    frequency = 1 / (np.arange(len(words)) + 10)  # Zipf-like: a few words are very common, most are rare
    ids = rng.choice(len(words), int(ends[-1]) + 1, p=frequency / frequency.sum())  # (words,)
    topical = rng.random(len(ids)) < 0.3  # some words depend on the label, so the task is learnable
    ids = np.where(topical, (ids + np.repeat(labels, n_words) * 6007) % len(words), ids)
    tokens = words[ids]
    separators = np.full(len(ids), " ", dtype=object)
    separators[ends] = "," + LABELS[labels] + "\n"
    quoted = rng.random(rows) < 0.02
    tokens[starts[quoted]] = '"' + tokens[starts[quoted]]
    separators[starts[quoted]] = ", "
    separators[ends[quoted]] = '"' + separators[ends[quoted]]
    pieces = np.empty(2 * len(ids), dtype=object)
    pieces[0::2], pieces[1::2] = tokens, separators
    return "".join(pieces.tolist())


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = pseudo_words(rng)
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("text,label\n")
        for start in range(0, rows, ROWS_PER_CHUNK):
            file.write(csv_rows(rng, words, min(ROWS_PER_CHUNK, rows - start)))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the generated CSV here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rnnbench-csv-") as scratch:
        path = args.keep or Path(scratch) / "texts.csv"
        start = time.perf_counter()
        write_csv(path, args.rows)
        print(
            f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s"
            f"; torch threads {torch.get_num_threads()}"
        )

        seconds = {}

        def stage(name: str, started: float) -> None:
            seconds[name] = time.perf_counter() - started
            print(f"{name:<34} {seconds[name]:6.2f} s   peak RSS so far {peak_mb():,.0f} MB")

        started = time.perf_counter()
        table = csvfile.read_table(path, "text", "label", "class")
        stage("read_table (read + check)", started)

        started = time.perf_counter()
        by_label = defaultdict(list)
        for row_text, label in zip(table.texts, table.targets):
            by_label[label].append(row_text)
        splits = names.build_splits(dict(by_label), seed=0, validation_fraction=0.1, test_fraction=0.1)
        stage("split (names.build_splits)", started)
        split_texts = [[example for example, _ in split] for split in (splits.train, splits.validation, splits.test)]

        for kind, vocab_size in (("char", None), ("word", WORD_VOCAB_SIZE)):
            started = time.perf_counter()
            tokenizer = Tokenizer.fit(split_texts[0], kind, vocab_size, None, "pre")
            encoded = [tokenizer.encode(texts) for texts in split_texts]
            stage(f"{kind}: fit + encode 3 splits", started)
            shapes = ", ".join(f"{tuple(ids.shape)}" for ids, _ in encoded)
            print(
                f"  {kind} ids: {tokenizer.size:,}; tensors {shapes}, "
                f"{sum(ids.numel() for ids, _ in encoded) * 8 / 1e6:,.0f} MB"
            )
            del encoded

    total = sum(seconds.values())
    print(
        f"total {total:.2f} s for {table.rows:,} rows (train {len(splits.train):,}, validation "
        f"{len(splits.validation):,}, test {len(splits.test):,}); peak RSS {peak_mb():,.0f} MB"
    )


if __name__ == "__main__":
    main()
