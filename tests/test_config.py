import time
import types
import typing
from pathlib import Path

import pytest
from conftest import REPO, TINY
from pydantic import ValidationError

from rnnbench import config, yamlfile
from rnnbench.data.corpus import LANGUAGES
from rnnbench.errors import ConfigError
from rnnbench.fields import Strict
from rnnbench.tasks import TASKS

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
        "rnn-uni-1x64",
        "rnn-bi-1x64",
        "gru-uni-1x64",
        "gru-bi-1x64",
        "lstm-uni-1x64",
        "lstm-bi-1x64",
    ]
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
    assert (
        "model.cell: is not one of rnn, gru, lstm, linear_rnn, linear, majority, naive, seasonal_naive, drift, mean (got 'lstmm'); did you mean lstm?"
        in problems
    )
    assert (
        "grid.cell[1]: is not one of rnn, gru, lstm, linear_rnn, linear, majority, naive, seasonal_naive, drift, mean (got 'gruu'); did you mean gru?"
        in problems
    )
    assert any(
        p.startswith(
            "model.hiden_size: unknown field; did you mean hidden_size? valid fields: cell, impl, bidirectional"
        )
        for p in problems
    )
    assert any(p.startswith("train.learning_rate: input should be greater than 0") for p in problems)
    assert "device: is not one of auto, cpu, cuda, mps (got 'gpu')" in problems
    assert len(problems) == 5


def test_language_errors(write_experiment):
    assert _problems(write_experiment, {"name": "x", "data": {"languages": ["German", "Italain"]}}) == [
        "data.languages[1]: is not one of " + ", ".join(LANGUAGES) + " (got 'Italain'); did you mean Italian?"
    ]
    problems = _problems(write_experiment, {"name": "x", "data": {"languages": ["German", "German"]}})
    assert problems == ["data.languages: lists German more than once (got ['German', 'German'])"]
    assert _problems(write_experiment, {"name": "x", "data": {"languages": ["German"]}})[0].startswith(
        "data.languages: list should have at least 2 items"
    )


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
    experiment = config.load(
        path, ["train.max_epochs=7", "grid.cell=[rnn]", "seeds=[1, 2]", "model.embedding_dim=null"]
    )
    assert experiment.train.max_epochs == 7 and experiment.seeds == [1, 2]
    assert list(experiment.resolved_variants()) == ["rnn-uni-1x8", "rnn-bi-1x8"]
    assert experiment.model.embedding_dim is None
    assert _problems(write_experiment, TINY, ["train.max_epochs=lots"]) == [
        "train.max_epochs: expected a whole number, not text (got 'lots'); set by --set"
    ]
    assert _problems(write_experiment, TINY, ["train.epochs=2"])[0].startswith("train.epochs: unknown field")
    assert _problems(write_experiment, TINY, ["noequals"]) == [
        "--set noequals: expected KEY=VALUE, for example train.max_epochs=2"
    ]


def test_variants_merge_over_defaults_and_names(write_experiment):
    content = {
        **TINY,
        "grid": {"cell": ["gru"]},
        "variants": [{"cell": "lstm", "bidirectional": True}, {"name": "wide", "hidden_size": 32}],
    }
    variants = config.load(write_experiment(content)).resolved_variants()
    assert list(variants) == ["gru-uni-1x8", "lstm-bi-1x8", "wide"]
    assert variants["wide"].model.hidden_size == 32 and variants["wide"].model.cell == "gru"
    assert variants["lstm-bi-1x8"].model.embedding_dim == 8


def test_automatic_names_include_fields_that_vary(write_experiment):
    content = {**TINY, "grid": {"embedding_dim": [None, 4], "dropout": [0.0, 0.5]}}
    assert list(config.load(write_experiment(content)).resolved_variants()) == [
        "gru-uni-1x8-onehot-drop0",
        "gru-uni-1x8-onehot-drop0.5",
        "gru-uni-1x8-emb4-drop0",
        "gru-uni-1x8-emb4-drop0.5",
    ]


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
    assert _problems(write_experiment, {**TINY, "grid": {"cell": []}})[0].startswith(
        "grid.cell: an empty list leaves no variants"
    )
    assert _problems(write_experiment, {**TINY, "grid": {"cell": ["gru", "gru"]}})[0].startswith(
        "grid.cell: lists gru more than once"
    )


def test_identical_variants_are_refused(write_experiment):
    content = {**TINY, "grid": None, "variants": [{"name": "a", "cell": "lstm"}, {"name": "b", "cell": "lstm"}]}
    assert _problems(write_experiment, content) == [
        "variants[1]: variant 'b' has the same settings as 'a'; drop one of them"
    ]


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
        "train.patience: early stopping needs a validation split; set it to 0 or give data.validation_fraction > 0 (got 3)"
    ]


def _task_without_validation(like: types.ModuleType | None = None) -> types.ModuleType:
    """A task module (a copy of `like`, or one with only a data schema) whose data has no validation split."""
    task = types.ModuleType("no_validation")
    if like is not None:
        task.__dict__.update({key: value for key, value in vars(like).items() if not key.startswith("__")})
    else:

        class Data(Strict):
            dataset: typing.Literal["no_validation"] = "no_validation"

        task.Data = Data
    task.VALIDATION_FIELD = None
    return task


def test_a_task_without_a_validation_split_refuses_early_stopping_in_one_line(monkeypatch):
    """A task whose data has no validation field says so through VALIDATION_FIELD = None: early stopping on the
    validation split is refused in one line naming train.patience (once a StopIteration traceback)."""
    task = _task_without_validation()
    monkeypatch.setitem(TASKS, "no_validation", task)
    data = task.Data()
    assert not any(hasattr(data, field) for field in ("validation_fraction", "validation_length"))
    assert config.validation_problem("", config.Train(patience=3), data) == (
        "train.patience: early stopping needs a validation split, which dataset no_validation does not have; "
        "set it to 0 or train.stop_on to train_loss (got 3)"
    )
    assert config.validation_problem("gru-uni-1x8", config.Train(patience=2), data).startswith(
        "variant gru-uni-1x8: train.patience: early stopping needs a validation split, which dataset no_validation"
    )
    assert config.validation_problem("", config.Train(patience=0), data) is None
    assert config.validation_problem("", config.Train(patience=3, stop_on="train_loss"), data) is None


def test_loading_an_experiment_of_a_task_without_a_validation_split(write_experiment, monkeypatch):
    """Through load(): the names task registered as one without a validation split, every variant's default
    patience refused in one line, with no traceback; patience 0 loads."""
    monkeypatch.setitem(TASKS, "names", _task_without_validation(like=TASKS["names"]))
    content = {**TINY, "train": {**TINY["train"], "patience": 3}}
    assert _problems(write_experiment, content) == [
        "train.patience: early stopping needs a validation split, which dataset names does not have; set it to 0 "
        "or train.stop_on to train_loss (got 3)"
    ]
    assert config.load(write_experiment({**TINY, "train": {**TINY["train"], "patience": 0}})).train.patience == 0


def test_baselines_ignore_fields_they_do_not_read(write_experiment):
    """A baseline crossed with recurrent axes is listed once, and fields it does not read never rehash it."""
    content = {
        **TINY,
        "grid": {"cell": ["gru", "majority", "linear"], "bidirectional": [False, True], "hidden_size": [8, 16]},
        "model": {**TINY["model"], "max_length": 18},
    }
    variants = config.load(write_experiment(content)).resolved_variants()
    assert [name for name in variants if not name.startswith("gru")] == ["majority", "linear-1x8", "linear-1x16"]
    plain = config.validate({**TINY, "grid": None, "variants": [{"cell": "majority"}]}).run_specs()[0]
    decorated = config.validate(
        {
            **TINY,
            "grid": None,
            "variants": [{"cell": "majority", "bidirectional": True, "impl": "scratch", "dropout": 0.5}],
        }
    ).run_specs()[0]
    assert plain.variant_key() == decorated.variant_key()


def test_variant_key_leaves_out_defaults_so_new_fields_never_rehash(write_experiment):
    plain = config.load(write_experiment(TINY)).run_specs()[0]
    explicit = config.load(
        write_experiment(TINY), ["model.impl=torch", "model.head=last", "model.bias=double"]
    ).run_specs()[0]
    assert plain.variant_key() == explicit.variant_key()


def test_a_changed_default_keeps_every_earlier_key(write_experiment):
    """train.batching's default became bucketed: a run made before with the old default (shuffled) keeps its key
    and is never taken for a run of the new default, and one that set bucketed keeps its key too (the values are
    the keys the version before the change gave this experiment)."""
    path = write_experiment(TINY)
    keys = {
        b: config.load(path, [f"train.batching={b}"]).run_specs()[0].variant_key() for b in ("shuffled", "bucketed")
    }
    assert keys == {"shuffled": "ceb1cbe5", "bucketed": "eb4c0062"}
    assert config.load(path).run_specs()[0].variant_key() == keys["bucketed"]


REVERSAL = {"name": "rev", "data": {"dataset": "reversal"}, "model": {"architecture": "encoder_decoder"}}


def test_reversal_options_need_the_architecture_they_belong_to(write_experiment):
    content = {
        **REVERSAL,
        "variants": [
            {"architecture": "tagger", "sentinels": True},
            {"readout": "context"},
            {"regression": True},
            {"architecture": "tagger", "regression": True, "cell": "lstm"},
        ],
    }
    assert sorted(_problems(write_experiment, content)) == sorted(
        [
            "variant gru-uni-1x64-tagger-sentinels: sentinels needs architecture encoder_decoder (got tagger)",
            "variant gru-uni-1x64-readout-context: readout context needs attention (got attention none)",
            "variant gru-uni-1x64-regression: regression needs architecture tagger or repeat_decoder (got "
            "encoder_decoder): a decoder that stops at an end token needs tokens",
        ]
    )
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


# ------------------------------------------------------------------ the file as written: YAML 1.2, duplicates, hostile files


def _load_text(tmp_path, text: str, overrides=()) -> list[str]:
    """The problems of an experiment file written as `text` (raw: duplicate keys and odd scalars need it)."""
    path = tmp_path / "exp.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        config.load(path, list(overrides))
    return error.value.problems


NAMES = "name: x\ndata: {languages: [German, Italian]}\n"


def test_duplicate_keys_are_refused_naming_both_lines(tmp_path):
    text = NAMES + "model:\n  hidden_size: 16\n  hidden_size: 256\ntrain: {max_epochs: 2}\ntrain:\n  patience: 0\n"
    assert _load_text(tmp_path, text) == [
        "model.hidden_size: given twice (lines 4 and 5); keep one",
        "train: given twice (lines 6 and 7); keep one",
    ]


def test_anchors_and_merge_keys_keep_working_and_overrides_are_no_duplicates(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(
        NAMES + "model: &base\n  cell: lstm\n  hidden_size: 16\nvariants:\n  - {<<: *base, name: small}\n"
        "  - <<: *base\n    name: wide\n    hidden_size: 64\n"
    )
    variants = config.load(path).resolved_variants()
    assert {name: (model.cell, model.hidden_size) for name, (model, _, _) in variants.items()} == {
        "small": ("lstm", 16),
        "wide": ("lstm", 64),
    }
    assert config.load(path, ["model.hidden_size=32", "model.hidden_size=48"]).model.hidden_size == 48


def test_yaml_1_1_words_are_text_and_errors_quote_what_was_written(tmp_path):
    text = NAMES + "train:\n  learning_rate: on\n  weight_decay: 1e-3\n  max_epochs: 1e1\n  batch_size: 1.0e+1\n"
    assert _load_text(tmp_path, text) == ["train.learning_rate: expected a number, not text (got 'on')"]
    path = tmp_path / "ok.yaml"
    path.write_text(
        "name: off\ndescription: off\ndata: {languages: [German, Italian]}\n"
        "train: {learning_rate: 1e-3, max_epochs: 1e1, batch_size: 1.0e+1, weight_decay: 0}\n"
        "model: {hidden_size: 010}\n"
    )
    experiment = config.load(path)
    assert (experiment.name, experiment.description) == ("off", "off")
    assert (
        experiment.train.max_epochs == 10
        and experiment.train.batch_size == 10
        and experiment.train.learning_rate == 0.001
    )
    assert type(experiment.train.max_epochs) is int and experiment.model.hidden_size == 10  # 010 is ten, not eight
    reversal = tmp_path / "reversal.yaml"
    reversal.write_text("name: r\ndata: {dataset: reversal, samples: 1e4}\nmodel: {architecture: tagger}\n")
    assert config.load(reversal).data.samples == 10_000


def test_overrides_are_read_like_the_file(write_experiment):
    path = write_experiment(TINY)
    assert _problems(
        write_experiment,
        TINY,
        [
            "train.weight_decay=yes",
            "train.learning_rate=true",
            "seeds=[0, 1_000]",
            "model.bidirectional=on",
            "train.patience=2.5",
        ],
    ) == [
        "model.bidirectional: write true or false; yes, no, on and off are text (got 'on'); set by --set",
        "train.learning_rate: expected a number, not true or false (got true); set by --set",
        "train.patience: expected a whole number (got 2.5); set by --set",
        "train.weight_decay: expected a number, not text (got 'yes'); set by --set",
        "seeds[1]: expected a whole number, not text (got '1_000'); set by --set",
    ]
    experiment = config.load(path, ["name=off", "description=no", "train.max_epochs=1e1", "train.weight_decay=1e-4"])
    assert (experiment.name, experiment.description, experiment.train.max_epochs) == ("off", "no", 10)
    assert _problems(write_experiment, TINY, ["name=1e5"]) == [
        "name: expected text, not a number; write it in quotes to mean the text (got 1e5); set by --set"
    ]
    assert _problems(write_experiment, TINY, ["device=off"]) == [
        "device: is not one of auto, cpu, cuda, mps (got 'off'); set by --set"
    ]
    assert _problems(write_experiment, TINY, ["model={cell: gru, cell: lstm}"]) == [
        "--set model={cell: gru, cell: lstm}: cell: given twice on line 1; keep one"
    ]


# Every field of every section, found by walking the schema: (its schema, how --set names it, how errors name it,
# the experiment it is set in). A field added later is tested without being listed here.
CSV = {"name": "c", "data": {"dataset": "csv", "path": "texts.csv"}}
VARIANTS = {**TINY, "grid": None, "variants": [{"name": "v"}]}
SECTIONS = [
    (config.Experiment, "", "", TINY),
    (config.ModelSpec, "model.", "model.", TINY),
    (config.Variant, "variants.0.", "variants[0].", VARIANTS),
    (config.Grid, "grid.", "grid.", TINY),
    (config.Train, "train.", "train.", TINY),
    (TASKS["names"].Data, "data.", "data.", TINY),
    (TASKS["reversal"].Data, "data.", "data.", REVERSAL),
    (TASKS["csv"].Data, "data.", "data.", CSV),
]


def _leaf(annotation) -> tuple[object, bool]:
    """(the type under Optional, Annotated and list, whether it is a list). Example: list[Size] | None -> (int, True)."""
    in_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is list:
            annotation, in_list = typing.get_args(annotation)[0], True
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation, in_list


def _fields(*kinds) -> list:
    found = []
    for schema, key, shown, base in SECTIONS:
        for field, info in schema.model_fields.items():
            kind, in_list = _leaf(info.annotation)
            if kind in kinds:
                found.append(
                    pytest.param(
                        key + field,
                        shown + field + ("[0]" if in_list else ""),
                        in_list,
                        base,
                        id=f"{base['name']}:{key + field}",
                    )
                )
    return found


NUMBER_FIELDS, FLAG_FIELDS, TEXT_FIELDS = _fields(int, float), _fields(bool), _fields(str)
INTEGER_FIELDS = _fields(int)


def test_the_schema_walk_finds_every_kind_of_field():
    names = {param.values[1] for param in NUMBER_FIELDS + FLAG_FIELDS + TEXT_FIELDS}
    assert {
        "train.learning_rate",
        "train.max_epochs",
        "seeds[0]",
        "grid.hidden_size[0]",
        "variants[0].dropout",
        "data.samples",
        "data.vocab_size",
        "model.bidirectional",
        "grid.sentinels[0]",
        "train.restore_best",
        "data.dedupe",
        "name",
        "description",
        "variants[0].name",
        "data.path",
        "data.text_column",
    } <= names


def key_shown(key: str) -> str:
    """Example: 'variants.0.num_layers' -> 'variants[0].num_layers'."""
    return ".".join(f"[{part}]" if part.isdigit() else part for part in key.split(".")).replace(".[", "[")


def _set(write_experiment, base, key, in_list, text):
    """Load `base` with --set KEY=TEXT (TEXT as the list's one item for a list field): the experiment, or its problems."""
    try:
        return config.load(write_experiment(base), [f"{key}=[{text}]" if in_list else f"{key}={text}"])
    except ConfigError as error:  # each problem of the overridden field says the override wrote it
        return [
            problem.removesuffix("; set by --set")
            for problem in error.problems
            if not problem.startswith(key_shown(key)) or problem.endswith("; set by --set")
        ]


@pytest.mark.parametrize("key, shown, in_list, base", NUMBER_FIELDS)
def test_every_number_field_refuses_booleans_and_words(write_experiment, key, shown, in_list, base):
    for text, got, kind in (
        ("true", "true", "true or false"),
        ("off", "'off'", "text"),
        ("yes", "'yes'", "text"),
        ("1_000", "'1_000'", "text"),
        ("'3'", "'3'", "text"),
    ):
        problems = _set(write_experiment, base, key, in_list, text)
        assert len(problems) == 1 and problems[0].startswith(f"{shown}: expected a "), problems
        assert problems[0].endswith(f", not {kind} (got {got})"), problems


@pytest.mark.parametrize("key, shown, in_list, base", INTEGER_FIELDS)
def test_every_integer_field_takes_whole_numbers_however_written(write_experiment, key, shown, in_list, base):
    for text in ("10", "1e1", "1.0e+1", "10.0", "010"):
        result = _set(write_experiment, base, key, in_list, text)
        if isinstance(result, list):  # another field's rule (reversal: min_length 10 > max_length 5) may refuse it
            assert not any(problem.startswith(f"{shown}:") for problem in result), result
        else:
            section = result
            for part in key.split("."):
                section = section[int(part)] if part.isdigit() else getattr(section, part)
            section = section[0] if in_list else section
            assert section == 10 and type(section) is int, (text, section)
    assert _set(write_experiment, base, key, in_list, "2.5") == [f"{shown}: expected a whole number (got 2.5)"]


@pytest.mark.parametrize("key, shown, in_list, base", FLAG_FIELDS)
def test_every_flag_field_takes_only_true_or_false(write_experiment, key, shown, in_list, base):
    for text, got in (
        ("yes", "'yes'"),
        ("no", "'no'"),
        ("on", "'on'"),
        ("off", "'off'"),
        ("1", "1"),
        ("0", "0"),
        ("'true'", "'true'"),
    ):
        problems = _set(write_experiment, base, key, in_list, text)
        assert len(problems) == 1 and problems[0].startswith(f"{shown}: write true or false"), problems
        assert problems[0].endswith(f"(got {got})"), problems
    for text in ("true", "false"):
        result = _set(write_experiment, base, key, in_list, text)
        assert not isinstance(result, list) or not any(problem.startswith(f"{shown}:") for problem in result), result


@pytest.mark.parametrize("key, shown, in_list, base", TEXT_FIELDS)
def test_every_text_field_keeps_words_and_refuses_what_is_not_text(write_experiment, key, shown, in_list, base):
    result = _set(write_experiment, base, key, in_list, "off")
    if isinstance(result, list):
        assert not any(problem.startswith(f"{shown}:") for problem in result), result
    for text in ("1e5", "true", "2024"):
        problems = _set(write_experiment, base, key, in_list, text)
        assert problems == [
            f"{shown}: expected text, not {'true or false' if text == 'true' else 'a number'}; "
            f"write it in quotes to mean the text (got {text})"
        ]


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "".join(
                f"{chr(97 + level)}: &{chr(97 + level)} [{', '.join(['*' + chr(96 + level)] * 9) if level else 'lol'}]\n"
                for level in range(9)
            )
            + "name: x\n",
            "expands to more than 100,000 values through aliases",
        ),
        ("name: x\nmodel: " + "[" * 5000 + "]" * 5000 + "\n", "line 2: nested more than 50 levels deep"),
        ("name: x\nmodel: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "line 2: nested more than 50 levels deep"),
        (
            "name: x\ndescription: '" + "y" * 1_100_000 + "'\n",
            "is over 1,000,000 bytes; an experiment file is a few kilobytes",
        ),
        (b"\xff\xfe\x00garbage\x00\x01", "cannot read: not UTF-8 text (byte 0xff at position 0)"),
        ("name: x\x00\n", "line 1: not valid YAML: unacceptable character #x0000"),
        ("- name: x\n- name: y\n", "expected a mapping of fields (name, data, model, ...) at the top level"),
        ("just words\n", "expected a mapping of fields"),
        ("", "expected a mapping of fields"),
        ("name: x\n---\nname: y\n", "not valid YAML: expected a single document in the stream"),
        (
            "name: x\ntrain: {learning_rate: !!python/object/apply:os.system [ls]}\n",
            "line 2: tag !!python/object/apply:os.system",
        ),
        (
            "name: x\ndata: {dataset: [names]}\n",
            "data.dataset: is not one of names, reversal, csv, series, adding, copy (got ['names'])",
        ),
        ("name: " + "x" * 2_000_000 + "\n", "is over 1,000,000 bytes"),
        ("name: " + "x" * 500 + "\n", "name: is 500 characters long; it names a directory, so at most 100 (got 'xxxx"),
        (
            "name: ../etc\n",
            "name: names a directory: letters, digits and _ . - only, starting with a letter or digit (got '../etc')",
        ),
        ("name: a/b\n", "name: names a directory"),
        (
            "name: x\nvariants: [{name: " + "v" * 200 + "}]\n",
            "variants[0].name: is 200 characters long; it names a directory",
        ),
        (
            "name: x\nmodel: {hidden_size: 9" + "9" * 6000 + "}\n",
            "model.hidden_size: expected a whole number (got 9999",
        ),
    ],
    ids=[
        "alias-bomb",
        "deep-brackets",
        "deep-braces",
        "huge-file",
        "binary",
        "nul",
        "a-list",
        "a-scalar",
        "empty",
        "two-documents",
        "python-tag",
        "dataset-list",
        "huge-name",
        "long-name",
        "dotdot-name",
        "slash-name",
        "long-variant-name",
        "huge-number",
    ],
)
def test_hostile_files_give_one_line_each(tmp_path, text, line):
    path = tmp_path / "exp.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    started = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        config.load(path)
    assert time.perf_counter() - started < 2
    assert len(error.value.problems) == 1 and line in error.value.problems[0], error.value.problems
    assert len(error.value.problems[0]) < 200 and "\n" not in error.value.problems[0]


def test_an_automatic_variant_name_too_long_for_a_directory_is_refused(write_experiment):
    many = {
        "cell": "lstm",
        "impl": "scratch",
        "bidirectional": True,
        "num_layers": 16,
        "hidden_size": 65536,
        "embedding_dim": 65536,
        "dropout": 0.123456,
        "init": "keras",
        "attention": "location",
        "sentinels": True,
        "readout": "context",
        "bias": "single",
        "activation": "relu",
    }
    problems = _problems(write_experiment, {**REVERSAL, "variants": [many, {"name": "plain"}]})
    assert len(problems) == 1 and problems[0].startswith("variants[0]: the automatic variant name 'lstm-bi-16x65536")
    assert "characters long; it names a directory, so at most 100" in problems[0] and "a short `name`" in problems[0]


def test_long_override_values_are_cut_in_the_error_line(write_experiment):
    problems = _problems(
        write_experiment, TINY, ["model.hidden_size=" + "[" * 3000, "model." + ".".join("a" * 3000) + "=1"]
    )
    assert len(problems) == 2 and all(len(problem) < 200 for problem in problems), problems
    assert "nested more than 50 levels deep" in problems[0] and "nested more than 50 levels deep" in problems[1]


def test_a_written_experiment_reads_back_as_written(tmp_path):
    """The report's experiment.yaml: text that YAML would read as a number or boolean is quoted."""
    path = tmp_path / "experiment.yaml"
    path.write_text(yamlfile.dump({**TINY, "name": "1e5", "description": "on"}), encoding="utf-8")
    experiment = config.load(path)
    assert (experiment.name, experiment.description) == ("1e5", "on")


def test_validate_through_the_cli_exits_2_with_one_line_per_problem(tmp_path):
    from typer.testing import CliRunner

    from rnnbench.cli import app

    path = tmp_path / "exp.yaml"
    path.write_text(
        NAMES + "model:\n  hidden_size: 16\n  hidden_size: 256\ntrain: {max_epochs: 2}\ntrain: {patience: 0}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"error: {path}: model.hidden_size: given twice (lines 4 and 5); keep one",
        f"error: {path}: train: given twice (lines 6 and 7); keep one",
    ]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "".join(
            f"{chr(97 + level)}: &{chr(97 + level)} [{', '.join(['*' + chr(96 + level)] * 9) if level else 'lol'}]\n"
            for level in range(9)
        )
    )
    for command in (
        ["validate", str(bomb)],
        ["run", str(bomb), "--results", str(tmp_path / "results")],
        ["validate", str(tmp_path / "exp.yaml"), "--set", "train.weight_decay=yes"],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert all(line.startswith("error: ") for line in result.output.strip().splitlines()), result.output
    assert not (tmp_path / "results").exists()


def test_a_run_config_naming_a_path_is_refused():
    """`run --repeat` writes a recorded run's names as directories again: a config.yaml naming a path never loads."""
    spec = config.validate(TINY).run_specs()[0].model_dump(mode="json")
    for field, value in (("experiment", "../../elsewhere"), ("variant", "a/b"), ("experiment", "x" * 300)):
        with pytest.raises(ValidationError, match="names a directory|it names a directory"):
            config.RunSpec.model_validate({**spec, field: value})
    assert (
        config.RunSpec.model_validate({**spec, "variant": "v" * 150}).variant == "v" * 150
    )  # recorded before the limit
