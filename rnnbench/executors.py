"""Where an experiment's pending runs execute, other than one after another in this process: a pool of local
worker processes (`run --jobs N`), or Ray tasks on a cluster (`run --executor ray`). Both call the one runner,
runner.attempt_run, and yield one runner.Attempt per run as runs finish; events (epochs, finished runs) reach
the caller's handler in this process as they happen.

    run_in_pool   N spawned processes, each setting torch's threads to its share of the cores before any work;
                  they write run directories under `results` themselves (one filesystem), claiming each run
                  with the same lock two `run` commands share.
    run_on_ray    one Ray task per run (num_cpus, and num_gpus as a fraction so that small RNNs share a GPU); the
                  task trains into a temporary folder on its node and returns the run's files, which this process
                  (the driver) publishes under `results`: no filesystem needs to be shared with the cluster.

Ray is an optional extra, imported only here and only when asked for.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import queue as queues
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench.errors import RnnbenchError

# rundir and events (torch with them) are imported where used: warm_up runs before this process imports torch
if TYPE_CHECKING:
    from rnnbench.events import Event

POLL_SECONDS = 0.1  # how often the driver forwards events while it waits for runs


# ------------------------------------------------------------------------------------------ local processes


def threads_per_worker(jobs: int, threads: int) -> int:
    """torch threads for each of `jobs` workers sharing `threads` CPU threads: never more threads than cores
    altogether (two 2-thread processes on 2 cores slow each other down several times over), at least 1.
    Example: 4 threads, 2 jobs -> 2; 2 threads, 3 jobs -> 1."""
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

    return attempt_run(spec, results, _worker["source"], _worker["cache"], _worker["events"].put, position,
                       keep_checkpoint)  # fmt: skip


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


def run_in_pool(pending: list, results: Path, source, on_event: Callable[[Event], None], keep_checkpoint: bool,
                jobs: int, threads: int | None = None) -> Iterator:  # fmt: skip
    """Attempt every (spec, position) of `pending` in `jobs` worker processes, yielding each runner.Attempt as it
    comes. Each worker sets torch's threads to `threads` (default: this process's count) ÷ jobs. A worker that
    dies (killed for memory, say) fails the runs it and its pool had left. Ctrl-C stops the workers at once; a
    run they leave keeps its last checkpoint, and no half-written run directory."""
    import torch

    from rnnbench.environment import resolve_device
    from rnnbench.runner import Attempt

    from rnnbench import rundir
    from rnnbench.events import RunFailed

    context = _context()
    events = context.Queue()
    per_worker = threads_per_worker(jobs, threads or torch.get_num_threads())
    device = resolve_device(pending[0][0].device).type if pending else "cpu"
    pool = concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                                  initargs=(per_worker, events, source, device))  # fmt: skip
    try:
        futures = {pool.submit(_work, spec, results, position, keep_checkpoint): spec
                   for spec, position in longest_first(pending)}  # fmt: skip
        waiting = set(futures)
        while waiting:
            done, waiting = concurrent.futures.wait(waiting, timeout=POLL_SECONDS,
                                                    return_when=concurrent.futures.FIRST_COMPLETED)  # fmt: skip
            _forward(events, on_event)
            for future in done:
                spec = futures[future]
                try:
                    yield future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    error = "a worker process died before this run finished (killed by the system: out of memory?)"
                    record = rundir.record_failure(results, spec, error)
                    on_event(RunFailed(spec, error, record))
                    yield Attempt(spec, "failed", error=error)
        pool.shutdown(wait=True)  # the workers flush what they still hold of the events as they exit
        _forward(events, on_event)
    except BaseException:  # Ctrl-C, or the caller's handler: stop every worker now
        for process in multiprocessing.active_children():
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def longest_first(pending: list) -> list:
    """The (spec, position) pairs of each seed (and data setting), the costliest runs first: the workers finish
    together rather than one waiting on the last long run (longest processing time first). A run's cost is
    estimated from its recurrent weights (gates × directions × layers × hidden × (hidden + input)) × max_epochs;
    a baseline's is 0. Runs of one seed stay together, so that each worker prepares a seed's data once."""

    def cost(spec) -> float:
        model = spec.model
        hidden = model.hidden_size if model.param_budget is None else model.param_budget ** 0.5
        gates = {"lstm": 4, "gru": 3, "rnn": 1, "linear_rnn": 1}.get(model.cell, 0)
        width = hidden * (hidden + (model.embedding_dim or hidden))
        return gates * (2 if model.bidirectional else 1) * model.num_layers * width * spec.train.max_epochs

    groups: dict = {}
    for item in pending:
        groups.setdefault((item[0].seed, item[0].data.model_dump_json()), []).append(item)
    return [item for group in groups.values() for item in sorted(group, key=lambda item: -cost(item[0]))]


def _forward(events, on_event: Callable[[Event], None]) -> None:
    while True:
        try:
            event = events.get_nowait()
        except queues.Empty:
            return
        on_event(event)


# ------------------------------------------------------------------------------------------------------ Ray


RAY_MISSING = 'Ray is not installed: pip install "rnnbench[ray]" (or pip install ray)'


def run_on_ray(pending: list, results: Path, source, on_event: Callable[[Event], None], keep_checkpoint: bool,
               address: str | None, cpus_per_run: float, gpus_per_run: float) -> Iterator:  # fmt: skip
    """Attempt every (spec, position) of `pending` as a Ray task, yielding each runner.Attempt as it comes.

    Connects to the cluster at `address` ("auto": the one `ray start` runs here; None: the one this process
    already joined, else $RAY_ADDRESS, else a new local one). Each task asks for `cpus_per_run` CPUs (its torch
    threads) and `gpus_per_run` GPUs (a fraction shares one), trains the run into a temporary folder on its node,
    and returns the run's files; this process publishes them under `results`, so resume, compare and predict
    read them as any other run. A run interrupted on a node starts over (its checkpoints stay on the node)."""
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError:
        raise RnnbenchError(f"--executor ray: {RAY_MISSING}") from None
    from rnnbench.runner import Attempt

    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = f"at {address}" if address else "(a new local one)"
            raise RnnbenchError(f"--executor ray: cannot join the Ray cluster {where}: {str(error).splitlines()[0]}") from None
    events = Queue()
    task = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)(_ray_run)
    shared = ray.put(source)  # sent to the cluster once, not once per run
    threads = max(1, int(cpus_per_run))
    refs = {task.remote(spec, position, shared, keep_checkpoint, events, threads): spec
            for spec, position in longest_first(pending)}  # fmt: skip
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_SECONDS)
            _forward_ray(events, on_event)
            for ref in ready:
                spec = refs.pop(ref)
                try:
                    attempt, files = ray.get(ref)
                except ray.exceptions.RayError as error:  # the task or its worker died
                    attempt, files = Attempt(spec, "failed", error=f"the Ray task died: {str(error).splitlines()[0]}"), None
                yield _settle(attempt, files, results, on_event, Attempt)
        time.sleep(POLL_SECONDS)
        _forward_ray(events, on_event)
    except BaseException:  # Ctrl-C, or the caller's handler: cancel what is left on the cluster
        for ref in refs:
            ray.cancel(ref, force=True)
        raise


def _settle(attempt, files, results: Path, on_event, Attempt):
    """A Ray task's attempt as it stands in `results`: its files published there, or its failure recorded."""
    from rnnbench import rundir
    from rnnbench.events import RunFailed

    spec = attempt.spec
    if attempt.status == "finished":
        try:
            path = rundir.publish_files(results, spec, files)
        except rundir.AlreadyFinished as finished:
            return Attempt(spec, "skipped", finished.path)
        rundir.clear_failure(results, spec)
        return Attempt(spec, "finished", path)
    if attempt.status == "failed":
        record = rundir.record_failure(results, spec, attempt.error, attempt.details)
        on_event(RunFailed(spec, attempt.error, record))
    return attempt


def _forward_ray(events, on_event: Callable[[Event], None]) -> None:
    from rnnbench.events import RunFailed

    for event in events.get_nowait_batch(events.size()) if events.size() else []:
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
        attempt = attempt_run(spec, Path(folder), source, cache, events.put, position, keep_checkpoint)
        files = rundir.run_files(attempt.path) if attempt.status == "finished" else None
    return attempt, files

