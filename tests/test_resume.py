"""Resuming a run interrupted mid-training: each epoch leaves a checkpoint, the same `run` continues from the last
finished epoch and ends with the same metrics, history and weights as an uninterrupted run."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO, TINY
from test_cli import assert_clean_failure, invoke

from rnnbench import config, rundir
from rnnbench.events import EpochFinished
from rnnbench.repeat import repeat_run
from rnnbench.runner import load_source
from rnnbench.sweep import run_experiment
from rnnbench.train import fit

# dropout (global random state) in a 2-layer stack, early stopping watching validation accuracy, 6 epochs
RESUMABLE = {
    **TINY,
    "name": "resume",
    "grid": None,
    "model": {**TINY["model"], "num_layers": 2, "dropout": 0.3},
    "train": {**TINY["train"], "max_epochs": 6, "patience": 3},
}


class Interrupted(Exception):
    pass


def _interrupt_at(epoch: int):
    def on_event(event):
        if isinstance(event, EpochFinished) and event.row["epoch"] == epoch:
            raise Interrupted  # as Ctrl-C or a killed process would, in the middle of training

    return on_event


def test_an_interrupted_run_continues_and_ends_as_an_uninterrupted_one(tmp_path, names_dir):
    experiment = config.validate(RESUMABLE)
    source, _ = load_source(experiment.data, names_dir)
    results = tmp_path / "results"
    with pytest.raises(Interrupted):
        run_experiment(experiment, source, results, on_event=_interrupt_at(4))
    spec = experiment.run_specs()[0]
    saved = torch.load(rundir.checkpoint_path(results, spec), weights_only=True)
    assert [row["epoch"] for row in saved["history"]] == [1, 2, 3] and not saved["stopped"]
    assert rundir.finished_run(results, spec) is None
    events = []
    [path] = run_experiment(experiment, source, results, on_event=events.append).paths
    assert [e.row["epoch"] for e in events if isinstance(e, EpochFinished)] == [4, 5, 6]  # epochs 1-3 not trained again
    record = rundir.load_run(path)
    assert record.environment["resumed_after_epoch"] == 3 and record.epochs_run == 6
    assert not rundir.checkpoint_path(results, spec).exists()  # the finished run needs it no more
    outcome = repeat_run(path, source)  # trains it again, uninterrupted, and compares everything
    assert outcome.differences == [] and outcome.epochs == 6 and outcome.tensors > 0


def test_fit_resumed_after_early_stopping_trains_no_further_epoch():
    torch.manual_seed(0)
    tokens = torch.randint(1, 5, (64, 3))
    from rnnbench.data.batches import TensorSplit
    from rnnbench.models import RecurrentClassifier

    train = TensorSplit(tokens, torch.full((64,), 3), tokens[:, 0] % 2)
    validation = TensorSplit(tokens[:16], torch.full((16,), 3), (tokens[:16, 1] % 2))

    def model():
        torch.manual_seed(0)
        return RecurrentClassifier(vocab_size=6, num_classes=2, cell="gru", hidden_size=4, embedding_dim=4)

    states = []

    def on_checkpoint(state):  # written and read back, as rundir does: the state holds the live tensors
        buffer = io.BytesIO()
        torch.save(state, buffer)
        states.append(torch.load(io.BytesIO(buffer.getvalue()), weights_only=True))

    kwargs = dict(learning_rate=0.01, batch_size=16, max_epochs=50, patience=2, grad_clip=1.0, weight_decay=0.0)
    whole = fit(
        model(), train, validation, generator=torch.Generator().manual_seed(0), on_checkpoint=on_checkpoint, **kwargs
    )
    assert len(whole.history) < 50 and states[-1]["stopped"] and len(states) == len(whole.history)
    again = fit(model(), train, validation, generator=torch.Generator(), resume=states[-1], **kwargs)
    assert again.history == whole.history and again.best_epoch == whole.best_epoch
    middle = fit(model(), train, validation, generator=torch.Generator(), resume=states[1], **kwargs)
    assert middle.history[2:] != [] and [row["train_loss"] for row in middle.history] == [
        row["train_loss"] for row in whole.history
    ]


def test_a_killed_run_process_resumes_where_it_stopped(tmp_path, names_dir):
    """A real `rnnbench run`, killed (SIGKILL: no clean-up) once a checkpoint exists, then run again."""
    path = tmp_path / "e.yaml"
    path.write_text(json.dumps({**RESUMABLE, "train": {**RESUMABLE["train"], "max_epochs": 30, "patience": 0}}))
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "rnnbench",
        "run",
        str(path),
        "--results",
        str(results),
        "--data-dir",
        str(names_dir),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    checkpoints = results / "resume" / ".incomplete"
    deadline = time.monotonic() + 120
    while not list(checkpoints.glob("*.checkpoint.pt")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    [checkpoint] = checkpoints.glob("*.checkpoint.pt")
    done = len(torch.load(checkpoint, weights_only=True)["history"])
    result = invoke("run", path, "--results", results, "--data-dir", names_dir)
    assert result.exit_code == 0, result.output
    assert f"continuing from its checkpoint after epoch {done} of 30" in result.output
    assert "1 of them resumed from a checkpoint" in result.output
    [record] = rundir.find_runs(results)[0]
    assert record.epochs_run == 30 and record.environment["resumed_after_epoch"] == done


def test_a_damaged_checkpoint_is_reported_before_any_training_and_kept(tmp_path, names_dir):
    two = {**RESUMABLE, "variants": [{"cell": "gru"}, {"cell": "lstm"}]}
    path = tmp_path / "e.yaml"
    path.write_text(json.dumps(two))
    spec = config.validate(two).run_specs()[1]  # the second run's: the first is not trained either
    checkpoint = rundir.checkpoint_path(tmp_path / "results", spec)
    checkpoint.parent.mkdir(parents=True)
    for content in (b"not a checkpoint", b""):
        checkpoint.write_bytes(content)
        result = invoke("run", path, "--results", tmp_path / "results", "--data-dir", names_dir)
        assert_clean_failure(
            result,
            1,
            f"{checkpoint}: cannot resume from this checkpoint (empty, truncated or not "
            "a torch file); delete it to train this run from epoch 1",
        )
        assert checkpoint.read_bytes() == content  # nothing is deleted for the user
        assert not list((tmp_path / "results").rglob("metrics.json"))
    torch.save({"model": {}}, checkpoint)
    assert_clean_failure(
        invoke("run", path, "--results", tmp_path / "results", "--data-dir", names_dir),
        1,
        "not a checkpoint rnnbench wrote (no optimizer)",
    )


def test_keep_checkpoint_leaves_the_last_training_state_in_the_run(tmp_path, names_dir):
    path = tmp_path / "e.yaml"
    path.write_text(json.dumps({**RESUMABLE, "train": {**RESUMABLE["train"], "max_epochs": 2}}))
    result = invoke("run", path, "--results", tmp_path / "results", "--data-dir", names_dir, "--keep-checkpoint")
    assert result.exit_code == 0, result.output
    [record] = rundir.find_runs(tmp_path / "results")[0]
    state = torch.load(record.path / "checkpoint.pt", weights_only=True)
    assert state["stopped"] and len(state["history"]) == 2 and state["optimizer"]["state"]
    assert not list((tmp_path / "results" / "resume" / ".incomplete").glob("*.checkpoint.pt"))


def test_runs_left_by_other_settings_are_named_and_cleaned(tmp_path, names_dir):
    """A run interrupted, then its experiment's settings changed: nothing will resume it. `run`, `validate` and
    `compare` say so in one line; `clean` removes it, and keeps what the file's own runs resume from."""
    path, results = tmp_path / "e.yaml", tmp_path / "results"
    path.write_text(json.dumps(RESUMABLE))
    source, _ = load_source(config.validate(RESUMABLE).data, names_dir)
    changed = {**RESUMABLE, "model": {**RESUMABLE["model"], "hidden_size": 12}}
    for content in (RESUMABLE, changed):  # one run of each left after epoch 2
        with pytest.raises(Interrupted):
            run_experiment(config.validate(content), source, results, on_event=_interrupt_at(3))
    [old] = rundir.abandoned_runs(results, "resume", config.validate(changed).run_specs())
    folder = results / "resume" / ".incomplete"
    (folder / f"{old.key}-seed-0.checkpoint.pt.x1y2z3ab").write_bytes(b"")  # a copy cut short by a kill
    override = ["--set", "model.hidden_size=12"]
    line = (
        f"note: 1 unfinished run whose settings no longer match any variant of {path}: {old} (in {folder}); "
        f"remove it with: rnnbench clean {path} --set model.hidden_size=12 --results {results}"
    )
    validated = invoke("validate", path, *override, "--results", results)
    assert validated.exit_code == 0 and line in validated.output, validated.output
    [new] = rundir.abandoned_runs(results, "resume", config.validate(RESUMABLE).run_specs())
    assert f"1 unfinished run whose settings no longer match any variant of {path}: {new} " in (
        invoke("validate", path, "--results", results).output  # for the file as it is, the other one
    )
    result = invoke("run", path, *override, "--results", results, "--data-dir", names_dir)
    assert result.exit_code == 0 and "1 of them resumed from a checkpoint" in result.output, result.output
    assert line in result.output
    compared = invoke("compare", "--results", results)
    assert f"note: {folder}: 1 unfinished run, not in the table: {old}; `rnnbench run EXPERIMENT.yaml`" in (
        compared.output
    )
    kept = invoke("clean", path, "--results", results)  # the file as it is still has the run: only debris goes
    assert kept.exit_code == 0 and f"removed 0 unfinished runs that {path} no longer has; kept 1" in kept.output
    assert [run.debris for run in rundir.unfinished_runs(results, "resume")] == [()]
    cleaned = invoke("clean", path, *override, "--results", results)
    assert cleaned.exit_code == 0, cleaned.output
    assert f"removed: {old} ({old.key}-seed-0.checkpoint.pt)" in cleaned.output
    assert f"{folder}: removed 1 unfinished run that {path} no longer has" in cleaned.output
    assert not folder.exists()  # nothing left: no checkpoint, lock or empty folder
    assert "unfinished" not in invoke("compare", "--results", results).output
