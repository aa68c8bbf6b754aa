"""Where an experiment's pending runs execute, other than one after another in this process: a pool of local
worker processes (`run --jobs N`), or Ray tasks on a cluster (`run --executor ray`). Both call the one runner,
runner.attempt_run, and yield one runner.Attempt per run as runs finish; events (epochs, finished runs) reach
the caller's handler in this process as they happen.

    run_in_pool   N worker processes (forked from a fork server that imported torch once; spawned on Windows),
                  each setting torch's threads to its share before any work; they write run directories under
                  `results` themselves (one filesystem), claiming each run with the lock two `run`s share.
    run_on_ray    one Ray task per run (num_cpus, and num_gpus as a fraction so that small RNNs share a GPU); the
                  task trains into a temporary folder on its node and returns the run's files, which this process
                  (the driver) publishes under `results`: no filesystem needs to be shared with the cluster.

Ray is an optional extra, imported only here and only when asked for.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
import queue as queues
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench.errors import RnnbenchError
from rnnbench.extras import require

# rundir and events (torch with them) are imported where used: warm_up runs before this process imports torch
if TYPE_CHECKING:
    from rnnbench.events import Event

POLL_SECONDS = 0.1  # how often the driver forwards events while it waits for runs


# ------------------------------------------------------------------------------------------ local processes


def threads_per_worker(jobs: int, threads: int) -> int:
    """torch threads for each of `jobs` workers sharing `threads` CPU threads, at least 1 (the caller keeps `jobs`
    at most the cores, so that with the default threads, one per free core, the workers never run more threads
    than cores: two 2-thread processes on 2 cores slow each other down several times over).
    Example: 4 threads, 2 jobs -> 2; 2 threads, 2 jobs -> 1."""
    return max(1, threads // jobs)


_worker: dict = {}  # in each worker process: the source, the event queue and the prepared-data cache


def _start_worker(threads: int, events, source, device_name: str) -> None:
    import torch

    from rnnbench.runner import PreparedCache

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle: it stops the workers
    torch.set_num_threads(threads)  # before any work, so that every run records the count it trained with
    _worker.update(source=source, events=events, cache=PreparedCache(torch.device(device_name)))


def _work(spec, results: Path, position: tuple[int, int], keep_checkpoint: bool):
    from rnnbench.runner import attempt_run

    return attempt_run(
        spec, results, _worker["source"], _worker["cache"], _worker["events"].put, position, keep_checkpoint
    )


def _context():
    """Not fork: a process forked from one that has run torch can hang on its thread pools. A fork server imports
    torch once and forks every worker from that clean process; spawn (Windows) imports it in each."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["rnnbench.runner"])
    return context


def warm_up() -> None:
    """Start the fork server now, so that it imports torch while this process does the same (seconds saved
    before the first worker starts); a no-op where workers are spawned."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


DEATHS_ALLOWED = 1  # a run whose worker dies once more than this (it was training it each time) is failed


def run_in_pool(
    pending: list,
    results: Path,
    source,
    on_event: Callable[[Event], None],
    keep_checkpoint: bool,
    jobs: int,
    threads: int,
) -> Iterator:
    """Attempt every (spec, position) of `pending` in up to `jobs` worker processes, yielding each runner.Attempt
    as it comes. Each worker sets torch's threads to `threads` ÷ jobs before any work (however few runs are
    left, so a run trains with the same count however it is scheduled).

    A worker that dies (killed by the system for memory, say) breaks the pool: the runs left are started again in
    a new one, continuing from their checkpoints, and a run whose worker died twice while training it is
    failed. Ctrl-C stops the workers at once; a run they leave keeps its last checkpoint and no half-written run
    directory."""
    from rnnbench import rundir
    from rnnbench.events import RunFailed, RunFinished, RunStarted, WorkersStarted
    from rnnbench.runner import Attempt, failed

    context = _context()
    events = context.Queue()
    each = threads_per_worker(jobs, threads)
    device = resolve_device_type(pending[0][0].device)
    left = {_key(spec): (spec, position) for spec, position in longest_first(pending)}
    training, deaths = set(), {}  # runs started and not yet finished in the current pool; pools broken under each

    def forward() -> None:
        for event in _drain(events):
            if isinstance(event, RunStarted):
                training.add(_key(event.spec))
            elif isinstance(event, (RunFinished, RunFailed)):
                training.discard(_key(event.spec))
            on_event(event)

    on_event(WorkersStarted(min(jobs, len(left)), each))
    while left:
        pool = concurrent.futures.ProcessPoolExecutor(
            min(jobs, len(left)), mp_context=context, initializer=_start_worker, initargs=(each, events, source, device)
        )
        broken = False
        try:
            futures = {
                pool.submit(_work, spec, results, position, keep_checkpoint): key
                for key, (spec, position) in left.items()
            }
            waiting = set(futures)
            while waiting:
                done, waiting = concurrent.futures.wait(
                    waiting, timeout=POLL_SECONDS, return_when=concurrent.futures.FIRST_COMPLETED
                )
                forward()
                for future in done:
                    try:
                        attempt = future.result()
                    except concurrent.futures.process.BrokenProcessPool:
                        broken = True
                        continue
                    del left[futures[future]]
                    yield attempt
        except BaseException:  # Ctrl-C, the caller's handler, or close(): stop every worker now
            _stop(pool)
            raise
        _stop(pool, events, forward)
        if broken:  # a worker died: what it and the others were training is left (or published just before)
            for key in list(left):
                spec = left[key][0]
                path = rundir.finished_run(results, spec)
                if path is not None:
                    del left[key]
                    yield Attempt(spec, "finished", path)
                elif key in training:
                    deaths[key] = deaths.get(key, 0) + 1
                    if deaths[key] > DEATHS_ALLOWED:
                        del left[key]
                        yield failed(
                            results,
                            spec,
                            "its worker process died twice while training it (killed by the system: out of memory?)",
                            None,
                            on_event,
                        )
            training.clear()


def _stop(pool, events=None, forward=None) -> None:
    """Shut the pool down: at once (terminating its workers) without `events`; else once its idle workers have
    exited, forwarding what they still send meanwhile (a worker cannot exit with events unsent)."""
    if events is None:
        for process in multiprocessing.active_children():
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        return
    pool.shutdown(wait=False)
    while multiprocessing.active_children():
        forward()
        time.sleep(POLL_SECONDS / 10)
    forward()


def _key(spec) -> tuple[str, int]:
    return spec.variant_key(), spec.seed


def resolve_device_type(requested: str) -> str:
    from rnnbench.environment import resolve_device

    return resolve_device(requested).type


def longest_first(pending: list) -> list:
    """The (spec, position) pairs of each seed (and data setting), the costliest runs first: the workers finish
    together rather than one waiting on the last long run (longest processing time first). A run's cost is
    estimated from its recurrent weights (gates × directions × layers × hidden × (hidden + input)) × max_epochs;
    a baseline's is 0. Runs of one seed stay together, so that each worker prepares a seed's data once."""

    def cost(spec) -> float:
        model = spec.model
        hidden = model.hidden_size if model.param_budget is None else model.param_budget**0.5
        gates = {"lstm": 4, "gru": 3, "rnn": 1, "linear_rnn": 1}.get(model.cell, 0)
        width = hidden * (hidden + (model.embedding_dim or hidden))
        return gates * (2 if model.bidirectional else 1) * model.num_layers * width * spec.train.max_epochs

    groups: dict = {}
    for item in pending:
        groups.setdefault((item[0].seed, item[0].data.model_dump_json()), []).append(item)
    return [item for group in groups.values() for item in sorted(group, key=lambda item: -cost(item[0]))]


def _drain(events) -> list:
    """Every event waiting in a multiprocessing queue, without blocking."""
    found = []
    while True:
        try:
            found.append(events.get_nowait())
        except queues.Empty:
            return found


# ------------------------------------------------------------------------------------------------------ Ray


def require_ray() -> None:
    """Raise a one-line RnnbenchError unless Ray can be imported (checked before any data is read)."""
    require("ray", "--executor ray")


def run_on_ray(
    pending: list,
    results: Path,
    source,
    on_event: Callable[[Event], None],
    keep_checkpoint: bool,
    address: str | None,
    cpus_per_run: float,
    gpus_per_run: float,
) -> Iterator:
    """Attempt every (spec, position) of `pending` as a Ray task, yielding each runner.Attempt as it comes.

    Connects to the cluster at `address` ("auto": the one `ray start` runs here; None: the one this process
    already joined, else $RAY_ADDRESS, else a new local one). Each task asks for `cpus_per_run` CPUs (its torch
    threads) and `gpus_per_run` GPUs (a fraction shares one; with none, `device: auto` trains on the CPU), trains
    the run into a temporary folder on its node, and returns the run's files; this process holds each run's
    claim meanwhile and publishes the files under `results`, so resume, compare and predict read them as any
    other run. A run interrupted on a node starts over (its checkpoints stay on the node)."""
    require_ray()
    import ray

    from rnnbench import rundir
    from rnnbench.events import RunBusy, RunFailed, RunSkipped
    from rnnbench.runner import Attempt, failed

    if not ray.is_initialized():
        reachable(address)
        try:  # Ray's own notes (its start, its token) are left out: errors still come through
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = f"at {address}" if address else "(a new local one)"
            raise RnnbenchError(
                f"--executor ray: cannot join the Ray cluster {where}: {str(error).splitlines()[0]}"
            ) from None
    events = ray.remote(num_cpus=0)(Mailbox).remote()
    task = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(_ray_run)
    threads = max(1, int(cpus_per_run))
    refs = {}
    with contextlib.ExitStack() as claims:
        try:
            shared = ray.put(source)  # sent to the cluster once, not once per run
            for spec, position in longest_first(pending):
                if not claims.enter_context(rundir.claim(results, spec)):  # another `run` is training it
                    on_event(RunBusy(spec))
                    continue
                if (done := rundir.finished_run(results, spec)) is not None:
                    on_event(RunSkipped(spec, done))
                    yield Attempt(spec, "skipped", done)
                    continue
                on_node = spec if gpus_per_run or spec.device != "auto" else spec.model_copy(update={"device": "cpu"})
                refs[task.remote(on_node, position, shared, keep_checkpoint, events, threads)] = spec
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_SECONDS)
                _forward_ray(events, on_event, RunFailed)
                for ref in ready:
                    spec = refs.pop(ref)
                    try:
                        attempt, files = ray.get(ref)
                    except ray.exceptions.RayError as error:  # the task or its worker died
                        last = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
                        yield failed(results, spec, f"the Ray task died: {last}", str(error), on_event)
                        continue
                    if attempt.status == "failed":  # recorded here, where the results are, not on the node
                        yield failed(results, spec, attempt.error, attempt.details, on_event, attempt.repeats)
                    elif attempt.status == "finished":
                        try:
                            path = rundir.publish_files(results, spec, files)
                        except rundir.AlreadyFinished as finished:
                            yield Attempt(spec, "skipped", finished.path)
                            continue
                        rundir.clear_failure(results, spec)
                        yield Attempt(spec, "finished", path)
                    else:
                        yield attempt
            time.sleep(POLL_SECONDS)
            _forward_ray(events, on_event, RunFailed)
        except BaseException:  # Ctrl-C, the caller's handler, or close(): cancel what is left on the cluster
            for ref in refs:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise


def reachable(address: str | None, seconds: float = 5) -> None:
    """Raise a one-line RnnbenchError if `address` is a host:port nothing answers on within `seconds` (Ray
    itself would retry for minutes); "auto", None and other forms are left to Ray."""
    host, _, port = (address or "").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.removeprefix("ray://"), int(port)), timeout=seconds).close()
    except OSError as error:
        raise RnnbenchError(
            f"--address {address}: no Ray cluster answers there ({error.strerror or error}); "
            "start one with `ray start --head` and pass the address it prints"
        ) from None


class Mailbox:
    """A Ray actor (one call at a time, each caller's calls in order) holding the events tasks send to the driver.
    Tasks send without waiting: a task blocked on a call would hand its CPU back to Ray, which would start another
    run on it."""

    def __init__(self):
        self.events = []

    def put(self, event) -> None:
        self.events.append(event)

    def take(self) -> list:
        events, self.events = self.events, []
        return events


def _forward_ray(events, on_event: Callable[[Event], None], RunFailed) -> None:
    import ray

    for event in ray.get(events.take.remote()):
        if not isinstance(event, RunFailed):  # a node's failure record is its own: the driver records and reports it
            on_event(event)


def _ray_run(spec, position, source, keep_checkpoint: bool, events, threads: int):
    """A Ray task: train one run into a temporary folder here, and return (its Attempt, its files or None)."""
    import torch

    from rnnbench import rundir
    from rnnbench.environment import resolve_device
    from rnnbench.runner import PreparedCache, attempt_run

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="rnnbench-ray-") as folder:
        cache = PreparedCache(resolve_device(spec.device))
        attempt = attempt_run(spec, Path(folder), source, cache, events.put.remote, position, keep_checkpoint)
        files = rundir.run_files(attempt.path) if attempt.status == "finished" else None
    return attempt, files
