"""Finished runs → a per-run DataFrame → one row per variant with statistics over seeds → text formats.

For every metric a variant gets the mean, the sample standard deviation and a 95% confidence interval over
its seeds (stats.mean_interval); then, within each experiment, every variant is compared with a reference (the
best on the chosen metric, or one named with --vs) by a paired test over the seeds they share, Holm-adjusted
across the experiment's comparisons (stats.paired_test, stats.holm), and marked `real` or `noise`.

Pure functions: nothing here reads files or prints; the CLI feeds them runs from rundir.find_runs().
"""

from __future__ import annotations

import json
import math

import pandas as pd

from rnnbench import stats, views, yamlfile
from rnnbench.errors import UsageError
from rnnbench.fields import BASELINE_FIELDS, reads_nothing
from rnnbench.metrics import Metric
from rnnbench.rundir import RunRecord
from rnnbench.tasks import TASKS

# Every metric summarised per variant, as each task's METRICS reads it (label, display scale, decimals, higher
# is better), after the costs every run has. A name two tasks share reads the same but for its label, which the
# task of each table gives (see label()).
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
    "settings",
    "seeds",
    "diverged",
)  # diverged: how many of its seeds
COMPARISON = ("compared_on", "reference", "difference", "pairs", "p", "p_holm", "verdict")
SUMMARY_COLUMNS = IDENTITY + tuple(f"{m}_{s}" for m in METRICS for s in STATISTICS) + COMPARISON


def runs_frame(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run: its identity, its model and its scores (NaN where the task has no such score)."""
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
                # the training settings and the data fields a variant can set, for the `settings` column of a sweep
                "settings": {
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
            }
        )
    return pd.DataFrame(rows)


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
        row = {column: first[column] for column in IDENTITY if column not in ("seeds", "diverged")}
        row |= {"seeds": group["seed"].nunique(), "diverged": int(group["diverged"].sum())}
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
    """Each row's training and data settings that differ between the rows of its experiment (a sweep), as YAML
    writes them. Example: 'learning_rate 0.001, tokenizer word'; '' where nothing varies."""
    reads = ~summary["cell"].map(reads_nothing)  # a naive forecast reads none
    varying = {}
    for experiment, part in summary[reads].groupby("experiment", sort=False):
        keys = sorted({key for settings in part["settings"] for key in settings})
        varying[experiment] = [key for key in keys if len({json.dumps(s.get(key)) for s in part["settings"]}) > 1]
    return [
        ", ".join(f"{key.split('.', 1)[1]} {yamlfile.scalar(settings.get(key))}" for key in varying.get(experiment, []))
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


def headers(part: pd.DataFrame) -> tuple[str, ...]:
    """The columns of one experiment's table: identity, the compared score and the comparison, the task's other
    columns (its COLUMNS: e.g. balanced and majority accuracy beside accuracy and macro-F1), and the cost."""
    compared = part["compared_on"].iloc[0]
    reference = part["reference"].iloc[0]
    versus = f"vs {'best' if reference is None or _is_best(part) else reference}"
    versus += "" if compared == default_metric(part) else f" ({label(part, compared)})"
    labels = [label(part, column) for column in _score_columns(part)]
    settings = ("settings",) if _has_settings(part) else ()
    return (
        "variant",
        "cell",
        "dir",
        "size",
        *settings,
        "params",
        "seeds",
        labels[0],
        versus,
        *labels[1:],
        "epochs",
        "train s",
    )


def _has_settings(part: pd.DataFrame) -> bool:
    return bool(part["settings"].fillna("").astype(str).str.len().gt(0).any())


def display_rows(part: pd.DataFrame, multiline: bool = True) -> list[list[str]]:
    """The human-readable cells of one experiment's rows, in `headers` order.

    Scores read 'mean ± std' then the 95% interval '[low, high]', on a second line when `multiline`. The
    comparison reads 'best', or the mean paired difference with its Holm-adjusted p-value, '≈' marking a
    difference the seeds cannot tell from noise. Example: '96.1 ± 0.4 [95.1, 97.1]', '-1.3 (p=0.021)'.
    """
    rows, best = [], _is_best(part)
    for row in part.itertuples():
        scores = [_score(row, column, multiline) for column in _score_columns(part)]
        baseline = row.cell in BASELINE_FIELDS
        seeds = str(row.seeds) + (f" ({row.diverged} diverged)" if row.diverged else "")
        versus = "diverged" if row.diverged == row.seeds else _versus(row, best)
        settings = [row.settings or "-"] if _has_settings(part) else []
        rows.append(
            [
                row.variant,
                row.cell,
                "-" if baseline else row.direction,
                _size(row),
                *settings,
                f"{row.params:,}",
                seeds,
                scores[0],
                versus,
                *scores[1:],
                _cost(row.epochs_mean, 1),
                _cost(row.train_seconds_mean, 2),
            ]
        )
    return rows


def legend(part: pd.DataFrame) -> str:
    """What the comparison column means, under each table (and what `diverged` means, where a run did)."""
    text = _comparison_legend(part)
    if part["diverged"].any():
        text += (
            " diverged: runs whose loss or weights became NaN or infinite; they have no scores, are left out of "
            "every mean (costs too) and pair, and their variant is never the best."
        )
    return text


def _comparison_legend(part: pd.DataFrame) -> str:
    intervals = "mean ± std [95% interval, clipped to the metric's range] over seeds."
    if part["seeds"].max() == 1:  # nothing to take a mean, a spread or an interval of
        return (
            "One seed per variant: single scores, with no spread, interval or test; run more seeds "
            "(--set 'seeds=[0,1,2]') to tell differences from noise."
        )
    if len(part) == 1 or part["reference"].iloc[0] is None:
        return intervals
    comparisons = int(part["p"].notna().sum())
    if comparisons == 0:
        return (
            f"{intervals} vs: the mean paired difference from the reference, untested: fewer than 2 shared seeds, "
            "or differences that do not vary from seed to seed (a t-test cannot weigh them)."
        )
    compared = label(part, part["compared_on"].iloc[0])
    return (
        f"{intervals} vs: the mean paired difference in {compared} from the reference over the seeds both ran, "
        f"p from a paired t-test, Holm-adjusted over the {comparisons} comparison{'s' if comparisons > 1 else ''}; "
        "≈: the seeds cannot tell it from noise (p ≥ 0.05); untested: fewer than 2 shared seeds, or differences "
        "that do not vary from seed to seed (a t-test cannot weigh them)."
    )


def by_experiment(summary: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(name, part) for name, part in summary.groupby("experiment", sort=True)]


def to_markdown(summary: pd.DataFrame) -> str:
    """One table per experiment under a '### name' heading, each followed by its legend.

    Example row: '| gru-bi-1x64 | gru | bi | 1x64 | 39,938 | 3 | 96.1 ± 0.4 [95.1, 97.1] | best | ... |'.
    """
    blocks = []
    for name, part in by_experiment(summary):
        columns = headers(part)
        lines = [
            f"### {name}",
            "",
            "| " + " | ".join(columns) + " |",
            "|"
            + "|".join("---" if i < 4 or column == "settings" else "---:" for i, column in enumerate(columns))
            + "|",
        ]
        lines += ["| " + " | ".join(cells) + " |" for cells in display_rows(part, multiline=False)]
        blocks.append("\n".join(lines) + "\n\n" + legend(part) + "\n")
    return "\n".join(blocks)


def to_csv(summary: pd.DataFrame) -> str:
    return summary.to_csv(index=False)


def to_records(summary: pd.DataFrame) -> list[dict]:
    """JSON-ready rows; NaN (the std of one seed, a score the task does not have) becomes None."""
    return json.loads(summary.to_json(orient="records"))


def to_json(summary: pd.DataFrame) -> str:
    return views.to_json(to_records(summary)) + "\n"


RENDERERS = {"markdown": to_markdown, "csv": to_csv, "json": to_json}  # --format; "table" is drawn by the CLI


def label(part: pd.DataFrame, column: str) -> str:
    """A metric's column label, as the experiment's task reads it (a reversal run's accuracy is exact-sequence
    accuracy, for one)."""
    task = TASKS.get(part["task"].iloc[0])
    return (task.METRICS if task and column in task.METRICS else METRICS)[column].label


def _score_columns(part: pd.DataFrame) -> list[str]:
    """The score columns of an experiment's table (its task's COLUMNS), the compared metric first."""
    compared = part["compared_on"].iloc[0]
    columns = [
        column
        for column in TASKS[part["task"].iloc[0]].COLUMNS
        if column == compared or part[f"{column}_mean"].notna().any()
    ]  # a regressor has no accuracy, say
    return [compared] + [column for column in columns if column != compared]


def _is_best(part: pd.DataFrame) -> bool:
    """Whether the reference is the best row on the compared metric (no --vs, or --vs named the best)."""
    best = best_row(part, part["compared_on"].iloc[0])
    return best is not None and bool(
        part.loc[part["variant_key"] == best["variant_key"], "verdict"].eq("reference").any()
    )


def _score(row, column: str, multiline: bool) -> str:
    """Example: '96.1 ± 0.4 [95.1, 97.1]'; one seed: '96.1'; no such score: '-'; majority: its mean only."""
    scale, digits = METRICS[column].scale, METRICS[column].digits
    mean, std = getattr(row, f"{column}_mean"), getattr(row, f"{column}_std")
    if mean is None or pd.isna(mean):
        return "-"
    shown = f"{mean * scale:.{digits}f}"
    if pd.isna(std) or std == 0 or "majority" in column or "baseline" in column:  # the same on every seed (a
        return shown  # deterministic baseline) or a baseline's column: its mean says it
    low, high = getattr(row, f"{column}_ci_low") * scale, getattr(row, f"{column}_ci_high") * scale
    return (
        f"{shown} ± {std * scale:.{digits}f}" + ("\n" if multiline else " ") + f"[{low:.{digits}f}, {high:.{digits}f}]"
    )


def _cost(value: float, digits: int) -> str:
    """Example: 12.0 -> '12.0'; NaN (every seed of the variant diverged) -> '-'."""
    return "-" if pd.isna(value) else f"{value:.{digits}f}"


def _versus(row, reference_is_best: bool) -> str:
    """Example: 'best'; '-1.3 (p=0.021)'; '-0.3 (p=0.41) ≈'; '-2.0 (untested: 1 shared seed)'."""
    if row.verdict == "reference":
        return "best" if reference_is_best else "reference"
    scale, digits = METRICS[row.compared_on].scale, METRICS[row.compared_on].digits
    if pd.isna(row.difference):
        return "-"
    difference = f"{row.difference * scale:+.{digits}f}"
    if row.verdict == "untested":
        if row.pairs >= 2:
            return f"{difference} (untested: the same on all {row.pairs} seeds)"
        return f"{difference} (untested: {row.pairs} shared seed{'' if row.pairs == 1 else 's'})"
    p = "p<0.001" if row.p_holm < 0.001 else f"p={row.p_holm:.2g}"
    return f"{difference} ({p})" + (" ≈" if row.verdict == "noise" else "")


def count(n: int, noun: str) -> str:
    """Example: (1, 'seed') -> '1 seed'; (1200, 'run') -> '1,200 runs'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _size(row) -> str:
    """Example: "1x64"; "1x84 (budget 40,000)" for a variant sized by its parameter budget; "-" for a baseline that
    reads nothing (majority, naive, ...)."""
    if reads_nothing(row.cell):  # majority, naive, ...: no layers to size
        return "-"
    size = f"{row.layers}x{row.hidden_size}"
    return size if pd.isna(row.param_budget) else f"{size} (budget {int(row.param_budget):,})"
