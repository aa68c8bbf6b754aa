"""How many CPU threads torch trains with: --threads, $RNNBENCH_THREADS, $OMP_NUM_THREADS, else the free cores;
recorded in every run, and reused by `run --repeat`."""

import json
import os

import pytest
import torch
from conftest import TINY
from test_cli import assert_clean_failure, invoke

from rnnbench import environment
from rnnbench.errors import RnnbenchError


@pytest.fixture(autouse=True)
def restore_threads(monkeypatch):
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # the CLI runs in this process: leave the other tests their setting


def test_the_order_of_choice(monkeypatch):
    monkeypatch.delenv(environment.THREADS_VARIABLE, raising=False)
    assert environment.use_threads(2) == 2 == torch.get_num_threads()
    monkeypatch.setenv(environment.THREADS_VARIABLE, "1")
    assert environment.use_threads(None) == 1
    assert environment.use_threads(2) == 2  # the option wins over the variable
    monkeypatch.setenv(environment.THREADS_VARIABLE, "two")
    with pytest.raises(RnnbenchError, match=r"\$RNNBENCH_THREADS: expected a whole number of threads \(got 'two'\)"):
        environment.use_threads(None)
    with pytest.raises(RnnbenchError, match="at least 1"):
        environment.use_threads(0)


def test_the_default_is_the_free_cores_unless_omp_num_threads_says(monkeypatch):
    monkeypatch.delenv(environment.THREADS_VARIABLE, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    for busy, free in ((0, 8), (1, 7), (4, 4), (12, 1)):  # threads of other processes running now
        monkeypatch.setattr(environment, "busy_threads", lambda busy=busy: busy)
        assert environment.free_cores() == free
        assert environment.use_threads(None) == free
    monkeypatch.setattr(environment, "busy_threads", lambda: None)  # no /proc (macOS): the last minute's load
    for load, free in ((0.2, 8), (1.4, 7), (3.6, 4), (12.0, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert environment.free_cores() == free
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    assert environment.use_threads(None) == 3  # torch's own variable is left to torch


def test_runs_record_their_threads_and_repeat_reuses_them(write_experiment, names_dir, tmp_path):
    experiment = write_experiment({**TINY, "grid": {"cell": ["gru"]}})
    ran = invoke("run", experiment, "--results", tmp_path / "r", "--data-dir", names_dir, "--threads", "2")
    assert ran.exit_code == 0, ran.output
    assert "device cpu (2 threads)" in ran.output
    run = next((tmp_path / "r" / "tiny").glob("*/seed-0"))
    assert json.loads((run / "metrics.json").read_text())["environment"]["threads"] == 2
    torch.set_num_threads(1)
    repeated = invoke("run", "--repeat", run, "--data-dir", names_dir)
    assert repeated.exit_code == 0 and "repeated, identical" in repeated.output, repeated.output
    assert "recorded with threads" not in repeated.output and "device cpu (2 threads)" in repeated.output
    assert_clean_failure(invoke("run", experiment, "--results", tmp_path / "r", "--threads", "0"), 2, "--threads")


def test_busy_threads_are_those_running_now_not_the_last_minutes_load(monkeypatch):
    """A run that has just ended keeps the load average up for a minute, not the run queue: what runs now counts,
    the fewest of a few looks (a process passing by is not counted), this process left out."""

    class Looks:  # /proc/loadavg as it reads at each look: load over 1, 5 and 15 minutes, running/total, last pid
        def __init__(self, running):
            self.texts = iter(f"1.90 1.20 0.80 {count}/200 4242" for count in running)

        def read_text(self):
            return next(self.texts)

    monkeypatch.setattr(environment, "LOADAVG", Looks([3, 2, 2, 5, 2]))
    assert environment.busy_threads() == 1  # the fewest running, 2, less this process: the load 1.9 is not used
    monkeypatch.setattr(environment, "LOADAVG", Looks([1] * 5))
    assert environment.busy_threads() == 0

    class Missing:
        def read_text(self):
            raise FileNotFoundError("/proc/loadavg")

    monkeypatch.setattr(environment, "LOADAVG", Missing())
    assert environment.busy_threads() is None
