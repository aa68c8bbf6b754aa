"""End to end through the CLI: run → compare → predict on a tiny real experiment, and every bad input."""

import csv
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY
from typer.testing import CliRunner

from rnnbench.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_failure(result, code, *fragments):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory, names_dir):
    """One tiny experiment (gru/lstm × uni/bi, 2 epochs), run once for the tests below."""
    folder = tmp_path_factory.mktemp("e2e")
    experiment = folder / "tiny.yaml"
    experiment.write_text(json.dumps(TINY))  # JSON is YAML
    result = invoke("run", experiment, "--results", folder / "results", "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    return folder, experiment, result


def test_run_prints_data_sizes_progress_and_table(trained):
    folder, _, result = trained
    assert "data determined 2 classes" in result.output
    for variant in ("gru-uni-1x8", "gru-bi-1x8", "lstm-uni-1x8", "lstm-bi-1x8"):
        assert variant in result.output
    runs = sorted((folder / "results" / "tiny").glob("*/seed-0"))
    assert len(runs) == 4
    assert (folder / "results" / "tiny" / "summary.md").read_text().startswith("### tiny")
    metrics = json.loads((runs[0] / "metrics.json").read_text())
    for key in (
        "parameters",
        "train_accuracy",
        "validation_accuracy",
        "test_accuracy",
        "test_macro_f1",
        "epochs_run",
        "best_epoch",
        "train_seconds",
        "seconds_per_epoch",
        "peak_memory_mb",
    ):
        assert key in metrics
    assert metrics["environment"]["seed"] == 0 and metrics["environment"]["torch"]
    assert not (folder / "results" / "tiny" / ".incomplete").exists()  # no lock, no empty folder left behind


def test_rerun_skips_finished_runs_and_changes_nothing(trained, names_dir):
    folder, experiment, _ = trained
    files = sorted((folder / "results" / "tiny").glob("*/seed-0/*"))
    before = {f: f.stat().st_mtime_ns for f in files}
    result = invoke("run", experiment, "--results", folder / "results", "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    assert result.output.count("already finished") == 4
    assert {f: f.stat().st_mtime_ns for f in files} == before


def test_compare_formats(trained):
    folder, _, _ = trained
    records = json.loads(invoke("compare", "--results", folder / "results", "--format", "json").stdout)
    assert len(records) == 4
    assert {"experiment", "variant", "params", "seeds", "test_accuracy_mean", "test_accuracy_std"} <= set(records[0])
    accuracies = [r["test_accuracy_mean"] for r in records]
    assert accuracies == sorted(accuracies, reverse=True)
    by_params = json.loads(
        invoke("compare", "--results", folder / "results", "--format", "json", "--sort", "params").stdout
    )
    assert [r["params"] for r in by_params] == sorted(r["params"] for r in records)
    csv = invoke("compare", "--results", folder / "results", "--format", "csv", "--experiment", "tiny").stdout
    assert csv.startswith("experiment,variant") and len(csv.strip().splitlines()) == 5
    assert "| gru-bi-1x8 |" in invoke("compare", "--results", folder / "results", "--format", "markdown").stdout
    assert_clean_failure(
        invoke("compare", "--results", folder / "results", "--experiment", "nope"),
        1,
        "no finished runs of experiment 'nope'; it holds runs of tiny",
    )
    assert_clean_failure(invoke("compare", "--results", folder / "results", "--format", "xml"), 2, "--format")
    assert_clean_failure(invoke("compare", "--results", folder / "results", "--sort", "speed"), 2, "--sort: 'speed'")
    assert_clean_failure(invoke("compare", "--results", folder / "nowhere"), 1, "no such results folder")


def test_predict_uses_best_validation_run(trained):
    folder, _, _ = trained
    result = invoke("predict", "Tribbiani", "Schmidt", "Ωø☃ 李", "--results", folder / "results", "--json")
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    assert [a["input"] for a in answers] == ["Tribbiani", "Schmidt", "Ωø☃ 李"]  # unseen characters still answered
    for answer in answers:
        labels = [p["label"] for p in answer["predictions"]]
        assert sorted(labels) == ["German", "Italian"]  # top-k 3 of 2 classes
        assert sum(p["probability"] for p in answer["predictions"]) == pytest.approx(1, abs=1e-5)
    runs = [json.loads(p.read_text()) for p in (folder / "results").glob("tiny/*/seed-0/metrics.json")]
    best = max(runs, key=lambda m: m["validation_accuracy"])
    assert f"{best['variant']}-{best['variant_key']}" in result.stderr
    text = invoke("predict", "Tribbiani", "--results", folder / "results", "--top-k", "1")
    assert text.exit_code == 0 and text.stdout.startswith("Tribbiani: ")


def test_the_model_line_ends_before_the_answer_and_top_k_says_how_many_labels(trained):
    """In stdout and stderr merged (a log, a pipe), the model line is a line of its own; --top-k above the labels a
    model knows says so once, and the answer lists all of them."""
    folder, _, _ = trained
    merged = subprocess.run(
        [sys.executable, "-m", "rnnbench", "predict", "Tribbiani", "--results", folder / "results", "--top-k", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    lines = merged.stdout.splitlines()
    assert merged.returncode == 0 and len(lines) == 3, merged.stdout
    assert lines[0].startswith("model: ") and lines[0].endswith("runs with 2 languages)")
    assert lines[1] == "note: --top-k 3: this model knows only 2 labels; each answer lists 2"
    assert lines[2].startswith("Tribbiani: ") and lines[2].count("%") == 2
    for asked in ((), ("--top-k", "2"), ("--top-k", "1")):  # the default, or no more than it knows: no note
        quiet = invoke("predict", "Tribbiani", "--results", folder / "results", *asked)
        assert quiet.exit_code == 0 and "note:" not in quiet.stderr, quiet.output


def test_predict_bad_input(trained, tmp_path):
    folder, _, _ = trained
    results = folder / "results"
    assert_clean_failure(invoke("predict", "  ", "--results", results), 1, "name 1", "empty")
    assert_clean_failure(invoke("predict", "x" * 500, "--results", results), 1, "500 characters")
    assert_clean_failure(
        invoke("predict", "Rossi", "--results", tmp_path), 1, "no finished run", "rnnbench run EXPERIMENT.yaml"
    )
    assert_clean_failure(invoke("predict", "Rossi", "--run", tmp_path), 1, "not a run directory (no model.json)")
    assert invoke("predict", "Rossi", "--results", results, "--top-k", "0").exit_code == 2


def test_corrupted_checkpoint_is_a_clear_error(trained, tmp_path):
    folder, _, _ = trained
    source = next((folder / "results" / "tiny").glob("*/seed-0"))
    copy = tmp_path / "run"
    copy.mkdir()
    for file in source.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    original = (copy / "model.safetensors").read_bytes()
    for damaged in (original[:100], original[:-1] + bytes([original[-1] ^ 1]), pickle.dumps({"weight": [1.0]})):
        (copy / "model.safetensors").write_bytes(damaged)  # truncated, one byte changed, a pickle
        assert_clean_failure(
            invoke("predict", "Rossi", "--run", copy), 1, "model.safetensors", "changed since the run wrote it"
        )
        assert len(invoke("predict", "Rossi", "--run", copy).output.strip().splitlines()) == 1
    metrics = json.loads((copy / "metrics.json").read_text())
    (copy / "metrics.json").write_text(json.dumps({k: v for k, v in metrics.items() if k != "weights_sha256"}))
    (copy / "model.safetensors").write_bytes(original[:100])  # a run from before checksums: still refused by name
    assert_clean_failure(
        invoke("predict", "Rossi", "--run", copy), 1, "model.safetensors", "not a readable weights file"
    )
    info = json.loads((source / "model.json").read_text())
    (copy / "model.safetensors").write_bytes(original)
    (copy / "model.json").write_text(json.dumps({**info, "arguments": {**info["arguments"], "hidden_size": 9}}))
    refused = invoke("predict", "Rossi", "--run", copy)
    assert_clean_failure(
        refused,
        1,
        "model.json: does not describe the weights beside it",
        "model.safetensors",
        "has shape",
        "the model expects",
    )
    assert "Error(s) in loading" not in refused.output and len(refused.output.strip().splitlines()) == 1


def test_validate(write_experiment):
    good = write_experiment(TINY)
    result = invoke("validate", good)
    assert result.exit_code == 0 and "4 variants × 1 seed = 4 runs" in result.output and "valid" in result.output
    bad = write_experiment({**TINY, "model": {"cell": "lstmm"}, "train": {"max_epoch": 3}}, "bad.yaml")
    result = invoke("validate", bad)
    assert_clean_failure(
        result,
        2,
        "model.cell: is not one of rnn, gru, lstm, linear_rnn, linear, majority, naive, seasonal_naive, drift, mean (got 'lstmm')",
        "train.max_epoch: unknown field",
    )
    assert_clean_failure(invoke("run", bad), 2, "model.cell")
    assert_clean_failure(
        invoke("validate", good, "--set", "train.batch_size=0"),
        2,
        "train.batch_size: input should be greater than or equal to 1",
    )
    assert_clean_failure(invoke("validate", good.parent / "absent.yaml"), 2, "absent.yaml: no such file")


def test_run_with_missing_data_dir_writes_nothing(write_experiment, tmp_path):
    result = invoke("run", write_experiment(TINY), "--results", tmp_path / "results", "--data-dir", tmp_path / "void")
    assert_clean_failure(result, 1, "no names corpus here")
    assert not (tmp_path / "results").exists()


def test_run_unavailable_device_is_a_clear_error(write_experiment, tmp_path, names_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = invoke(
        "run", write_experiment(TINY), "--set", "device=cuda", "--results", tmp_path / "r", "--data-dir", names_dir
    )
    assert_clean_failure(result, 1, "device: 'cuda' requested")


def test_real_subprocess_help_and_version():
    help_text = subprocess.run(
        [sys.executable, "-m", "rnnbench", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("run", "validate", "compare", "predict"):
        assert command in help_text
    version = subprocess.run(
        [sys.executable, "-m", "rnnbench", "--version"], capture_output=True, text=True, check=True
    )
    import re
    from importlib import metadata

    written = re.search(r'^version = "(.+)"$', (Path(__file__).parents[1] / "pyproject.toml").read_text(), re.M)[1]
    assert version.stdout.strip() == f"rnnbench {written}" == f"rnnbench {metadata.version('rnnbench')}"  # one place


def test_a_console_script_of_an_older_install_still_starts_the_program():
    """Installs made before the program moved to rnnbench.__main__ wrote `from rnnbench import main` into their
    `rnnbench` script: it goes on working until the next install rewrites it."""
    script = "import sys; from rnnbench import main; sys.argv = ['rnnbench', '--version']; main()"
    old = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert old.returncode == 0 and old.stdout.startswith("rnnbench "), old.stderr


def test_text_that_looks_like_markup_is_printed_as_is(trained):
    folder, _, _ = trained
    result = invoke("predict", "[bold]Rossi[/bold]", "[/red]", "--results", folder / "results", "--top-k", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[bold]Rossi[/bold]: ") and "\n[/red]: " in result.stdout
    assert_clean_failure(invoke("predict", "[/red]  " + "x" * 200, "--results", folder / "results"), 1, "name 1")


def test_predict_never_ranks_runs_that_answer_different_questions(trained, write_experiment, names_dir, tmp_path):
    """German-vs-Italian and Japanese-vs-Chinese runs in one folder: the easier question's validation score would
    win, and every name would be answered in Japanese or Chinese. The automatic choice refuses instead."""
    folder, _, _ = trained
    results = tmp_path / "results"
    shutil.copytree(folder / "results", results)
    other = {
        **TINY,
        "name": "asian",
        "data": {"languages": ["Japanese", "Chinese"]},
        "grid": None,
        "train": {**TINY["train"], "max_epochs": 1},
    }
    assert invoke("run", write_experiment(other), "--results", results, "--data-dir", names_dir).exit_code == 0
    refused = invoke("predict", "Tribbiani", "--results", results)
    assert_clean_failure(
        refused, 1, "answer different questions", "German, Italian (tiny)", "Chinese, Japanese (asian)", "--experiment"
    )
    assert len(refused.stderr.strip().splitlines()) == 1
    chosen = invoke("predict", "Tribbiani", "--results", results, "--json", "--experiment", "asian")
    assert chosen.exit_code == 0 and "/asian/" in chosen.stderr
    assert {p["label"] for p in json.loads(chosen.stdout)[0]["predictions"]} == {"Japanese", "Chinese"}
    # a superset of languages is another question too: refused, not chosen for its coverage
    three = {**other, "name": "three", "data": {"languages": ["German", "Italian", "Spanish"]}}
    shutil.rmtree(results / "asian")
    assert invoke("run", write_experiment(three), "--results", results, "--data-dir", names_dir).exit_code == 0
    assert_clean_failure(invoke("predict", "Rossi", "--results", results), 1, "German, Italian, Spanish (three)")
    # the same languages listed in another order are the same question
    shutil.rmtree(results / "three")
    swapped = {**other, "name": "swapped", "data": {"languages": ["Italian", "German"]}}
    assert invoke("run", write_experiment(swapped), "--results", results, "--data-dir", names_dir).exit_code == 0
    assert invoke("predict", "Rossi", "--results", results).exit_code == 0


def test_one_experiment_never_mixes_data_settings(trained, write_experiment, names_dir, tmp_path):
    """Runs on other languages under the same experiment name would share its table and its "best"."""
    folder, _, _ = trained
    results = tmp_path / "results"
    shutil.copytree(folder / "results", results)
    before = sorted(path.name for path in (results / "tiny").iterdir())
    other = {**TINY, "data": {"languages": ["Japanese", "Chinese"]}}
    refused = invoke("run", write_experiment(other), "--results", results, "--data-dir", names_dir)
    assert_clean_failure(
        refused, 1, "a run of experiment 'tiny' on other data settings (data.languages)", "--set name="
    )
    assert sorted(path.name for path in (results / "tiny").iterdir()) == before  # nothing trained or written


def test_errors_say_what_they_mean(trained, tmp_path):
    folder, _, _ = trained
    results = folder / "results"
    for command in (("show", tmp_path / "nowhere"), ("predict", "Rossi", "--run", tmp_path / "nowhere")):
        assert_clean_failure(invoke(*command), 1, f"{tmp_path / 'nowhere'}: no such run directory")
    assert_clean_failure(
        invoke("compare", "--results", results, "--metric", "long_accuracy"),
        2,
        "--metric: no run here records long_accuracy; these record test_accuracy",
    )
    noted = invoke("compare", "--results", results, "--vs", "gru-uni-1x8")
    assert noted.exit_code == 0 and "note: --vs" not in noted.output
    one_seed = invoke("compare", "--results", results).stdout
    assert "One seed per variant: single scores" in one_seed and "95% interval" not in one_seed
    experiment = tmp_path / "e.yaml"
    experiment.write_text("name: x\ndata: {dataset: namez}\n")
    assert_clean_failure(invoke("validate", experiment), 2, "(got 'namez'); did you mean names?")
    experiment.write_text("name: x\n")
    assert_clean_failure(
        invoke("validate", experiment, "--set", "model.cell=lstmm"),
        2,
        "e.yaml: model.cell: is not one of rnn, gru, lstm, linear_rnn, linear, majority, naive, seasonal_naive, drift, mean (got 'lstmm'); "
        "set by --set; did you mean lstm?",
    )


def test_names_not_found_come_with_the_closest_that_exist(trained):
    folder, experiment, _ = trained
    results = folder / "results"
    run = next((results / "tiny").glob("gru-uni-1x8-*/seed-0"))
    for typed in (  # a placeholder for the key, a key mistyped, a seed not trained, an experiment misspelled
        run.parent.with_name("gru-uni-1x8-KEY") / "seed-0",
        run.parent.with_name(run.parent.name[:-1] + "0") / "seed-0",
        run.parent / "seed-1",
        results / "tyni" / run.parent.name / "seed-0",  # (the only experiment there)
    ):
        for command in (("show", typed), ("predict", "Rossi", "--run", typed), ("run", "--repeat", typed)):
            assert_clean_failure(invoke(*command), 1, f"{typed}: no such run directory; did you mean {run}?")
    mistyped = experiment.with_name("tiyn.yaml")
    for command in ("validate", "run", "params", "clean", "report"):
        assert_clean_failure(invoke(command, mistyped), 2, f"{mistyped}: no such file; did you mean {experiment}?")
    for command in (("compare",), ("predict", "Rossi"), ("report", "tiyn")):
        assert_clean_failure(
            invoke(*command, "--results", results, *(() if "report" in command else ("--experiment", "tiyn"))),
            1,
            f"{results}: no finished run",
            "of experiment 'tiyn'; did you mean tiny?",
        )


def test_output_that_cannot_be_written_is_one_line(trained):
    folder, _, _ = trained
    results = folder / "results"
    command = [sys.executable, "-m", "rnnbench", "compare", "--results", str(results)]
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True)
        assert (
            done.returncode == 1 and done.stderr.strip() == "error: cannot write the output (No space left on device)"
        )
    closed = subprocess.run(
        command, stdout=None, stderr=subprocess.PIPE, text=True, close_fds=True, preexec_fn=lambda: os.close(1)
    )  # `rnnbench compare >&-`
    assert closed.returncode == 0 and "Traceback" not in closed.stderr


def test_predict_passes_over_a_damaged_candidate_with_a_note(trained, tmp_path):
    folder, _, _ = trained
    results = tmp_path / "results"
    shutil.copytree(folder / "results", results)

    def chosen(result) -> Path:
        assert result.exit_code == 0, result.output
        return Path(next(line for line in result.stderr.splitlines() if line.startswith("model: ")).split()[1])

    best = chosen(invoke("predict", "Rossi", "--results", results))
    weights = best / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x01")  # one byte of a weight changed: the file still parses
    again = invoke("predict", "Rossi", "--results", results)
    assert chosen(again) != best
    assert "passed over a damaged run" in again.stderr and "changed since the run wrote it" in again.stderr
    assert_clean_failure(invoke("predict", "Rossi", "--run", best), 1, "model.safetensors", "changed since")
    second = chosen(again)
    (second / "metrics.json").write_text("{not json")
    third = invoke("predict", "Rossi", "--results", results)
    assert chosen(third) not in (best, second)
    assert "passed over a damaged run" in third.stderr and "metrics.json" in third.stderr


def test_output_cut_short_by_its_reader_exits_0_quietly(trained):
    """`rnnbench compare | head -1`: the reader closes the pipe; every command that prints exits 0, silently."""
    folder, _, _ = trained
    results = folder / "results"
    commands = (
        ["--help"],
        ["--version"],
        ["run", "--help"],
        ["compare", "--results", results],
        ["compare", "--results", results, "--format", "json"],
        ["predict", "Rossi", "--results", results, "--json"],
        ["show", next((results / "tiny").glob("*/seed-0"))],
    )
    started = []
    for command in commands:  # all at once: each is mostly the seconds torch takes to import
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first write
        started.append(
            (
                command,
                subprocess.Popen(
                    [sys.executable, "-m", "rnnbench", *map(str, command)],
                    stdout=write,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
        os.close(write)
    for command, process in started:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, (command, stderr)
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr, command
    failing = subprocess.run(
        [sys.executable, "-m", "rnnbench", "compare", "--results", folder / "nowhere"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert failing.returncode == 1  # an error with output sent to the null device is still an error


def test_run_refuses_results_it_cannot_write_before_training(write_experiment, names_dir, tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file, not a folder")
    result = invoke("run", write_experiment(TINY), "--results", blocker, "--data-dir", names_dir)
    assert_clean_failure(result, 1, "cannot write results here")
    assert "seed 0" not in result.output and blocker.read_text() == "a file, not a folder"


def test_run_refuses_to_train_over_an_unfinished_run_directory(trained, write_experiment, names_dir, tmp_path):
    folder, _, _ = trained
    results = tmp_path / "results"
    shutil.copytree(folder / "results", results)
    victim = next((results / "tiny").glob("lstm-bi-*/seed-0"))
    (victim / "metrics.json").unlink()
    before = {p.name: p.read_bytes() for p in victim.iterdir()}
    result = invoke("run", write_experiment(TINY), "--results", results, "--data-dir", names_dir)
    assert_clean_failure(result, 1, f"{victim}: holds no metrics.json", "move or delete it to retrain")
    assert "data determined" not in result.output  # refused before any training
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == before


def test_params_counts_by_role_in_closed_form(write_experiment, names_dir):
    content = {
        **TINY,
        "grid": None,
        "variants": [
            {"cell": "lstm", "bidirectional": True, "num_layers": 2},
            {"cell": "gru", "impl": "scratch", "bias": "single"},
            {"cell": "gru", "param_budget": 3000},
            {"cell": "lstm", "param_budget": 3000},
            {"cell": "majority"},
            {"cell": "linear", "max_length": 18, "num_layers": 3, "hidden_size": 16},
        ],
    }
    result = invoke("params", write_experiment(content), "--data-dir", names_dir, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = {row["variant"]: row for row in report["variants"]}
    assert report["data"]["vocab_size"] == 64 and report["data"]["num_classes"] == 2
    recurrent = [row for row in rows.values() if "recurrent_formula" in row]
    assert len(recurrent) == 4
    lstm = rows["lstm-bi-2x8"]
    assert lstm["recurrent_formula"] == "2×4×(8·8 + 8² + 2·8) + 2×4×(8·16 + 8² + 2·8)"
    assert lstm["embedding"] == 64 * 8 and lstm["head"] == 2 * 8 * 2 + 2
    assert rows["gru-uni-1x8-scratch-single-bias"]["biases"] == 3 * 8
    assert rows["majority"]["total"] == 0
    assert rows["linear-3x16"]["head"] == (18 * 64 * 16 + 16) + (16 * 16 + 16) + (16 * 2 + 2)
    for name in ("gru-uni-1-budget3000", "lstm-uni-1-budget3000"):
        assert abs(rows[name]["total"] - 3000) < 0.1 * 3000
    assert rows["gru-uni-1-budget3000"]["hidden_size"] > rows["lstm-uni-1-budget3000"]["hidden_size"]
    table = invoke("params", write_experiment(content), "--data-dir", names_dir)
    assert table.exit_code == 0 and "= 2,816\n" in table.stdout  # the bidirectional 2-layer LSTM's closed form


def test_params_and_run_refuse_options_only_scratch_has(write_experiment):
    content = {
        **TINY,
        "grid": None,
        "variants": [
            {"cell": "linear_rnn"},
            {"cell": "lstm", "activation": "relu"},
            {"cell": "rnn", "head": "flatten"},
            {"cell": "linear", "max_length": 18, "param_budget": 900},
        ],
    }
    result = invoke("validate", write_experiment(content))
    assert_clean_failure(
        result,
        2,
        "variants[0] (linear_rnn-uni-1x8): cell linear_rnn: only impl: scratch has this",
        "variants[1] (lstm-uni-1x8-relu): activation: relu for lstm: only impl: scratch has this",
        "head flatten needs max_length",
        "cell linear with num_layers 1 has no hidden size",
    )


def test_baselines_and_scratch_cells_run_end_to_end(write_experiment, names_dir, tmp_path):
    content = {
        **TINY,
        "grid": None,
        "train": {**TINY["train"], "max_epochs": 1},
        "variants": [
            {"cell": "majority"},
            {"cell": "linear", "max_length": 18, "num_layers": 2},
            {"cell": "gru", "impl": "scratch", "head": "mean"},
        ],
    }
    results = tmp_path / "results"
    assert invoke("run", write_experiment(content), "--results", results, "--data-dir", names_dir).exit_code == 0
    records = {r["variant"]: r for r in json.loads(invoke("compare", "--results", results, "--format", "json").stdout)}
    majority = records["majority"]
    assert majority["params"] == 0 and majority["epochs_mean"] == 1
    assert 0.5 <= majority["test_accuracy_mean"] <= 0.6  # German is the larger class: 55% of the test split
    assert records["linear-2x8"]["params"] > 0 and records["gru-uni-1x8-scratch-head-mean"]["impl"] == "scratch"
    run = next(results.glob("tiny/majority-*/seed-0"))
    answer = json.loads(invoke("predict", "Rossi", "--run", run, "--json").stdout)[0]["predictions"]
    assert answer[0]["label"] == "German" and answer[0]["probability"] == pytest.approx(0.55, abs=0.05)


def test_eval_drop_last_with_a_split_smaller_than_a_batch(write_experiment, names_dir, tmp_path):
    content = {
        **TINY,
        "grid": None,
        "variants": [{"cell": "gru"}],
        "train": {**TINY["train"], "max_epochs": 1, "batch_size": 500, "eval_drop_last": True},
    }
    results = tmp_path / "results"
    assert invoke("run", write_experiment(content), "--results", results, "--data-dir", names_dir).exit_code == 0
    metrics = json.loads(next(results.glob("tiny/*/seed-0/metrics.json")).read_text())
    assert sum(map(sum, metrics["test_confusion_matrix"])) == 140  # smaller than a batch: scored whole


REVERSAL = {
    "name": "rev",
    "data": {"dataset": "reversal", "samples": 200, "long_samples": 40},
    "model": {"hidden_size": 16, "embedding_dim": 8},
    "variants": [{"architecture": "tagger", "bidirectional": True}, {"cell": "lstm", "attention": "dot"}],
    "train": {"max_epochs": 2, "patience": 0, "batch_size": 32},
    "device": "cpu",
}


def test_reversal_runs_compares_and_predicts(write_experiment, tmp_path):
    results = tmp_path / "results"
    run = invoke("run", write_experiment(REVERSAL), "--results", results)  # no corpus needed
    assert run.exit_code == 0, run.output
    assert "generated 140 / 20 / 40 sequences of symbols 1-9 and 40 longer ones" in run.output
    records = json.loads(invoke("compare", "--results", results, "--format", "json").stdout)
    assert {r["variant"] for r in records} == {"gru-bi-1x16-tagger", "lstm-uni-1x16-encdec-attn-dot"}
    assert all(0 <= r["long_accuracy_mean"] <= 1 and r["test_macro_f1_mean"] is None for r in records)
    table = invoke("compare", "--results", results).stdout
    assert "exact %" in table and "(longer)" in table  # a header wider than its numbers takes two lines
    plotted = invoke("compare", "--results", results, "--plot", tmp_path / "plots")
    assert plotted.exit_code == 0, plotted.output
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "rev-accuracy-by-length.png",
        "rev-learning-curves.png",
        "rev-test-accuracy-vs-parameters.png",
    ]
    report = invoke("report", "rev", "--results", results)
    assert report.exit_code == 0, report.output
    assert "## Exact accuracy by length" in (results / "rev" / "report" / "report.md").read_text()
    metrics = json.loads(next(results.glob("rev/lstm-*/seed-0/metrics.json")).read_text())
    assert set(metrics["long_accuracy_by_length"]) <= {str(n) for n in range(6, 11)}
    path = next(results.glob("rev/lstm-*/seed-0"))
    shown = invoke("show", path)
    assert shown.exit_code == 0 and "exact % by length" in shown.stdout and "long" in shown.stdout
    by_experiment = invoke("predict", "3 7 2", "--results", results, "--experiment", "rev")
    assert (
        by_experiment.exit_code == 0 and "reversal runs" in by_experiment.stderr and "3 7 2: " in by_experiment.stdout
    )
    answer = json.loads(invoke("predict", "3 7 2", "9,1", "--run", path, "--json").stdout)
    assert [a["input"] for a in answer] == ["3 7 2", "9,1"]
    assert all(set(a["output"].split()) <= set("123456789") for a in answer)
    assert_clean_failure(invoke("predict", "3 x 2", "--run", path), 1, "'x' is not a symbol 1..9")
    assert_clean_failure(invoke("predict", "  ", "--run", path), 1, "sequence 1", "empty")


def test_reversal_refuses_what_only_names_has(write_experiment):
    content = {
        **REVERSAL,
        "variants": [{"head": "mean"}, {"cell": "majority"}, {"architecture": "tagger", "attention": "dot"}],
        "data": {"dataset": "reversal", "min_length": 4, "max_length": 2},
    }
    result = invoke("validate", write_experiment(content))
    assert_clean_failure(
        result,
        2,
        "head: only for the names task",
        "needs architecture tagger or encoder_decoder",
        "attention needs architecture encoder_decoder (got tagger)",
        "data.max_length: below min_length 4",
    )
    counted = invoke("params", write_experiment(REVERSAL))  # every task's models are counted
    assert counted.exit_code == 0, counted.output  # an encoder-decoder: its encoder's and decoder's layers added
    assert "lstm-uni-1x16-encdec-attn-dot: 4×(16·8 + 16² + 2·16) + 4×(16·8 + 16² + 2·16) = 3,328\n" in counted.stdout


def test_the_tutorials_regression_framing_end_to_end(write_experiment, tmp_path):
    """Keras-convention regression models train, report MSE, and answer with rounded values."""
    content = {
        "name": "keras",
        "data": {
            "dataset": "reversal",
            "samples": 200,
            "validation_fraction": 0,
            "test_fraction": 0.2,
            "long_samples": 0,
        },
        "model": {
            "cell": "lstm",
            "impl": "scratch",
            "hidden_size": 8,
            "bias": "single",
            "init": "keras",
            "regression": True,
        },
        "variants": [{"architecture": "tagger", "activation": "relu"}, {"architecture": "repeat_decoder"}],
        "train": {"max_epochs": 2, "patience": 0, "batch_size": 32},
        "device": "cpu",
    }
    results = tmp_path / "results"
    run = invoke("run", write_experiment(content), "--results", results)
    assert run.exit_code == 0, run.output
    records = json.loads(invoke("compare", "--results", results, "--format", "json").stdout)
    assert {r["variant"] for r in records} == {"lstm-uni-1x8-relu-tagger", "lstm-uni-1x8-repeat"}
    assert all(r["test_mse_mean"] > 0 and r["long_accuracy_mean"] is None for r in records)
    assert "MSE (test)" in invoke("compare", "--results", results, "--format", "markdown").stdout
    metrics = json.loads(next(results.glob("keras/lstm-uni-1x8-relu-tagger-*/seed-0/metrics.json")).read_text())
    assert metrics["validation_accuracy"] is None and metrics["parameters"] == 4 * (8 * 1 + 8 * 8 + 8) + 9
    path = next(results.glob("keras/lstm-uni-1x8-repeat-*/seed-0"))
    answer = json.loads(invoke("predict", "3 7 2", "--run", path, "--json").stdout)[0]
    assert len(answer["values"]) == 3
    shown = [min(max(round(v), 0), 9) for v in answer["values"]]
    assert answer["output"] == " ".join(str(v) for v in shown if v != 0)
    assert_clean_failure(
        invoke("validate", write_experiment({**TINY, "data": {"dataset": "revers"}})),
        2,
        "data.dataset: is not one of names, reversal, csv, series, adding, copy (got 'revers')",
    )


def test_predict_answers_a_file_of_names_as_csv_or_json(trained, tmp_path):
    folder, _, _ = trained
    results = folder / "results"
    (tmp_path / "names.txt").write_text("Rossi\n\nSchmidt, Jr\n  Nakamura  \n", encoding="utf-8")
    table = invoke("predict", "Tribbiani", "--file", tmp_path / "names.txt", "--results", results, "--top-k", "1")
    assert table.exit_code == 0, table.output
    assert [line.split(":")[0] for line in table.stdout.splitlines()] == [
        "Tribbiani",
        "Rossi",
        "Schmidt, Jr",
        "  Nakamura  ",
    ]
    as_csv = invoke(
        "predict", "--file", tmp_path / "names.txt", "--results", results, "--format", "csv", "--top-k", "2"
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["input"] for row in rows] == ["Rossi", "Schmidt, Jr", "  Nakamura  "]  # a comma stays in its cell
    assert {row["label_1"] for row in rows} <= {"German", "Italian"} and all(
        float(row["probability_1"]) >= float(row["probability_2"]) for row in rows
    )
    (tmp_path / "people.csv").write_text('id,surname\n1,Rossi\n2,"Weiß"\n', encoding="utf-8")
    as_json = invoke(
        "predict", "--file", tmp_path / "people.csv", "--column", "surname", "--results", results, "--json"
    )
    assert [answer["input"] for answer in json.loads(as_json.stdout)] == ["Rossi", "Weiß"]
    same = invoke("predict", "Rossi", "Weiß", "--results", results, "--format", "json")
    assert json.loads(same.stdout) == json.loads(as_json.stdout)  # a file answers as the same names given here


def test_predict_file_errors_name_the_file_and_line(trained, tmp_path):
    results = trained[0] / "results"
    (tmp_path / "long.txt").write_text("Rossi\n" + "x" * 500 + "\n", encoding="utf-8")
    assert_clean_failure(
        invoke("predict", "--file", tmp_path / "long.txt", "--results", results),
        1,
        f"{tmp_path / 'long.txt'} line 2: 500 characters",
    )
    (tmp_path / "two.csv").write_text("id,surname\n1,Rossi\n", encoding="utf-8")
    assert_clean_failure(
        invoke("predict", "--file", tmp_path / "two.csv", "--results", results),
        1,
        "several columns and none named 'text'; choose one with --column (id, surname)",
    )
    (tmp_path / "latin1.txt").write_bytes("Müller\n".encode("latin-1"))
    assert_clean_failure(
        invoke("predict", "--file", tmp_path / "latin1.txt", "--results", results), 1, "not UTF-8 text"
    )
    assert_clean_failure(invoke("predict", "--file", tmp_path / "missing.txt", "--results", results), 1, "no such file")
    (tmp_path / "blank.txt").write_text("\n  \n", encoding="utf-8")
    assert_clean_failure(
        invoke("predict", "--file", tmp_path / "blank.txt", "--results", results), 1, "no inputs in it"
    )
    assert_clean_failure(invoke("predict", "--results", results), 2, "give names to answer")
    assert_clean_failure(
        invoke("predict", "Rossi", "--format", "xml", "--results", results),
        2,
        "Invalid value for '--format'",
        "'xml' is not one of",
    )


def test_predict_csv_has_the_same_columns_whatever_the_inputs(trained, tmp_path):
    results = trained[0] / "results"
    seen = invoke("predict", "Rossi", "--results", results, "--format", "csv")
    unseen = invoke("predict", "Ωø", "--results", results, "--format", "csv")
    assert (
        seen.stdout.splitlines()[0]
        == unseen.stdout.splitlines()[0]
        == ("input,label_1,probability_1,label_2,probability_2,unseen,notes")
    )  # 2 languages: 2 ranks, though top-k is 3
    assert sorted(unseen.stdout.splitlines()[1].rsplit(",", 2)[1].split()) == sorted(["Ω", "ø"])
    (tmp_path / "people.tsv").write_text("id\ttext\n1\tRossi\n", encoding="utf-8")
    assert invoke("predict", "--file", tmp_path / "people.tsv", "--results", results).stdout.startswith("Rossi: ")
    (tmp_path / "open.csv").write_text('text\n"Rossi\nSmith\n', encoding="utf-8")
    assert_clean_failure(
        invoke("predict", "--file", tmp_path / "open.csv", "--results", results),
        1,
        f"{tmp_path / 'open.csv'}: line 2: a quoted field has no closing double quote",  # the line it opens on
    )
    assert_clean_failure(
        invoke("predict", "Rossi", "--json", "--format", "csv", "--results", results),
        2,
        "--json: the same as --format json",
    )


def test_every_command_that_prints_results_speaks_json_one_way(trained, names_dir, tmp_path):
    """--format json (or its other spelling, --json) on every command that prints results: one strict JSON
    document on stdout, the same either way; --json with another --format is a usage error."""
    folder, experiment, _ = trained
    results = folder / "results"
    run_dir = sorted((results / "tiny").glob("*/seed-0"))[0]
    commands = {
        "validate": ["validate", experiment],
        "params": ["params", experiment, "--data-dir", names_dir],
        "run": ["run", experiment, "--results", results, "--data-dir", names_dir],
        "compare": ["compare", "--results", results],
        "predict": ["predict", "Rossi", "--results", results],
        "show": ["show", run_dir],
        "data names": ["data", "names", "--languages", "German,Italian", "--data-dir", names_dir],
        "report": ["report", "tiny", "--results", results, "--out", tmp_path / "report"],
    }
    answers = {}
    for name, args in commands.items():  # --json for half of them, --format json for the others
        result = invoke(*args, *(["--json"] if len(answers) % 2 else ["--format", "json"]))
        assert result.exit_code == 0, (name, result.output)
        answers[name] = json.loads(result.stdout)
    for name in ("compare", "show"):  # the same, either way
        assert json.loads(invoke(*commands[name], "--json").stdout) == answers[name], name
    assert answers["validate"]["valid"] is True and answers["validate"]["runs"] == 4
    run = answers["run"]
    assert run["finished_before"] == 4 and run["trained"] == 0 and len(run["runs"]) == len(run["summary"]) == 4
    assert answers["report"]["report"].endswith("report.md") and answers["report"]["runs"] == 4
    assert_clean_failure(invoke("show", run_dir, "--json", "--format", "table"), 0)  # --format table is the default
    assert_clean_failure(
        invoke("compare", "--results", results, "--json", "--format", "csv"), 2, "--json: the same as --format json"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nmodel: {cell: lstmm}\n")
    invalid = invoke("validate", broken, "--json")
    assert invalid.exit_code == 2 and "error: " in invalid.stderr
    said = json.loads(invalid.stdout)
    assert said["valid"] is False and any("model.cell" in problem for problem in said["problems"])
