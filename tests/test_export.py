"""`rnnbench export` against the real libraries: an MLflow SQLite store in tmp_path, read back through
mlflow.search_runs, and TensorBoard event files, read back through TensorBoard's event reader. Marked `export`
(they need the mlflow and tensorboard extras): `make test-export` installs them and runs these. Without the
extras, the commands say what to install (the last tests, in the default suite)."""

from __future__ import annotations

import json
import shutil
import socket
import sys

import pytest
from typer.testing import CliRunner

from rnnbench import rundir
from rnnbench.cli import app

runner = CliRunner()

EXPERIMENT = {
    "name": "tiny_export",
    "data": {"languages": ["German", "Italian"]},
    "model": {"hidden_size": 8, "embedding_dim": 8},
    "grid": {"cell": ["gru", "lstm"]},
    "train": {"max_epochs": 3, "batch_size": 128, "patience": 0},
    "seeds": [0],
    "device": "cpu",
}


def invoke(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


@pytest.fixture(scope="module")
def results(tmp_path_factory, names_dir):
    folder = tmp_path_factory.mktemp("export")
    experiment = folder / "tiny_export.yaml"
    experiment.write_text(json.dumps(EXPERIMENT))  # JSON is YAML
    done = invoke("run", experiment, "--results", folder / "results", "--data-dir", names_dir, "--threads", "1")
    assert done.exit_code == 0, done.output
    runs, problems = rundir.find_runs(folder / "results")
    assert len(runs) == 2 and not problems
    return folder / "results", {rundir_key(run): run for run in runs}


def rundir_key(run) -> str:
    return f"{run.spec.experiment}/{run.path.parent.name}/{run.path.name}"


def statuses(result) -> dict[str, str]:
    return {item["run_key"]: item["status"] for item in json.loads(result.stdout)["runs"]}


@pytest.mark.export
def test_mlflow_export_reads_back_and_never_duplicates(results, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    folder, runs = results
    monkeypatch.chdir(tmp_path)  # MLflow puts a SQLite store's artefacts in ./mlruns
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    first = invoke("export", "mlflow", "--results", folder, "--json")  # the default store: sqlite:///mlflow.db, here
    assert first.exit_code == 0, first.output
    assert (tmp_path / "mlflow.db").is_file() and set(statuses(first).values()) == {"exported"}
    assert not list(tmp_path.glob(".mlflow.db.*"))  # the store was made under another name, then renamed
    assert "mlflow ui --backend-store-uri sqlite:///mlflow.db" in first.stderr

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    frame = mlflow.search_runs(experiment_names=["tiny_export"])
    assert sorted(frame["tags.rnnbench.run_key"]) == sorted(runs) and set(frame["status"]) == {"FINISHED"}
    client = mlflow.MlflowClient(uri)
    for _, row in frame.iterrows():
        run = runs[row["tags.rnnbench.run_key"]]
        assert row["params.model.cell"] == run.spec.model.cell and row["params.seed"] == "0"
        assert row["params.data.languages"] == '["German", "Italian"]'
        assert row["metrics.test_accuracy"] == pytest.approx(run.scores["test_accuracy"])
        assert row["metrics.parameters"] == run.parameters and row["metrics.epochs_run"] == 3
        assert row["tags.rnnbench.task"] == "names" and row["tags.rnnbench.variant"] == run.spec.variant
        assert row["tags.environment.torch"] == run.environment["torch"]
        history = rundir.load_history(run.path)
        logged = client.get_metric_history(row["run_id"], "epoch/train_loss")
        assert [(m.step, m.value) for m in sorted(logged, key=lambda m: m.step)] == [
            (int(h["epoch"]), pytest.approx(h["train_loss"])) for h in history
        ]
        artefacts = {item.path for item in client.list_artifacts(row["run_id"])}
        assert {"config.yaml", "metrics.json", "history.csv", "model.safetensors"} <= artefacts

    # again: nothing new; an export interrupted half-way is redone; other content under a key is left alone
    again = invoke("export", "mlflow", "--results", folder, "--tracking-uri", uri, "--json")
    assert again.exit_code == 0 and set(statuses(again).values()) == {"already there"}, again.output
    broken, changed = frame["run_id"]
    client.update_run(broken, status="RUNNING")
    client.set_tag(changed, "rnnbench.metrics_sha256", "0" * 64)
    third = invoke("export", "mlflow", "--results", folder, "--tracking-uri", uri, "--json")
    assert third.exit_code == 0, third.output
    by_id = dict(zip(frame["run_id"], frame["tags.rnnbench.run_key"]))
    assert statuses(third) == {by_id[broken]: "exported", by_id[changed]: "differs"}
    assert "1 differ from what is there under the same run key" in third.stderr
    after = mlflow.search_runs(experiment_names=["tiny_export"])
    assert len(after) == 2 and broken not in set(after["run_id"]) and set(after["status"]) == {"FINISHED"}


@pytest.mark.export
def test_tensorboard_export_reads_back_through_the_event_reader(results, tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    folder, runs = results
    logdir = tmp_path / "tb"
    done = invoke("export", "tensorboard", "--results", folder, "--logdir", logdir, "--json")
    assert done.exit_code == 0 and set(statuses(done).values()) == {"exported"}, done.output
    assert f"tensorboard --logdir {logdir}" in done.stderr
    for key, run in runs.items():
        events = accumulator.EventAccumulator(str(logdir / key))
        events.Reload()
        history = rundir.load_history(run.path)
        for column in ("train_loss", "validation_accuracy"):
            assert [(e.step, e.value) for e in events.Scalars(f"epoch/{column}")] == [
                (int(h["epoch"]), pytest.approx(h[column])) for h in history
            ]
        assert events.Scalars("final/test_accuracy")[0].value == pytest.approx(run.scores["test_accuracy"])
        config = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
        assert f"cell: {run.spec.model.cell}" in config and "German" in config
    files = sorted(logdir.rglob("*"))
    again = invoke("export", "tensorboard", "--results", folder, "--logdir", logdir, "--json")
    assert again.exit_code == 0 and set(statuses(again).values()) == {"already there"}, again.output
    assert sorted(logdir.rglob("*")) == files and not list(tmp_path.glob(".tb-staging-*"))  # nothing added or left
    damaged = tmp_path / "damaged"  # runs whose files cannot be read: skipped with a line each, the others exported
    shutil.copytree(folder, damaged)
    first, second = sorted(runs)
    (damaged / first / "history.csv").unlink()
    partly = invoke("export", "tensorboard", "--results", damaged, "--logdir", tmp_path / "tb2", "--json")
    assert partly.exit_code == 0, partly.output
    assert statuses(partly) == {first: "skipped", second: "exported"}
    assert "history.csv: missing" in partly.stderr and not (tmp_path / "tb2" / first).exists()
    (damaged / second / "history.csv").write_text('garbage,"x')
    (damaged / first / "metrics.json").write_text("{")
    neither = invoke("export", "tensorboard", "--results", damaged, "--logdir", tmp_path / "tb3", "--json")
    assert neither.exit_code == 0 and statuses(neither) == {second: "skipped"}, neither.output
    assert (
        len(json.loads(neither.stdout)["unreadable"]) == 1
        and "0 exported, 0 already there, 2 skipped" in neither.stderr
    )


@pytest.mark.export
def test_a_store_that_cannot_be_reached_or_written_is_one_line(results, tmp_path):
    pytest.importorskip("mlflow")
    folder, _ = results
    with socket.socket() as unused:  # a port nobody listens on (MLflow alone would retry it for minutes)
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    (tmp_path / "a-file").write_text("")
    (tmp_path / "junk.db").write_text("not a database")
    for uri, said in (
        (f"http://127.0.0.1:{port}", "no MLflow server answers there"),
        (f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}", "export mlflow: sqlite:///"),
        (f"sqlite:///{tmp_path}", "is a folder; name the database file in it"),
        (f"sqlite:///{tmp_path / 'junk.db'}", "is not a SQLite database"),
        ("sqlite:///", "names no database file"),
    ):
        result = invoke("export", "mlflow", "--results", folder, "--tracking-uri", uri, env={"COLUMNS": "300"})
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert said in result.stderr and len(result.stderr.strip().splitlines()) == 2  # "exporting ..." and the error
    assert (tmp_path / "junk.db").read_text() == "not a database"  # left as it was
    from filelock import FileLock

    with FileLock(tmp_path / "busy.db.lock"):  # another export into the same store: refused at once, not mixed
        busy = invoke("export", "mlflow", "--results", folder, "--tracking-uri", f"sqlite:///{tmp_path / 'busy.db'}")
    assert busy.exit_code == 1 and "another rnnbench export is writing to it" in busy.stderr, busy.output
    blocked = invoke("export", "tensorboard", "--results", folder, "--logdir", tmp_path / "a-file")
    assert blocked.exit_code == 1 and f"--logdir {tmp_path / 'a-file'}: cannot make the folder" in blocked.stderr, (
        blocked.output
    )


@pytest.mark.parametrize(
    "args, extra, module",
    [
        (["export", "mlflow"], "mlflow", "mlflow"),
        (["export", "tensorboard"], "tensorboard", "tensorboard"),
        (["compare", "--plot", "plots"], "plot", "matplotlib"),
        (["report", "names_de_it"], "plot", "matplotlib"),
    ],
)
def test_without_an_extra_the_command_says_what_to_install(args, extra, module, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it fails
    result = invoke(*args, "--results", tmp_path / "nothing-here", env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"needs {module}, which is not installed: pip install 'rnnbench[{extra}]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "plots").exists()


def test_run_compare_and_predict_need_no_extra(tmp_path, names_dir):
    """`pip install rnnbench` without extras: with matplotlib, MLflow, TensorBoard and Ray unimportable, a real
    run, compare and predict work (one process, as three commands would)."""
    experiment = tmp_path / "light.yaml"
    experiment.write_text(
        json.dumps(
            {
                **EXPERIMENT,
                "name": "light",
                "grid": {"cell": ["gru"]},
                "train": {**EXPERIMENT["train"], "max_epochs": 1},
            }
        )
    )
    results = tmp_path / "results"
    code = f"""
import sys
for module in ("matplotlib", "mlflow", "tensorboard", "ray"):
    sys.modules[module] = None  # as if not installed
from rnnbench.cli import app
for args in (["run", {str(experiment)!r}, "--data-dir", {str(names_dir)!r}], ["compare", "--json"], ["predict", "Rossi", "--json"]):
    try:
        app(args + ["--results", {str(results)!r}], prog_name="rnnbench")
    except SystemExit as done:
        assert done.code in (0, None), (args, done.code)
"""
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout[done.stdout.rindex("[\n  {") :])  # predict's JSON, after run's table and compare's
    assert answer[0]["input"] == "Rossi" and {p["label"] for p in answer[0]["predictions"]} == {"German", "Italian"}
