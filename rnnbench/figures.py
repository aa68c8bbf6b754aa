"""Figures as matplotlib `Figure` objects, built from plain numbers: learning curves, tuning curves, the confusion
matrix, accuracy per sequence length, a forecast over its series, and one look (colour, marker, line) per variant.

Pure builders: they read no run directory and write no file (plots.py does both, and tasks pass what they read).
Headless by construction: pyplot (and with it any window or GUI backend) is never imported.
"""

from __future__ import annotations

import math
import re

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

MARKERS = ("o", "s", "^", "D", "v", "P", "X")  # 7 shapes: with 10 or 20 colours every (colour, shape) pair differs


def variant_styles(variants: list[str]) -> dict[str, dict]:
    """One look per variant, in table order: a colour (tab10 up to 10 variants, tab20 beyond), a marker shape
    cycling through 7 (so no two of 140 variants share colour and shape), and, past 20, dashed and dotted lines."""
    palette, colours = (colormaps["tab10"], 10) if len(variants) <= 10 else (colormaps["tab20"], 20)
    return {
        variant: {
            "color": to_hex(palette(i % colours)),
            "linestyle": ("-", "--", ":", "-.")[i // 20 % 4],
            "marker": MARKERS[i % len(MARKERS)],
        }
        for i, variant in enumerate(variants)
    }


def learning_curves(
    histories: dict[str, list[list[dict]]],
    styles: dict[str, dict],
    title: str,
    key: str = "validation_accuracy",
    label: str = "validation accuracy %",
    scale: float = 100,
) -> Figure:
    """Training loss and a validation score (`key` of each history row, shown times `scale`) per epoch.

    A line per variant is the mean over its seeds, drawn only over the epochs *every* seed trained (a mean whose
    seeds drop out as early stopping ends them would drift for no reason); its band runs from the lowest to the
    highest seed. Where some seeds trained on after the first stopped, each goes on as a thin line of its own.
    Epochs are whole numbers on the axis.
    """
    figure = Figure(figsize=(12, 4.6), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    tails = False
    for variant, seeds in histories.items():
        for axes, column, factor in ((loss_axes, "train_loss", 1), (accuracy_axes, key, scale)):
            epochs, low, mean, high, after = _band(seeds, column)
            style = styles[variant]
            if epochs:
                axes.plot(
                    epochs,
                    mean * factor,
                    color=style["color"],
                    linestyle=style["linestyle"],
                    label=variant,
                    linewidth=1.6,
                    marker=style["marker"],
                    markersize=4,
                    markevery=max(1, len(epochs) // 8),
                )
                if len(seeds) > 1:
                    axes.fill_between(
                        epochs, low * factor, high * factor, color=style["color"], alpha=0.12, linewidth=0
                    )
            for seed_epochs, values in after:
                axes.plot(
                    seed_epochs,
                    np.asarray(values) * factor,
                    color=style["color"],
                    linestyle=style["linestyle"],
                    linewidth=0.8,
                    alpha=0.6,
                )
                tails = True
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_axes.set(xlabel="epoch", ylabel="training loss", title="training loss")
    loss_axes.set_yscale("log")
    accuracy_axes.set(xlabel="epoch", ylabel=label, title=label.removesuffix(" %"))
    seeds = max(len(runs) for runs in histories.values())
    what = f"{title}: mean over seeds" if seeds > 1 else f"{title}: one seed per variant"
    if seeds > 1:
        what += " while every seed trains, band from the lowest to the highest seed"
    if tails:
        what += "; thin lines: seeds that trained on after the first stopped"
    figure.suptitle(what)
    legend_beside(figure, accuracy_axes if accuracy_axes.lines else loss_axes)
    return figure


def tuning_curves(
    variants: dict[str, dict], styles: dict[str, dict], title: str, label: str, scale: float = 100
) -> Figure:
    """Each tuned variant's tuning curve (variants: {variant: {"sampler", "scores", "curve"}}, as
    compare.curves.experiment_curves gives them; values shown times `scale`) against the number of trials n, with
    each trial's own score as a faint dot at its trial number (the axis fits the curves and the median trial: trials
    far worse than most fall off it). The subtitle says what a curve is: the expected best
    of n trials (random sampler; Dodge et al., 2019) or the best so far in the order trials ran (TPE)."""
    figure = Figure(figsize=(10, 5.2), layout="constrained")
    axes = figure.subplots()
    for variant, found in variants.items():
        style = styles[variant]
        trials = np.arange(1, len(found["curve"]) + 1)
        axes.plot(
            trials,
            np.asarray(found["curve"]) * scale,
            color=style["color"],
            linestyle=style["linestyle"],
            marker=style["marker"],
            markersize=4,
            markevery=max(1, len(trials) // 10),
            drawstyle="steps-post" if found["sampler"] != "random" else "default",
            label=f"{variant} ({found['sampler'] or '-'})",
        )
        axes.scatter(trials, np.asarray(found["scores"]) * scale, color=style["color"], s=9, alpha=0.35)
    drawn = [value * scale for found in variants.values() for value in found["curve"]]
    scores = np.asarray([value * scale for found in variants.values() for value in found["scores"]])
    low = min(*drawn, np.median(scores), scores.max() if scores.size else np.inf)  # the curves, the better half
    high = max(*drawn, np.median(scores), scores.max() if scores.size else -np.inf)  # and the best trial (either way)
    pad = max(high - low, abs(high) * 0.01, 1e-9) * 0.15
    axes.set_ylim(low - pad, high + pad)  # trials far worse than most fall off the plot
    samplers = {found["sampler"] for found in variants.values()}
    what = "expected best of n trials (Dodge et al., 2019)" if samplers == {"random"} else "best so far after n trials"
    if samplers - {"random"}:
        what += "; TPE: one realisation, in the order trials ran"
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set(xlabel="trials n", ylabel=label, title=f"{title}: tuning curves, {what}")
    axes.grid(True, alpha=0.3)
    axes.scatter(
        [], [], color="grey", s=9, alpha=0.35, label="dots: each trial's own score\n(the worst fall off the plot)"
    )
    legend_beside(figure, axes)
    return figure


def confusion_heatmap(matrix, labels: list[str], title: str) -> Figure:
    """The confusion matrix with each row divided by its total: the share of each true language given each
    answer (rows with no examples stay blank). Cells of 1% or more are written in."""
    matrix = np.asarray(matrix, dtype=float)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.full_like(matrix, np.nan), where=totals > 0)
    size = max(4.5, 0.45 * len(labels) + 2)
    figure = Figure(figsize=(size + 1.2, size), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(shares * 100, cmap="Blues", vmin=0, vmax=100)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(
        range(len(labels)), [f"{label} ({int(total)})" for label, total in zip(labels, totals[:, 0])], fontsize=8
    )
    axes.set(xlabel="predicted", ylabel="true (test examples)", title=title)
    for (i, j), share in np.ndenumerate(shares):
        if not math.isnan(share) and share >= 0.01:
            axes.text(
                j,
                i,
                f"{100 * share:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if share > 0.6 else "black",
            )
    figure.colorbar(image, ax=axes, label="% of the true language's examples", shrink=0.8)
    return figure


def accuracy_by_length(
    by_length: dict[str, list[dict[int, float]]], trained: tuple[int, int], styles: dict[str, dict], title: str
) -> Figure:
    """Exact-sequence accuracy per input length: a line per variant (mean over seeds), a band from its lowest to
    its highest seed, and the lengths seen in training shaded."""
    figure = Figure(figsize=(11, 5.2), layout="constrained")
    axes = figure.subplots()
    axes.axvspan(
        trained[0] - 0.5, trained[1] + 0.5, color="0.9", label=f"lengths trained on ({trained[0]}-{trained[1]})"
    )
    for variant, seeds in by_length.items():
        lengths = sorted({length for seed in seeds for length in seed})
        values = np.array([[seed.get(length, np.nan) for length in lengths] for seed in seeds]) * 100
        style = styles[variant]
        axes.plot(lengths, np.nanmean(values, axis=0), markersize=3, label=variant, **style)
        if len(seeds) > 1:
            axes.fill_between(
                lengths,
                np.nanmin(values, axis=0),
                np.nanmax(values, axis=0),
                color=style["color"],
                alpha=0.10,
                linewidth=0,
            )
    axes.set(
        xlabel="sequence length",
        ylabel="exact-sequence accuracy %",
        ylim=(-2, 102),
        title=f"{title}: exact accuracy by length (test split and the longer set), mean over seeds",
    )
    axes.grid(True, alpha=0.3)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend_beside(figure, axes)
    return figure


def forecast_plot(report: dict, predictions: list[dict], sizes: dict, title: str) -> Figure:
    """The series (the last values a run kept), the test forecast from each origin and the actual values after
    it, with the validation and test parts shaded from the training part."""
    history = np.asarray(report["history"], dtype=float)
    first = int(report.get("first_index", 0))
    steps = np.arange(first, first + len(history))
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    axes = figure.subplots()
    axes.plot(steps, history, color="0.25", linewidth=1.2, label="series (actual)")
    for start, stop, shade, label in (
        (sizes["train_end"], sizes["test_start"], "0.93", "validation part"),
        (sizes["test_start"], first + len(history), "0.85", "test part"),
    ):
        if stop > start:
            axes.axvspan(start - 0.5, stop - 0.5, color=shade, label=label, linewidth=0)
    by_origin: dict[int, list[dict]] = {}
    for row in predictions:
        by_origin.setdefault(int(row["origin"]), []).append(row)
    colours = colormaps["tab10"]
    labels = report.get("times") or []
    for i, (origin, rows) in enumerate(sorted(by_origin.items())):
        when = labels[origin - first] if labels and 0 <= origin - first < len(labels) else str(origin)
        times = [origin + int(row["step"]) - 1 for row in rows]
        axes.plot(
            times,
            [float(row["predicted"]) for row in rows],
            color=to_hex(colours((i + 1) % 10)),
            linewidth=1.8,
            marker="o",
            markersize=3,
            label=f"forecast from {when}",
        )
    if labels:  # the time column as written, at a few of the ticks
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
        axes.set_xticks([t for t in axes.get_xticks() if first <= t < first + len(labels)])
        axes.set_xticklabels([labels[int(t) - first] for t in axes.get_xticks()], rotation=30, ha="right", fontsize=8)
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set(xlabel="time" if labels else "step", ylabel=report["columns"][0], title=title)
    axes.grid(True, alpha=0.3)
    legend_beside(figure, axes)
    return figure


def _band(seeds: list[list[dict]], key: str):
    """(epochs, lowest, mean, highest, after) of `key` per epoch: over the epochs every seed recorded, and
    `after` = [(epochs, values)] for each seed that went on past the first seed's last epoch (from that epoch on,
    so its line joins the mean's end). A diverged run's NaN or infinite values are left out: its curve, and with
    it the mean, stops where it diverged. Empty if no seed recorded `key`."""

    def recorded(history: list[dict]) -> dict[int, float]:
        return {int(row["epoch"]): row[key] for row in history if row.get(key) is not None and math.isfinite(row[key])}

    series = [found for found in map(recorded, seeds) if found]
    if not series:
        return [], None, None, None, []
    common = sorted(set.intersection(*(set(found) for found in series)))
    table = np.array([[found[epoch] for epoch in common] for found in series]).reshape(len(series), len(common))
    last = common[-1] if common else 0
    after = [
        (
            [epoch for epoch in sorted(found) if epoch >= last],
            [found[epoch] for epoch in sorted(found) if epoch >= last],
        )
        for found in series
        if max(found) > last
    ]
    if not common:
        return [], None, None, None, after
    return common, table.min(axis=0), table.mean(axis=0), table.max(axis=0), after


def legend_beside(figure: Figure, axes) -> None:
    """The legend beside the plot, so that it never hides a line."""
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside right center", fontsize=8, frameon=False)


def file_name(text: str) -> str:
    """A name safe in any file system. Example: 'gru-bi-1x64@ab12cd34' -> 'gru-bi-1x64-ab12cd34'."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-") or "plot"
