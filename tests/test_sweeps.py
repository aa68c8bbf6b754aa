"""Sweeps over any setting that leaves the task's meaning alone: a grid axis or a per-variant override of a model,
train or (a task's INPUT_FIELDS) data field; names and keys say what varies."""

import json

import pytest
from conftest import REPO, TINY
from test_cli import invoke

from rnnbench import config, rundir
from rnnbench.errors import ConfigError

VALENCE = {
    "dataset": "csv",
    "path": str(REPO / "experiments" / "data" / "vader_valence.csv"),
    "target_column": "valence",
    "target": "number",
}


def _problems(content: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.validate(content)
    return caught.value.problems


def test_a_grid_over_training_settings_names_each_combination():
    content = {**TINY, "grid": {"cell": ["gru", "lstm"], "train": {"learning_rate": [0.001, 0.01], "batch_size": [16]}}}
    specs = config.validate(content).run_specs()
    assert [spec.variant for spec in specs if spec.seed == 0] == [
        "gru-uni-1x8-lr0.001",
        "gru-uni-1x8-lr0.01",
        "lstm-uni-1x8-lr0.001",
        "lstm-uni-1x8-lr0.01",
    ]
    assert {(spec.train.learning_rate, spec.train.batch_size) for spec in specs} == {(0.001, 16), (0.01, 16)}
    assert len({spec.variant_key() for spec in specs}) == 4  # the key hashes the training settings too


def test_an_axis_at_the_experiments_value_keeps_the_runs_key():
    """Sweeping a setting never retrains the run its default value already made."""
    plain = {spec.variant_key() for spec in config.validate({**TINY, "grid": {"cell": ["gru"]}}).run_specs()}
    rate = TINY["train"].get("learning_rate", 3e-3)
    swept = config.validate({**TINY, "grid": {"cell": ["gru"], "train": {"learning_rate": [rate, rate * 10]}}})
    assert plain < {spec.variant_key() for spec in swept.run_specs()}


def test_a_variant_overrides_training_settings_and_its_name_says_so():
    content = {
        **TINY,
        "grid": None,
        "variants": [
            {"cell": "gru"},
            {"cell": "gru", "train": {"weight_decay": 0.01}},
            {"name": "slow", "cell": "lstm", "train": {"learning_rate": 1e-4}},
        ],
    }
    variants = config.validate(content).resolved_variants()
    assert list(variants) == ["gru-uni-1x8", "gru-uni-1x8-wd0.01", "slow"]
    assert (
        variants["slow"].train.learning_rate == 1e-4
        and variants["slow"].train.max_epochs == TINY["train"]["max_epochs"]
    )
    assert config.changed_settings(config.validate(content), variants["slow"]) == ["train.learning_rate 0.0001"]


def test_misplaced_and_meaning_changing_fields_are_refused_with_the_way_to_write_them():
    assert _problems({**TINY, "grid": {"learning_rate": [0.001, 0.003]}}) == [
        "grid.learning_rate: a train field; write it under train: (grid: {train: {learning_rate: [...]}})"
    ]
    assert _problems({**TINY, "grid": None, "variants": [{"batch_size": 8}]}) == [
        "variants[0].batch_size: a train field; write it under train: (variants: [{cell: gru, train: {batch_size: ...}}])"
    ]
    assert _problems({**TINY, "grid": {"data": {"languages": [["German", "Italian"]]}}}) == [
        "grid.data.languages: changes which examples each split holds, so the variants would not be scored on one "
        "test set; give it in `data:` for the whole experiment (data fields a variant can set for names: none)"
    ]
    assert _problems({**TINY, "data": VALENCE, "grid": {"data": {"tokeniser": ["word"]}}}) == [
        "grid.data.tokeniser: unknown field; did you mean tokenizer? (data fields a variant can set for csv: "
        "tokenizer, vocab_size, max_length, truncate)"
    ]
    assert _problems({**TINY, "data": VALENCE, "grid": {"data": {"tokenizer": ["char", "words"]}}}) == [
        "grid.data.tokenizer[1]: is not one of char, word (got 'words'); did you mean word?"
    ]
    assert _problems({**TINY, "grid": {"train": {"learning_rate": [0.1, -1], "batch_size": []}}}) == [
        "grid.train.learning_rate[1]: input should be greater than 0 (got -1)",
        "grid.train.batch_size: an empty list leaves no variants; remove the field or give at least one value (got [])",
    ]
    assert _problems(
        {
            **TINY,
            "data": {**TINY["data"], "validation_fraction": 0},
            "train": {"patience": 0},
            "grid": None,
            "variants": [{"train": {"patience": 3}}],
        }
    ) == [
        "variant gru-uni-1x8: train.patience: early stopping needs a validation split; set it to 0 or "
        "give data.validation_fraction > 0 (got 3)"
    ]


def test_a_sweep_over_training_and_data_settings_trains_and_shares_one_test_set(tmp_path):
    """A csv experiment sweeping the tokenizer and the learning rate: every run is scored on the same test texts
    (the split is by text, whatever reads it), each tokenizer's vocabulary is its own, a later `run` adds nothing."""
    content = {
        **TINY,
        "name": "sweep",
        "data": VALENCE,
        "model": {"hidden_size": 8, "embedding_dim": 8},
        "grid": {"data": {"tokenizer": ["char", "word"]}, "train": {"learning_rate": [0.003, 0.03]}},
    }
    (tmp_path / "e.yaml").write_text(json.dumps(content))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    runs = {run.spec.variant: run for run in rundir.find_runs(tmp_path / "results")[0]}
    assert sorted(runs) == [
        "gru-uni-1x8-lr0.003-char",
        "gru-uni-1x8-lr0.003-word",
        "gru-uni-1x8-lr0.03-char",
        "gru-uni-1x8-lr0.03-word",
    ]
    assert len({run.data["test_size"] for run in runs.values()}) == 1
    assert runs["gru-uni-1x8-lr0.003-char"].data["vocab_size"] != runs["gru-uni-1x8-lr0.003-word"].data["vocab_size"]
    assert runs["gru-uni-1x8-lr0.03-word"].spec.train.learning_rate == 0.03
    assert runs["gru-uni-1x8-lr0.03-word"].spec.data.tokenizer == "word"
    again = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert again.exit_code == 0 and "(trained now: 0; finished before: 4" in again.output, again.output
    validated = invoke("validate", tmp_path / "e.yaml")
    assert validated.exit_code == 0 and "data.tokenizer word" in validated.stdout, validated.output
    # compare says what each row was trained with, and report writes one experiment file that repeats them all
    records = json.loads(invoke("compare", "--results", tmp_path / "results", "--format", "json").stdout)
    assert {record["settings"] for record in records} == {
        f"tokenizer {tokenizer}, learning_rate {rate}" for rate in (0.003, 0.03) for tokenizer in ("char", "word")
    }
    reported = invoke("report", "sweep", "--results", tmp_path / "results", "--out", tmp_path / "report")
    assert reported.exit_code == 0, reported.output
    again = config.load(tmp_path / "report" / "experiment.yaml").run_specs()
    assert {spec.variant_key() for spec in again} == {run.variant_key for run in runs.values()}


def test_a_mistyped_dataset_does_not_hide_the_other_data_errors():
    assert _problems({**TINY, "data": {"dataset": "name", "languges": ["German"], "test_fraction": 0.6}}) == [
        "data.dataset: is not one of names, reversal, csv, series, adding, copy (got 'name'); did you mean names?",
        "data.test_fraction: input should be less than 0.5 (got 0.6) (checked as dataset names)",
        "data.languges: unknown field; did you mean languages? valid fields: dataset, languages, multi_language, "
        "validation_fraction, test_fraction, strip_accents, lowercase, dedupe, split (checked as dataset names)",
    ]


def test_every_problem_of_every_variant_is_told_at_once():
    assert _problems({**TINY, "data": {"dataset": "cvs", "path": "x.csv", "tokenizer": "wrod"}})[:2] == [
        "data.dataset: is not one of names, reversal, csv, series, adding, copy (got 'cvs'); did you mean csv?",
        "data.tokenizer: is not one of char, word (got 'wrod'); did you mean word? (checked as dataset csv)",
    ]
    assert _problems(
        {
            **TINY,
            "grid": None,
            "variants": [
                {"cell": "gru", "data": {"languages": ["French"]}},
                {"cell": "gru", "train": {"batch_size": [16]}},
            ],
        }
    ) == [
        "variants[1].train.batch_size: expected a whole number, not a list (got [16])",
        "variants[0].data.languages: changes which examples each split holds, so the variants would not be scored on "
        "one test set; give it in `data:` for the whole experiment (data fields a variant can set for names: none)",
    ]
    assert _problems({**TINY, "data": VALENCE, "grid": {"tokenizer": ["char", "word"]}}) == [
        "grid.tokenizer: a data field; write it under data: (grid: {data: {tokenizer: [...]}})"
    ]
    assert _problems({**TINY, "data": VALENCE, "grid": {"cell": ["gru"], "max_length": [5]}}) == [
        "variant gru-uni-1x8: model.max_length is read only by head flatten and cell linear; to cut texts to a "
        "number of tokens, set data.max_length (in a grid: grid.data.max_length)"
    ]
