"""A comparison summary (summary.py) rendered: per experiment, its table's headers and human-readable cells (what
the CLI draws), its legend, and the whole summary as Markdown, CSV or JSON.

Example row: gru-bi-1x64 † | 39,938–40,002 | 96.1 ± 0.4 [95.1, 97.1] | best | ... (what every row would repeat, the
legend under the table says once)
Pure functions: nothing here reads files or prints.
"""

from __future__ import annotations

import json

import pandas as pd

from rnnbench import views
from rnnbench.compare.summary import METRICS, best_row, default_metric
from rnnbench.fields import BASELINE_FIELDS, reads_nothing
from rnnbench.tasks import TASKS

TEXT_COLUMNS = ("variant", "cell", "dir", "size", "settings")  # left-aligned; the rest are numbers
PREDICT_MARK = "†"  # beside the variant of the run `predict` answers from; the legend says which run and why


def headers(part: pd.DataFrame) -> tuple[str, ...]:
    """The columns of one experiment's table: identity, the compared score and the comparison, the task's other
    columns (its COLUMNS: e.g. balanced and majority accuracy beside accuracy and macro-F1), and the cost.

    Columns that would repeat one thing on every row are left out: cell, dir and size where every variant's name
    says them (the names rnnbench gives, 'gru-bi-1x64'), settings where none differs, and seeds where every variant
    has as many and none diverged (the legend says how many)."""
    compared = part["compared_on"].iloc[0]
    reference = part["reference"].iloc[0]
    versus = f"vs {'best' if reference is None or _is_best(part) else reference}"
    versus += "" if compared == default_metric(part) else f" ({label(part, compared)})"
    labels = [label(part, column) for column in _score_columns(part)]
    return (
        "variant",
        *_identity_columns(part),
        "params",
        *(("seeds",) if _seeds_differ(part) else ()),
        labels[0],
        versus,
        *labels[1:],
        "epochs",
        "train s",
    )


def _identity_columns(part: pd.DataFrame) -> list[str]:
    """Which of cell, dir, size and settings the table needs (see headers)."""
    rows = list(part.itertuples())
    shown = [column for column in ("cell", "dir", "size") if not all(_said_by_name(row, column) for row in rows)]
    return shown + (["settings"] if _has_settings(part) else [])


def _said_by_name(row, column: str) -> bool:
    """Whether a variant's name already says its cell, direction or size. Example: 'gru-bi-1x64' says all three;
    'gru-uni-1-budget40000' not its solved size (1x96); 'majority' says its cell, and has no direction or size."""
    parts = row.variant.split("@")[0].split("-")  # name@key: a variant whose configuration changed
    if column == "cell":
        return parts[0] == row.cell
    if column == "dir":  # a baseline's reads '-'
        return row.cell in BASELINE_FIELDS or parts[:2] == [row.cell, row.direction]
    return reads_nothing(row.cell) or (pd.isna(row.param_budget) and f"{row.layers}x{row.hidden_size}" in parts)


def _seeds_differ(part: pd.DataFrame) -> bool:
    return part["seeds"].nunique() > 1 or bool(part["diverged"].any())


def _has_settings(part: pd.DataFrame) -> bool:
    return bool(part["settings"].fillna("").astype(str).str.len().gt(0).any())


def display_rows(part: pd.DataFrame, multiline: bool = True) -> list[list[str]]:
    """The human-readable cells of one experiment's rows, in `headers` order.

    Scores read 'mean ± std' then the 95% interval '[low, high]', on a second line when `multiline`. The
    comparison reads 'best', or the mean paired difference with its Holm-adjusted p-value, '≈' marking a
    difference the seeds cannot tell from noise, '(untested)' one they cannot test (the legend says why; with one
    seed per variant, nothing is tested, and the legend says so instead). Example: '96.1 ± 0.4 [95.1, 97.1]',
    '-1.3 (p=0.021)'. A parameter count that differs between seeds reads 'lowest–highest'; the run `predict`
    answers from is marked † beside its variant.
    """
    rows, best, one_seed = [], _is_best(part), part["seeds"].max() == 1
    identity, seeds_shown = _identity_columns(part), _seeds_differ(part)
    for row in part.itertuples():
        scores = [_score(row, column, multiline) for column in _score_columns(part)]
        baseline = row.cell in BASELINE_FIELDS
        cells = {
            "cell": row.cell,
            "dir": "-" if baseline else row.direction,
            "size": _size(row),
            "settings": row.settings or "-",
        }
        seeds = str(row.seeds) + (f" ({row.diverged} diverged)" if row.diverged else "")
        versus = "diverged" if row.diverged == row.seeds else _versus(row, best, one_seed, multiline)
        predicted = "" if pd.isna(row.predict_seed) else f" {PREDICT_MARK}"
        rows.append(
            [
                row.variant + predicted,
                *(cells[column] for column in identity),
                _params(row, multiline),
                *([seeds] if seeds_shown else []),
                scores[0],
                versus,
                *scores[1:],
                _cost(row.epochs_mean, 1),
                _cost(row.train_seconds_mean, 2),
            ]
        )
    return rows


def _params(row, multiline: bool) -> str:
    """Example: '39,938'; seeds whose vocabularies differ: '39,938–40,002' (a line break after the dash when
    `multiline`)."""
    low, high = int(row.params_min), int(row.params_max)
    return f"{low:,}" if low == high else f"{low:,}–" + ("\n" if multiline else "") + f"{high:,}"


def legend(part: pd.DataFrame) -> str:
    """What the table says, under each table, a line for each of: the scores and the comparison, and, where the
    table has them, parameter counts that differ by seed, the run `predict` answers from and diverged runs."""
    lines = [_comparison_legend(part)]
    lines += [f"{label(part, column)}: {value} for every variant." for column, value in _shared_baselines(part).items()]
    if (part["params_min"] != part["params_max"]).any():
        lines.append(
            "params: lowest–highest over the seeds where they differ: each seed splits the data anew, and the "
            "vocabulary (so the embedding) is read from that seed's training split."
        )
    predicted = part[part["predict_seed"].notna()]
    if len(predicted):
        row = predicted.iloc[0]
        lines.append(
            f"{PREDICT_MARK} the run `rnnbench predict --experiment {row['experiment']}` answers from: "
            f"{row['variant']} seed {row['predict_seed']}, {row['predict_reason']}."
        )
    if part["diverged"].any():
        lines.append(
            "diverged: runs whose loss or weights became NaN or infinite; they have no scores, are left out of "
            "every mean (costs too) and pair, and their variant is never the best."
        )
    return "\n".join(lines)


def _comparison_legend(part: pd.DataFrame) -> str:
    seeds = part["seeds"].max()
    compared = part["reference"].iloc[0] is not None and len(part) > 1
    if seeds == 1:  # nothing to take a mean, a spread or an interval of, nor to test a difference with
        return (
            "One seed per variant: single scores, with no spread or interval"
            + ("; vs: the difference, which one seed cannot test" if compared else "")
            + ". Run more seeds (--set 'seeds=[0,1,2]') to tell differences from noise."
        )
    over = "over seeds" if _seeds_differ(part) else f"over the {seeds} seeds of each variant"
    intervals = f"mean ± std [95% interval, clipped to the metric's range] {over}."
    if not compared:
        return intervals
    untested = _untested_legend(part)
    comparisons = int(part["p"].notna().sum())
    if comparisons == 0:
        return f"{intervals} vs: the mean paired difference from the reference" + (f", {untested}" if untested else ".")
    metric = label(part, part["compared_on"].iloc[0])
    return (
        f"{intervals} vs: the mean paired difference in {metric} from the reference over the seeds both ran, "
        f"p from a paired t-test, Holm-adjusted over the {comparisons} comparison{'s' if comparisons > 1 else ''}; "
        "≈: the seeds cannot tell it from noise (p ≥ 0.05)" + (f"; {untested}" if untested else ".")
    )


def _untested_legend(part: pd.DataFrame) -> str:
    """Why the differences marked '(untested)' are, said once. Example: 'untested: fewer than 2 seeds shared with
    the reference.'; '' where every difference was tested."""
    untested = part[(part["verdict"] == "untested") & part["difference"].notna()]
    reasons = []
    if (untested["pairs"] < 2).any():
        reasons.append("fewer than 2 seeds shared with the reference")
    if (untested["pairs"] >= 2).any():
        reasons.append("a difference the same on every seed (a t-test cannot weigh it)")
    return f"untested: {' or '.join(reasons)}." if reasons else ""


def by_experiment(summary: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(name, part) for name, part in summary.groupby("experiment", sort=True)]


def to_markdown(summary: pd.DataFrame) -> str:
    """One table per experiment under a '### name' heading, each followed by its legend.

    Example row: '| gru-bi-1x64 | 39,938 | 96.1 ± 0.4 [95.1, 97.1] | best | ... |'.
    """
    blocks = []
    for name, part in by_experiment(summary):
        columns = headers(part)
        lines = [
            f"### {name}",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "|".join("---" if column in TEXT_COLUMNS else "---:" for column in columns) + "|",
        ]
        lines += ["| " + " | ".join(cells) + " |" for cells in display_rows(part, multiline=False)]
        blocks.append("\n".join(lines) + "\n\n" + legend(part).replace("\n", "\n\n") + "\n")  # a paragraph a line
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
    return reading(part["task"].iloc[0], column).label


def reading(task: str, column: str):
    """How `task` reads a metric (label, scale, decimals): its own METRICS where it has the name, else the first
    task's. Example: ('adding', 'test_mse') -> 4 decimals; ('reversal', 'test_mse') -> 2."""
    own = TASKS[task].METRICS if task in TASKS else {}
    return own.get(column) or METRICS[column]


def _score_columns(part: pd.DataFrame) -> list[str]:
    """The score columns of an experiment's table (its task's COLUMNS), the compared metric first; a baseline's
    column the same on every row (majority accuracy, on the same splits) is said once, in the legend."""
    compared = part["compared_on"].iloc[0]
    columns = [
        column
        for column in TASKS[part["task"].iloc[0]].COLUMNS
        if column == compared or part[f"{column}_mean"].notna().any()
    ]  # a regressor has no accuracy, say
    shared = _shared_baselines(part)
    return [compared] + [column for column in columns if column != compared and column not in shared]


def _shared_baselines(part: pd.DataFrame) -> dict[str, str]:
    """{baseline score column: its one value} for the baseline columns that read the same on every row of a table
    of several rows. Example: {'test_majority_accuracy': '50.0'}."""
    compared = part["compared_on"].iloc[0]
    shared = {}
    for column in TASKS[part["task"].iloc[0]].COLUMNS:
        if column == compared or not ("majority" in column or "baseline" in column) or len(part) < 2:
            continue
        values = {_score(row, column, multiline=False) for row in part.itertuples()}
        if len(values) == 1 and values != {"-"}:
            shared[column] = values.pop()
    return shared


def _is_best(part: pd.DataFrame) -> bool:
    """Whether the reference is the best row on the compared metric (no --vs, or --vs named the best)."""
    best = best_row(part, part["compared_on"].iloc[0])
    return best is not None and bool(
        part.loc[part["variant_key"] == best["variant_key"], "verdict"].eq("reference").any()
    )


def _score(row, column: str, multiline: bool) -> str:
    """Example: '96.1 ± 0.4 [95.1, 97.1]'; one seed: '96.1'; no such score: '-'; majority: its mean only."""
    scale, digits = reading(row.task, column).scale, reading(row.task, column).digits
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


def _versus(row, reference_is_best: bool, one_seed: bool, multiline: bool) -> str:
    """Example: 'best'; '-1.3 (p=0.021)'; '-0.3 (p=0.41) ≈'; '-2.0 (untested)'; one seed per variant: '-2.0'.
    `multiline`: the p-value (or 'untested') on a second line, under the difference: '-0.3 ≈\\np=0.41'."""
    if row.verdict == "reference":
        return "best" if reference_is_best else "reference"
    scale, digits = reading(row.task, row.compared_on).scale, reading(row.task, row.compared_on).digits
    if pd.isna(row.difference):
        return "-"
    difference = f"{row.difference * scale:+.{digits}f}"
    if row.verdict == "untested":  # why: said once, in the legend
        return difference if one_seed else f"{difference}\nuntested" if multiline else f"{difference} (untested)"
    p = "p<0.001" if row.p_holm < 0.001 else f"p={row.p_holm:.2g}"
    noise = " ≈" if row.verdict == "noise" else ""
    return f"{difference}{noise}\n{p}" if multiline else f"{difference} ({p}){noise}"


def _size(row) -> str:
    """Example: "1x64"; "1x84 (budget 40,000)" for a variant sized by its parameter budget, "1x84" where its name
    says the budget ('gru-uni-1-budget40000'); "-" for a baseline that reads nothing (majority, naive, ...)."""
    if reads_nothing(row.cell):  # majority, naive, ...: no layers to size
        return "-"
    size = f"{row.layers}x{row.hidden_size}"
    if pd.isna(row.param_budget) or f"budget{int(row.param_budget)}" in row.variant.split("@")[0].split("-"):
        return size
    return f"{size} (budget {int(row.param_budget):,})"
