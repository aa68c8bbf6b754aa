"""Finished runs → a per-run DataFrame → one row per variant with statistics over seeds, compared with a reference.

For every metric a variant gets the mean, the sample standard deviation and a 95% confidence interval over
its seeds (stats.mean_interval); then, within each experiment, every variant is compared with a reference (the
best on the chosen metric, or one named with --vs) by a paired test over the seeds they share, Holm-adjusted
across the experiment's comparisons (stats.paired_test, stats.holm), and marked `real` or `noise`.

Pure functions: nothing here reads files or prints; the CLI feeds them runs from rundir.find_runs(), and tables.py
renders what they return.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd

from rnnbench import selection, stats, yamlfile
from rnnbench.errors import RnnbenchError, UsageError
from rnnbench.fields import reads_nothing
from rnnbench.metrics import Metric
from rnnbench.rundir import RunRecord
from rnnbench.tasks import TASKS

# Every metric summarised per variant, as each task's METRICS reads it (label, display scale, decimals, higher
# is better), after the costs every run has. A name two tasks share is sorted and tested alike; its label and
# decimals are each table's own task's (tables.reading()).
COSTS = {
    "epochs": Metric("epochs", 1, 1, False),
    "train_seconds": Metric("train s", 1, 2, False),
    "seconds_per_epoch": Metric("s / epoch", 1, 3, False),
}


def _every_metric() -> dict[str, Metric]:
    found = {}
    for task in TASKS.values():
        for name, metric in task.METRICS.items():
            found.setdefault(name, metric)  # the first task's reading; labels come from each table's own task
    return found | COSTS


METRICS = _every_metric()
COMPARABLE = tuple(name for name in METRICS if name not in COSTS and "majority" not in name and "baseline" not in name)
STATISTICS = ("mean", "std", "ci_low", "ci_high", "min", "max", "n")
IDENTITY = (
    "experiment",
    "variant",
    "variant_key",
    "task",
    "cell",
    "impl",
    "direction",
    "layers",
    "hidden_size",
    "param_budget",
    "params",
    "params_min",
    "params_max",
    "settings",
    "seeds",
    "diverged",
)  # params: its first seed's count, params_min and params_max: over its seeds; diverged: how many of its seeds
COMPARISON = ("compared_on", "reference", "difference", "pairs", "p", "p_holm", "verdict")
# the run `predict --experiment` answers from: its seed and why it was chosen, on its variant's row (null elsewhere)
PREDICTS = ("predict_seed", "predict_reason")
TUNED = re.compile(r"-(trial\d+|tuned)$")  # what `rnnbench tune` adds to a variant's name
SHOWN = ("cell", "bidirectional", "num_layers", "hidden_size", "param_budget")  # model fields with columns of their own
SUMMARY_COLUMNS = IDENTITY + tuple(f"{m}_{s}" for m in METRICS for s in STATISTICS) + COMPARISON + PREDICTS


def runs_frame(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run: its identity, its model and its scores (NaN where the task has no such score), and, on the
    run `predict --experiment` would answer from, why it is chosen (`predict_reason`)."""
    chosen = _predicted(runs)
    rows = []
    for run in runs:
        model = run.spec.model
        rows.append(
            {
                "experiment": run.spec.experiment,
                "variant": run.spec.variant,
                "variant_key": run.variant_key,
                "seed": run.spec.seed,
                "task": run.task,
                "cell": model.cell,
                "direction": "bi" if model.bidirectional else "uni",
                "impl": model.impl,
                "layers": model.num_layers,
                "hidden_size": run.hidden_size,  # a budget's solved size
                "param_budget": model.param_budget,
                "params": run.parameters,
                # the model fields no other column shows, the training settings and the data fields a variant can
                # set, for the `settings` column of a sweep or a tuned experiment
                "settings": {
                    **{f"model.{key}": value for key, value in run.config["model"].items() if key not in SHOWN},
                    **{f"train.{key}": value for key, value in run.config["train"].items()},
                    **{f"data.{key}": run.config["data"].get(key) for key in TASKS[run.task].INPUT_FIELDS},
                },
                "diverged": run.diverged is not None,  # such a run has no scores: none is mixed into a mean
                **{name: None if run.diverged else run.scores.get(name) for name in METRICS if name not in COSTS},
                # nor its cost: one epoch to NaN says nothing of what the variant costs to train
                "epochs": None if run.diverged else run.epochs_run,
                "train_seconds": None if run.diverged else run.train_seconds,
                "seconds_per_epoch": None if run.diverged else run.seconds_per_epoch,
                "path": str(run.path),
                "predict_reason": chosen.get(run.path),
            }
        )
    return pd.DataFrame(rows)


def _predicted(runs: list[RunRecord]) -> dict:
    """{path: why} of the run `predict --experiment NAME` answers from, for each experiment: chosen by the very
    functions `predict` chooses with (selection.py), among the runs that did not diverge. `predict` also passes over
    a run whose weights do not read, which needs the files: nothing here reads them."""
    by_experiment: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.diverged is None:
            by_experiment.setdefault(run.spec.experiment, []).append(run)
    chosen = {}
    for experiment, trained in by_experiment.items():
        try:
            selection.check_one_question(trained, experiment)
        except RnnbenchError:  # predict refuses to rank these against each other: nothing to mark
            continue
        candidates, key, why = selection.ranked_candidates(trained)
        chosen[candidates[0].path] = selection.reason(candidates[0], key, why)
    return chosen


def summarize(
    per_run: pd.DataFrame, *, metric: str | None = None, reference: str | None = None, sort: str | None = None
) -> pd.DataFrame:
    """One row per (experiment, variant configuration): every metric's mean, std and 95% interval over seeds,
    and the comparison of the variant with the experiment's reference on `metric` (by default, the first of its
    task's COLUMNS that its runs recorded: test accuracy for a classifier, test RMSE for a regressor).

    Runs of a variant whose configuration changed between experiments keep separate rows, told apart by their
    8-digit key (shown as name@key). `reference` names the variant to compare with (in the experiments that
    have it; the others compare with their best); by default, the best.
    """
    if metric is not None and metric not in COMPARABLE:
        raise UsageError(f"--metric: '{metric}' is not one of {', '.join(COMPARABLE)}")
    if per_run.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    rows = []
    for _, group in per_run.groupby(["experiment", "variant_key"], sort=False):
        first = group.iloc[0]
        counted = ("seeds", "diverged", "params_min", "params_max")  # over the group, below
        row = {column: first[column] for column in IDENTITY if column not in counted}
        row |= {"seeds": group["seed"].nunique(), "diverged": int(group["diverged"].sum())}
        # a vocabulary read from each seed's training split can differ by a character, and so the parameter count
        row |= {"params_min": int(group["params"].min()), "params_max": int(group["params"].max())}
        predicted = group[group["predict_reason"].notna()]
        row |= {
            "predict_seed": predicted["seed"].iloc[0] if len(predicted) else None,
            "predict_reason": predicted["predict_reason"].iloc[0] if len(predicted) else None,
        }
        for name, metric_of in METRICS.items():
            interval = stats.mean_interval(pd.to_numeric(group[name], errors="coerce").tolist())
            # a t interval knows no bounds: clip it to the metric's range (shares within [0, 1], costs ≥ 0, R² ≤ 1)
            high = 1.0 if metric_of.scale == 100 else metric_of.high
            if metric_of.low is not None:
                interval["ci_low"] = max(interval["ci_low"], metric_of.low)
            if high is not None:
                interval["ci_high"] = min(interval["ci_high"], high)
            row |= {f"{name}_{part}": interval[part] for part in STATISTICS}
        rows.append(row)
    summary = pd.DataFrame(rows)
    summary["settings"] = _settings(summary)
    summary["param_budget"] = summary["param_budget"].astype("Int64")  # whole numbers, or null without a budget
    summary["predict_seed"] = summary["predict_seed"].astype("Int64")  # a seed on one row, null on the others
    renamed = summary.duplicated(["experiment", "variant"], keep=False)
    summary.loc[renamed, "variant"] = summary.loc[renamed, "variant"] + "@" + summary.loc[renamed, "variant_key"]
    if metric is not None and summary[f"{metric}_mean"].isna().all():
        recorded = [name for name in COMPARABLE if summary[f"{name}_mean"].notna().any()]
        raise UsageError(f"--metric: no run here records {metric}; these record {', '.join(recorded) or 'no score'}")
    if reference is not None and not (summary["variant"] == reference).any():
        raise UsageError(
            f"--vs: no variant '{reference}' in these runs; variants: {', '.join(summary['variant'].unique())}"
        )
    parts = []
    for _, part in summary.groupby("experiment", sort=True):
        compared = metric or default_metric(part)
        part = _compare(part, per_run, compared, reference)[list(SUMMARY_COLUMNS)]
        parts.append(
            part.sort_values(
                f"{compared}_mean", ascending=not METRICS[compared].higher_is_better, kind="stable", na_position="last"
            )
        )
    summary = pd.concat(parts, ignore_index=True)
    if sort is None:
        return summary
    if sort not in summary.columns:
        raise UsageError(f"--sort: '{sort}' is not one of {', '.join(summary.columns)}")
    # best first: a score where higher is better sorts down, everything else (names, sizes, costs, spreads, p) up
    metric_of = next((m for m in METRICS if sort.startswith(f"{m}_")), None)
    higher_first = (
        metric_of is not None
        and METRICS[metric_of].higher_is_better
        and sort.endswith(("_mean", "_ci_low", "_ci_high", "_min", "_max"))
    )
    ascending = not higher_first
    return summary.sort_values(["experiment", sort], ascending=[True, ascending], ignore_index=True, kind="stable")


def _settings(summary: pd.DataFrame) -> list[str]:
    """Each row's training and data settings that differ between the rows of its experiment (a sweep), and the
    model fields a tuned variant ('<variant>-tuned', or a trial '<variant>-trial<N>', of `rnnbench tune`) set
    otherwise than its own variant, as
    YAML writes them, a float to 3 significant digits (a tuned learning rate is 0.00189, not 0.001893185850545726).
    The cell, direction and size have columns of their own. Example: 'learning_rate 0.001, tokenizer word';
    'dropout 0.319, batch_size 128, learning_rate 0.00269'; '' where nothing varies."""
    reads = ~summary["cell"].map(reads_nothing)  # a naive forecast reads none
    varying = {}
    for experiment, part in summary[reads].groupby("experiment", sort=False):
        families = {}  # a variant with its tuning trials and its tuned row (`compare --trials`)
        for name, settings in zip(part["variant"], part["settings"]):
            families.setdefault(TUNED.sub("", name), []).append(settings)
        keys = sorted({key for settings in part["settings"] for key in settings})
        varying[experiment] = [
            key
            for key in keys
            if (
                key.startswith("model.")
                and any(len({json.dumps(s.get(key)) for s in family}) > 1 for family in families.values())
            )
            or (not key.startswith("model.") and len({json.dumps(s.get(key)) for s in part["settings"]}) > 1)
        ]
    return [
        ", ".join(
            f"{key.split('.', 1)[1]} {yamlfile.scalar(settings.get(key), digits=3)}"
            for key in varying.get(experiment, [])
        )
        if read
        else ""
        for experiment, settings, read in zip(summary["experiment"], summary["settings"], reads)
    ]


def default_metric(part: pd.DataFrame) -> str:
    """The metric an experiment is compared on by default: the first of its task's COLUMNS its runs recorded."""
    columns = TASKS[part["task"].iloc[0]].COLUMNS
    return next((column for column in columns if part[f"{column}_mean"].notna().any()), columns[0])


def _compare(part: pd.DataFrame, per_run: pd.DataFrame, metric: str, reference: str | None) -> pd.DataFrame:
    """One experiment's rows with their comparison against its reference variant on `metric`."""
    part = part.copy()
    experiment = part["experiment"].iloc[0]
    runs = per_run[per_run["experiment"] == experiment]
    scored = runs.dropna(subset=[metric])  # a run without this score (None or NaN) is not a pair
    by_seed = {key: dict(zip(group["seed"], group[metric])) for key, group in scored.groupby("variant_key")}
    matches = part[part["variant"] == reference] if reference is not None else part.iloc[0:0]
    if len(matches) == 1:
        reference_key = matches["variant_key"].iloc[0]
    else:  # the best (also where an experiment does not have the variant --vs names)
        best = best_row(part, metric)
        if best is None:  # no variant has this metric (a names metric on a reversal experiment, say)
            return part.assign(
                compared_on=metric,
                reference=None,
                difference=math.nan,
                pairs=0,
                p=math.nan,
                p_holm=math.nan,
                verdict="untested",
            )
        reference_key = best["variant_key"]
    tests = [stats.paired_test(by_seed.get(key, {}), by_seed.get(reference_key, {})) for key in part["variant_key"]]
    is_reference = (part["variant_key"] == reference_key).tolist()
    p_values = [math.nan if ref else test["p"] for test, ref in zip(tests, is_reference)]
    adjusted = stats.holm(p_values)
    part["compared_on"] = metric
    part["reference"] = part.loc[part["variant_key"] == reference_key, "variant"].iloc[0]
    part["difference"] = [math.nan if ref else test["difference"] for test, ref in zip(tests, is_reference)]
    part["pairs"] = [test["pairs"] for test in tests]
    part["p"] = p_values
    part["p_holm"] = adjusted
    part["verdict"] = [
        "reference" if ref else "untested" if math.isnan(p) else "real" if p < stats.ALPHA else "noise"
        for ref, p in zip(is_reference, adjusted)
    ]
    return part


def best_row(part: pd.DataFrame, metric: str) -> pd.Series | None:
    """One experiment's best variant on `metric` (the first of ties, in table order); None if none has it. A
    variant any of whose seeds diverged is never the best: its mean covers only the seeds that survived."""
    scored = part[part[f"{metric}_mean"].notna() & (part["diverged"] == 0)]
    if scored.empty:
        return None
    means = scored[f"{metric}_mean"]
    return scored.loc[means.idxmax() if METRICS[metric].higher_is_better else means.idxmin()]
