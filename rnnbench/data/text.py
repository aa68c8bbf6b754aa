"""A user's CSV of texts: read and check it, split it without leaks, and turn texts into padded id tensors.

Why every column is read as a string: "NA", "null" or "1e3" are texts a user wrote, not missing values or
numbers; only the target column of a regression is converted, and checked, afterwards.
Why line numbers are computed here rather than taken from pandas: pandas counts records, and a quoted field can
span several lines, so its numbers drift from the line an editor shows. Every message names that line.
Why a regression is split by distinct text: the same text twice, once in training and once in test, turns the
test score into a memory test (names.py splits the classification tasks the same way, per class).
Why the inputs are compared after tokenizing as well: a split by text cannot see that the tokenizer makes two
texts one input (word tokens drop case and punctuation: "Good!" and "good", '(:0' and '(-:0' are both "0"), so
the data report counts the test texts that read exactly as a training text does.
Why tokenizers encode whole batches with numpy: a million texts through a per-character Python loop take
minutes; the same work as a few array operations takes seconds.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from rnnbench.data.names import SPLITS, clean, split_overlap
from rnnbench.data.vocab import PAD, UNK
from rnnbench.errors import RnnbenchError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PAD",
    "UNK",
    "NumberSplits",
    "Table",
    "Tokenizer",
    "char_tokens",
    "read_table",
    "split_numbers",
    "word_tokens",
]

TARGETS = ("class", "number")
KINDS = ("char", "word")
TRUNCATE = ("pre", "post")


# ---------------------------------------------------------------------------------------------------------------
# Reading and checking a CSV file
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    path: Path
    texts: list[str]  # cleaned with names.clean (NFC, whitespace collapsed), in file order
    targets: list  # target "class": the labels as written, stripped; target "number": floats
    line_numbers: list[int]  # the line of the file where each row starts (the header is line 1)
    sha256: str  # of the file's bytes
    rows: int  # data rows read (blank lines are not rows)


def read_table(path, text_column: str, target_column: str, target: str) -> Table:
    """Read a comma- or tab-separated UTF-8 file with a header line, check it, and return its texts and targets.

    Example: a file 'text,label\\n"Great, loved it",pos\\nMeh,neg\\n' with ('text', 'label', 'class') ->
    texts ['Great, loved it', 'Meh'], targets ['pos', 'neg'], line_numbers [2, 3].
    Lines holding nothing but whitespace are skipped. Any problem raises RnnbenchError with one line naming
    the file and, where there is one, the line and the column.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    path = Path(path)
    data = _read_bytes(path)
    _check_utf8(path, data)
    newline = "\n" if b"\n" in data else "\r"  # a file with old Mac line ends has no "\n" at all
    records = _parse(path, data, _separator(data, newline), newline)
    header = [str(name).strip() for name in records.iloc[0]]
    text_index, target_index = _column_indices(path, header, text_column, target_column)
    starts = _record_lines(records, newline, data)[1:]  # (rows,) the line each data record starts on

    texts = list(map(clean, records.iloc[1:, text_index].tolist()))  # tolist: iterating a pandas column is slow
    raw_targets = [value.strip() for value in records.iloc[1:, target_index].tolist()]
    blank = _blank_lines(data, newline, records, starts, texts, raw_targets)
    if blank:
        keep = [i for i in range(len(texts)) if i not in blank]
        texts, raw_targets = [texts[i] for i in keep], [raw_targets[i] for i in keep]
        starts = starts[np.array(keep, np.int64)]
    if not texts:
        raise RnnbenchError(f"{path}: no data rows, only a header line")
    line_numbers = starts.tolist()

    _check_not_empty(path, texts, line_numbers, text_column, "text")
    _check_not_empty(path, raw_targets, line_numbers, target_column, "target")
    if target == "number":
        targets = _numbers(path, raw_targets, line_numbers, target_column)
    else:
        targets = raw_targets
        classes = set(targets)
        if len(classes) < 2:
            raise RnnbenchError(
                f"{path}: column {target_column!r}: every row has the class {targets[0]!r}; "
                "a classifier needs at least two classes"
            )
    return Table(path, texts, targets, line_numbers, hashlib.sha256(data).hexdigest(), len(texts))


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise RnnbenchError(f"{path}: is a directory, not a CSV file")
    if path.exists() and not path.is_file():  # a device (/dev/zero) or a pipe would be read forever
        raise RnnbenchError(f"{path}: not a regular file (a device or a pipe); give a CSV file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RnnbenchError(f"{path}: no such file") from None
    except OSError as err:
        raise RnnbenchError(f"{path}: cannot read: {err.strerror or err}") from None
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise RnnbenchError(f"{path}: no data rows (the file is empty)")
    return data


def _check_utf8(path: Path, data: bytes) -> None:
    """Decode once here, not in pandas: pandas reports a position inside its read buffer, not in the file."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise RnnbenchError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[err.start]:02x} at byte offset "
            f"{err.start}); save the file as UTF-8"
        ) from None


def _separator(data: bytes, newline: str) -> str:
    """Tab when the header line has a tab and no comma outside quotes, else comma.

    Example: b'text\\tlabel\\n...' -> '\\t'; b'"a\\tb",label\\n' -> ','.
    """
    end = data.find(newline.encode())
    header = data if end < 0 else data[:end]  # slicing, not split(): that would copy the whole file
    unquoted = re.sub(rb'"[^"]*"', b"", header)
    return "\t" if b"\t" in header and b"," not in unquoted else ","


def _parse(path: Path, data: bytes, separator: str, newline: str, rows: int | None = None) -> pd.DataFrame:
    """Every record as strings, the header line as row 0.

    header=None so that the header is an ordinary first record: pandas then requires every later record to have
    at most as many fields, instead of silently turning an extra leading field into an index column.
    Blank lines are kept (skip_blank_lines=False) so that record numbers map to line numbers.
    """
    import pandas as pd  # here, not at the top: `predict` and `--help` need no pandas

    try:
        return pd.read_csv(
            io.BytesIO(data),
            sep=separator,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            engine="c",
            nrows=rows,
        )
    except pd.errors.EmptyDataError:
        raise RnnbenchError(f"{path}: no data rows (the file is empty)") from None
    except pd.errors.ParserError as err:
        message = " ".join(str(err).split())
        name = "a tab" if separator == "\t" else "a comma"
        if found := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
            expected, record, saw = map(int, found.groups())
            line = _line_of_record(path, data, separator, newline, record - 1)
            raise RnnbenchError(
                f"{path}: line {line}: {saw} fields where the header has {expected}; put a text "
                f"that contains {name} in double quotes"
            ) from None
        if found := re.search(r"EOF inside string starting at row (\d+)", message):
            line = _line_of_record(path, data, separator, newline, int(found.group(1)))
            raise RnnbenchError(
                f'{path}: line {line}: a quoted field has no closing double quote (write a " '
                'inside a quoted field as "")'
            ) from None
        raise RnnbenchError(f"{path}: not a readable CSV file: {message}") from None


def _line_of_record(path: Path, data: bytes, separator: str, newline: str, record: int) -> int:
    """The line that record `record` (0-based, the header is 0) starts on, from the records before it."""
    if record == 0:
        return 1
    before = _parse(path, data, separator, newline, rows=record)
    return int(_record_lines(before, newline)[-1] + 1 + _newlines(before, newline)[-1])


def _newlines(records: pd.DataFrame, newline: str) -> np.ndarray:
    """(records,) the line breaks inside each record's quoted fields."""
    counts = np.zeros(len(records), np.int64)
    for column in records.columns:
        counts += np.fromiter((value.count(newline) for value in records[column].tolist()), np.int64, len(records))
    return counts


def _record_lines(records: pd.DataFrame, newline: str, data: bytes | None = None) -> np.ndarray:
    """(records,) the 1-based line each record starts on: one line per record plus its inner line breaks.

    Example: records ['text,label'], ['a\\nb', 'x'], ['c', 'y'] -> [1, 2, 4].
    Given the file's bytes, the count of inner line breaks is skipped when there are none: a file with no more
    line breaks than its records need has none inside a field.
    """
    breaks = None if data is None else data.count(newline.encode()) + (not data.endswith(newline.encode()))
    if breaks == len(records):
        return np.arange(1, len(records) + 1, dtype=np.int64)
    spans = 1 + _newlines(records, newline)
    return np.concatenate(([1], 1 + np.cumsum(spans)[:-1])).astype(np.int64)


def _column_indices(path: Path, header: list[str], text_column: str, target_column: str) -> tuple[int, int]:
    if not any(header):
        raise RnnbenchError(f"{path}: line 1: the header is empty; the first line must name the columns")
    missing = [column for column in dict.fromkeys((text_column, target_column)) if column not in header]
    if missing:
        hint = " (is it separated by commas or tabs?)" if len(header) == 1 else ""
        raise RnnbenchError(
            f"{path}: no column {' or '.join(map(repr, missing))}; the file's columns are "
            f"{', '.join(map(repr, header))}{hint}"
        )
    for column in (text_column, target_column):
        if header.count(column) > 1:
            raise RnnbenchError(f"{path}: line 1: the header names column {column!r} {header.count(column)} times")
    return header.index(text_column), header.index(target_column)


def _blank_lines(
    data: bytes, newline: str, records: pd.DataFrame, starts: np.ndarray, texts: list[str], targets: list[str]
) -> set[int]:
    """The data rows (0-based) that are whitespace-only lines of the file, not records with empty fields."""
    if "" not in texts:
        return set()
    candidates = [i for i, (text, value) in enumerate(zip(texts, targets)) if not text and not value]
    breaks = np.flatnonzero(np.frombuffer(data, np.uint8) == ord(newline))
    blank = set()
    for i in candidates:
        line = int(starts[i])
        begin = int(breaks[line - 2]) + 1
        end = int(breaks[line - 1]) if line - 1 < len(breaks) else len(data)
        if not data[begin:end].strip() and not "".join(records.iloc[i + 1]).strip():
            blank.add(i)
    return blank


def _check_not_empty(path: Path, values: list[str], line_numbers: list[int], column: str, what: str) -> None:
    empty = values.count("")
    if empty:
        more = f" ({empty - 1:,} more like it)" if empty > 1 else ""
        line = line_numbers[values.index("")]
        raise RnnbenchError(f"{path}: line {line}, column {column!r}: the {what} is empty{more}")


def _numbers(path: Path, values: list[str], line_numbers: list[int], column: str) -> list[float]:
    import pandas as pd

    numbers = pd.to_numeric(np.asarray(values, dtype=object), errors="coerce").astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if len(bad):
        value = values[bad[0]]
        try:
            kind = "not a finite number" if not math.isfinite(float(value)) else "not a number"
        except ValueError:
            kind = "not a number"
        more = f" ({len(bad) - 1:,} more like it)" if len(bad) > 1 else ""
        raise RnnbenchError(
            f"{path}: line {line_numbers[bad[0]]}, column {column!r}: {value!r} is {kind} (target: number){more}"
        )
    return numbers.tolist()


# ---------------------------------------------------------------------------------------------------------------
# Splitting a regression by distinct text
# ---------------------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------------------
# Tokenizers: texts -> ids -> padded tensors
# ---------------------------------------------------------------------------------------------------------------

# Keras' text_to_word_sequence defaults: these characters become spaces, then the text is split on spaces.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TO_SPACES = str.maketrans(dict.fromkeys(KERAS_FILTERS, " "))
_CHUNK = 65_536  # texts per batch of array work: large enough to be fast, small enough to bound memory
_CODE_POINTS = 0x110000


def char_tokens(text: str) -> list[str]:
    """Example: 'Abé' -> ['A', 'b', 'é']."""
    return list(text)


def word_tokens(text: str) -> list[str]:
    """Keras' text_to_word_sequence with its defaults: lower-case, punctuation to spaces, split on spaces.

    Example: "Don't stop, ME now!" -> ["don't", 'stop', 'me', 'now'] (the apostrophe is not a filter).
    """
    return [word for word in text.lower().translate(_TO_SPACES).split(" ") if word]


@dataclass(frozen=True)
class Tokenizer:
    kind: str  # "char" or "word"
    tokens: tuple[str, ...]  # the token with id i + 2; PAD is 0, UNK (out of vocabulary) is 1
    max_length: int | None  # tokens kept per text; None: no truncation
    truncate: str  # "pre" drops the start of a longer text (keeps its end, as Keras does), "post" its end

    def __post_init__(self):
        if self.kind not in KINDS:
            raise RnnbenchError(f"tokenizer: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.truncate not in TRUNCATE:
            raise RnnbenchError(f"tokenizer: truncate {self.truncate!r} is not one of {', '.join(TRUNCATE)}")
        if self.max_length is not None and (not isinstance(self.max_length, int) or self.max_length < 1):
            raise RnnbenchError(f"tokenizer: max_length must be a positive whole number, not {self.max_length!r}")
        if self.kind == "char" and any(len(token) != 1 for token in self.tokens):
            raise RnnbenchError("tokenizer: a char tokenizer's tokens must be single characters")

    @property
    def size(self) -> int:
        """Ids in all, PAD and UNK included: the embedding's number of rows."""
        return len(self.tokens) + 2

    @classmethod
    def fit(
        cls, texts: list[str], kind: str, vocab_size: int | None, max_length: int | None, truncate: str
    ) -> Tokenizer:
        """The vocabulary of `texts`, counted like Keras' Tokenizer.

        vocab_size counts every id, like Keras' num_words: 10,000 keeps the 9,998 most frequent tokens, PAD and
        UNK being the other two. Order: a char tokenizer without vocab_size sorts characters by code point (the
        same ids as Vocab.from_texts); otherwise descending count, ties in order of first appearance.
        Example: ['b a', 'a c'], 'word', None -> tokens ('a', 'b', 'c'); with vocab_size 3 -> ('a',).
        """
        texts = list(texts)
        if kind not in KINDS:
            raise RnnbenchError(f"tokenizer: kind {kind!r} is not one of {', '.join(KINDS)}")
        if vocab_size is not None and vocab_size < 3:
            raise RnnbenchError(
                f"tokenizer: vocab_size {vocab_size} leaves no token: it counts PAD and UNK too, "
                "so it must be at least 3"
            )
        if kind == "char" and vocab_size is None:
            chars = set()
            for start in range(0, len(texts), _CHUNK):
                chars.update("".join(texts[start : start + _CHUNK]))
            return cls(kind, tuple(sorted(chars)), max_length, truncate)
        ranked = _ranked_chars(texts) if kind == "char" else _ranked_words(texts)
        keep = len(ranked) if vocab_size is None else vocab_size - 2
        return cls(kind, tuple(ranked[:keep]), max_length, truncate)

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts -> (ids (N, T) long, padded with PAD at the end; lengths (N,) long), T the longest length.

        A longer text than max_length loses its start ("pre") or its end ("post"). A text with no tokens at all
        (a word tokenizer on '!!!', or '') gets length 1 holding one UNK: packed sequences need length >= 1.
        Example, char tokens ('a', 'b'): ['ab', 'b', 'z'] -> [[2, 3], [3, 0], [1, 0]], [2, 1, 1].
        """
        texts = list(texts)
        starts = range(0, len(texts), _CHUNK)
        if self.kind == "char":
            # A text's length in characters is len(), so the ids can be made chunk by chunk while the rows are
            # filled, and never all at once.
            lengths = np.fromiter(map(len, texts), np.int64, len(texts))  # (N,)
            chunks = (self._ids(texts[start : start + _CHUNK]) for start in starts)
        else:
            # A text's number of words is known only once it is split, so the (small) ids are made first.
            chunks = [self._ids(texts[start : start + _CHUNK]) for start in starts]
            lengths = np.concatenate([counts for _, counts in chunks]) if chunks else np.zeros(0, np.int64)
        kept = _kept(lengths, self.max_length)  # (N,)
        width = int(kept.max(initial=0))
        padded = np.zeros((len(texts), width), np.int64)  # (N, T); zero is PAD
        row = 0
        for ids, counts in chunks:
            ids = _truncated(ids, counts, self.max_length, self.truncate)
            rows = padded[row : row + len(counts)]  # a view: filling it fills padded
            rows[np.arange(width) < _kept(counts, self.max_length)[:, None]] = ids  # row-major: row i's first cells
            row += len(counts)
        return torch.from_numpy(padded), torch.from_numpy(kept)

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of `text` that map to UNK, in order of appearance. Example: 'abz' -> ['z']."""
        tokens = char_tokens(text) if self.kind == "char" else word_tokens(text)
        return list(dict.fromkeys(token for token in tokens if token not in self._index))

    def to_dict(self) -> dict:
        """JSON-able; from_dict reads it back. Example: {'kind': 'char', 'tokens': ['a'], 'max_length': None,
        'truncate': 'pre'}."""
        return {
            "kind": self.kind,
            "tokens": list(self.tokens),
            "max_length": self.max_length,
            "truncate": self.truncate,
        }

    @classmethod
    def from_dict(cls, saved: dict) -> Tokenizer:
        fields = ("kind", "tokens", "max_length", "truncate")
        if not isinstance(saved, dict) or set(saved) != set(fields):
            keys = sorted(saved) if isinstance(saved, dict) else type(saved).__name__
            raise RnnbenchError(f"tokenizer: expected the keys {', '.join(fields)}, found {keys}")
        if not isinstance(saved["tokens"], list) or not all(isinstance(token, str) for token in saved["tokens"]):
            raise RnnbenchError("tokenizer: tokens must be a list of strings")
        return cls(saved["kind"], tuple(saved["tokens"]), saved["max_length"], saved["truncate"])

    @cached_property
    def _index(self) -> dict[str, int]:
        return {token: i + 2 for i, token in enumerate(self.tokens)}

    @cached_property
    def _char_table(self) -> np.ndarray:
        """(code points,) the id of every Unicode code point, UNK for those outside the vocabulary."""
        table = np.full(_CODE_POINTS, UNK, np.int32)
        table[np.array([ord(c) for c in self.tokens], np.int64)] = np.arange(2, self.size, dtype=np.int32)
        return table

    def _ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """One chunk of texts -> (every token's id, flat, int32; tokens per text (N,) int64), untruncated."""
        if self.kind == "char":
            codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)  # (chars,)
            return self._char_table[codes], np.fromiter(map(len, texts), np.int64, len(texts))
        # One translate and split for the whole chunk instead of one per text: the texts are joined with a
        # character none of them holds, whose pieces mark where each text ends.
        joined = _join_with_marker(texts)
        if joined is None:
            per_text = [word_tokens(text) for text in texts]
            ids = [self._index.get(token, UNK) for tokens in per_text for token in tokens]
            return np.array(ids, np.int32), np.fromiter(map(len, per_text), np.int64, len(texts))
        text, marker = joined
        lookup = {**self._index, "": -1, marker: -2}
        pieces = text.lower().translate(_TO_SPACES).split(" ")
        codes = np.fromiter(map(lookup.get, pieces, repeat(UNK)), np.int32, len(pieces))  # (pieces,)
        owner = np.cumsum(codes == -2)  # (pieces,) the text each piece belongs to
        real = codes >= 0
        return codes[real], np.bincount(owner[real], minlength=len(texts)).astype(np.int64)


def _ranked_words(texts: list[str]) -> list[str]:
    counts = Counter()
    for start in range(0, len(texts), _CHUNK):
        counts.update(" ".join(texts[start : start + _CHUNK]).lower().translate(_TO_SPACES).split(" "))
    counts.pop("", None)
    return sorted(counts, key=counts.__getitem__, reverse=True)  # stable: ties keep first-appearance order


def _ranked_chars(texts: list[str]) -> list[str]:
    """Characters by descending count, ties by first appearance. Example: ['ba', 'c'] -> ['b', 'a', 'c']."""
    counts = np.zeros(_CODE_POINTS, np.int64)
    first = np.full(_CODE_POINTS, np.iinfo(np.int64).max, np.int64)  # position of each character's first use
    offset = 0
    for start in range(0, len(texts), _CHUNK):
        codes = np.frombuffer("".join(texts[start : start + _CHUNK]).encode("utf-32-le", "surrogatepass"), np.uint32)
        counts += np.bincount(codes, minlength=_CODE_POINTS)
        np.minimum.at(first, codes, np.arange(offset, offset + len(codes)))
        offset += len(codes)
    seen = np.flatnonzero(counts)
    order = np.lexsort((first[seen], -counts[seen]))  # last key first: count, then first appearance
    return [chr(code) for code in seen[order]]


def _join_with_marker(texts: list[str]) -> tuple[str, str] | None:
    """texts joined by ' M ', M a character none of them contains (lower() and the filters leave it alone),
    or None in the absurd case that they contain every candidate. Example: ['a b', 'c'] -> ('a b \\x00 c', '\\x00').
    """
    plain = "".join(texts)
    for code in (0, *range(0xE000, 0xF900)):  # NUL, then the private use area
        if chr(code) not in plain:
            return f" {chr(code)} ".join(texts), chr(code)
    return None


def _kept(lengths: np.ndarray, max_length: int | None) -> np.ndarray:
    """Tokens kept per text: at least 1 (see _truncated), at most max_length. Example: [3, 0, 1], 2 -> [2, 1, 1]."""
    return np.clip(lengths, 1, max_length).astype(np.int64)


def _truncated(ids: np.ndarray, lengths: np.ndarray, max_length: int | None, truncate: str) -> np.ndarray:
    """Flat ids of texts with `lengths` tokens -> the flat ids that are kept, an UNK standing in for a text with none.

    Example: ids [5, 6, 7, 8], lengths [3, 0, 1], max_length 2, 'pre' -> [6, 7, 1, 8]; with 'post' -> [5, 6, 1, 8].
    """
    empty = lengths == 0
    if empty.any():
        # Packed sequences refuse length 0, so a text without tokens becomes one UNK.
        ids = np.insert(ids, (np.cumsum(lengths) - lengths)[empty], UNK)
        lengths = np.where(empty, 1, lengths)
    kept = _kept(lengths, max_length)
    if (kept == lengths).all():
        return ids
    # Per text, a run of kept ids and a run of dropped ones: (dropped, kept) for "pre", (kept, dropped) for "post".
    dropped = lengths - kept
    runs = np.stack((dropped, kept) if truncate == "pre" else (kept, dropped), axis=1).ravel()  # (2N,)
    pattern = np.tile([False, True] if truncate == "pre" else [True, False], len(lengths))  # (2N,)
    return ids[np.repeat(pattern, runs)]
