"""yamlfile: YAML 1.2 core scalars, what was written where, and the files it refuses (each in one line)."""

import math
import time

import pytest
import yaml

from rnnbench import yamlfile
from rnnbench.yamlfile import Written


@pytest.mark.parametrize(
    "text, value",
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("FALSE", False),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),  # YAML 1.1: booleans
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("-3", -3),
        ("+3", 3),  # YAML 1.1: 010 is 8
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("1:30", "1:30"),
        ("2024-01-01", "2024-01-01"),  # 1.1: 1000, 5, 90, a date
        ("1e3", 1000.0),
        ("1e-3", 0.001),
        ("1.0e+1", 10.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.inf", -math.inf),
        (".Inf", math.inf),
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("", None),
        ("gru", "gru"),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text, value):
    assert yamlfile.plain_value(text) == value and type(yamlfile.plain_value(text)) is type(value)


def test_nan_and_numbers_too_long_for_python():
    assert math.isnan(yamlfile.plain_value(".nan")) and math.isnan(yamlfile.plain_value(".NaN"))
    assert (
        yamlfile.plain_value("9" * 5000) == math.inf
    )  # Python refuses to convert it; as a float it is refused as infinite


def test_read_keeps_the_text_and_line_of_every_scalar():
    value, written = yamlfile.read("train:\n  learning_rate: 1e-3\n  weight_decay: on\nseeds: [010, 2]\n")
    assert value == {"train": {"learning_rate": 0.001, "weight_decay": "on"}, "seeds": [10, 2]}
    assert written == {
        ("train", "learning_rate"): Written("1e-3", 2),
        ("train", "weight_decay"): Written("on", 3),
        ("seeds", 0): Written("010", 4),
        ("seeds", 1): Written("2", 4),
    }


def test_quoted_and_tagged_scalars():
    value, _ = yamlfile.read(
        "a: 'on'\nb: \"1e5\"\nc: !!str 1e5\nd: !!int 0x10\ne: !!float 1\nf: !!null ''\ng: |\n  x\n"
    )
    assert value == {"a": "on", "b": "1e5", "c": "1e5", "d": 16, "e": 1.0, "f": None, "g": "x\n"}
    assert isinstance(value["e"], float)


def _problems(text: str) -> list[str]:
    with pytest.raises(yamlfile.Problems) as error:
        yamlfile.read(text)
    return error.value.problems


def test_other_tags_are_refused_naming_the_line():
    text = (
        "a: !!python/object/apply:os.system [ls]\nb: !!binary aGk=\nc: !!set {x}\nd: !!timestamp 2024-01-01\n"
        "e: !custom 1\nf: !!bool yes\n"
    )
    assert _problems(text) == [
        "line 1: tag !!python/object/apply:os.system is not allowed (only !!str, !!int, !!float, !!bool, !!null, !!seq "
        "and !!map)",
        "line 2: tag !!binary is not allowed (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map)",
        "line 3: tag !!set is not allowed (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map)",
        "line 4: tag !!timestamp is not allowed (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map)",
        "line 5: tag !custom is not allowed (only !!str, !!int, !!float, !!bool, !!null, !!seq and !!map)",
        "line 6: !!bool 'yes' is not a YAML 1.2 bool",
    ]


def test_duplicate_keys_name_the_path_and_both_lines():
    text = (
        "model:\n  hidden_size: 16\n  hidden_size: 256\ntrain: {max_epochs: 2}\ntrain: {patience: 0}\n"
        "variants:\n  - {name: a, cell: gru, cell: lstm}\n"
    )
    assert _problems(text) == [
        "model.hidden_size: given twice (lines 2 and 3); keep one",
        "train: given twice (lines 4 and 5); keep one",
        "variants[0].cell: given twice on line 7; keep one",
    ]


def test_a_duplicate_inside_an_anchor_is_reported_once():
    text = "model: &base\n  cell: gru\n  cell: lstm\nvariants:\n  - *base\n  - <<: *base\n"
    assert _problems(text) == ["model.cell: given twice (lines 2 and 3); keep one"]


def test_merge_keys_explicit_keys_win_and_are_no_duplicates():
    text = (
        "model: &base {cell: gru, hidden_size: 16}\nwide: &wide {hidden_size: 64, dropout: 0.5}\n"
        "variants:\n  - <<: *base\n    hidden_size: 32\n  - {hidden_size: 8, <<: [*wide, *base]}\n"
    )
    value, written = yamlfile.read(text)
    assert value["variants"] == [
        {"cell": "gru", "hidden_size": 32},
        {"cell": "gru", "hidden_size": 8, "dropout": 0.5},
    ]  # earlier merged mappings win
    assert written[("variants", 0, "hidden_size")] == Written("32", 5)
    assert written[("variants", 0, "cell")] == Written("gru", 1)  # where the merged value was written
    assert _problems("a: {<<: {x: 1}, <<: {y: 2}}\n") == [
        "a.<<: given twice on line 1; merge both in one: <<: [*first, *second]"
    ]
    assert _problems("a: {<<: 3}\n") == ["line 1: `<<` merges a mapping or a list of mappings"]


def test_an_alias_bomb_is_refused_at_once():
    """Nine levels of nine aliases each: a billion values once expanded, 81 nodes as written."""
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        text += f"{level}: &{level} [{', '.join(['*' + previous] * 9)}]\n"
    started = time.perf_counter()
    problems = _problems(text)
    assert time.perf_counter() - started < 1
    assert len(problems) == 1 and "expands to more than 100,000 values through aliases" in problems[0]


def test_an_alias_inside_its_own_anchor_is_refused():
    assert _problems("a: &a [1, *a]\n") == ["line 1: an alias refers to a value that contains it"]


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000,  # flow
        "a: " + "{b: " * 3000 + "1" + "}" * 3000,
        "".join("  " * depth + f"k{depth}:\n" for depth in range(60)) + "  " * 60 + "x: 1\n",  # block
    ],
    ids=["brackets", "braces", "block"],
)
def test_deep_nesting_is_refused_in_one_line(text):
    problems = _problems(text)
    assert len(problems) == 1 and f"nested more than {yamlfile.MAX_DEPTH} levels deep" in problems[0]


def test_nesting_through_aliases_is_limited_too():
    text = "a: &a " + "[" * 40 + "]" * 40 + "\nb: &b " + "[" * 40 + "*a" + "]" * 40 + "\n"
    assert _problems(text) == [f"line 2: nested more than {yamlfile.MAX_DEPTH} levels deep once aliases are expanded"]


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "a: 1\n---\nb: 2\n",
            "line 2, column 1: not valid YAML: expected a single document in the stream; but found another document",
        ),
        (
            "a: [1, 2\n",
            "line 2, column 1: not valid YAML: while parsing a flow sequence; expected ',' or ']', but got "
            "'<stream end>'",
        ),
        ("a: b\x00c\n", "line 1: not valid YAML: unacceptable character #x0000 (special characters are not allowed)"),
        ("a: *nowhere\n", "line 1, column 4: not valid YAML: found undefined alias 'nowhere'"),
        ("a: &x 1\nb: &x 2\n", "line 2: anchor 'x' is defined twice (lines 1 and 2); rename one"),
    ],
)
def test_what_is_not_yaml_is_one_line(text, line):
    with pytest.raises(yamlfile.Problems) as error:
        yamlfile.read(text)
    assert error.value.problems == [line] and error.value.syntax


def test_an_empty_document_is_none():
    assert yamlfile.read("") == (None, {}) and yamlfile.read("# only a comment\n") == (None, {})


AMBIGUOUS = [
    "on",
    "off",
    "yes",
    "no",
    "y",
    "true",
    "null",
    "~",
    "",
    "1e5",
    "0o17",
    "0x1F",
    "010",
    "1_000",
    "1:30",
    "2024-01-01",
    ".inf",
    "0b101",
    "-1",
    "hello",
    "gru-bi-1x64",
    "a: b",
    "#x",
]


def test_dump_quotes_text_that_either_reader_would_read_as_something_else():
    value = {"texts": AMBIGUOUS, "numbers": [1, 0.001, 1e6, -2.5], "flags": [True, False], "nothing": None}
    text = yamlfile.dump(value)
    assert yamlfile.read(text)[0] == value
    assert yaml.safe_load(text) == value
    assert text.startswith("texts:\n- 'on'\n")
