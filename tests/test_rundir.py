import json
import re

import pytest
import torch
from conftest import TINY

from rnnbench import config, rundir
from rnnbench.errors import RnnbenchError
from rnnbench.models import RecurrentClassifier


@pytest.fixture
def spec():
    return config.validate(TINY).run_specs()[0]


def _save(results, spec, accuracy=0.9):
    model = RecurrentClassifier(10, 2, "gru", hidden_size=4, embedding_dim=3)
    info = {"task": "names", "architecture": "RecurrentClassifier", "arguments": {}, "vocab": [], "labels": []}
    metrics = {
        "task": "names",
        "validation_accuracy": accuracy,
        "variant_key": spec.variant_key(),
        "parameters": 1,
        "test_accuracy": 0.5,
        "test_macro_f1": 0.5,
        "epochs_run": 1,
        "train_seconds": 0.1,
        "seconds_per_epoch": 0.1,
        "data": {"labels": ["German", "Italian"]},
        "best_epoch": 1,
        "environment": {},
        "test_confusion_matrix": [[1, 1], [0, 0]],
    }
    history = [{"epoch": 1, "train_loss": 0.5}]
    return rundir.save_run(
        results, spec, history=history, metrics=metrics, state_dict=model.state_dict(), model_info=info
    ), model


def test_round_trip(tmp_path, spec):
    path, model = _save(tmp_path, spec)
    assert path == tmp_path / "tiny" / f"gru-uni-1x8-{spec.variant_key()}" / "seed-0"
    assert sorted(p.name for p in path.iterdir()) == sorted(rundir.FILES)
    run = rundir.load_run(path)
    assert config.RunSpec.model_validate({k: v for k, v in run.config.items() if k != "format_version"}) == spec
    assert run.metrics["validation_accuracy"] == 0.9
    state, info = rundir.load_model_files(path)
    for name, tensor in model.state_dict().items():
        assert torch.equal(state[name], tensor)
    assert info["architecture"] == "RecurrentClassifier"
    assert not list((tmp_path / "tiny" / ".incomplete").iterdir())


def test_a_finished_run_is_never_replaced(tmp_path, spec):
    path, _ = _save(tmp_path, spec, accuracy=0.9)
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    with pytest.raises(rundir.AlreadyFinished, match="already holds a finished run; it was kept"):
        _save(tmp_path, spec, accuracy=0.1)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert not list((tmp_path / "tiny" / ".incomplete").iterdir())


def test_a_claim_holds_one_run_for_one_holder_and_deletes_its_lock(tmp_path, spec):
    lock = tmp_path / "tiny" / ".incomplete" / f"{spec.variant_key()}-seed-0.lock"
    with rundir.claim(tmp_path, spec) as first:
        assert first and lock.is_file()
        with rundir.claim(tmp_path, spec) as second:  # another holder (flock: another open file) is refused
            assert not second
        assert lock.is_file()  # refused, it deleted nothing
    assert not lock.exists()
    with rundir.claim(tmp_path, spec) as again:
        assert again


def test_tidy_leaves_nothing_of_finished_runs_and_all_of_the_others(tmp_path, spec):
    _save(tmp_path, spec)
    folder = tmp_path / "tiny" / ".incomplete"
    other = config.validate(TINY).run_specs()[1]
    stale = [
        folder / f"{spec.variant_key()}-seed-0.lock",  # an older rnnbench's, or a process killed after publishing
        folder / f"{spec.variant_key()}-seed-0.checkpoint.pt",
        folder / f"{spec.variant_key()}-seed-0.checkpoint.pt.k2j4_x9a",  # a copy being written when it was killed
    ]
    unfinished = [folder / f"{other.variant_key()}-seed-0.checkpoint.pt", folder / f"{other.variant_key()}-seed-0.lock"]
    for path in stale + unfinished:
        path.write_bytes(b"")
    staging = folder / f"gru-uni-1x8-{spec.variant_key()}-seed-0-a1b2c3d4"
    staging.mkdir()
    rundir.tidy(tmp_path, "tiny")
    assert sorted(folder.iterdir()) == sorted(unfinished)  # what resumes the other run is kept, and its lock
    [run] = rundir.unfinished_runs(tmp_path, "tiny")
    assert (run.key, run.seed, run.files, run.debris) == (other.variant_key(), 0, (unfinished[0],), ())
    assert rundir.abandoned_runs(tmp_path, "tiny", [spec, other]) == []
    assert rundir.abandoned_runs(tmp_path, "tiny", [spec]) == [run]
    assert rundir.remove_unfinished(tmp_path, "tiny", keep=set()) == ([run], [])
    assert not folder.exists()


def test_find_runs_skips_incomplete_and_reports_unreadable(tmp_path, spec):
    path, _ = _save(tmp_path, spec)
    (tmp_path / "tiny" / ".incomplete" / "gru-uni-1x8-x-seed-0-abc").mkdir()
    other = config.validate(TINY).run_specs()[1]
    broken, _ = _save(tmp_path, other)
    (broken / "metrics.json").write_text("{not json")
    runs, problems = rundir.find_runs(tmp_path)
    assert [run.path for run in runs] == [path]
    assert len(problems) == 1 and problems[0].startswith(f"{broken / 'metrics.json'}: unreadable")


def test_corrupted_weights_and_wrong_format(tmp_path, spec):
    path, _ = _save(tmp_path, spec)
    (path / "model.safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(RnnbenchError, match=r"model\.safetensors: changed since the run wrote it"):
        rundir.load_model_files(path)
    metrics = json.loads((path / "metrics.json").read_text())
    (path / "metrics.json").write_text(json.dumps({k: v for k, v in metrics.items() if k != "weights_sha256"}))
    with pytest.raises(RnnbenchError, match=r"model\.safetensors: not a readable weights file"):
        rundir.load_model_files(path)  # a run written before weights were checksummed
    metrics = json.loads((path / "metrics.json").read_text())
    (path / "metrics.json").write_text(json.dumps({**metrics, "format_version": 99}))
    with pytest.raises(
        RnnbenchError, match=r"written by a newer rnnbench \(format version 99\); this one reads format version 1"
    ):
        rundir.load_run(path)
    (path / "metrics.json").write_text(json.dumps({**metrics, "format_version": "x"}))
    with pytest.raises(RnnbenchError, match="not a run file of format version 1"):
        rundir.load_run(path)
    with pytest.raises(RnnbenchError, match="not a finished run directory"):
        rundir.load_run(tmp_path)


def test_summary_files_are_replaced_atomically(tmp_path):
    (tmp_path / "tiny").mkdir()
    paths = rundir.write_summary(tmp_path, "tiny", "a,b\n", "| a |\n")
    assert [p.read_text() for p in paths] == ["a,b\n", "| a |\n"]
    rundir.write_summary(tmp_path, "tiny", "c\n", "| c |\n")
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == ["summary.csv", "summary.md"]


def test_finished_run_is_found_by_configuration_whatever_its_name(tmp_path, spec):
    assert rundir.finished_run(tmp_path, spec) is None
    path, _ = _save(tmp_path, spec)
    assert rundir.finished_run(tmp_path, spec) == path
    renamed = spec.model_copy(update={"variant": "my-gru"})
    assert rundir.finished_run(tmp_path, renamed) == path
    assert rundir.finished_run(tmp_path, spec.model_copy(update={"seed": 1})) is None


def test_damaged_or_unfinished_run_directories_are_refused_not_overwritten(tmp_path, spec):
    leftover = rundir.run_dir(tmp_path, spec)
    leftover.mkdir(parents=True)
    (leftover / "notes.txt").write_text("mine")
    with pytest.raises(RnnbenchError, match="holds no metrics.json .* move or delete it to retrain"):
        rundir.finished_run(tmp_path, spec)
    assert (leftover / "notes.txt").read_text() == "mine"

    other = config.validate(TINY).run_specs()[1]
    path, _ = _save(tmp_path, other)
    (path / "metrics.json").write_text('{"format_version": 1, "task": "na')  # truncated
    with pytest.raises(RnnbenchError, match=f"unreadable .*; delete {path} to retrain it"):
        rundir.finished_run(tmp_path, other)


def test_a_run_with_damaged_weights_is_refused_before_training(tmp_path, spec):
    path, _ = _save(tmp_path, spec)
    assert rundir.finished_run(tmp_path, spec) == path
    weights = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(weights[: len(weights) // 2])  # truncated
    with pytest.raises(
        RnnbenchError, match=f"model.safetensors: changed since the run wrote it .*; delete {path} to retrain it"
    ):
        rundir.finished_run(tmp_path, spec)
    assert (path / "model.safetensors").read_bytes() == weights[: len(weights) // 2]  # left as it was


def test_damaged_config_or_metrics_are_reported_by_find_runs(tmp_path, spec):
    path, _ = _save(tmp_path, spec)
    text = (path / "config.yaml").read_text()
    (path / "config.yaml").write_text(text.replace("model:", "modell:"))
    other = config.validate(TINY).run_specs()[1]
    second, _ = _save(tmp_path, other)
    metrics = json.loads((second / "metrics.json").read_text())
    del metrics["test_accuracy"]
    (second / "metrics.json").write_text(json.dumps(metrics))
    runs, problems = rundir.find_runs(tmp_path)
    assert runs == []
    assert any("config.yaml: damaged" in p for p in problems)
    assert any("metrics.json: damaged (no test_accuracy)" in p for p in problems)


def test_metrics_of_the_wrong_type_or_not_strict_json_are_damage(tmp_path, spec):
    path, _ = _save(tmp_path, spec)
    metrics = json.loads((path / "metrics.json").read_text())
    for key, value, said in (
        ("parameters", "x", "damaged (no parameters)"),
        ("train_seconds", "x", "damaged (no train_seconds)"),
        ("task", ["names"], "damaged (no task)"),
        ("epochs_run", True, "damaged (no epochs_run)"),
    ):
        (path / "metrics.json").write_text(json.dumps({**metrics, key: value}))
        with pytest.raises(RnnbenchError, match=re.escape(said)):
            rundir.load_run(path)
    (path / "metrics.json").write_text(json.dumps({**metrics, "validation_accuracy": float("inf")}))  # Infinity
    with pytest.raises(RnnbenchError, match="metrics.json: unreadable \\(not strict JSON: Infinity\\)"):
        rundir.load_run(path)


def test_unwritable_results_fail_up_front(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RnnbenchError, match="cannot write results here"):
        rundir.check_writable(blocker)
    rundir.check_writable(tmp_path / "new")
    assert list((tmp_path / "new").iterdir()) == []


def test_metrics_are_strict_json(tmp_path, spec):
    spec_path, _ = _save(tmp_path, spec, accuracy=float("nan"))
    text = (spec_path / "metrics.json").read_text()
    assert "NaN" not in text and json.loads(text)["validation_accuracy"] is None
