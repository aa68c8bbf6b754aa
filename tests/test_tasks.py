"""The contract every task in TASKS keeps, whatever it learns: a tiny experiment trains, saves, reloads, compares,
counts its parameters, shows, reports, predicts, repeats identically, and refuses bad input the same way."""

import json

import pytest
from conftest import REPO, TINY
from test_cli import assert_clean_failure, invoke

from rnnbench import config, rundir
from rnnbench.tasks import TASKS

TINY_DATA = {  # a tiny data section and one answerable input per task
    "names": ({"languages": ["German", "Italian"]}, "Rossi"),
    "reversal": ({"dataset": "reversal", "samples": 200, "long_samples": 40}, "3 7 2"),
    "csv": (
        {
            "dataset": "csv",
            "path": str(REPO / "experiments" / "data" / "vader_valence.csv"),
            "target_column": "valence",
            "target": "number",
        },
        "wonderful",
    ),
    "series": (
        {
            "dataset": "series",
            "length": 120,
            "input_length": 6,
            "horizon": 3,
            "test_length": 12,
            "validation_length": 6,
            "seasonal_period": 25,
        },
        "0 0.25 0.48 0.68 0.84 0.95",
    ),
    "adding": (
        {"dataset": "adding", "length": 6, "train_samples": 200, "validation_samples": 40, "test_samples": 40},
        "0.3 0.9* 0.4 0.5* 0.1 0.2",
    ),
    "copy": (
        {"dataset": "copy", "length": 3, "train_samples": 200, "validation_samples": 40, "test_samples": 40},
        "3 1 4 1 5 2 6 5 3 5",
    ),
}


def _scored_beside(task: str) -> tuple:
    return getattr(TASKS[task], "SCORED_BESIDE", ())


def test_every_task_has_a_tiny_experiment_here():
    assert set(TINY_DATA) == set(TASKS)


@pytest.fixture(scope="module", params=sorted(TASKS))
def trained(request, tmp_path_factory, names_dir):
    name = request.param
    data, sample = TINY_DATA[name]
    folder = tmp_path_factory.mktemp(name)
    model = {"hidden_size": 8, "embedding_dim": 8} | ({"architecture": "tagger"} if name == "reversal" else {})
    content = {**TINY, "name": f"tiny_{name}", "data": data, "model": model, "grid": {"cell": ["gru", "lstm"]}}
    (folder / "e.yaml").write_text(json.dumps(content))
    result = invoke("run", folder / "e.yaml", "--results", folder / "results", "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    return name, sample, folder, content


def test_runs_are_saved_and_reload_as_typed_records(trained):
    name, _, folder, content = trained
    runs, problems = rundir.find_runs(folder / "results")
    assert len(runs) == 2 + len(_scored_beside(name)) and not problems
    specs = config.validate(content).run_specs()
    for run in runs:
        assert run.task == name and run.spec in specs and run.variant_key == run.spec.variant_key()
        assert run.scores  # every task records scores
        trained = run.spec.model.cell not in _scored_beside(name)  # a task's added baselines have no parameters
        assert (
            (run.parameters > 0 and run.epochs_run == 2) if trained else (run.parameters == 0 and run.epochs_run == 1)
        )
        first = TASKS[name].COLUMNS[0] if name != "csv" else "test_rmse"
        assert run.scores[first] is not None


def test_compare_params_show_and_report(trained, tmp_path, names_dir):
    name, _, folder, _ = trained
    records = json.loads(invoke("compare", "--results", folder / "results", "--format", "json").stdout)
    assert len(records) == 2 + len(_scored_beside(name)) and {record["task"] for record in records} == {name}
    assert {record["verdict"] for record in records} <= {"reference", "untested"}  # one seed: nothing to test
    counted = invoke("params", folder / "e.yaml", "--data-dir", names_dir, "--json")
    assert counted.exit_code == 0, counted.output
    totals = {row["variant"]: row["total"] for row in json.loads(counted.stdout)["variants"]}
    runs = rundir.find_runs(folder / "results")[0]
    assert totals == {run.spec.variant: run.parameters for run in runs}  # closed forms: the trained tensors' count
    run = runs[0]
    assert invoke("show", run.path).exit_code == 0
    assert invoke("report", f"tiny_{name}", "--results", folder / "results", "--out", tmp_path).exit_code == 0
    assert (tmp_path / "report.md").read_text().count("## ") >= 5


def test_predict_answers_and_refuses_empty_input_in_one_line(trained):
    name, sample, folder, _ = trained
    run = rundir.find_runs(folder / "results")[0][0]
    answered = invoke("predict", sample, "--run", run.path, "--json")
    assert answered.exit_code == 0, answered.output
    assert json.loads(answered.stdout)[0]["input"] == sample
    refused = invoke("predict", "   ", "--run", run.path)
    assert_clean_failure(refused, 1, "empty")
    assert len([line for line in refused.output.splitlines() if line.strip()]) <= 2  # the model line and the error


UNLIKE = {  # per task: an input unlike anything its tiny experiment trained on, and what the note beside it says
    "names": ("Tribbiani" * 8, "72 characters, longer than any name this model trained on"),
    "reversal": ("1 2 3 4 5 6 7 8 9 1 2 3", "12 symbols, longer than any sequence this model trained on"),
    "csv": ("wonderful" * 20, "180 characters, longer than any text this model trained on"),
    "series": (
        "0 0.25 0.48 0.68 0.84 1e6",
        "the window it reads (as values) reaches 1e+06, far outside what it trained",
    ),
    "adding": ("0.3 0.9* 0.4 0.5*", "4 steps; the model trained on 6"),
    "copy": None,  # 10 symbols of a fixed alphabet, always: no input is unlike the training data
}


def test_an_input_unlike_the_training_data_is_answered_with_a_note(trained):
    """As an unseen character is: longer than any training input, or (a series) far outside the training range;
    a series value that is not finite once scaled is refused."""
    name, _, folder, _ = trained
    run = next(run for run in rundir.find_runs(folder / "results")[0] if run.spec.model.cell == "gru")
    if UNLIKE[name] is None:
        pytest.skip(f"{name}: every input it answers is like its training data")
    unlike, said = UNLIKE[name]
    answered = invoke("predict", "--run", run.path, "--json", "--", unlike)
    assert answered.exit_code == 0, answered.output
    assert said in json.loads(answered.stdout)[0]["notes"][0]
    table = invoke("predict", "--run", run.path, "--", unlike)
    assert table.exit_code == 0 and [line for line in table.stderr.splitlines() if said in line][0].startswith("note:")
    usual = invoke("predict", "--run", run.path, "--json", "--", TINY_DATA[name][1])
    assert "notes" not in json.loads(usual.stdout)[0]
    as_csv = invoke("predict", "--run", run.path, "--format", "csv", "--", unlike)
    assert as_csv.stdout.splitlines()[0].endswith(",notes") and said in as_csv.stdout
    if name == "series":
        assert_clean_failure(
            invoke("predict", "--run", run.path, "--", "0 0.25 0.48 0.68 0.84 1e308"), 1, "not finite numbers"
        )


def test_a_repeated_run_is_identical(trained, names_dir):
    _, _, folder, _ = trained
    run = rundir.find_runs(folder / "results")[0][0]
    repeated = invoke("run", "--repeat", run.path, "--data-dir", names_dir)
    assert repeated.exit_code == 0 and "repeated, identical" in repeated.stdout, repeated.output
