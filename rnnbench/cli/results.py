"""`rnnbench compare`, `show` and `report`: finished runs read back, as a table over seeds per variant, one run's
scores and errors, or a Markdown report of an experiment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnbench import views
from rnnbench.cli.inputs import finished_runs, note_unfinished
from rnnbench.cli.options import CompareFormat, Format, FormatOption, JsonOption, MetricOption, ResultsOption
from rnnbench.cli.output import note, out, output_format, print_json, say
from rnnbench.errors import RnnbenchError, UsageError
from rnnbench.extras import require
from rnnbench.terminal import print_view


def compare(
    results: ResultsOption = Path("results"),
    experiment: Annotated[
        Optional[str], typer.Option("--experiment", metavar="NAME", help="Only this experiment.")
    ] = None,
    sort: Annotated[
        Optional[str],
        typer.Option("--sort", metavar="COLUMN", help="Order by this column, e.g. params or test_accuracy_mean."),
    ] = None,
    format_: Annotated[
        CompareFormat, typer.Option("--format", help="table, markdown, csv or json.")
    ] = CompareFormat.table,
    as_json: JsonOption = False,
    metric: MetricOption = None,
    versus: Annotated[
        Optional[str],
        typer.Option("--vs", metavar="VARIANT", help="Compare every variant with this one (default: the best)."),
    ] = None,
    plot: Annotated[
        Optional[Path], typer.Option("--plot", metavar="DIR", help="Also write PNG plots into this folder.")
    ] = None,
    trials: Annotated[
        bool, typer.Option("--trials", help="Also show the tuning trials of `rnnbench tune` (left out by default).")
    ] = False,
    tuning: Annotated[
        bool,
        typer.Option(
            "--tuning",
            help="Also show each tuned variant's tuning curve: the best validation score to expect after n trials "
            "(random sampler; TPE: the best so far), and which variant leads at which budget.",
        ),
    ] = False,
):
    """Aggregate finished runs per variant, with statistics over seeds.

    Every metric gets mean ± std and a 95% interval over seeds; each variant is compared with the best (or
    --vs VARIANT) by a paired t-test over the seeds they share, Holm-adjusted, and marked when the seeds cannot
    tell the difference from noise."""
    from rnnbench import compare as compare_runs
    from rnnbench.compare import curves

    shown = output_format(format_, as_json)
    if plot is not None:
        require("plot", "--plot")  # before any work
    summary, runs, tuning_trials = summary_of(
        results, experiment=experiment, sort=sort, metric=metric, versus=versus, trials=trials
    )
    if versus is not None:
        for name, part in compare_runs.by_experiment(summary):
            if not (part["variant"] == versus).any():
                note(f"note: --vs {versus}: experiment {name} has no such variant; it is compared with its best")
    if tuning and shown == "csv":
        raise UsageError("--tuning: with --format table, markdown or json")
    tuned = tuning_curves(results, experiment) if tuning else {}
    if shown == "table":
        print_table(summary)
        for name, found in tuned.items():
            print_view(curves.table(name, found), out)
    elif shown == "json" and tuning:
        print_json({"summary": compare_runs.to_records(summary), "tuning": tuned})
    else:
        sys.stdout.write(compare_runs.RENDERERS[shown](summary))
        for name, found in tuned.items():
            table = curves.table(name, found)
            sys.stdout.write("\n" + "\n".join(views.to_markdown(table, f"### {table.title}")))
    for name in sorted({run.spec.experiment for run in runs}):  # what the table cannot show: runs not finished
        note_unfinished(results, name)
    if plot is not None:
        from rnnbench.plots import write_plots

        for path in write_plots(summary, runs, plot, tuning_trials):
            note(f"plot: {path}")


def show(
    run_path: Annotated[
        Path,
        typer.Argument(
            metavar="RUN_DIR",
            help="A run directory, e.g. results/<experiment>/<variant>-<key>/seed-0.",
            show_default=False,
        ),
    ],
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="How many confused pairs to list.")] = 10,
    format_: Annotated[
        Format, typer.Option("--format", help="table, or json: the run's metrics.json as recorded.")
    ] = Format.table,
    as_json: JsonOption = False,
):
    """Show one run's scores and the errors worth looking at.

    Names: per-language precision, recall and F1, the most confused language pairs with example names, and the
    confusion matrix. Reversal: exact accuracy per length."""
    from rnnbench import rundir
    from rnnbench.tasks import TASKS

    shown = output_format(format_, as_json)
    run = rundir.load_run(run_path)
    if shown == "json":
        print_json(run.metrics)
        return
    kept = (
        "diverged"
        if run.diverged
        else f"weights of the best, epoch {run.best_epoch}"
        if run.spec.train.restore_best
        else "weights of the last epoch kept"
    )
    trained = (  # a model with no parameters (a baseline) was scored once, never trained
        f"{views.count(run.epochs_run, 'epoch')} ({kept})" if run.parameters else "scored (no training)"
    )
    say(
        f"{run.path}: {run.spec.experiment} / {run.spec.variant}, seed {run.spec.seed}; {run.parameters:,} "
        f"parameters; {trained} in {run.train_seconds:.1f} s"
    )
    if run.diverged is not None:
        say(
            f"diverged in epoch {run.diverged['epoch']} ({run.diverged.get('reason', 'not finite')}): no scores; "
            f"{run.path / 'history.csv'} holds the losses up to then"
        )
        return
    task = TASKS[run.task]
    scores, splits = task.show_scores(run)
    rows = []
    for split in splits:
        cells = [run.scores.get(f"{split}_{key}") for key, _, _ in scores]
        if any(cell is not None for cell in cells):
            rows.append(
                [
                    split,
                    *(
                        "-" if cell is None else f"{cell * scale:.{1 if scale == 100 else 3}f}"
                        for cell, (_, _, scale) in zip(cells, scores)
                    ),
                ]
            )
    print_view(
        views.Table(
            "scores", ["split", *(header for _, header, _ in scores)], rows, right=set(range(1, len(scores) + 1))
        ),
        out,
    )
    for item in task.show_tables(run, rundir.load_predictions(run.path), top):
        if isinstance(item, str):
            say(item)
        else:
            print_view(item, out)


def report(
    experiment: Annotated[
        str,
        typer.Argument(
            metavar="EXPERIMENT",
            help="An experiment YAML file, or the name of an experiment under --results.",
            show_default=False,
        ),
    ],
    results: ResultsOption = Path("results"),
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out", metavar="DIR", help="Folder for report.md and its plots. Default: <results>/<experiment>/report."
        ),
    ] = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Write one self-contained Markdown report of an experiment, with its plots.

    How to repeat it, the environment, the data hygiene report, the comparison with statistics, the plots and
    the errors worth reading."""
    shown = output_format(format_, as_json)
    require("plot", "report")  # its plots; before anything is read or written
    from rnnbench import compare as compare_runs
    from rnnbench import config
    from rnnbench.report import write_report

    name = config.load(Path(experiment)).name if experiment.endswith((".yaml", ".yml")) else experiment
    runs = finished_runs(results, name)
    path = write_report(runs, out_dir or Path(results) / name / "report")
    if shown == "json":
        print_json({"report": str(path), "runs": len(runs), "plots": sorted(str(p) for p in path.parent.glob("*.png"))})
        return
    beside = "its plots and experiment.yaml" if (path.parent / "experiment.yaml").is_file() else "its plots"
    note(f"report of {compare_runs.count(len(runs), 'run')}, with {beside} beside it:")
    say(str(path))


def summary_of(
    results: Path,
    experiment: str | None = None,
    sort: str | None = None,
    metric: str | None = None,
    versus: str | None = None,
    trials: bool = False,
):
    """(one row per variant with statistics over seeds, the finished runs it was made of, the tuning trials of
    `rnnbench tune` among the runs found) for `results`; the trials are rows of the summary only with `trials`."""
    from rnnbench import compare as compare_runs

    found = finished_runs(results, experiment)
    runs = [run for run in found if trials or not run.tuning_trial]
    if not runs:
        raise RnnbenchError(f"{results}: only tuning trials are finished; show them with compare --trials")
    summary = compare_runs.summarize(compare_runs.runs_frame(runs), sort=sort, metric=metric, reference=versus)
    return summary, runs, [run for run in found if run.tuning_trial]


def print_table(summary) -> None:
    """A summary (summary_of) as one table per experiment, each with the legend that says how to read it."""
    from rnnbench import compare as compare_runs

    for name, part in compare_runs.by_experiment(summary):
        headers = list(compare_runs.headers(part))
        right = {i for i, header in enumerate(headers) if header not in compare_runs.TEXT_COLUMNS}
        table = views.Table(name, headers, compare_runs.display_rows(part), right=right, narrow_headers=True)
        print_view(table, out)
        out.print(compare_runs.legend(part), markup=False, highlight=False, style="dim")


def tuning_curves(results: Path, experiment: str | None) -> dict[str, dict]:
    """{experiment: its tuning curves (compare.curves.experiment_curves)} for the experiments under `results`
    with tuning trials. Refuses where none has any."""
    from rnnbench.compare import curves

    runs = finished_runs(results, experiment)
    found = {}
    for name in sorted({run.spec.experiment for run in runs if run.tuning_trial}):
        found[name] = curves.experiment_curves([run for run in runs if run.spec.experiment == name])
    if not found:
        raise RnnbenchError(f"{results}: no tuning trials to draw curves from; tune first (rnnbench tune)")
    return found
