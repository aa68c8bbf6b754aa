"""A `run` killed with SIGKILL at any moment leaves nothing that any command mistakes for a finished run, and the
same command afterwards finishes every run; two `run` commands sharing one results folder finish every run once."""

import json
import os
import re
import signal
import subprocess
import sys
import time

from conftest import TINY

from rnnbench import rundir

EXPERIMENT = {**TINY, "name": "crash", "train": {**TINY["train"], "max_epochs": 3}, "seeds": [0, 1]}  # 8 runs


def rnnbench(*args, **kwargs) -> subprocess.Popen:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}  # two processes share the machine's cores
    return subprocess.Popen(
        [sys.executable, "-m", "rnnbench", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        **kwargs,
    )


def finished(results) -> list:
    runs, problems = rundir.find_runs(results)
    assert problems == []
    for run in runs:  # everything a finished run promises can be read back
        rundir.load_model_files(run.path)
        rundir.load_history(run.path)
    return runs


def test_sigkill_at_any_moment_then_resume(write_experiment, names_dir, tmp_path):
    experiment = write_experiment(EXPERIMENT)
    for delay in (2.0, 3.5, 5.0, 6.5):  # from start-up to mid-sweep, each kill resumed by the next run
        process = rnnbench("run", experiment, "--results", tmp_path / "r", "--data-dir", names_dir)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        seeds = list((tmp_path / "r").glob("crash/*/seed-*"))
        assert all((path / "metrics.json").is_file() for path in seeds)  # a run directory exists only when finished
        finished(tmp_path / "r")
    done = rnnbench("run", experiment, "--results", tmp_path / "r", "--data-dir", names_dir)
    output, _ = done.communicate(timeout=300)
    assert done.returncode == 0, output
    assert len(finished(tmp_path / "r")) == 8


def test_two_runs_into_one_results_folder_finish_every_run_once(write_experiment, names_dir, tmp_path):
    experiment = write_experiment(EXPERIMENT)
    processes = [rnnbench("run", experiment, "--results", tmp_path / "r", "--data-dir", names_dir) for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    trained = [int(re.search(r"\(trained now: (\d+);", output).group(1)) for output in outputs]
    assert sum(trained) == 8, outputs  # no run trained twice: a run one process holds, the other leaves to it
    runs = finished(tmp_path / "r")
    assert len(runs) == 8 and len({run.path for run in runs}) == 8
    for run in runs:  # each directory holds one run's files, written together
        metrics = json.loads((run.path / "metrics.json").read_text())
        assert metrics["variant"] == run.spec.variant and metrics["seed"] == run.spec.seed
    summary = (tmp_path / "r" / "crash" / "summary.csv").read_text().splitlines()
    assert len(summary) == 5  # a header and 4 variants
