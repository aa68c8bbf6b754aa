"""What `<experiment>/.incomplete/` holds of each run, by key and seed: the Unfinished runs (those with a
checkpoint, a failure record, or what a process killed while writing left), and those of them an experiment no
longer has. Listing and deleting files only; incomplete.py claims a run before it deletes anything of it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rnnbench.config import RunSpec

# `.incomplete/`'s entries by run: <key>-seed-<seed>.lock, .checkpoint.pt and .failed.json; what a process killed
# while writing leaves: a checkpoint's temporary copy (.checkpoint.pt.<random>), a failure record's
# (.<key>-seed-<seed>.failed.json.<pid>.partial) and a run's staging folder (<variant>-<key>-seed-<seed>-<random>)
ENTRY = re.compile(
    r"^\.?(?P<key>[0-9a-f]{8})-seed-(?P<seed>\d+)\.(?P<kind>lock|checkpoint\.pt|failed\.json)(?P<temp>\..+)?$"
)
STAGING = re.compile(r"^.+-(?P<key>[0-9a-f]{8})-seed-(?P<seed>\d+)-[a-z0-9_]+$")


def stem(key: str, seed: int) -> str:
    """What every file of one run in `.incomplete/` starts with. Example: ('1a2b3c4d', 0) -> '1a2b3c4d-seed-0'."""
    return f"{key}-seed-{seed}"


@dataclass(frozen=True)
class Unfinished:
    """A run that `.incomplete/` holds something of: its checkpoint and failure record (`files`), what a process
    killed while writing left of it (`debris`), its lock. Example: str() -> '1a2b3c4d seed 0'."""

    key: str
    seed: int
    files: tuple[Path, ...]
    debris: tuple[Path, ...]
    lock: Path | None = field(default=None, compare=False)  # held while a process trains it; else left by a kill

    def __str__(self) -> str:
        return f"{self.key} seed {self.seed}"


def runs_in(folder: Path) -> list[Unfinished]:
    """Every run `folder` (an experiment's `.incomplete/`) holds anything of, a lock alone included, sorted by key
    and seed; none if there is no such folder."""
    found: dict[tuple[str, int], list[Path]] = {}
    with contextlib.suppress(OSError):
        for entry in sorted(folder.iterdir()):
            match = ENTRY.match(entry.name) or (STAGING.match(entry.name) if entry.is_dir() else None)
            if match:
                found.setdefault((match["key"], int(match["seed"])), []).append(entry)
    runs = []
    for (key, seed), entries in sorted(found.items()):
        kinds = {entry: ENTRY.match(entry.name) for entry in entries}
        debris = [entry for entry, match in kinds.items() if match is None or match["temp"] is not None]
        lock = next((entry for entry, match in kinds.items() if entry not in debris and match["kind"] == "lock"), None)
        files = [entry for entry in entries if entry not in debris and entry != lock]
        runs.append(Unfinished(key, seed, tuple(files), tuple(debris), lock))
    return runs


def unfinished_runs(results: Path, experiment: str) -> list[Unfinished]:
    """The runs of `experiment` started and not finished: those its `.incomplete/` holds a checkpoint, a failure
    record or debris of, sorted by key and seed. (A lock alone is none: its run is being trained now, or its
    process was killed before the first epoch ended.) A run being trained now is among them once it has a
    checkpoint."""
    return [run for run in runs_in(Path(results) / experiment / ".incomplete") if run.files or run.debris]


def abandoned_runs(results: Path, experiment: str, specs: list[RunSpec]) -> list[Unfinished]:
    """The unfinished runs of `experiment` that are none of `specs` (its runs now): started when its settings
    were others, no `run` of it resumes them, and their files stay until removed (remove_unfinished)."""
    current = {(spec.variant_key(), spec.seed) for spec in specs}
    return [run for run in unfinished_runs(results, experiment) if (run.key, run.seed) not in current]


def debris_of(folder: Path, key: str, seed: int) -> tuple[Path, ...]:
    """What processes killed while writing one run left in `folder`."""
    return next((run.debris for run in runs_in(folder) if (run.key, run.seed) == (key, seed)), ())


def delete(paths: Iterable[Path]) -> None:
    """Delete files and folders, passing over any already gone (or that cannot be deleted: left as they are)."""
    for path in paths:
        with contextlib.suppress(OSError):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
