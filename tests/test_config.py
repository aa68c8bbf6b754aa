from pathlib import Path

import pytest

from rnnbench import config
from rnnbench.data.corpus import LANGUAGES
from rnnbench.errors import ConfigError

from conftest import REPO, TINY

SHIPPED = sorted((REPO / "experiments").rglob("*.yaml"))


def test_there_are_shipped_experiments():
    assert {p.name for p in SHIPPED} >= {"names_de_it.yaml", "names_18.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_experiment_validates(path):
    experiment = config.load(path)
    assert experiment.run_specs()
    assert path.read_text(encoding="utf-8").startswith("#"), "shipped files open with a comment"


def test_de_it_resolves_to_six_variants():
    experiment = config.load(REPO / "experiments" / "names_de_it.yaml")
    assert list(experiment.resolved_variants()) == [
        "rnn-uni-1x64", "rnn-bi-1x64", "gru-uni-1x64", "gru-bi-1x64", "lstm-uni-1x64", "lstm-bi-1x64"]
    assert experiment.data.languages == ["German", "Italian"]


def _problems(write_experiment, content, overrides=()):
    with pytest.raises(ConfigError) as error:
        config.load(write_experiment(content), list(overrides))
    return error.value.problems


def test_every_error_is_reported_at_once_with_field_and_choices(write_experiment):
    content = {
        "name": "bad",
        "model": {"cell": "lstmm", "hiden_size": 3},
        "grid": {"cell": ["rnn", "gruu"]},
        "train": {"learning_rate": -1},
        "device": "gpu",
    }
    problems = _problems(write_experiment, content)
    assert "model.cell: is not one of rnn, gru, lstm, linear_rnn, linear, majority (got 'lstmm')" in problems
    assert "grid.cell[1]: is not one of rnn, gru, lstm, linear_rnn, linear, majority (got 'gruu')" in problems
    assert any(p.startswith("model.hiden_size: unknown field; valid fields: cell, impl, bidirectional") for p in problems)
    assert any(p.startswith("train.learning_rate: input should be greater than 0") for p in problems)
    assert "device: is not one of auto, cpu, cuda, mps (got 'gpu')" in problems
    assert len(problems) == 5


def test_language_errors(write_experiment):
    assert _problems(write_experiment, {"name": "x", "data": {"languages": ["German", "Italain"]}}) == [
        "data.languages[1]: is not one of " + ", ".join(LANGUAGES) + " (got 'Italain')"]
    problems = _problems(write_experiment, {"name": "x", "data": {"languages": ["German", "German"]}})
    assert problems == ["data.languages: lists German more than once (got ['German', 'German'])"]
    assert _problems(write_experiment, {"name": "x", "data": {"languages": ["German"]}})[0].startswith("data.languages: list should have at least 2 items")


def test_missing_name_and_not_a_mapping(write_experiment, tmp_path):
    assert _problems(write_experiment, {"model": {}}) == ["name: required field is missing"]
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        config.load(path)


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nmodel:\n  cell: [gru\n")
    with pytest.raises(ConfigError) as error:
        config.load(path)
    assert str(error.value).startswith(f"{path}: line ") and "not valid YAML" in str(error.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="no such file"):
        config.load(Path("does-not-exist.yaml"))


def test_overrides_apply_before_validation(write_experiment):
    path = write_experiment(TINY)
    experiment = config.load(path, ["train.max_epochs=7", "grid.cell=[rnn]", "seeds=[1, 2]", "model.embedding_dim=null"])
    assert experiment.train.max_epochs == 7 and experiment.seeds == [1, 2]
    assert list(experiment.resolved_variants()) == ["rnn-uni-1x8", "rnn-bi-1x8"]
    assert experiment.model.embedding_dim is None
    assert _problems(write_experiment, TINY, ["train.max_epochs=lots"]) == [
        "train.max_epochs: input should be a valid integer, unable to parse string as an integer (got 'lots')"]
    assert _problems(write_experiment, TINY, ["train.epochs=2"])[0].startswith("train.epochs: unknown field")
    assert _problems(write_experiment, TINY, ["noequals"]) == ["--set noequals: expected KEY=VALUE, for example train.max_epochs=2"]


def test_variants_merge_over_defaults_and_names(write_experiment):
    content = {**TINY, "grid": {"cell": ["gru"]},
               "variants": [{"cell": "lstm", "bidirectional": True}, {"name": "wide", "hidden_size": 32}]}
    variants = config.load(write_experiment(content)).resolved_variants()
    assert list(variants) == ["gru-uni-1x8", "lstm-bi-1x8", "wide"]
    assert variants["wide"].hidden_size == 32 and variants["wide"].cell == "gru"
    assert variants["lstm-bi-1x8"].embedding_dim == 8


def test_automatic_names_include_fields_that_vary(write_experiment):
    content = {**TINY, "grid": {"embedding_dim": [None, 4], "dropout": [0.0, 0.5]}}
    assert list(config.load(write_experiment(content)).resolved_variants()) == [
        "gru-uni-1x8-onehot-drop0", "gru-uni-1x8-onehot-drop0.5", "gru-uni-1x8-emb4-drop0", "gru-uni-1x8-emb4-drop0.5"]


def test_duplicate_variant_names_are_refused(write_experiment):
    content = {**TINY, "grid": None, "variants": [{"name": "small"}, {"name": "small", "cell": "lstm"}]}
    problems = _problems(write_experiment, content)
    assert problems == ["variants[1]: variant name 'small' is used twice; give the variant a distinct name"]


def test_variant_key_tracks_the_configuration(write_experiment):
    base = config.load(write_experiment(TINY)).run_specs()
    again = config.load(write_experiment(TINY)).run_specs()
    changed = config.load(write_experiment(TINY), ["train.learning_rate=0.01"]).run_specs()
    other_device = config.load(write_experiment(TINY), ["device=auto", "seeds=[4]"]).run_specs()
    assert [s.variant_key() for s in base] == [s.variant_key() for s in again]
    assert base[0].variant_key() != changed[0].variant_key()
    assert base[0].variant_key() == other_device[0].variant_key()  # device and seed are not part of it
    assert len({s.variant_key() for s in base}) == len(base)


def test_seeds_must_be_distinct_and_in_range(write_experiment):
    assert _problems(write_experiment, {**TINY, "seeds": [1, 1]}) == ["seeds: lists 1 more than once (got [1, 1])"]
    problems = _problems(write_experiment, {**TINY, "seeds": [-1, 2**32]})
    assert problems[0].startswith("seeds[0]: input should be greater than or equal to 0")
    assert problems[1].startswith("seeds[1]: input should be less than 4294967296")


def test_infinite_or_nan_numbers_are_refused(write_experiment):
    for value in (".inf", ".nan"):
        problems = _problems(write_experiment, TINY, [f"train.learning_rate={value}"])
        assert problems[0].startswith("train.learning_rate: input should be a finite number"), problems


def test_grid_axes_must_be_non_empty_and_distinct(write_experiment):
    assert _problems(write_experiment, {**TINY, "grid": {"cell": []}})[0].startswith("grid.cell: an empty list leaves no variants")
    assert _problems(write_experiment, {**TINY, "grid": {"cell": ["gru", "gru"]}})[0].startswith("grid.cell: lists gru more than once")


def test_identical_variants_are_refused(write_experiment):
    content = {**TINY, "grid": None, "variants": [{"name": "a", "cell": "lstm"}, {"name": "b", "cell": "lstm"}]}
    assert _problems(write_experiment, content) == ["variants[1]: variant 'b' has the same settings as 'a'; drop one of them"]


def test_variant_key_ignores_the_display_name(write_experiment):
    """Adding a grid axis value renames variants (gru-uni-1x8 -> gru-uni-1x8-emb8) but must not rehash them."""
    base = {s.variant: s.variant_key() for s in config.load(write_experiment(TINY)).run_specs()}
    wider = config.load(write_experiment(TINY), ["grid.embedding_dim=[8, 16]"]).run_specs()
    renamed = {s.variant.removesuffix("-emb8"): s.variant_key() for s in wider if s.variant.endswith("-emb8")}
    assert renamed == base


def test_override_keys_may_carry_spaces(write_experiment):
    experiment = config.load(write_experiment(TINY), [" train . max_epochs = 3"])
    assert experiment.train.max_epochs == 3


def test_no_validation_split_needs_patience_zero(write_experiment):
    content = {**TINY, "data": {**TINY["data"], "validation_fraction": 0}, "train": {**TINY["train"], "patience": 3}}
    assert _problems(write_experiment, content) == [
        "train.patience: early stopping needs a validation split; set it to 0 or give data.validation_fraction > 0 (got 3)"]


def test_baselines_ignore_fields_they_do_not_read(write_experiment):
    """A baseline crossed with recurrent axes is listed once, and fields it does not read never rehash it."""
    content = {**TINY, "grid": {"cell": ["gru", "majority", "linear"], "bidirectional": [False, True],
                                "hidden_size": [8, 16]}, "model": {**TINY["model"], "max_length": 18}}
    variants = config.load(write_experiment(content)).resolved_variants()
    assert [name for name in variants if not name.startswith("gru")] == ["majority", "linear-1x8", "linear-1x16"]
    plain = config.validate({**TINY, "grid": None, "variants": [{"cell": "majority"}]}).run_specs()[0]
    decorated = config.validate({**TINY, "grid": None, "variants": [
        {"cell": "majority", "bidirectional": True, "impl": "scratch", "dropout": 0.5}]}).run_specs()[0]
    assert plain.variant_key() == decorated.variant_key()


def test_variant_key_leaves_out_defaults_so_new_fields_never_rehash(write_experiment):
    plain = config.load(write_experiment(TINY)).run_specs()[0]
    explicit = config.load(write_experiment(TINY), ["model.impl=torch", "model.head=last", "model.bias=double"]).run_specs()[0]
    assert plain.variant_key() == explicit.variant_key()


REVERSAL = {"name": "rev", "data": {"dataset": "reversal"}, "model": {"architecture": "encoder_decoder"}}


def test_reversal_options_need_the_architecture_they_belong_to(write_experiment):
    content = {**REVERSAL, "variants": [{"architecture": "tagger", "sentinels": True},
                                        {"readout": "context"},
                                        {"regression": True},
                                        {"architecture": "tagger", "regression": True, "cell": "lstm"}]}
    assert sorted(_problems(write_experiment, content)) == sorted([
        "variant gru-uni-1x64-tagger-sentinels: sentinels needs architecture encoder_decoder (got tagger)",
        "variant gru-uni-1x64-readout-context: readout context needs attention (got attention none)",
        "variant gru-uni-1x64-regression: regression needs architecture tagger or repeat_decoder (got "
        "encoder_decoder): a decoder that stops at an end token needs tokens"])
    names = {**TINY, "grid": None, "variants": [{"regression": True}, {"sentinels": True}]}
    problems = _problems(write_experiment, names)
    assert any("regression needs architecture tagger or repeat_decoder (got classifier)" in p for p in problems)
    assert any("sentinels needs architecture encoder_decoder (got classifier)" in p for p in problems)


def test_regression_models_ignore_the_embedding_they_do_not_read(write_experiment):
    content = {**REVERSAL, "model": {"architecture": "tagger", "regression": True}}
    plain = config.load(write_experiment(content)).run_specs()[0]
    other = config.load(write_experiment(content), ["model.embedding_dim=8"]).run_specs()[0]
    assert plain.variant_key() == other.variant_key()


def test_reversal_without_validation_split(write_experiment):
    content = {**REVERSAL, "data": {"dataset": "reversal", "validation_fraction": 0}, "train": {"patience": 2}}
    assert _problems(write_experiment, content)[0].startswith("train.patience: early stopping needs a validation split")
    assert config.load(write_experiment(content), ["train.patience=0"]).data.validation_fraction == 0


def test_split_random_is_read_as_leaky(write_experiment):
    """Runs recorded before `leaky` was named still load; the split they describe is the same."""
    content = {**TINY, "data": {**TINY["data"], "split": "random"}}
    assert config.load(write_experiment(content)).data.split == "leaky"
