"""What a run reports while it runs: small frozen dataclasses, picklable, so that the CLI can draw progress (and
a process pool or a cluster could forward them) without the runner ever touching the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench.config import RunSpec

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DataPrepared:
    seed: int
    device: torch.device
    summary: str  # the task's one line on what the data decided
    table: object | None  # the task's data report as a views.Table, or None
    threads: int | None = None  # torch's CPU threads in the process that prepared it (and trains its runs)


@dataclass(frozen=True)
class RunStarted:
    spec: RunSpec
    index: int  # 1-based position among the experiment's runs
    total: int
    parameters: int
    resumed: int = 0  # epochs a checkpoint had finished: training continues after them
    trains: bool = True  # False: a baseline with nothing to train, scored once (its one history row, epoch 1)


@dataclass(frozen=True)
class EpochFinished:
    spec: RunSpec
    row: dict  # one history row


@dataclass(frozen=True)
class RunFinished:
    spec: RunSpec
    path: Path
    metrics: dict


@dataclass(frozen=True)
class RunSkipped:
    spec: RunSpec
    path: Path  # the finished run already there


@dataclass(frozen=True)
class RunBusy:
    spec: RunSpec  # another process is training this run now: this one leaves it


@dataclass(frozen=True)
class RunFailed:
    spec: RunSpec
    error: str  # one line
    record: Path  # the file that records it, with its traceback


@dataclass(frozen=True)
class WorkersStarted:
    workers: int  # worker processes training runs at once (`run --jobs`)
    threads: int  # torch's CPU threads in each


Event = DataPrepared | RunStarted | EpochFinished | RunFinished | RunSkipped | RunBusy | RunFailed | WorkersStarted
