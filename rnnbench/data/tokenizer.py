"""Tokenizers: texts -> ids -> padded id tensors, by character or by word (Keras' conventions), fitted on training
texts and saved beside a run's weights.

Why tokenizers encode whole batches with numpy: a million texts through a per-character Python loop take
minutes; the same work as a few array operations takes seconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

from rnnbench.data.vocab import UNK
from rnnbench.errors import RnnbenchError

if TYPE_CHECKING:
    import torch

KINDS = ("char", "word")
TRUNCATE = ("pre", "post")

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
        import torch  # here, not at the top: reading a `data:` section needs no torch

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
