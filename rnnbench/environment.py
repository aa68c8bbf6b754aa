"""The machine a run happens on: which device to use, and the record of versions needed to repeat it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench.errors import RnnbenchError
from rnnbench.version import version

if TYPE_CHECKING:  # imported where a device is chosen or threads are set: `run --jobs` counts cores without it
    import torch


def resolve_device(requested: str) -> torch.device:
    """'auto' -> cuda if available, else cpu; an explicit device that is missing is an error.

    Apple's mps is used only when asked for: its support for packed sequences has lagged behind, and small
    recurrent models rarely run faster there than on the CPU.
    """
    import torch

    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if requested == "auto":
        return torch.device("cuda" if cuda else "cpu")
    if requested == "cuda" and not cuda:
        raise RnnbenchError(
            f"device: 'cuda' requested but torch {torch.__version__} sees no CUDA GPU; use device: auto or cpu"
        )
    if requested == "mps" and not mps:
        raise RnnbenchError(
            "device: 'mps' requested but this machine has no Apple-silicon GPU; use device: auto or cpu"
        )
    return torch.device(requested)


THREADS_VARIABLE = "RNNBENCH_THREADS"


def use_threads(requested: int | None) -> int:
    """Set how many threads torch computes with on the CPU in this process, and return it: `requested`, else
    $RNNBENCH_THREADS, else $OMP_NUM_THREADS (torch's own setting), else the cores the machine has free
    (thread_count says which, without torch).

    Free cores: the cores less those busy now (free_cores), at least 1. On an idle 2-core machine a
    second thread trains a 128-unit GRU 1.4× faster; beside one busy process it makes it 4–5× slower, since the
    two threads wait on each other (benchmarks/README.md, "threads"). Every run records its thread count, and
    `run --repeat` reuses it. Raises RnnbenchError for a count below 1 or a variable that is not a whole number.
    """
    import torch

    requested = thread_count(requested)
    if requested is not None:
        torch.set_num_threads(requested)
    return torch.get_num_threads()


def thread_count(requested: int | None) -> int | None:
    """The thread count use_threads sets: `requested`, else $RNNBENCH_THREADS, else, where $OMP_NUM_THREADS does
    not say (torch reads it itself), the free cores; None leaves torch's count as it is. Raises RnnbenchError as
    use_threads does."""
    if requested is None and os.environ.get(THREADS_VARIABLE):
        text = os.environ[THREADS_VARIABLE]
        if not text.strip().isdigit():
            raise RnnbenchError(f"${THREADS_VARIABLE}: expected a whole number of threads (got {text!r})")
        requested = int(text)
    if requested is None and not os.environ.get("OMP_NUM_THREADS"):
        requested = free_cores()
    if requested is not None and requested < 1:
        raise RnnbenchError(f"threads: at least 1 (got {requested})")
    return requested


def free_cores() -> int | None:
    """The machine's cores less those busy now, at least 1; None where that is unknown (Windows), which leaves
    torch's default of one thread per core. Busy now: the other threads running or waiting to run (Linux; the
    fewest of a few looks 10 ms apart, so that a passing process is not counted), else the load of the last
    minute (os.getloadavg), which a run that has just ended still raises for a minute. Example: 2 cores, one
    other training thread running -> 1."""
    cores = os.cpu_count()
    busy = busy_threads()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            return None
    return max(1, cores - round(busy)) if cores else None


LOADAVG = Path("/proc/loadavg")  # Linux: the load averages, then running/total threads


def busy_threads(looks: int = 5) -> int | None:
    """How many threads other than this one run or wait to run now, the fewest of `looks` 10 ms apart (the fourth
    field of /proc/loadavg, 'running/total', counts this one); None where /proc/loadavg is not there."""
    seen = []
    for look in range(looks):
        try:
            running = LOADAVG.read_text().split()[3].split("/")[0]
        except (OSError, IndexError):
            return None
        seen.append(max(0, int(running) - 1))
        if look < looks - 1:
            time.sleep(0.01)
    return min(seen)


def peak_memory_mb(device: torch.device) -> tuple[float | None, str]:
    """(megabytes, what was measured): the device allocator's peak on CUDA, else this process's peak RSS."""
    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda_max_allocated"
    try:
        import resource  # POSIX only
    except ImportError:
        return None, "unavailable"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (2**20 if sys.platform == "darwin" else 2**10), "process_peak_rss"


def git_commit() -> str | None:
    """The commit of the rnnbench source in use, with '+dirty' if it has uncommitted changes; None outside git."""
    source = Path(__file__).resolve().parent  # the package folder
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() + ("+dirty" if dirty else "")


def environment_record(device: torch.device, seed: int) -> dict:
    import torch

    record = {
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "rnnbench": version(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "seed": seed,
        "git_commit": git_commit(),
    }
    if device.type == "cuda":
        record["cuda"] = torch.version.cuda
        record["cudnn"] = torch.backends.cudnn.version()
    return record
