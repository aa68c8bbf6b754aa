"""Comparing runs: finished runs → a per-run DataFrame → one row per variant with statistics over seeds and a paired
comparison with a reference (summary.py) → tables as the CLI draws them, Markdown, CSV and JSON (tables.py); and
the tuning curves of `rnnbench tune`'s trials (curves.py, imported where they are drawn).

This module defines nothing: it names what the rest of rnnbench uses, and every public name the single module
it grew from had.
"""

from rnnbench.compare.summary import (
    COMPARABLE,
    COSTS,
    METRICS,
    STATISTICS,
    SUMMARY_COLUMNS,
    best_row,
    default_metric,
    runs_frame,
    summarize,
)
from rnnbench.compare.tables import (
    PREDICT_MARK,
    RENDERERS,
    TEXT_COLUMNS,
    by_experiment,
    display_rows,
    headers,
    label,
    legend,
    to_csv,
    to_json,
    to_markdown,
    to_records,
)
from rnnbench.views import count  # here since `validate` and `show` count without pandas

__all__ = [
    "COMPARABLE",
    "COSTS",
    "METRICS",
    "PREDICT_MARK",
    "RENDERERS",
    "STATISTICS",
    "SUMMARY_COLUMNS",
    "TEXT_COLUMNS",
    "best_row",
    "by_experiment",
    "count",
    "default_metric",
    "display_rows",
    "headers",
    "label",
    "legend",
    "runs_frame",
    "summarize",
    "to_csv",
    "to_json",
    "to_markdown",
    "to_records",
]
