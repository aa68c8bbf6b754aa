"""`rnnbench export`: finished runs into the trackers people already use, MLflow and TensorBoard.

Each run goes in whole: its resolved settings as parameters, its history as per-epoch metrics (`epoch/<column>`,
step = epoch), its final scores and costs as metrics, its identity and environment as tags, and (MLflow) its run
directory as artefacts. A run is known by its run key, `<experiment>/<variant>-<key>/seed-<n>` (its place under
the results folder), and its content by the SHA-256 of its metrics.json: exporting again adds nothing for a run
already there, and never replaces a run exported before with other content (a run trained again after its
directory was deleted), which is reported instead.

MLflow and TensorBoard are extras (`rnnbench[mlflow]`, `rnnbench[tensorboard]`), imported here only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from rnnbench import rundir, yamlfile
from rnnbench.errors import RnnbenchError
from rnnbench.extras import require
from rnnbench.rundir import RunRecord

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # a file beside the command; `mlflow ui` there shows it
MAX_PARAM_CHARS = 6000  # MLflow's limit on a parameter's value; config.yaml, an artefact, holds it whole
MARKER = "rnnbench-export.json"  # in each TensorBoard run folder: which run, which content


@dataclass(frozen=True)
class Exported:
    """What happened to one run: status is 'exported', 'already there' (same content), 'differs' (the key holds
    other content, left as it was) or 'skipped' (its files could not be read); `where` is the MLflow run id or the
    TensorBoard folder, or for a skipped run why."""

    run_key: str
    status: str
    where: str


# What every tracker receives, from the run record alone.


def run_key(run: RunRecord) -> str:
    """The run's place under its results folder. Example: 'names_de_it/gru-uni-1x64-3f2a9c/seed-0'."""
    return f"{run.spec.experiment}/{run.path.parent.name}/{run.path.name}"


def content_sha256(run: RunRecord) -> str:
    """SHA-256 of the run's metrics.json: a run trained again gets another (its timing, at least)."""
    return hashlib.sha256((run.path / "metrics.json").read_bytes()).hexdigest()


def params_of(run: RunRecord) -> dict[str, str]:
    """The resolved config, flattened with dots, as strings (lists as JSON). Example: {'model.cell': 'gru',
    'train.learning_rate': '0.005', 'data.languages': '["German", "Italian"]', 'seed': '0', ...}; plus the
    hidden size a parameter budget solved for, as model.hidden_size_resolved."""
    flat = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            flat[prefix] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"

    walk("", run.config)
    flat["model.hidden_size_resolved"] = str(run.hidden_size)
    return flat


def curves_of(run: RunRecord) -> list[tuple[str, int, float, int]]:
    """history.csv as (name `epoch/<column>`, epoch, value, when the epoch ended in ms since the epoch: the run's
    start plus the seconds its epochs took). Example: [('epoch/train_loss', 1, 0.61, 1796127563830), ...]."""
    curves, clock = [], times_of(run)[0]
    for row in rundir.load_history(run.path):
        clock += int(1000 * (row.get("seconds") or 0.0))
        curves += [(f"epoch/{column}", int(row["epoch"]), value, clock) for column, value in row.items()
                   if column != "epoch" and value is not None]  # fmt: skip
    return curves


def final_metrics_of(run: RunRecord) -> dict[str, float]:
    """The run's recorded scores (test_accuracy, validation_loss, test_rmse, ...; empty splits left out) and its
    costs: parameters, epochs_run, best_epoch, train_seconds, seconds_per_epoch."""
    costs = {key: getattr(run, key) for key in ("parameters", "epochs_run", "best_epoch", "train_seconds", "seconds_per_epoch")}
    return {**{key: float(value) for key, value in run.scores.items() if value is not None},
            **{key: float(value) for key, value in costs.items()}}  # fmt: skip


def tags_of(run: RunRecord, digest: str) -> dict[str, str]:
    """Who the run is (rnnbench.*; `digest` its content_sha256) and what trained it (environment.*: versions,
    device, threads, git commit)."""
    tags = {"rnnbench.run_key": run_key(run), "rnnbench.experiment": run.spec.experiment,
            "rnnbench.variant": run.spec.variant, "rnnbench.variant_key": run.variant_key, "rnnbench.task": run.task,
            "rnnbench.seed": str(run.spec.seed), "rnnbench.run_dir": str(run.path.resolve()),
            "rnnbench.metrics_sha256": digest}  # fmt: skip
    if run.diverged is not None:
        tags["rnnbench.diverged"] = f"epoch {run.diverged['epoch']}"
    tags.update({f"environment.{key}": str(value) for key, value in run.environment.items() if value is not None})
    return tags


def times_of(run: RunRecord) -> tuple[int, int]:
    """(start, end) in milliseconds since the epoch: end when the run finished (now, for a run that did not record
    it), start its training time earlier."""
    try:
        end = int(datetime.fromisoformat(run.environment["finished"]).timestamp() * 1000)
    except (KeyError, TypeError, ValueError):
        end = int(time.time() * 1000)
    return end - int(run.train_seconds * 1000), end


# MLflow


def to_mlflow(runs: list[RunRecord], tracking_uri: str, experiment: str | None = None,
              on_run: Callable[[Exported], None] | None = None) -> list[Exported]:  # fmt: skip
    """Log every run to the MLflow tracking server or store at `tracking_uri`, into the MLflow experiment named
    after its rnnbench experiment (or `experiment`, for all); `on_run` hears of each run as it is done. A run
    whose key is in that MLflow experiment already, finished, is not logged again; one left unfinished by an
    export that was interrupted is deleted and logged anew; a run whose files cannot be read is 'skipped'. A new
    SQLite store is created under another name and renamed into place once ready, and one export at a time
    writes to it (a lock file beside it). An http(s) server gets 30 s a request and two retries (unless
    $MLFLOW_HTTP_REQUEST_TIMEOUT / $MLFLOW_HTTP_REQUEST_MAX_RETRIES say otherwise; MLflow's own default retries
    for minutes). Raises RnnbenchError if MLflow is not installed or the store cannot be opened or written."""
    require("mlflow", "export mlflow")
    database = _check_store(tracking_uri)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    for name in ("mlflow", "alembic", "databricks", "urllib3"):  # their notes and retry warnings: errors say it all
        logging.getLogger(name).setLevel(logging.ERROR)
    from mlflow import MlflowClient
    from mlflow.entities import RunStatus
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with _only_export(database) if database else contextlib.nullcontext():
            if database is not None and not database.exists():
                _create_store(database)
            client = MlflowClient(tracking_uri=tracking_uri)
            experiments: dict[str, tuple[str, dict]] = {}  # MLflow experiment name -> (its id, {run key: MLflow run})
            done = []
            for run in runs:
                name = experiment or run.spec.experiment
                if name not in experiments:
                    found = client.get_experiment_by_name(name)
                    experiment_id = found.experiment_id if found else client.create_experiment(name)
                    experiments[name] = experiment_id, _runs_by_key(client, experiment_id)
                experiment_id, by_key = experiments[name]
                key, digest = run_key(run), content_sha256(run)
                before = by_key.get(key)
                if before is not None and before.info.status == RunStatus.to_string(RunStatus.FINISHED):
                    same = before.data.tags.get("rnnbench.metrics_sha256") == digest
                    done.append(Exported(key, "already there" if same else "differs", before.info.run_id))
                else:
                    try:
                        logged = _mlflow_run(run, digest)  # read before anything is written
                    except RnnbenchError as error:
                        done.append(Exported(key, "skipped", str(error)))
                    else:
                        if before is not None:  # an export interrupted half-way: its run is incomplete
                            client.delete_run(before.info.run_id)
                        done.append(Exported(key, "exported", _log_run(client, experiment_id, run, logged)))
                if on_run is not None:
                    on_run(done[-1])
            return done
    except (MlflowException, SQLAlchemyError) as error:
        raise RnnbenchError(f"export mlflow: {tracking_uri}: {str(error).strip().splitlines()[0]}") from None
    except OSError as error:  # the store's folder cannot be made or written, the artefacts cannot be copied
        raise RnnbenchError(f"export mlflow: {tracking_uri}: {error.strerror or error}"
                            + (f" ({error.filename})" if error.filename else "")) from None


def _mlflow_run(run: RunRecord, digest: str) -> dict:
    """What one run becomes in MLflow (tags, metrics, params, times), read from its files; RnnbenchError if one
    of them cannot be read."""
    from mlflow.entities import Metric, Param

    start, end = times_of(run)
    metrics = [Metric(name, value, when, step) for name, step, value, when in curves_of(run)]
    metrics += [Metric(name, value, end, run.epochs_run) for name, value in final_metrics_of(run).items()]
    return {"tags": tags_of(run, digest), "metrics": metrics, "start": start, "end": end,
            "params": [Param(name, value) for name, value in params_of(run).items()]}  # fmt: skip


def _log_run(client, experiment_id: str, run: RunRecord, logged: dict) -> str:
    """One run as a new MLflow run, marked FINISHED once everything is logged; its id."""
    created = client.create_run(experiment_id, start_time=logged["start"], tags=logged["tags"],
                                run_name=f"{run.path.parent.name} seed {run.spec.seed}")  # fmt: skip
    run_id = created.info.run_id
    metrics, params = logged["metrics"], logged["params"]
    for first in range(0, max(len(metrics), len(params)), 100):  # MLflow takes at most 100 params a call
        client.log_batch(run_id, metrics=metrics[first : first + 100], params=params[first : first + 100])
    client.log_artifacts(run_id, str(run.path))
    client.set_terminated(run_id, "FINISHED", end_time=logged["end"])
    return run_id


def _check_store(tracking_uri: str, seconds: float = 5) -> Path | None:
    """The SQLite database file of `tracking_uri` (None for another store), after raising a one-line
    RnnbenchError for a store MLflow would fail on slowly or with a traceback: an http(s) server nothing answers
    on within `seconds` (MLflow retries for minutes), a SQLite URI that names no file, a folder or a file that is
    not a SQLite database. Other stores are left to MLflow."""
    parts = urlsplit(tracking_uri)
    if parts.scheme in ("http", "https") and parts.hostname:
        try:
            socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)),
                                     timeout=seconds).close()  # fmt: skip
        except (OSError, ValueError) as error:
            raise RnnbenchError(f"--tracking-uri {tracking_uri}: no MLflow server answers there "
                                f"({getattr(error, 'strerror', None) or error}); start one (mlflow server) or check the "
                                "address") from None  # fmt: skip
    path = _sqlite_path(tracking_uri)
    if path is not None and path.is_dir():
        raise RnnbenchError(f"--tracking-uri {tracking_uri}: {path} is a folder; name the database file in it, "
                            f"e.g. sqlite:///{path / 'mlflow.db'}")  # fmt: skip
    if path is not None and path.is_file() and path.stat().st_size:
        import sqlite3

        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
                database.execute("PRAGMA schema_version")
        except sqlite3.Error as error:
            raise RnnbenchError(f"--tracking-uri {tracking_uri}: {path} is not a SQLite database ({error}); name "
                                "another file") from None  # fmt: skip
    return path


def _sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a `sqlite:///PATH` URI (None for any other store); RnnbenchError for one that names
    no file (an in-memory database would keep nothing)."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    path = tracking_uri[len("sqlite:///") :] if tracking_uri.startswith("sqlite:///") else ""
    if not path or path == ":memory:":
        raise RnnbenchError(f"--tracking-uri {tracking_uri}: names no database file (an in-memory store keeps "
                            "nothing); e.g. sqlite:///mlflow.db")  # fmt: skip
    return Path(path)


def _create_store(database: Path) -> None:
    """A new MLflow SQLite store at `database`, made under another name and renamed into place once MLflow has
    created its tables (which takes seconds): an export cut short then leaves no half-made store."""
    from mlflow import MlflowClient

    database.parent.mkdir(parents=True, exist_ok=True)
    staging = database.with_name(f".{database.name}.{os.getpid()}.creating")
    try:
        MlflowClient(tracking_uri=f"sqlite:///{staging}").search_experiments()
        os.replace(staging, database)
    finally:
        staging.unlink(missing_ok=True)


@contextlib.contextmanager
def _only_export(path: Path):
    """Hold the lock file `<path>.lock` while exporting into `path`: a second export at once would take the first
    one's half-written runs for interrupted ones. Raises RnnbenchError at once if another export holds it."""
    from filelock import FileLock, Timeout

    lock = path.with_name(path.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(lock, timeout=0):
            yield
    except Timeout:
        raise RnnbenchError(f"{path}: another rnnbench export is writing to it (it holds {lock}); wait for it to "
                            "finish") from None


def _runs_by_key(client, experiment_id: str) -> dict[str, object]:
    """The experiment's active MLflow runs that rnnbench exported, by run key (the latest where several)."""
    by_key, token = {}, None
    while True:
        page = client.search_runs([experiment_id], filter_string="tags.`rnnbench.run_key` != ''", max_results=1000,
                                  order_by=["attributes.start_time ASC"], page_token=token)  # fmt: skip
        by_key.update({run.data.tags["rnnbench.run_key"]: run for run in page})
        token = page.token
        if not token:
            return by_key


# TensorBoard


def to_tensorboard(runs: list[RunRecord], logdir: Path, on_run: Callable[[Exported], None] | None = None) -> list[Exported]:
    """Write one TensorBoard event folder per run, `logdir/<run key>`: the history as scalars `epoch/<column>`
    (step = epoch), the final scores and costs as scalars `final/<name>` (step = epochs run), and the resolved
    config, the scores and the environment as text. Each folder is written in a staging folder beside `logdir`
    (outside it, where TensorBoard does not look) and renamed into place, so an export cut short leaves no
    half-written run in `logdir`; a folder already there is left as it is, a run whose files cannot be read is
    'skipped'; one export at a time writes to `logdir` (a lock file beside it). Raises RnnbenchError if TensorBoard
    is not installed or `logdir` cannot be written."""
    require("tensorboard", "export tensorboard")
    logdir = Path(logdir)
    try:
        logdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RnnbenchError(f"--logdir {logdir}: cannot make the folder ({error.strerror or error})") from None
    beside = logdir.resolve()
    done = []
    with _only_export(beside):
        for run in runs:
            key, digest = run_key(run), content_sha256(run)
            target = logdir / key
            if target.exists():
                marker = _read_marker(target)
                same = marker is not None and marker.get("metrics_sha256") == digest
                done.append(Exported(key, "already there" if same else "differs", str(target)))
            else:
                try:
                    with tempfile.TemporaryDirectory(dir=beside.parent, prefix=f".{beside.name}-staging-") as staging:
                        _write_events(run, Path(staging) / "run", digest)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.rename(Path(staging) / "run", target)
                    done.append(Exported(key, "exported", str(target)))
                except RnnbenchError as error:  # a damaged run: the others go on
                    done.append(Exported(key, "skipped", str(error)))
                except OSError as error:
                    raise RnnbenchError(f"{target}: cannot write the event files ({error.strerror or error})") from None
            if on_run is not None:
                on_run(done[-1])
    return done


def _write_events(run: RunRecord, folder: Path, digest: str) -> None:
    from torch.utils.tensorboard import SummaryWriter

    _, end = times_of(run)
    writer = SummaryWriter(log_dir=str(folder))
    try:
        for name, step, value, when in curves_of(run):
            writer.add_scalar(name, value, step, walltime=when / 1000)
        for name, value in final_metrics_of(run).items():
            writer.add_scalar(f"final/{name}", value, run.epochs_run, walltime=end / 1000)
        writer.add_text("config", _code_block(yamlfile.dump(run.config)), 0)
        writer.add_text("scores", _markdown_table(final_metrics_of(run)), 0)
        writer.add_text("environment", _markdown_table(run.environment), 0)
    finally:
        writer.close()
    (folder / MARKER).write_text(json.dumps({"run_key": run_key(run), "metrics_sha256": digest,
                                             "run_dir": str(run.path.resolve())}, indent=2) + "\n", encoding="utf-8")  # fmt: skip


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _code_block(text: str) -> str:
    """TensorBoard's text dashboard renders Markdown: a fenced block keeps YAML's indentation."""
    return "```yaml\n" + text + "```"


def _markdown_table(mapping: dict) -> str:
    return "| name | value |\n|---|---|\n" + "\n".join(f"| {key} | {value} |" for key, value in mapping.items())
