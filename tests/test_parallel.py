"""`run --jobs N`: worker processes give the metrics one process gives, a failing run is recorded while the others
go on, Ctrl-C and SIGTERM stop the workers and the next `run` resumes; and `--executor ray` without Ray is one
line.

Real `rnnbench` subprocesses (stderr is not a terminal there: progress comes as plain lines) on the real corpus."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, TINY
from test_cli import assert_clean_failure, invoke

from rnnbench import config, rundir

# what differs between two runs of the same spec that trained alike: timing, memory and where it ran
UNCOMPARED = {"train_seconds", "seconds_per_epoch", "peak_memory_mb", "peak_memory_kind", "environment"}


def rnnbench(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnnbench", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def metrics_of(results: Path) -> dict[str, dict]:
    """Run directory (relative) -> its metrics.json without the fields that may differ, and its history's numbers."""
    runs = {}
    for path in sorted(results.glob("*/*/seed-*/metrics.json")):
        metrics = json.loads(path.read_text())
        history = [line.split(",")[:-1] for line in (path.parent / "history.csv").read_text().splitlines()]
        runs[str(path.parent.relative_to(results))] = {
            **{key: value for key, value in metrics.items() if key not in UNCOMPARED},
            "history": history,
        }
    return runs


def test_jobs_give_every_run_the_metrics_of_one_process(tmp_path, names_dir, write_experiment):
    experiment = write_experiment(TINY)
    serial = invoke("run", experiment, "--results", tmp_path / "serial", "--data-dir", names_dir, "--threads", "1")
    assert serial.exit_code == 0, serial.output
    pooled = rnnbench(
        "run", experiment, "--results", tmp_path / "pooled", "--data-dir", names_dir, "--jobs", "2", "--threads", "2"
    )
    assert pooled.returncode == 0, pooled.stderr
    assert "2 worker processes, 1 thread each" in pooled.stderr
    one, two = metrics_of(tmp_path / "serial"), metrics_of(tmp_path / "pooled")
    assert len(one) == 4 and one == two  # weights_sha256 included: the same weights, bit for bit
    threads = [
        json.loads(p.read_text())["environment"]["threads"] for p in (tmp_path / "pooled").glob("*/*/*/metrics.json")
    ]
    assert threads == [1, 1, 1, 1]  # each worker set its share before any work, and recorded it
    # not a terminal: a plain line per finished epoch and per finished run, as they happened
    assert pooled.stderr.count("epoch 2 loss") == 4 and pooled.stderr.count("test acc") == 4


def _unallocatable_hidden_size() -> int | None:
    """A hidden size whose LSTM recurrent weights (4·H·H floats) this machine refuses to allocate at once (Linux's
    heuristic overcommit refuses a request beyond memory + swap), or None where a test cannot rely on that."""
    try:
        overcommit = Path("/proc/sys/vm/overcommit_memory").read_text().strip()
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    except OSError:
        return None
    available = sum(int(meminfo[key].split()[0]) * 1024 for key in ("MemTotal", "SwapTotal"))
    hidden = 65536  # the largest hidden_size rnnbench takes: 4 · 65536² floats = 64 GiB
    return hidden if overcommit in ("0", "2") and 4 * hidden * hidden * 4 > 2 * available else None


def test_a_run_out_of_memory_is_recorded_as_failed_and_the_others_go_on(tmp_path, names_dir, write_experiment):
    hidden = _unallocatable_hidden_size()
    if hidden is None:
        pytest.skip("this machine might grant a 64 GiB allocation (overcommit), so no run can fail for memory safely")
    experiment = write_experiment(
        {
            **TINY,
            "grid": None,
            "variants": [{"cell": "gru"}, {"name": "huge", "cell": "lstm", "hidden_size": hidden}, {"cell": "rnn"}],
        }
    )
    for how in ("serial", "pooled"):
        results = tmp_path / how
        if how == "serial":
            done = invoke("run", experiment, "--results", results, "--data-dir", names_dir)
            code, stderr = done.exit_code, done.output
        else:
            done = rnnbench("run", experiment, "--results", results, "--data-dir", names_dir, "--jobs", "2")
            code, stderr = done.returncode, done.stderr
        assert code == 1 and "Traceback" not in stderr, stderr
        assert "failed: huge seed 0: out of memory (RuntimeError" in stderr
        assert "1 run of 3 failed" in stderr and "run the same command again to retry them" in stderr
        assert sorted(p.parent.parent.name.split("-")[0] for p in results.glob("tiny/*/seed-0/metrics.json")) == [
            "gru",
            "rnn",
        ]
        assert not list(results.glob("tiny/huge-*"))  # no directory for the run that failed
        [record] = results.glob("tiny/.incomplete/*.failed.json")
        failure = json.loads(record.read_text())
        assert failure["variant"] == "huge" and "allocate" in failure["error"] and "Traceback" in failure["traceback"]


# 4 runs of 6 epochs that take seconds each: long enough to interrupt
SLOWER = {
    **TINY,
    "model": {"hidden_size": 32, "embedding_dim": 16},
    "train": {**TINY["train"], "batch_size": 16, "max_epochs": 6},
}


def _pool_under_way(experiment: Path, results: Path, names_dir: Path, runs_training: int, jobs: int = 2):
    """A real `rnnbench run --jobs 2` (or `jobs`), in a session of its own, once `runs_training` runs have finished
    epoch 2: (the process, the stderr lines read so far)."""
    command = [
        sys.executable,
        "-m",
        "rnnbench",
        "run",
        str(experiment),
        "--results",
        str(results),
        "--data-dir",
        str(names_dir),
        "--jobs",
        str(jobs),
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if sum("epoch 2 loss" in line for line in seen) >= runs_training:
            break
    return process, seen


def test_ctrl_c_stops_the_workers_and_the_next_run_resumes(tmp_path, names_dir, write_experiment):
    experiment, results = write_experiment(SLOWER), tmp_path / "results"
    process, seen = _pool_under_way(experiment, results, names_dir, runs_training=2)  # both workers under way
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C on a terminal does: the whole foreground group
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, "".join(seen) + rest
    assert "interrupted: finished runs are kept; run the same command again to resume" in rest
    assert "Traceback" not in rest
    _none_left(process.pid)
    for run in results.glob("tiny/*/seed-0"):  # a run directory is whole or absent
        assert (run / "metrics.json").is_file() and (run / "model.safetensors").is_file()
    assert list(results.glob("tiny/.incomplete/*.checkpoint.pt"))  # the interrupted runs' last finished epochs
    resumed = rnnbench("run", experiment, "--results", results, "--data-dir", names_dir, "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert "continuing from its checkpoint after epoch" in resumed.stderr
    finished = list(results.glob("tiny/*/seed-0/metrics.json"))
    assert len(finished) == 4
    # however few runs were left, each trained with its share of the threads (2 ÷ --jobs 2), like the others
    assert {json.loads(path.read_text())["environment"]["threads"] for path in finished} == {1}


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigterm_stops_a_run_as_ctrl_c_does(tmp_path, names_dir, write_experiment, jobs):
    """SIGTERM, as batch schedulers and containers stop a job: sent to `run` alone (as `kill`, `docker stop` and
    `timeout` send it), it stops the workers too, keeps the checkpoints and says how to resume."""
    experiment, results = write_experiment(SLOWER), tmp_path / "results"
    process, seen = _pool_under_way(experiment, results, names_dir, runs_training=jobs, jobs=jobs)
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 143, "".join(seen) + rest
    assert "interrupted: finished runs are kept; run the same command again to resume" in rest
    assert "Traceback" not in rest
    _none_left(process.pid)
    checkpoints = sorted(results.glob("tiny/.incomplete/*.checkpoint.pt*"))
    assert len(checkpoints) >= jobs and all(path.name.endswith(".pt") for path in checkpoints)  # whole, kept
    if jobs == 1:  # (resuming one run at a time after a kill: tests/test_resume.py) each is one to resume from
        specs = {spec.variant_key(): spec for spec in config.validate(SLOWER).run_specs()}
        for path in checkpoints:
            assert rundir.load_checkpoint(results, specs[path.name[:8]], torch.device("cpu"))["history"]
        return
    resumed = rnnbench("run", experiment, "--results", results, "--data-dir", names_dir, "--jobs", str(jobs))
    assert resumed.returncode == 0 and "continuing from its checkpoint after epoch" in resumed.stderr, resumed.stderr
    assert len(list(results.glob("tiny/*/seed-0/metrics.json"))) == 4
    assert not (results / "tiny" / ".incomplete").exists()  # the stopped workers' locks too are gone


def _none_left(session: int, seconds: float = 10) -> None:
    """Fail unless every process of the session (the run's workers, its fork server) has exited within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(session, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail("worker processes outlived the interrupted run")


def _processes(session: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process in a session (Linux /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == session:  # after ")": state, ppid, pgrp, session
            found[int(stat.parent.name)] = (int(fields[1]), command)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes through Linux's /proc")
def test_a_worker_killed_by_the_system_does_not_stop_the_other_runs(tmp_path, names_dir, write_experiment):
    experiment, results = write_experiment(SLOWER), tmp_path / "results"
    process, seen = _pool_under_way(experiment, results, names_dir, runs_training=1)
    processes = _processes(process.pid)
    servers = [pid for pid, (_, command) in processes.items() if "forkserver" in command]
    workers = [pid for pid, (parent, _) in processes.items() if parent in servers]
    assert workers, processes
    os.kill(workers[0], signal.SIGKILL)  # as the system's out-of-memory killer would
    rest = process.communicate(timeout=180)[1]
    assert process.returncode == 0, "".join(seen) + rest
    assert len(list(results.glob("tiny/*/seed-0/metrics.json"))) == 4  # every run finished, the killed ones again
    assert not list(results.glob("tiny/.incomplete/*.failed.json"))


def test_jobs_and_executor_errors_are_one_line(tmp_path, write_experiment):
    experiment = write_experiment(TINY)
    assert_clean_failure(invoke("run", experiment, "--jobs", "two"), 2, "--jobs: a whole number of worker processes")
    assert_clean_failure(
        invoke("run", experiment, "--executor", "slurm"), 2, "Invalid value for '--executor'", "'slurm'"
    )
    assert_clean_failure(invoke("run", experiment, "--address", "auto"), 2, "--address: only with --executor ray")
    # without Ray installed (an import of it fails), --executor ray says what to install, before any training
    code = (
        "import sys; sys.modules['ray'] = None; sys.argv = ['rnnbench'] + sys.argv[1:]; "
        "from rnnbench.__main__ import main; main()"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "run",
            str(experiment),
            "--executor",
            "ray",
            "--results",
            str(tmp_path / "results"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "error: --executor ray: needs ray, which is not installed: pip install 'rnnbench[ray]'" in done.stderr
    assert "Traceback" not in done.stderr and not list((tmp_path / "results").glob("tiny/*/seed-0"))
