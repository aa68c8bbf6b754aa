"""A comparison summary (summary.py) rendered: per experiment, its table's headers and human-readable cells (what
the CLI draws), its legend, and the whole summary as Markdown, CSV or JSON.

Example row: gru-bi-1x64 | gru | bi | 1x64 | 39,938 | 3 | 96.1 ± 0.4 [95.1, 97.1] | best | ...
Pure functions: nothing here reads files or prints.
"""

from __future__ import annotations

import json

import pandas as pd

from rnnbench import views
from rnnbench.compare.summary import METRICS, best_row, default_metric
from rnnbench.fields import BASELINE_FIELDS, reads_nothing
from rnnbench.tasks import TASKS


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


def _size(row) -> str:
    """Example: "1x64"; "1x84 (budget 40,000)" for a variant sized by its parameter budget; "-" for a baseline that
    reads nothing (majority, naive, ...)."""
    if reads_nothing(row.cell):  # majority, naive, ...: no layers to size
        return "-"
    size = f"{row.layers}x{row.hidden_size}"
    return size if pd.isna(row.param_budget) else f"{size} (budget {int(row.param_budget):,})"
