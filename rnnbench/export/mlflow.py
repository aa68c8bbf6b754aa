"""`rnnbench export mlflow`: runs into an MLflow tracking store or server (the `rnnbench[mlflow]` extra)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from rnnbench.errors import RnnbenchError
from rnnbench.export import (
    Exported,
    content_sha256,
    curves_of,
    final_metrics_of,
    only_export,
    params_of,
    run_key,
    tags_of,
    times_of,
)
from rnnbench.extras import require
from rnnbench.rundir import RunRecord

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # a file beside the command; `mlflow ui` there shows it


def to_mlflow(
    runs: list[RunRecord],
    tracking_uri: str,
    experiment: str | None = None,
    on_run: Callable[[Exported], None] | None = None,
) -> list[Exported]:
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
        with only_export(database) if database else contextlib.nullcontext():
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
        raise RnnbenchError(
            f"export mlflow: {tracking_uri}: {error.strerror or error}"
            + (f" ({error.filename})" if error.filename else "")
        ) from None


def _mlflow_run(run: RunRecord, digest: str) -> dict:
    """What one run becomes in MLflow (tags, metrics, params, times), read from its files; RnnbenchError if one
    of them cannot be read."""
    from mlflow.entities import Metric, Param

    start, end = times_of(run)
    metrics = [Metric(name, value, when, step) for name, step, value, when in curves_of(run)]
    metrics += [Metric(name, value, end, run.epochs_run) for name, value in final_metrics_of(run).items()]
    return {
        "tags": tags_of(run, digest),
        "metrics": metrics,
        "start": start,
        "end": end,
        "params": [Param(name, value) for name, value in params_of(run).items()],
    }


def _log_run(client, experiment_id: str, run: RunRecord, logged: dict) -> str:
    """One run as a new MLflow run, marked FINISHED once everything is logged; its id."""
    created = client.create_run(
        experiment_id,
        start_time=logged["start"],
        tags=logged["tags"],
        run_name=f"{run.path.parent.name} seed {run.spec.seed}",
    )
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
            socket.create_connection(
                (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)), timeout=seconds
            ).close()
        except (OSError, ValueError) as error:
            raise RnnbenchError(
                f"--tracking-uri {tracking_uri}: no MLflow server answers there "
                f"({getattr(error, 'strerror', None) or error}); start one (mlflow server) or check the "
                "address"
            ) from None
    path = _sqlite_path(tracking_uri)
    if path is not None and path.is_dir():
        raise RnnbenchError(
            f"--tracking-uri {tracking_uri}: {path} is a folder; name the database file in it, "
            f"e.g. sqlite:///{path / 'mlflow.db'}"
        )
    if path is not None and path.is_file() and path.stat().st_size:
        import sqlite3

        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
                database.execute("PRAGMA schema_version")
        except sqlite3.Error as error:
            raise RnnbenchError(
                f"--tracking-uri {tracking_uri}: {path} is not a SQLite database ({error}); name another file"
            ) from None
    return path


def _sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a `sqlite:///PATH` URI (None for any other store); RnnbenchError for one that names
    no file (an in-memory database would keep nothing)."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    path = tracking_uri[len("sqlite:///") :] if tracking_uri.startswith("sqlite:///") else ""
    if not path or path == ":memory:":
        raise RnnbenchError(
            f"--tracking-uri {tracking_uri}: names no database file (an in-memory store keeps "
            "nothing); e.g. sqlite:///mlflow.db"
        )
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


def _runs_by_key(client, experiment_id: str) -> dict[str, object]:
    """The experiment's active MLflow runs that rnnbench exported, by run key (the latest where several)."""
    by_key, token = {}, None
    while True:
        page = client.search_runs(
            [experiment_id],
            filter_string="tags.`rnnbench.run_key` != ''",
            max_results=1000,
            order_by=["attributes.start_time ASC"],
            page_token=token,
        )
        by_key.update({run.data.tags["rnnbench.run_key"]: run for run in page})
        token = page.token
        if not token:
            return by_key
