"""The csv task end to end through the CLI: a user's own CSV, classified (the names corpus written out as a CSV)
and regressed (the VADER valence lexicon shipped in experiments/data), then every kind of bad file."""

import json
import os

import pytest
from conftest import REPO, TINY
from test_cli import assert_clean_failure, invoke

from rnnbench import rundir

VADER = REPO / "experiments" / "data" / "vader_valence.csv"


@pytest.fixture(scope="module")
def names_csv(tmp_path_factory, names_dir):
    path = tmp_path_factory.mktemp("csv") / "names.csv"
    result = invoke("data", "names", "--languages", "German,Italian", "--csv", path, "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    return path


def csv_experiment(path, **data):
    return {**TINY, "name": "tiny_csv", "data": {"dataset": "csv", "path": str(path), **data}}


@pytest.fixture(scope="module")
def both(tmp_path_factory, names_dir, names_csv):
    """The same German-vs-Italian experiment run by the names task and by the csv task on the corpus as a CSV."""
    folder = tmp_path_factory.mktemp("consistency")
    (folder / "names.yaml").write_text(json.dumps({**TINY, "grid": {"cell": ["gru"]}}))
    (folder / "csv.yaml").write_text(json.dumps({**csv_experiment(names_csv), "grid": {"cell": ["gru"]}}))
    for name in ("names", "csv"):
        result = invoke("run", folder / f"{name}.yaml", "--results", folder / name, "--data-dir", names_dir)
        assert result.exit_code == 0, result.output
    return [rundir.find_runs(folder / name)[0][0] for name in ("names", "csv")]


def test_the_names_corpus_as_a_csv_splits_and_scores_as_the_names_task(both):
    names_run, csv_run = both
    for key in ("train_size", "validation_size", "test_size", "num_classes", "vocab_size", "duplicates_removed"):
        assert names_run.data[key] == csv_run.data[key], key
    assert csv_run.data["labels"] == ["German", "Italian"] and csv_run.task == "csv"
    # the same split, the same characters in the same order, the same seed: the same model, to the last bit
    assert csv_run.scores["test_accuracy"] == names_run.scores["test_accuracy"]
    assert csv_run.scores["test_macro_f1"] == names_run.scores["test_macro_f1"]


def test_classification_end_to_end(both, tmp_path):
    _, run = both
    results = run.path.parents[2]
    compared = invoke("compare", "--results", results, "--format", "markdown")
    assert compared.exit_code == 0 and "test acc %" in compared.stdout and "majority %" in compared.stdout
    answered = invoke("predict", "Rossi", "Müller", "--results", results, "--experiment", "tiny_csv", "--top-k", "2")
    assert answered.exit_code == 0, answered.output
    assert answered.stdout.startswith("Rossi: Italian") and "csv runs" in answered.stderr
    shown = invoke("show", run.path)
    assert shown.exit_code == 0 and "per label, test split" in shown.stdout and "most confused" in shown.stdout
    reported = invoke("report", "tiny_csv", "--results", results, "--out", tmp_path / "report")
    assert reported.exit_code == 0, reported.output
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Data" in text and "no text is in two splits" in text and "### Per label" in text


@pytest.fixture(scope="module")
def valence(tmp_path_factory):
    folder = tmp_path_factory.mktemp("valence")
    content = {
        **csv_experiment(VADER, text_column="text", target_column="valence", target="number"),
        "name": "tiny_valence",
        "grid": {"cell": ["gru", "lstm"]},
        "seeds": [0, 1],
    }
    (folder / "valence.yaml").write_text(json.dumps(content))
    result = invoke("run", folder / "valence.yaml", "--results", folder / "results")
    assert result.exit_code == 0, result.output
    return folder, result


def test_regression_end_to_end(valence, tmp_path):
    folder, result = valence
    assert "7,520 rows read and checked" in result.stderr and "RMSE (test)" in result.stdout
    assert "mean-baseline RMSE" in result.stdout and "14 texts are listed with different values" in result.stderr
    runs, problems = rundir.find_runs(folder / "results")
    assert len(runs) == 4 and not problems
    for run in runs:
        assert run.scores["test_rmse"] == pytest.approx(run.scores["test_mse"] ** 0.5)
        assert 1.5 < run.scores["test_baseline_rmse"] < 1.9  # the lexicon's valences spread about ±1.7
        assert run.spec.data.target == "number" and run.metrics["watched"] == "validation_loss"
        assert run.data["train_size"] + run.data["validation_size"] + run.data["test_size"] == 7506 - 14
    answered = invoke("predict", "wonderful", "--results", folder / "results", "--json")  # the only experiment there
    assert answered.exit_code == 0, answered.output
    value = json.loads(answered.stdout)[0]["value"]
    assert isinstance(value, float) and -4.5 < value < 4.5  # a number in the lexicon's units
    shown = invoke("show", runs[0].path)
    assert shown.exit_code == 0 and "mean predictor" in shown.stdout and "worst answered" in shown.stdout
    assert invoke("report", "tiny_valence", "--results", folder / "results", "--out", tmp_path).exit_code == 0
    assert "## Errors worth looking at" in (tmp_path / "report.md").read_text()
    assert_clean_failure(invoke("predict", "   ", "--run", runs[0].path), 1, "text 1", "empty")


def test_standardised_targets_are_scaled_back_and_words_can_be_tokens(tmp_path):
    words = ["good", "bad", "fine", "grim", "glad", "sad", "okay", "awful", "great", "poor"]
    rows = ["text,score"] + [
        f'"{first.upper()}, {second}!",{i - j}' for i, first in enumerate(words) for j, second in enumerate(words)
    ]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    content = {
        **csv_experiment(
            tmp_path / "s.csv",
            target_column="score",
            target="number",
            tokenizer="word",
            scale_target="standard",
            validation_fraction=0.2,
            test_fraction=0.2,
        ),
        "grid": {"cell": ["gru"]},
    }
    (tmp_path / "s.yaml").write_text(json.dumps(content))
    result = invoke("run", tmp_path / "s.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    run = rundir.find_runs(tmp_path / "results")[0][0]
    assert run.data["vocab_size"] == 12  # ten lower-cased words, punctuation dropped, plus padding and unknown
    assert run.data["target_spread"] > 0 and run.data["tokenizer"] == "word"
    answered = json.loads(invoke("predict", "good, bad", "--run", run.path, "--json").stdout)
    assert -12 < answered[0]["value"] < 12  # scaled back to the target's units (-9..9), not left standardised


def test_a_separate_test_file(tmp_path, names_csv):
    lines = names_csv.read_text(encoding="utf-8").splitlines()
    held = lines[1:51] + lines[-50:]  # 50 German lines, 50 Italian ones
    (tmp_path / "train.csv").write_text("\n".join(lines[:1] + lines[51:-50]) + "\n", encoding="utf-8")
    (tmp_path / "test.csv").write_text("\n".join(lines[:1] + held) + "\n", encoding="utf-8")
    content = {
        **csv_experiment(tmp_path / "train.csv", test_path=str(tmp_path / "test.csv")),
        "grid": {"cell": ["gru"]},
    }
    (tmp_path / "e.yaml").write_text(json.dumps(content))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert result.exit_code == 0, result.output
    run = rundir.find_runs(tmp_path / "results")[0][0]
    test_names = {line.split(",")[0] for line in held}
    assert run.data["test_size"] == len(test_names)
    report = rundir.load_data_report(run.path)
    assert report["overlap"]["train_test"] == 0 and report["test_file_names"] == len(test_names)


@pytest.mark.parametrize(
    "content, fragments",
    [
        ("text,label\n", ["no data rows"]),
        ("txt,label\nAbel,German\n", ["no column 'text'", "'txt', 'label'"]),
        ("text,label\nAbel,German\n ,Italian\nRossi,Italian\n", ["line 3", "column 'text'", "empty"]),
        ("text,label\nAbel,German\nBauer,German\n", ["at least two classes"]),
        (b"text,label\nM\xfcller,German\nRossi,Italian\n", ["UTF-8"]),
    ],
    ids=["empty", "missing-column", "empty-text", "one-class", "encoding"],
)
def test_bad_files_are_one_line_errors_and_nothing_is_written(tmp_path, content, fragments):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "e.yaml").write_text(json.dumps(csv_experiment(path)))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert_clean_failure(result, 1, str(path), *fragments)
    assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1
    assert not (tmp_path / "results").exists()  # read and checked before anything is written


def test_a_number_target_that_is_not_a_number(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text('text,score\n"a, b",1.5\nc,abc\n')
    (tmp_path / "e.yaml").write_text(json.dumps(csv_experiment(path, target_column="score", target="number")))
    assert_clean_failure(
        invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "r"), 1, "line 3", "column 'score'", "'abc'"
    )
    assert_clean_failure(invoke("validate", tmp_path / "e.yaml"), 1, "line 3")  # validate reads the file too
    directory = json.dumps(csv_experiment(tmp_path))  # a folder where the file should be
    (tmp_path / "d.yaml").write_text(directory)
    assert_clean_failure(invoke("run", tmp_path / "d.yaml", "--results", tmp_path / "r"), 1, str(tmp_path))
    missing = json.dumps(csv_experiment(tmp_path / "nope.csv"))
    (tmp_path / "m.yaml").write_text(missing)
    assert_clean_failure(invoke("run", tmp_path / "m.yaml", "--results", tmp_path / "r"), 1, "nope.csv")
    assert not (tmp_path / "r").exists()


def test_targets_too_large_to_train_on_and_files_that_never_end_are_refused(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("text,score\n" + "".join(f"w{i},{value}\n" for i, value in enumerate([1e307, -1e307, 5e306] * 20)))
    for scale in ("standard", "none"):
        (tmp_path / "e.yaml").write_text(
            json.dumps(csv_experiment(path, target_column="score", target="number", scale_target=scale))
        )
        refused = invoke("validate", tmp_path / "e.yaml")
        assert_clean_failure(refused, 1, "huge.csv: column 'score': the training targets are too large to train on")
        assert "RuntimeWarning" not in refused.output
    if os.path.exists("/dev/zero"):  # a device is read forever: refused at once
        (tmp_path / "z.yaml").write_text(json.dumps(csv_experiment("/dev/zero")))
        assert_clean_failure(invoke("validate", tmp_path / "z.yaml"), 1, "/dev/zero: not a regular file")


def test_regression_refuses_classification_baselines(tmp_path):
    content = {**csv_experiment(VADER, target_column="valence", target="number"), "grid": {"cell": ["gru", "majority"]}}
    (tmp_path / "e.yaml").write_text(json.dumps(content))
    assert_clean_failure(invoke("validate", tmp_path / "e.yaml"), 2, "cell majority is a classification baseline")
    (tmp_path / "c.yaml").write_text(
        json.dumps(csv_experiment(VADER, target_column="valence", scale_target="standard"))
    )
    assert_clean_failure(invoke("validate", tmp_path / "c.yaml"), 2, "data.scale_target: scales a number target")


def test_params_gives_keras_counts_for_the_tutorials_text_regressor_and_reversal_models():
    """Keras' summaries: Embedding(10000, 256) + Bidirectional(LSTM(256)) + Dense(256) + Dense(1) = 3,742,209; the
    reversal tutorial's LSTM tagger, bidirectional tagger and repeat decoder: 16,961, 33,921, 49,985."""
    text = invoke("params", REPO / "experiments" / "seeds" / "tutorial_text_regression.yaml")
    assert text.exit_code == 0, text.output
    assert "2,560,000" in text.stdout and "3,742,209" in text.stdout and "= 1,050,624\n" in text.stdout
    reversal = invoke("params", REPO / "experiments" / "seeds" / "tutorial_reversal.yaml")
    assert reversal.exit_code == 0 and all(count in reversal.stdout for count in ("16,961", "33,921", "49,985"))


def test_an_edited_file_is_not_served_by_runs_of_the_old_one(tmp_path, names_csv):
    lines = names_csv.read_text(encoding="utf-8").splitlines()
    (tmp_path / "n.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    content = {**csv_experiment(tmp_path / "n.csv"), "grid": {"cell": ["gru"]}}
    (tmp_path / "e.yaml").write_text(json.dumps(content))
    assert invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results").exit_code == 0
    run = rundir.find_runs(tmp_path / "results")[0][0]
    before = {p.name: p.read_bytes() for p in run.path.iterdir()}
    (tmp_path / "n.csv").write_text("\n".join(lines[:-5]) + "\n", encoding="utf-8")  # the same path, other rows
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "results")
    assert_clean_failure(result, 1, "trained on other data (sha256", "the data changed since")
    assert {p.name: p.read_bytes() for p in run.path.iterdir()} == before  # nothing overwritten
    repeated = invoke("run", "--repeat", run.path)
    assert "the data changed since the run was recorded" in repeated.output


def test_validate_catches_what_only_splitting_shows(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(40)))
    (tmp_path / "test.csv").write_text("text,label\nx,a\ny,c\n")
    unknown_label = csv_experiment(tmp_path / "train.csv", test_path=str(tmp_path / "test.csv"))
    (tmp_path / "u.yaml").write_text(json.dumps(unknown_label))
    assert_clean_failure(
        invoke("validate", tmp_path / "u.yaml"), 1, "test.csv: line 3, column 'label'", "class 'c' never occurs"
    )
    (tmp_path / "small.csv").write_text("text,label\n" + "".join(f"t{i},c{i % 10}\n" for i in range(40)))
    (tmp_path / "s.yaml").write_text(json.dumps(csv_experiment(tmp_path / "small.csv")))
    assert_clean_failure(invoke("validate", tmp_path / "s.yaml"), 1, "each class gets its share", "has 4")


def test_a_text_too_long_to_train_on_needs_max_length(tmp_path):
    (tmp_path / "long.csv").write_text(
        "text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(40)) + "x" * 20_000 + ",a\n"
    )
    (tmp_path / "e.yaml").write_text(json.dumps(csv_experiment(tmp_path / "long.csv")))
    assert_clean_failure(invoke("validate", tmp_path / "e.yaml"), 1, "line 42", "20,000 characters", "data.max_length")
    assert invoke("validate", tmp_path / "e.yaml", "--set", "data.max_length=50").exit_code == 0
