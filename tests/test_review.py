"""What a reviewer reads: the data hygiene report, one run's errors, plots, the experiment report, and repeated
runs that come out identical. Real tiny runs through the CLI, in temporary folders."""

import csv
import dataclasses
import hashlib
import io
import json
import shutil

import pytest
from conftest import TINY
from safetensors.torch import load_file, save_file
from test_cli import assert_clean_failure, invoke

from rnnbench import config, rundir
from rnnbench.repeat import NOT_REPEATABLE

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory, names_dir):
    """German vs Italian, GRU and LSTM, 2 seeds, 2 epochs: enough runs for statistics, plots and a report."""
    folder = tmp_path_factory.mktemp("review")
    content = {**TINY, "description": "a tiny review", "grid": {"cell": ["gru", "lstm"]}, "seeds": [0, 1]}
    (folder / "tiny.yaml").write_text(json.dumps(content))
    result = invoke("run", folder / "tiny.yaml", "--results", folder / "results", "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    return folder, result


def test_every_names_run_reports_its_data_and_records_its_errors(two_seeds):
    folder, result = two_seeds
    assert "duplicates removed" in result.output and "in several languages" in result.output  # the per-language table
    # the split check is said once, under the table; the seeds' lines say only what each seed's data determined
    assert result.output.count("no name is in two splits (checked: train ∩ validation 0") == 1
    assert result.output.count("dropped from every language") == 1
    seed_lines = [line for line in result.output.splitlines() if line.startswith("seed ")]
    assert len(seed_lines) == 2 and all(line.endswith("140 names; device cpu (1 thread)") for line in seed_lines)
    run = next((folder / "results" / "tiny").glob("gru-*/seed-1"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["test_balanced_accuracy"] <= 1 and metrics["test_majority_accuracy"] == pytest.approx(0.5)
    assert [row["label"] for row in metrics["test_per_class"]] == ["German", "Italian"]
    assert sum(row["support"] for row in metrics["test_per_class"]) == 140
    predictions = rundir.load_predictions(run)
    assert len(predictions) == 140 and {row["language"] for row in predictions} == {"German", "Italian"}
    wrong = sum(row["language"] != row["predicted"] for row in predictions)
    assert wrong == sum(pair["count"] for pair in metrics["test_confused_pairs"])
    assert wrong == round(140 * (1 - metrics["test_accuracy"]))
    report = rundir.load_data_report(run)
    assert report["split"] == "by_name" and report["languages"]["German"]["duplicates_removed"] == 18


def test_data_names_command(names_dir):
    result = invoke("data", "names", "--languages", "German,Italian", "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    assert "Paternoster: German, Italian" in result.stdout and "dropped from every language" in result.stdout
    assert "no name is in two splits" in result.stdout
    leaky = json.loads(
        invoke(
            "data",
            "names",
            "--languages",
            "German",
            "--languages",
            "Italian",
            "--split",
            "leaky",
            "--seed",
            "3",
            "--json",
            "--data-dir",
            names_dir,
        ).stdout
    )
    assert leaky["seed"] == 3 and leaky["split"] == "leaky" and leaky["overlap"]["train_test"] > 0
    assert "inflates accuracy" in invoke("data", "names", "--split", "leaky", "--data-dir", names_dir).stdout
    assert_clean_failure(
        invoke("data", "names", "--languages", "Italain", "--data-dir", names_dir), 2, "--languages: is not one of"
    )
    assert_clean_failure(
        invoke("data", "names", "--test-fraction", "0.9"), 2, "--test-fraction: input should be less than 0.5"
    )


def test_show_lists_per_language_scores_confused_pairs_and_the_confusion_matrix(two_seeds, tmp_path):
    folder, _ = two_seeds
    run = next((folder / "results" / "tiny").glob("lstm-*/seed-0"))
    result = invoke("show", run)
    assert result.exit_code == 0, result.output
    for fragment in ("balanced acc %", "per language, test split", "most confused", "confusion matrix", "Ger", "Ita"):
        assert fragment in result.stdout
    assert json.loads(invoke("show", run, "--json").stdout)["variant"] == "lstm-uni-1x8"
    assert_clean_failure(invoke("show", tmp_path), 1, "not a finished run directory")


def test_compare_plot_writes_pngs(two_seeds, tmp_path):
    folder, _ = two_seeds
    result = invoke("compare", "--results", folder / "results", "--plot", tmp_path / "plots")
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in (tmp_path / "plots").iterdir())
    assert names[0].startswith("tiny-confusion-") and names[1:] == [
        "tiny-learning-curves.png",
        "tiny-test-accuracy-vs-parameters.png",
    ]
    assert all(path.read_bytes().startswith(PNG) for path in (tmp_path / "plots").iterdir())
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert_clean_failure(invoke("compare", "--results", folder / "results", "--plot", blocked), 1, "cannot write plots")


def test_compare_against_a_chosen_variant_and_metric(two_seeds):
    folder, _ = two_seeds
    results = folder / "results"
    variants = sorted({path.name.rsplit("-", 1)[0] for path in (results / "tiny").glob("*-*") if path.is_dir()})
    result = invoke(
        "compare", "--results", results, "--vs", variants[0], "--metric", "test_balanced_accuracy", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["reference"] for row in rows} == {variants[0]} and {row["compared_on"] for row in rows} == {
        "test_balanced_accuracy"
    }
    assert all(row["pairs"] == "2" for row in rows if row["variant"] != variants[0])
    assert_clean_failure(invoke("compare", "--results", results, "--vs", "nope"), 2, "--vs: no variant 'nope'")
    assert_clean_failure(
        invoke("compare", "--results", results, "--metric", "nope"), 2, "Invalid value for '--metric'", "'nope'"
    )


def test_report_is_complete_and_its_experiment_file_names_the_same_runs(two_seeds, tmp_path):
    folder, _ = two_seeds
    result = invoke("report", folder / "tiny.yaml", "--results", folder / "results", "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report" / "report.md").read_text()
    for heading in (
        "# tiny",
        "a tiny review",
        "## How to repeat it",
        "## Environment",
        "## Data",
        "## Results",
        "## Plots",
        "## Errors worth looking at",
        "### Most confused pairs",
    ):
        assert heading in text
    assert "| German |" in text and "95% interval" in text and "the best variant is" in text
    for image in (tmp_path / "report").glob("*.png"):
        assert f"]({image.name})" in text
    repeated = config.load(tmp_path / "report" / "experiment.yaml")
    keys = {(spec.variant, spec.variant_key(), spec.seed) for spec in repeated.run_specs()}
    runs, _ = rundir.find_runs(folder / "results")
    assert keys == {(run.config["variant"], run.metrics["variant_key"], run.config["seed"]) for run in runs}
    by_name = invoke("report", "tiny", "--results", folder / "results")  # the default folder, by experiment name
    assert by_name.exit_code == 0 and (folder / "results" / "tiny" / "report" / "report.md").is_file()
    assert_clean_failure(
        invoke("report", "nope", "--results", folder / "results"), 1, "no finished runs of experiment 'nope'"
    )


def test_the_same_seed_gives_bit_identical_runs(write_experiment, names_dir, tmp_path):
    content = {**TINY, "grid": None, "variants": [{"cell": "lstm", "dropout": 0.2, "num_layers": 2}]}
    path = write_experiment(content)
    for results in ("a", "b"):
        assert invoke("run", path, "--results", tmp_path / results, "--data-dir", names_dir).exit_code == 0
    first, second = (next((tmp_path / results).glob("tiny/*/seed-0")) for results in ("a", "b"))
    metrics = [json.loads((run / "metrics.json").read_text()) for run in (first, second)]
    assert {k: v for k, v in metrics[0].items() if k not in NOT_REPEATABLE} == {
        k: v for k, v in metrics[1].items() if k not in NOT_REPEATABLE
    }
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    assert (first / "predictions.csv").read_text() == (second / "predictions.csv").read_text()


def test_repeat_reports_identical_runs_and_names_what_differs(two_seeds, names_dir, tmp_path):
    folder, _ = two_seeds
    run = next((folder / "results" / "tiny").glob("gru-*/seed-1"))
    result = invoke("run", "--repeat", run, "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    assert "repeated, identical" in result.stdout and "epochs of history match exactly" in result.stdout
    copy = tmp_path / "results" / "tiny" / run.parent.name / run.name
    shutil.copytree(run, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    (copy / "metrics.json").write_text(json.dumps({**metrics, "test_accuracy": 0.123}))
    changed = invoke("run", "--repeat", copy, "--data-dir", names_dir)
    assert_clean_failure(
        changed, 1, "test_accuracy: recorded 0.123, repeated", "differs from the recorded one in 1 place"
    )
    weights = load_file(run / "model.safetensors")
    first = next(iter(weights))
    save_file({**weights, first: weights[first] + 1e-3}, copy / "model.safetensors")
    (copy / "metrics.json").write_text(json.dumps(metrics))
    assert_clean_failure(
        invoke("run", "--repeat", copy, "--data-dir", names_dir), 1, "model.safetensors: changed since the run wrote it"
    )  # tampered weights: refused, not compared
    sha256 = hashlib.sha256((copy / "model.safetensors").read_bytes()).hexdigest()
    (copy / "metrics.json").write_text(json.dumps({**metrics, "weights_sha256": sha256}))  # as if trained so
    assert_clean_failure(
        invoke("run", "--repeat", copy, "--data-dir", names_dir),
        1,
        f"weights: 1 of {len(weights)} tensors differ ({first})",
        "in 1 place",
    )
    assert_clean_failure(invoke("run", "--repeat", run, folder / "tiny.yaml"), 2, "--repeat: repeats one recorded run")
    assert_clean_failure(invoke("run"), 2, "give an experiment file")
    assert_clean_failure(invoke("run", "--repeat", tmp_path), 1, "not a finished run directory")


def test_no_experiment_file_when_a_variant_was_renamed_or_changed(two_seeds):
    from rnnbench.report import resolved_experiment

    folder, _ = two_seeds
    runs, _ = rundir.find_runs(folder / "results")
    assert resolved_experiment(runs)["seeds"] == [0, 1]
    renamed = [
        dataclasses.replace(run, spec=run.spec.model_copy(update={"variant": "renamed"})) if run.spec.seed == 1 else run
        for run in runs
    ]  # one key, two names
    assert resolved_experiment(renamed) is None
    changed = [
        dataclasses.replace(run, variant_key="0000abcd") if run.spec.seed == 1 else run for run in runs
    ]  # one name, two keys
    assert resolved_experiment(changed) is None


def test_predict_passes_over_runs_on_a_leaky_split(two_seeds, names_dir, write_experiment, tmp_path):
    folder, _ = two_seeds
    results = tmp_path / "results"
    shutil.copytree(folder / "results", results)
    leaky = write_experiment(
        {
            **TINY,
            "name": "leaky",
            "grid": None,
            "variants": [{"cell": "gru"}],
            "data": {**TINY["data"], "split": "leaky"},
            "train": {**TINY["train"], "max_epochs": 6},
        }
    )
    ran = invoke("run", leaky, "--results", results, "--data-dir", names_dir, "--set", "seeds=[0,1]")
    assert ran.exit_code == 0, ran.output
    # a leaky split leaks otherwise on each seed: seed 0's leak under its table, seed 1's on its own line
    [seed_1] = [line for line in ran.output.splitlines() if line.startswith("seed 1: ")]
    assert "split: leaky" in seed_1 and ran.output.count("split: leaky: lines split at random") == 2
    chosen = invoke("predict", "Rossi", "--results", results)
    assert (
        chosen.exit_code == 0
        and "results/tiny/" in chosen.stderr
        and "2 runs on a leaky split passed over" in chosen.stderr
    )
    asked = invoke("predict", "Rossi", "--results", results, "--experiment", "leaky")
    assert asked.exit_code == 0 and "results/leaky/" in asked.stderr


def test_predict_notes_characters_the_model_never_saw(two_seeds):
    folder, _ = two_seeds
    result = invoke("predict", "Rossi", "Ro§si", "--results", folder / "results")
    assert result.exit_code == 0, result.output
    assert "'Ro§si' has characters this model never saw in training (§)" in result.stderr
    assert "'Rossi' has" not in result.stderr
