"""Time whole `rnnbench run` commands: wall seconds and peak memory per repeat, each into a fresh results folder.

    python benchmarks/time_run.py experiments/names_de_it.yaml --repeats 5
    python benchmarks/time_run.py experiments/names_18.yaml --repeats 1 --set 'seeds=[0]' --set 'grid.cell=[gru]' \
        --set 'grid.bidirectional=[false]' --set train.max_epochs=5 --set train.patience=0

Start-up (Python, torch import, data preparation) is included, as a user sees it. Prints one line per repeat,
the median, and the seconds per epoch that the runs recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()

    walls, peaks = [], []
    for repeat in range(1, args.repeats + 1):
        results = Path(tempfile.mkdtemp(prefix="rnnbench-bench-"))
        command = [sys.executable, "-m", "rnnbench", "run", args.experiment, "--results", str(results)]
        command += [item for override in args.overrides for item in ("--set", override)]
        log = tempfile.TemporaryFile()  # a file, not a pipe: a long log can never block the child
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)  # wait4, not communicate(): it also returns the child's peak RSS
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            sys.exit(f"run failed:\n{log.read().decode(errors='replace')}")
        log.close()
        peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
        per_epoch = [
            json.loads(p.read_text())["seconds_per_epoch"] for p in sorted(results.glob("*/*/seed-*/metrics.json"))
        ]
        variants = [p.parent.parent.name.rsplit("-", 1)[0] for p in sorted(results.glob("*/*/seed-*/metrics.json"))]
        walls.append(wall)
        peaks.append(peak_mb)
        epochs = ", ".join(f"{v} {s:.3f}" for v, s in zip(variants, per_epoch))
        print(f"repeat {repeat}: wall {wall:.2f} s, peak RSS {peak_mb:.0f} MB; seconds/epoch: {epochs}")
        shutil.rmtree(results)
    print(
        f"median wall {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}) over {len(walls)} "
        f"repeats; median peak RSS {statistics.median(peaks):.0f} MB; torch threads default, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
