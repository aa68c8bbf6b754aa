"""How many torch threads to train with, on a quiet machine and on a busy one: seconds per epoch of the same runs
with `--threads 1`, `--threads N` and rnnbench's own choice (no option: the free cores), alone and beside one
process that keeps one core busy (as another job on a shared machine does).

    python benchmarks/threads.py experiments/names_18.yaml --set 'seeds=[0]' --set 'grid.cell=[gru, lstm]' \\
        --set 'grid.bidirectional=[false]' --set train.max_epochs=2 --set train.patience=0

Each configuration runs `rnnbench run` into a fresh results folder and prints the seconds per epoch its runs
recorded, and the wall time of the whole command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUSY = "while True: pass"  # one core's worth of other work


def run(experiment: str, overrides: list[str], threads: str) -> tuple[float, dict[str, float], int]:
    """(wall seconds, seconds per epoch by variant, threads used) of one `rnnbench run`; threads "auto" passes no
    --threads (and no OMP_NUM_THREADS), so rnnbench chooses."""
    results = Path(tempfile.mkdtemp(prefix="rnnbench-threads-"))
    command = [sys.executable, "-m", "rnnbench", "run", experiment, "--results", str(results)]
    command += [] if threads == "auto" else ["--threads", threads]
    command += [item for override in overrides for item in ("--set", override)]
    environment = {
        key: value for key, value in os.environ.items() if key not in ("OMP_NUM_THREADS", "RNNBENCH_THREADS")
    }
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"run failed:\n{done.stderr}")
    per_epoch, used = {}, 0
    for path in sorted(results.glob("*/*/seed-*/metrics.json")):
        metrics = json.loads(path.read_text())
        per_epoch[metrics["variant"]] = metrics["seconds_per_epoch"]
        used = metrics["environment"]["threads"]
    shutil.rmtree(results)
    return wall, per_epoch, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--threads", nargs="+", default=["1", str(os.cpu_count() or 1), "auto"])
    args = parser.parse_args()
    for load in ("quiet", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load == "busy" else None
        try:
            for threads in args.threads:
                time.sleep(5 if busy is not None else 0)  # let the load average see the busy core
                wall, per_epoch, used = run(args.experiment, args.overrides, threads)
                epochs = ", ".join(f"{variant} {seconds:.3f}" for variant, seconds in per_epoch.items())
                print(
                    f"{load}, threads {threads} (used {used}): wall {wall:.1f} s; seconds/epoch: {epochs}", flush=True
                )
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    print(f"{os.cpu_count()} CPUs", flush=True)


if __name__ == "__main__":
    main()
