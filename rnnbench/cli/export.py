"""`rnnbench export mlflow` and `export tensorboard`: finished runs sent to a tracker, one shared path for both
(check the extra, read the runs, export them, print what happened and where to look)."""

from __future__ import annotations

import functools
import os
import shlex
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnbench import views
from rnnbench.cli.inputs import finished_runs
from rnnbench.cli.options import Format, FormatOption, JsonOption, ResultsOption
from rnnbench.cli.output import note, out, output_format, print_json, skipped
from rnnbench.errors import RnnbenchError
from rnnbench.extras import require
from rnnbench.terminal import print_view

ExportExperimentOption = Annotated[
    Optional[str], typer.Option("--experiment", metavar="NAME", help="Only the runs of this rnnbench experiment.")
]


def mlflow(
    results: ResultsOption = Path("results"),
    experiment: ExportExperimentOption = None,
    tracking_uri: Annotated[
        Optional[str],
        typer.Option(
            "--tracking-uri",
            metavar="URI",
            help=(
                "The MLflow tracking store or server. Default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db (a file "
                "here; `mlflow ui` here shows it)."
            ),
            show_default=False,
        ),
    ] = None,
    mlflow_experiment: Annotated[
        Optional[str],
        typer.Option(
            "--mlflow-experiment",
            metavar="NAME",
            help=(
                "The MLflow experiment to log into. Default: the one named after each run's rnnbench experiment "
                "(created if missing)."
            ),
            show_default=False,
        ),
    ] = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Log every finished run to MLflow: settings as parameters, per-epoch and final metrics, tags, and the run
    directory as artefacts. Runs exported before are not logged again (needs rnnbench\\[mlflow])."""
    from rnnbench.export.mlflow import DEFAULT_TRACKING_URI, to_mlflow

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    look = f"mlflow ui --backend-store-uri {shlex.quote(uri)}" if uri.startswith("sqlite:") else None
    _export(
        "mlflow",
        functools.partial(to_mlflow, tracking_uri=uri, experiment=mlflow_experiment),
        results,
        experiment,
        output_format(format_, as_json),
        uri,
        look,
    )


def tensorboard(
    results: ResultsOption = Path("results"),
    experiment: ExportExperimentOption = None,
    logdir: Annotated[
        Path,
        typer.Option(
            "--logdir",
            metavar="DIR",
            help="Folder for the event files: one folder per run, DIR/EXPERIMENT/VARIANT-KEY/seed-N.",
        ),
    ] = Path("tensorboard_logs"),
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Write TensorBoard event files for every finished run: per-epoch and final scalars, the resolved config
    as text. Runs exported before are left as they are (needs rnnbench\\[tensorboard])."""
    from rnnbench.export.tensorboard import to_tensorboard

    _export(
        "tensorboard",
        functools.partial(to_tensorboard, logdir=logdir),
        results,
        experiment,
        output_format(format_, as_json),
        str(logdir),
        f"tensorboard --logdir {shlex.quote(str(logdir))}",
    )


def _export(extra: str, write, results: Path, experiment: str | None, shown: str, where: str, look: str | None) -> None:
    """`export <extra>`: check the extra is installed, read the finished runs (of `experiment`), export them with
    `write(runs, on_run=...)` and print the result: one row per run (key, status, MLflow run id or folder; the run
    directories that could not be read are skipped too), then what to run to look; if it fails part-way, how far
    it got."""
    from rnnbench.compare import count

    require(extra, f"export {extra}")  # before the runs are read
    unreadable = []
    runs = finished_runs(results, experiment, unreadable)
    note(f"exporting {count(len(runs), 'run')} to {where}")
    done = []
    try:
        exported = write(runs, on_run=done.append)
    except RnnbenchError:
        if done:
            note(
                f"note: {count(len(done), 'run')} of {len(runs)} exported (or there already) before the error; "
                "exporting again goes on from there"
            )
        raise
    if shown == "json":
        print_json({"destination": where, "runs": [vars(item) for item in exported], "unreadable": unreadable})
    else:
        print_view(
            views.Table(
                f"exported to {where}",
                ["run", "status", "where"],
                [[item.run_key, item.status, item.where] for item in exported],
            ),
            out,
        )
    counts = Counter(item.status for item in exported)
    counts["skipped"] += len(unreadable)  # listed as they were read
    for item in exported:
        if item.status == "skipped":
            skipped(item.where)
    note(
        f"{counts['exported']} exported, {counts['already there']} already there"
        + (f", {counts['skipped']} skipped (damaged, listed above)" if counts["skipped"] else "")
        + (
            f", {counts['differs']} differ from what is there under the same run key (left as they were; delete "
            "those there to export these)"
            if counts["differs"]
            else ""
        )
        + (f"; look: {look}" if look else "")
    )
