"""Plots of finished runs, written as PNG files: learning curves and accuracy against parameters for every
experiment, the tuning curves of a tuned one, then each task's own figures (the confusion matrix, accuracy per
length, a forecast), which the task draws through figures.py from what it reads with the loaders passed to it.
accuracy_vs_parameters stays here, not in figures.py, because it reads compare's summary table and labels.

Headless by construction: figures are matplotlib `Figure` objects saved through the Agg renderer; pyplot (and
with it any window or GUI backend) is never imported. Each variant keeps one colour and marker in every plot.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from rnnbench import compare, rundir
from rnnbench.compare import METRICS, curves
from rnnbench.errors import RnnbenchError
from rnnbench.figures import file_name, learning_curves, legend_beside, tuning_curves, variant_styles
from rnnbench.rundir import RunRecord
from rnnbench.tasks import TASKS

DPI = 110


def write_plots(summary: pd.DataFrame, runs: list[RunRecord], folder: Path, trials: list[RunRecord] = ()) -> list[Path]:
    """Every plot for every experiment in `summary`, as PNG files in `folder`; returns their paths.

    names: learning curves, accuracy against parameters, the confusion matrix of the best variant (summed over
    its seeds); reversal: learning curves, accuracy against parameters, exact accuracy per length. An experiment
    with tuning trials among `trials` (`rnnbench tune`'s) also gets its tuning curves.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RnnbenchError(f"{folder}: cannot write plots here ({err.strerror or err})") from None
    paths = []
    for experiment, part in summary.groupby("experiment", sort=True):
        task = TASKS[part["task"].iloc[0]]
        runs_of = {
            key: [run for run in runs if run.spec.experiment == experiment and run.variant_key == key]
            for key in part["variant_key"]
        }
        variants = dict(zip(part["variant_key"], part["variant"]))
        styles = variant_styles(list(part["variant"]))
        stem = str(folder / file_name(experiment))
        tuned = curves.experiment_curves([run for run in trials if run.spec.experiment == experiment])
        if tuned is not None:  # its own looks: a few curves, told apart by the strongest colours
            metric = task.METRICS.get(tuned["score"])
            figure = tuning_curves(
                tuned["variants"],
                variant_styles(list(tuned["variants"])),
                title=experiment,
                label=metric.label if metric else tuned["score"].replace("_", " "),
                scale=metric.scale if metric else 1,
            )
            paths.append(save(figure, f"{stem}-tuning-curves.png"))
        histories = {
            variants[key]: [rundir.load_history(run.path) for run in found]
            for key, found in runs_of.items()
            if any(run.parameters for run in found)
        }  # a model with nothing to train has no curve to learn
        key = task.watch(runs_of[part["variant_key"].iloc[0]][0].spec.data)[0]
        watched = key if key.startswith("validation_") else "validation_accuracy"
        metric = task.METRICS.get(watched)
        paths.append(
            save(
                learning_curves(
                    histories,
                    styles,
                    title=experiment,
                    key=watched,
                    label=metric.label if metric else watched.replace("_", " "),
                    scale=metric.scale if metric else 1,
                ),
                f"{stem}-learning-curves.png",
            )
        )
        compared = part["compared_on"].iloc[0]
        paths.append(
            save(
                accuracy_vs_parameters(part, compared, styles, title=experiment),
                f"{stem}-{compared.replace('_', '-')}-vs-parameters.png",
            )
        )
        best = compare.best_row(part, compared)
        if best is None:  # no variant has the compared metric: nothing to single out
            continue
        by_variant = {
            variants[key]: [run for run in found if run.diverged is None]  # a diverged run has no scores
            for key, found in runs_of.items()
        }
        best_runs = runs_of[best["variant_key"]]
        loaders = rundir.load_data_report, rundir.load_predictions  # tasks read run directories only through these
        for figure, path in task.plots(experiment, best["variant"], best_runs, stem, by_variant, styles, *loaders):
            paths.append(save(figure, path))
    return paths


def accuracy_vs_parameters(part: pd.DataFrame, metric: str, styles: dict[str, dict], title: str) -> Figure:
    """One point per variant: its mean on `metric` with the 95% interval over seeds as error bars (none for a
    single seed), against its parameter count on a log axis."""
    label, scale = compare.label(part, metric), METRICS[metric].scale
    figure = Figure(figsize=(10, 5.2), layout="constrained")
    axes = figure.subplots()
    for row in part.itertuples():
        mean = getattr(row, f"{metric}_mean")
        if pd.isna(mean) or row.params <= 0:  # the majority baseline has no parameters to place on a log axis
            continue
        low, high = getattr(row, f"{metric}_ci_low"), getattr(row, f"{metric}_ci_high")
        error = None if pd.isna(low) else [[(mean - low) * scale], [(high - mean) * scale]]
        style = styles[row.variant]
        axes.errorbar(
            [row.params],
            [mean * scale],
            yerr=error,
            fmt=style["marker"],
            color=style["color"],
            capsize=4,
            markersize=7,
            markerfacecolor="none",
            markeredgewidth=1.5,  # hollow: overlapping points show
            label=f"{row.variant} ({row.seeds} seed{'s' if row.seeds > 1 else ''})",
        )
    axes.set_xscale("log")
    axes.set(xlabel="parameters (log scale)", ylabel=label, title=f"{title}: {label} against parameters, 95% intervals")
    axes.grid(True, which="both", alpha=0.3)
    legend_beside(figure, axes)
    return figure


def save(figure: Figure, path: Path | str) -> Path:
    """Write a figure as PNG (through Agg, no display needed) and return its path."""
    path = Path(path)
    try:
        figure.savefig(path, dpi=DPI, format="png")
    except OSError as err:
        raise RnnbenchError(f"{path}: cannot write the plot ({err.strerror or err})") from None
    return path
