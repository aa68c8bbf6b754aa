"""The surname → language dataset: read the corpus files, clean them, and split them without leaks.

Why dedupe: the files repeat lines (Arabic.txt has 2,000 lines but 108 distinct names), so a split of raw lines
puts copies of test names into training and inflates accuracy.
Why split by name string: a name listed under several languages must land in one split only, for the same
reason; with the default policy such names are dropped altogether, since their label is ambiguous.
Why stratify: small languages (Vietnamese has 71 names) would otherwise come out of a random split with too
few test names to measure.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from rnnbench.errors import RnnbenchError

SPLITS = ("train", "validation", "test")


def clean(line: str, *, strip_accents: bool = False, lowercase: bool = False) -> str:
    """One name as the models see it: NFC-normalised, whitespace collapsed, optionally accent-free/lowercase.

    Example: 'To The First\\xa0 Page' -> 'To The First Page'; with strip_accents: 'Müller' -> 'Muller'.
    Characters such as ß, ł, apostrophes and hyphens are kept: they carry the language.
    """
    name = " ".join(unicodedata.normalize("NFC", line).split())
    if strip_accents:
        decomposed = unicodedata.normalize("NFD", name)
        name = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return name.lower() if lowercase else name


def read_corpus(names_dir: Path, languages: list[str]) -> dict[str, list[str]]:
    """The raw non-empty lines of each language's file, in file order."""
    corpus = {}
    for language in languages:
        path = names_dir / f"{language}.txt"
        try:
            corpus[language] = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as err:
            raise RnnbenchError(f"{path}: cannot read: {err}") from None
    return corpus


@dataclass(frozen=True)
class NamesSplits:
    labels: tuple[str, ...]  # class index -> language
    train: list[tuple[str, int]]  # (name, class index)
    validation: list[tuple[str, int]]
    test: list[tuple[str, int]]
    report: dict  # what cleaning and splitting did, per language and in total


def build_splits(
    corpus: dict[str, list[str]],
    *,
    seed: int,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    multi_language: str = "drop",
    strip_accents: bool = False,
    lowercase: bool = False,
    dedupe: bool = True,
    split: str = "by_name",
    test: dict[str, list[str]] | None = None,
) -> NamesSplits:
    """Dedupe within each language, apply the multi-language policy, then split.

    multi_language: "drop" removes a name listed under several of the chosen languages from all of them;
    "keep" keeps one example per (name, language), all of them in the same split.
    split: "by_name" shuffles each language's distinct names and cuts them into test, validation and train,
    so every name lands in one split (with `dedupe: false` a name's repeated lines all go with it); "leaky"
    shuffles the lines as they are, repeats included (`dedupe` does not apply), and cuts them, as a tutorial
    does: copies of a test name then sit in training. It exists to measure how much that inflates accuracy.
    test: a separate test set ({label: lines}, cleaned and deduped the same way) instead of a test split cut from
    the corpus: its names are removed from the corpus, so none of them is trained on, and test_fraction is unused.
    """
    labels = tuple(corpus)
    held_out = set()
    if test is not None:
        unknown = sorted(set(test) - set(labels))
        if unknown:
            raise RnnbenchError(
                f"test file: label {unknown[0]!r} never occurs in the training file; a model cannot "
                f"answer it (training labels: {', '.join(labels)})"
            )
        test = {
            label: list(dict.fromkeys(clean(line, strip_accents=strip_accents, lowercase=lowercase) for line in lines))
            for label, lines in test.items()
        }
        held_out = {name for names in test.values() for name in names}
        corpus = {
            label: [
                line for line in lines if clean(line, strip_accents=strip_accents, lowercase=lowercase) not in held_out
            ]
            for label, lines in corpus.items()
        }
        test_fraction = 0.0
    cleaned = {
        language: [clean(line, strip_accents=strip_accents, lowercase=lowercase) for line in lines]
        for language, lines in corpus.items()
    }
    per_language = {
        language: list(dict.fromkeys(names)) if dedupe and split == "by_name" else names
        for language, names in cleaned.items()
    }
    languages_of = defaultdict(list)
    for language, names in cleaned.items():
        for name in dict.fromkeys(names):
            languages_of[name].append(language)
    ambiguous = {name for name, langs in languages_of.items() if len(langs) > 1}
    kept = {
        language: [n for n in names if multi_language == "keep" or n not in ambiguous]
        for language, names in per_language.items()
    }

    rng = random.Random(seed)
    examples = {name: [] for name in SPLITS}
    if split == "leaky":
        pool = [(name, index) for index, names in enumerate(kept.values()) for name in names]
        rng.shuffle(pool)
        n_test, n_validation = round(len(pool) * test_fraction), round(len(pool) * validation_fraction)
        examples = {
            "test": pool[:n_test],
            "validation": pool[n_test : n_test + n_validation],
            "train": pool[n_test + n_validation :],
        }
    else:
        # Each distinct name gets one split, drawn within the first language it is listed under.
        split_of: dict[str, str] = {}
        for language, names in kept.items():
            own = sorted({n for n in names if languages_of[n][0] == language})
            rng.shuffle(own)
            n_test, n_validation = round(len(own) * test_fraction), round(len(own) * validation_fraction)
            for i, name in enumerate(own):
                split_of[name] = "test" if i < n_test else "validation" if i < n_test + n_validation else "train"
        for index, names in enumerate(kept.values()):
            for name in names:
                examples[split_of[name]].append((name, index))
        if test is not None:
            examples["test"] = [(name, labels.index(label)) for label, names in test.items() for name in names]

    report_languages = {}
    for index, language in enumerate(labels):
        distinct = set(cleaned[language])
        report_languages[language] = {
            "lines": len(corpus[language]),
            "distinct": len(distinct),
            "duplicates_removed": len(corpus[language]) - len(per_language[language]),
            "multi_language": len(distinct & ambiguous),  # names also listed under another chosen language
            "multi_language_removed": len(distinct & ambiguous) if multi_language == "drop" else 0,
            **{name: sum(1 for _, i in examples[name] if i == index) for name in SPLITS},
        }
    empty = [name for name in SPLITS if not examples[name] and (name != "validation" or validation_fraction > 0)]
    if empty:
        raise RnnbenchError(
            f"data: the {' and '.join(empty)} split would be empty with validation_fraction "
            f"{validation_fraction:g} and test_fraction {test_fraction:g}: each class gets its share "
            f"of its own distinct examples, rounded (the smallest of the {len(labels)} has "
            f"{min(len(set(names)) for names in kept.values()):,}); raise the fractions or drop small classes"
        )
    untrained = [language for language in labels if report_languages[language]["train"] == 0]
    if untrained:
        raise RnnbenchError(f"data.languages: no training names left for {', '.join(untrained)}")
    report = {
        "split": split,
        "languages": report_languages,
        "multi_language_names": len(ambiguous),
        "multi_language_policy": multi_language,
        "multi_language_examples": [[name, languages_of[name]] for name in sorted(ambiguous)[:5]],
        "sizes": {name: len(examples[name]) for name in SPLITS},
        "overlap": split_overlap(examples),
    }
    if test is not None:
        report["test_file_names"] = len(held_out)  # every one of them removed from the corpus before splitting
    return NamesSplits(labels, examples["train"], examples["validation"], examples["test"], report)


def split_overlap(examples: dict[str, list[tuple[str, int]]]) -> dict:
    """How many distinct names sit in two splits, and the share of test and validation examples whose name is
    also a training example: all zero for a split by name, the leak for a leaky one.

    Example: train [('Abel', 0)], validation [], test [('Abel', 0), ('Rossi', 1)] -> train_test 1,
    test_seen_in_training 0.5.
    """
    names = {split: {name for name, _ in examples[split]} for split in SPLITS}
    seen = {
        split: sum(name in names["train"] for name, _ in examples[split]) / max(len(examples[split]), 1)
        for split in ("validation", "test")
    }
    return {
        "train_validation": len(names["train"] & names["validation"]),
        "train_test": len(names["train"] & names["test"]),
        "validation_test": len(names["validation"] & names["test"]),
        "validation_seen_in_training": seen["validation"],
        "test_seen_in_training": seen["test"],
    }


# How the data report reads to a person: its per-language columns, and what each multi_language policy did.
REPORT_COLUMNS = {
    "lines": "lines",
    "distinct": "distinct",
    "duplicates_removed": "duplicates removed",
    "multi_language": "in several languages",
    "train": "train",
    "validation": "validation",
    "test": "test",
}
TREATMENT = {"drop": "dropped from every language", "keep": "kept under each of its languages, all copies in one split"}


def describe_overlap(report: dict, noun: str = "name") -> str:
    """The split check of a data report in one sentence: that no name is in two splits, or how much a leaky split
    leaks. Example: 'no name is in two splits (checked: train ∩ validation 0, train ∩ test 0, validation ∩ test 0)'.
    """
    overlap = report["overlap"]
    pairs = (
        f"train ∩ validation {overlap['train_validation']:,}, train ∩ test {overlap['train_test']:,}, "
        f"validation ∩ test {overlap['validation_test']:,}"
    )
    if report.get("split") != "leaky":  # said from the counts: a split by name that shared one would say so
        shared = overlap["train_validation"] + overlap["train_test"] + overlap["validation_test"]
        found = f"{noun}s in two splits" if shared else f"no {noun} is in two splits"
        return f"{found} (checked: {pairs}){_read_alike(overlap, noun)}"
    return (
        f"split: leaky: lines split at random, repeats included; {noun}s in two splits: {pairs}; "
        f"{100 * overlap['test_seen_in_training']:.1f}% of test examples have a copy in training. Use it only "
        "to measure how much such a split inflates accuracy"
    )


def _read_alike(overlap: dict, noun: str) -> str:
    """What a split by text cannot see: different texts that the tokenizer makes one input (counted by the csv task,
    after tokenizing). Example: {'test_read_as_training': 2, 'validation_read_as_training': 0} -> '; but once
    tokenized, 2 test and 0 validation texts read exactly as a training text does (…)'."""
    alike = {split: overlap.get(f"{split}_read_as_training", 0) for split in ("test", "validation")}
    if not any(alike.values()):
        return ""
    return (
        f"; but once tokenized, {alike['test']:,} test and {alike['validation']:,} validation {noun}s read exactly "
        f"as a training {noun} does (the tokenizer makes them equal: case, punctuation or truncation)"
    )
