"""`run --executor ray` on a real local Ray instance (127.0.0.1, 2 CPUs, no dashboard): the same metrics as one
process with one thread, run directories published where this process reads them, and a later local `run`
skipping them by key. Needs the extra: pip install -e ".[ray]"; run with: pytest -m ray (make test-ray)."""

from __future__ import annotations

import pytest
from conftest import TINY
from test_cli import invoke
from test_parallel import _unallocatable_hidden_size, metrics_of

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")  # here, so that a run that leaves these tests out never imports it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def test_a_sweep_on_ray_gives_the_metrics_of_one_process(local_ray, tmp_path, names_dir, write_experiment):
    experiment = write_experiment({**TINY, "grid": {"cell": ["gru", "lstm"]}, "seeds": [0, 1]})
    serial = invoke("run", experiment, "--results", tmp_path / "serial", "--data-dir", names_dir, "--threads", "1")
    assert serial.exit_code == 0, serial.output
    # in this process, so that the run joins the Ray instance started above (a CLI run would start its own)
    on_ray = invoke("run", experiment, "--results", tmp_path / "ray", "--data-dir", names_dir, "--executor", "ray")
    assert on_ray.exit_code == 0, on_ray.output
    one, other = metrics_of(tmp_path / "serial"), metrics_of(tmp_path / "ray")
    assert len(one) == 4 and one == other  # weights_sha256 included: the same weights, bit for bit
    assert on_ray.output.count("params): test acc") == 4  # progress forwarded from the tasks as they ran
    # published by the driver as whole runs, and resumed by key whichever executor ran them
    local = invoke("run", experiment, "--results", tmp_path / "ray", "--data-dir", names_dir)
    assert local.exit_code == 0 and "finished before: 4" in local.output, local.output
    assert not list((tmp_path / "ray").glob("tiny/.incomplete/*.failed.json"))


def test_a_run_failing_on_a_node_is_recorded_by_the_driver(local_ray, tmp_path, names_dir, write_experiment):
    hidden = _unallocatable_hidden_size()
    if hidden is None:
        pytest.skip("this machine might grant a 64 GiB allocation (overcommit), so no run can fail for memory safely")
    experiment = write_experiment(
        {**TINY, "grid": None, "variants": [{"cell": "gru"}, {"name": "huge", "cell": "lstm", "hidden_size": hidden}]}
    )
    results = tmp_path / "ray"
    done = invoke("run", experiment, "--results", results, "--data-dir", names_dir, "--executor", "ray")
    assert done.exit_code == 1 and "failed: huge seed 0: out of memory" in done.output, done.output
    assert len(list(results.glob("tiny/*/seed-0/metrics.json"))) == 1  # the other run went on, and is published
    [record] = results.glob("tiny/.incomplete/*.failed.json")  # recorded here, by the driver
    assert "Traceback" in record.read_text()
