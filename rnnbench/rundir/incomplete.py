"""Runs not finished yet, all under `<experiment>/.incomplete/`: the claim a process holds on the run it trains (a
lock), the checkpoint of its last finished epoch, the record of a failure, and the staging folder a run is written
in before one rename publishes it whole (save_run, publish_files). A crash at any point leaves no half-written run.
What the folder holds of finished runs goes (tidy), and of runs an experiment no longer has when asked
(remove_unfinished); unfinished.py lists it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench.config import RunSpec
from rnnbench.errors import RnnbenchError
from rnnbench.rundir.files import FILES, FORMAT_VERSION, is_finished, run_dir, write_run, write_text_atomic
from rnnbench.rundir.unfinished import Unfinished, debris_of, delete, runs_in, stem
from rnnbench.views import to_json

if TYPE_CHECKING:  # checkpoints are read and written with torch, imported there
    import torch


class WriteError(RnnbenchError):
    """The results folder cannot be written (full, read-only, gone): no run could be saved there."""


class AlreadyFinished(RnnbenchError):
    """Another process published the same run first; its directory was kept and this copy discarded."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: already holds a finished run; it was kept")


def check_writable(results: Path) -> None:
    """Fail before any training if run directories could not be written under `results`."""
    results = Path(results)
    try:
        results.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=results):
            pass
    except OSError as err:
        raise RnnbenchError(
            f"{results}: cannot write results here ({err.strerror or err}); pass --results DIR"
        ) from None


@contextmanager
def claim(results: Path, spec: RunSpec):
    """Hold one run for this process while it trains it: yields True, or False if another process holds it now.

    An advisory lock (flock) on a file in `.incomplete/`, which the system releases when its process ends, however
    it ends, so a killed `run` never leaves a run claimed. Where there are no such locks (Windows), yields True:
    two processes may then train one run, and the first to publish it wins (save_run never replaces a run).
    """
    with _hold(Path(results) / spec.experiment / ".incomplete", stem(spec.variant_key(), spec.seed)) as mine:
        yield mine


@contextmanager
def claim_tuning(results: Path, experiment: str):
    """Hold an experiment's tuning for this process (`rnnbench tune`: the one process that asks its studies for
    trials and tells their results): yields True, or False if another process holds it now. The same lock as
    claim(), on `.incomplete/tune.lock`."""
    folder = Path(results) / experiment / ".incomplete"
    try:
        with _hold(folder, "tune") as mine:
            yield mine
    finally:
        with contextlib.suppress(OSError):  # a finished experiment leaves no `.incomplete/`
            folder.rmdir()


@contextmanager
def _hold(folder: Path, stem: str):
    """claim()'s lock, `folder/<stem>.lock`, deleted when released: a finished experiment leaves no lock behind.

    Deleting it is safe because it happens only while the lock is held, and whoever takes a lock checks, once it
    holds it, that the file it locked is still the one at that path; if not (deleted as it was opened), it opens
    the new one and tries again. So two processes never both hold one run, and a process that finds it held
    (yields False) holds nothing.
    """
    path = folder / f"{stem}.lock"
    try:
        import fcntl
    except ImportError:
        fcntl = None
    while True:
        handle = _open_lock(folder, path)
        if fcntl is None:
            handle.close()
            try:
                yield True
            finally:
                with contextlib.suppress(OSError):  # another process may have it open (Windows): it stays
                    path.unlink()
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            if not _still_at(handle, path):  # its holder deleted it as this process opened it: take the new one
                continue
            try:
                yield True
            finally:
                with contextlib.suppress(OSError):
                    path.unlink()  # while held; closing the handle then releases the lock
            return


def _open_lock(folder: Path, path: Path):
    for _ in range(10):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return open(path, "a")
        except FileNotFoundError:  # the folder, empty, was removed (tidy) between the two: make it again
            continue
        except OSError as err:
            raise WriteError(f"{folder}: cannot write here ({err.strerror or err}); pass --results DIR") from None
    raise WriteError(f"{folder}: removed again each time it is made; is another program deleting it?")


def _still_at(handle, path: Path) -> bool:
    """Whether the open file `handle` is the file at `path` now (not one deleted, or replaced, since)."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def checkpoint_path(results: Path, spec: RunSpec) -> Path:
    return Path(results) / spec.experiment / ".incomplete" / f"{stem(spec.variant_key(), spec.seed)}.checkpoint.pt"


def save_checkpoint(results: Path, spec: RunSpec, state: dict) -> None:
    """Replace the run's checkpoint with `state` (train.checkpoint_state) in one rename: a run killed while it
    writes keeps the previous one whole."""
    import torch

    path = checkpoint_path(results, spec)
    file = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", delete=False) as file:
            torch.save(
                {"format_version": FORMAT_VERSION, "variant_key": spec.variant_key(), "seed": spec.seed, **state}, file
            )
        os.replace(file.name, path)
    except BaseException as err:  # a full disk, or Ctrl-C (SIGTERM) while it writes: no half-written copy left
        if file is not None:
            with contextlib.suppress(OSError):
                os.unlink(file.name)
        if isinstance(err, OSError):
            raise WriteError(f"{path}: cannot write checkpoint ({err.strerror or err})") from None
        raise


CHECKPOINT_KEYS = (
    "model",
    "optimizer",
    "generator",
    "cpu_rng",
    "cuda_rng",
    "history",
    "best_epoch",
    "best_value",
    "train_seconds",
    "best_state",
    "stopped",
)


def load_checkpoint(results: Path, spec: RunSpec, device: torch.device) -> dict | None:
    """The checkpoint an interrupted run of this spec left (its tensors on `device`), or None if it left none.

    Read with weights_only (tensors, numbers and text: loading it never runs code). Raises RnnbenchError naming
    the file if it cannot be read or belongs to another run; nothing is deleted.
    """
    path = checkpoint_path(results, spec)
    if not path.is_file():
        return None
    import torch

    advice = "delete it to train this run from epoch 1"
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises many kinds (pickle, zip, runtime) for a damaged file
        raise RnnbenchError(f"{path}: cannot resume from this checkpoint ({_unreadable(err)}); {advice}") from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise RnnbenchError(f"{path}: not a checkpoint rnnbench wrote (no {missing[0]}); {advice}")
    if (state.get("variant_key"), state.get("seed")) != (spec.variant_key(), spec.seed):
        raise RnnbenchError(
            f"{path}: the checkpoint of another run (key {state.get('variant_key')}, seed "
            f"{state.get('seed')}); {advice}"
        )
    return state


def _unreadable(err: Exception) -> str:
    """Why torch.load could not read a file, in a few words (torch's own messages run to paragraphs)."""
    if "Unsupported global" in str(err):  # a pickle of Python objects, which weights_only refuses to build
        return "it holds objects other than tensors, numbers and text"
    return "empty, truncated or not a torch file"


def save_run(
    results: Path,
    spec: RunSpec,
    *,
    history: list[dict],
    metrics: dict,
    state_dict: dict[str, torch.Tensor],
    model_info: dict,
    data_report: dict | None = None,
    predictions: list[dict] | None = None,
    keep_checkpoint: bool = False,
) -> Path:
    """Write all files of one run, then publish them with one rename; never replaces a finished run.

    `data_report` (names runs) is what cleaning and splitting did; `predictions`, one row per test example. The
    run's checkpoint goes with it as checkpoint.pt if `keep_checkpoint`, else is deleted once the run is published.
    """
    checkpoint = checkpoint_path(results, spec)  # copied into the run if kept; deleted once the run is published

    def write(staging: Path) -> None:
        write_run(
            staging,
            spec,
            history=history,
            metrics=metrics,
            state_dict=state_dict,
            model_info=model_info,
            data_report=data_report,
            predictions=predictions,
        )
        if keep_checkpoint and checkpoint.is_file():
            shutil.copyfile(checkpoint, staging / "checkpoint.pt")

    return _publish(results, spec, write)


def run_files(path: Path) -> dict[str, bytes]:
    """A finished run directory's files by name (a run trained where the driver cannot write: a cluster node)."""
    return {file.name: file.read_bytes() for file in sorted(Path(path).iterdir()) if file.is_file()}


def publish_files(results: Path, spec: RunSpec, files: dict[str, bytes]) -> Path:
    """Write a run's files (run_files of a run trained elsewhere) as the run of `spec` under `results`, published
    with one rename as save_run does; raises AlreadyFinished if it is there already, RnnbenchError if the files
    are not a whole run."""
    if not set(FILES) <= set(files) or any("/" in name or name.startswith(".") for name in files):
        raise RnnbenchError(
            f"{run_dir(results, spec)}: the files sent back are not a whole run ({', '.join(sorted(files))})"
        )

    def write(staging: Path) -> None:
        for name, content in files.items():
            (staging / name).write_bytes(content)

    return _publish(results, spec, write)


def _publish(results: Path, spec: RunSpec, write) -> Path:
    """Let `write(folder)` fill a staging folder beside the experiment's runs, then rename it into the run's
    place: readers see no run or a whole one, and a finished run is never replaced (AlreadyFinished). The run's
    checkpoint is deleted once it is published. Raises WriteError if the folder cannot be written."""
    final = run_dir(results, spec)
    staging = None
    try:
        staging_root = Path(results) / spec.experiment / ".incomplete"
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=staging_root, prefix=f"{final.parent.name}-{final.name}-"))
        write(staging)
        for file in staging.iterdir():
            file.chmod(0o644)  # mkdtemp and safetensors create owner-only files; runs are meant to be shared
        staging.chmod(0o755)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, final)  # atomic; fails rather than replace an existing non-empty directory
    except OSError as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if is_finished(final):
            raise AlreadyFinished(final) from None
        raise WriteError(f"{final}: cannot write run ({err.strerror or err})") from None
    with contextlib.suppress(OSError):
        checkpoint_path(results, spec).unlink(missing_ok=True)  # the run is whole: nothing left to resume
    delete(debris_of(staging_root, spec.variant_key(), spec.seed))  # what killed processes left of this run
    return final


def failure_path(results: Path, spec: RunSpec) -> Path:
    """Where a failed run's error is recorded: beside its checkpoint, until the run finishes."""
    return Path(results) / spec.experiment / ".incomplete" / f"{stem(spec.variant_key(), spec.seed)}.failed.json"


def record_failure(results: Path, spec: RunSpec, error: str, details: str | None = None) -> Path:
    """Record why a run failed (one line, and the traceback in `details`); the next `run` trains it again."""
    path = failure_path(results, spec)
    with contextlib.suppress(OSError):  # a failure that cannot be recorded is still reported by the command
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(
            path,
            to_json(
                {
                    "variant": spec.variant,
                    "variant_key": spec.variant_key(),
                    "seed": spec.seed,
                    "error": error,
                    "traceback": details,
                }
            )
            + "\n",
        )
    return path


def clear_failure(results: Path, spec: RunSpec) -> None:
    """Forget a run's recorded failure: it has finished since."""
    with contextlib.suppress(OSError):
        failure_path(results, spec).unlink(missing_ok=True)


def remove_unfinished(
    results: Path, experiment: str, keep: set[tuple[str, int]]
) -> tuple[list[Unfinished], list[Unfinished]]:
    """Delete what `.incomplete/` holds of every unfinished run whose (key, seed) is not in `keep`, and only the
    debris of those that are (their checkpoints resume them); then tidy(). Each run is claimed first, so a run
    another process is training is left alone. Returns (the runs removed, the runs left because another process
    holds them)."""
    folder = Path(results) / experiment / ".incomplete"
    removed, busy = [], []
    for run in runs_in(folder):
        ours = (run.key, run.seed) in keep
        if ours and not run.debris:  # nothing to delete: not claimed, so a `run` never finds it held
            continue
        with _hold(folder, stem(run.key, run.seed)) as mine:  # a lock alone (a killed process's) goes when released
            if not mine:
                busy += [run] if run.files or run.debris else []
                continue
            delete(run.debris if ours else run.files + run.debris)
            removed += [run] if run.files and not ours else []
    tidy(results, experiment)
    return removed, busy


def tidy(results: Path, experiment: str) -> None:
    """Delete what `.incomplete/` still holds of finished runs (a lock a killed process or an older rnnbench left,
    a checkpoint or failure record a process killed just after publishing the run left), then the folder itself
    if it is empty: a finished experiment leaves no `.incomplete/`. Runs not finished keep everything (their
    checkpoints resume them), and a process training a run holds its lock file there, so the folder stays.

    Only finished runs are claimed here, never one still to train: a `run` started meanwhile never finds a run
    it should train held by this one."""
    folder = Path(results) / experiment / ".incomplete"
    for run in runs_in(folder):
        if any(is_finished(path) for path in (Path(results) / experiment).glob(f"*-{run.key}/seed-{run.seed}")):
            with _hold(folder, stem(run.key, run.seed)) as mine:
                if mine:
                    delete(run.files + run.debris)
    with contextlib.suppress(OSError):
        folder.rmdir()
