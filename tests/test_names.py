from collections import Counter

import pytest

from rnnbench.data import corpus, names
from rnnbench.errors import RnnbenchError


@pytest.fixture(scope="module")
def all_corpus(names_dir):
    return names.read_corpus(names_dir, list(corpus.LANGUAGES))


def test_clean_examples():
    assert names.clean("  To The First\xa0 Page ") == "To The First Page"
    assert names.clean("Müller") == "Müller"
    assert names.clean("Müller", strip_accents=True) == "Muller"
    assert names.clean("Großmann", strip_accents=True, lowercase=True) == "großmann"  # ß is a letter, not an accent
    assert names.clean("O'Neal") == "O'Neal"
    assert names.clean("Mu\u0308ller") == "Müller"  # decomposed input is composed (NFC)


def test_corpus_facts(all_corpus):
    assert sum(len(lines) for lines in all_corpus.values()) == 20074
    splits = names.build_splits(all_corpus, seed=0)
    arabic = splits.report["languages"]["Arabic"]
    assert (arabic["lines"], arabic["distinct"], arabic["duplicates_removed"]) == (2000, 108, 1892)
    assert splits.report["multi_language_names"] == 469


def test_no_name_in_two_splits_and_no_duplicates(all_corpus):
    for policy in ("drop", "keep"):
        splits = names.build_splits(all_corpus, seed=3, multi_language=policy)
        train, validation, test = ({name for name, _ in s} for s in (splits.train, splits.validation, splits.test))
        assert not (train & validation) and not (train & test) and not (validation & test)
        for split in (splits.train, splits.validation, splits.test):
            assert len(split) == len(set(split))  # no repeated (name, language) example


def test_drop_policy_removes_names_listed_under_several_languages(names_dir):
    corpus_de_it = names.read_corpus(names_dir, ["German", "Italian"])
    splits = names.build_splits(corpus_de_it, seed=0)
    every = {name for s in (splits.train, splits.validation, splits.test) for name, _ in s}
    assert "Salomon" not in every and "Paternoster" not in every
    assert "Tribbiani" not in every  # not in the corpus at all: predict has honest work to do
    kept = names.build_splits(corpus_de_it, seed=0, multi_language="keep")
    labels = Counter(name for s in (kept.train, kept.validation, kept.test) for name, _ in s)
    assert labels["Salomon"] == 2 and labels["Paternoster"] == 2


def test_split_is_stratified_by_language(all_corpus):
    splits = names.build_splits(all_corpus, seed=1, validation_fraction=0.1, test_fraction=0.2)
    for language, row in splits.report["languages"].items():
        total = row["train"] + row["validation"] + row["test"]
        assert abs(row["test"] - 0.2 * total) <= 1, language
        assert abs(row["validation"] - 0.1 * total) <= 1, language
    assert splits.labels == corpus.LANGUAGES


def test_seed_fixes_the_split(names_dir):
    corpus_de_it = names.read_corpus(names_dir, ["German", "Italian"])
    first, again = (names.build_splits(corpus_de_it, seed=5) for _ in range(2))
    other = names.build_splits(corpus_de_it, seed=6)
    assert first.test == again.test and first.train == again.train
    assert set(first.test) != set(other.test)


def test_fractions_that_leave_a_split_empty_are_refused(names_dir):
    corpus_de_it = names.read_corpus(names_dir, ["German", "Italian"])
    with pytest.raises(RnnbenchError, match="the validation split would be empty"):
        names.build_splits(corpus_de_it, seed=0, validation_fraction=0.0001)


def test_tutorial_data_handling_keeps_repeats_and_leaks(names_dir):
    corpus_de_it = names.read_corpus(names_dir, ["German", "Italian"])
    lines = sum(len(v) for v in corpus_de_it.values())
    tutorial = names.build_splits(
        corpus_de_it, seed=0, split="leaky", validation_fraction=0, test_fraction=0.2, strip_accents=True
    )
    sizes = tutorial.report["sizes"]
    assert sizes["validation"] == 0 and sizes["test"] == round(0.2 * (sizes["train"] + sizes["test"]))
    deduped = names.build_splits(corpus_de_it, seed=0, strip_accents=True)
    assert sizes["train"] + sizes["test"] > sum(deduped.report["sizes"].values())  # the repeats are kept
    assert sizes["train"] + sizes["test"] <= lines
    train, test = {n for n, _ in tutorial.train}, {n for n, _ in tutorial.test}
    assert train & test  # the leak: repeated lines split at random put copies of test names in training
    overlap = tutorial.report["overlap"]
    assert overlap["train_test"] == len(train & test) > 0
    assert overlap["test_seen_in_training"] == sum(n in train for n, _ in tutorial.test) / len(tutorial.test)
    fair = names.build_splits(
        corpus_de_it, seed=0, dedupe=False, validation_fraction=0, test_fraction=0.2, strip_accents=True
    )  # the same examples, split by name: no leak
    assert sum(fair.report["sizes"].values()) == sizes["train"] + sizes["test"]
    assert not ({n for n, _ in fair.train} & {n for n, _ in fair.test})
    assert set(fair.report["overlap"].values()) == {0}


def test_the_report_counts_multi_language_names_and_their_treatment(names_dir):
    corpus = names.read_corpus(names_dir, ["English", "French", "German"])
    dropped = names.build_splits(corpus, seed=0).report
    kept = names.build_splits(corpus, seed=0, multi_language="keep").report
    assert dropped["multi_language_names"] == kept["multi_language_names"] > 0
    for language, row in dropped["languages"].items():
        assert row["multi_language_removed"] == row["multi_language"] == kept["languages"][language]["multi_language"]
        assert kept["languages"][language]["multi_language_removed"] == 0
        assert (
            row["train"] + row["validation"] + row["test"]
            == row["lines"] - row["duplicates_removed"] - row["multi_language"]
        )
    name, languages = dropped["multi_language_examples"][0]
    assert len(languages) >= 2 and all(name in set(map(names.clean, corpus[lang])) for lang in languages)
    assert set(kept["overlap"].values()) == {0}  # kept under each language, but every copy in one split


def test_split_overlap_known_answer():
    overlap = names.split_overlap({"train": [("Abel", 0)], "validation": [], "test": [("Abel", 0), ("Rossi", 1)]})
    assert overlap == {
        "train_validation": 0,
        "train_test": 1,
        "validation_test": 0,
        "validation_seen_in_training": 0.0,
        "test_seen_in_training": 0.5,
    }
