"""Finished runs → a per-run DataFrame → one row per variant with mean ± std over seeds → text formats.

Pure functions: nothing here reads files or prints; the CLI feeds them runs from rundir.find_runs().
"""

from __future__ import annotations

import json

import pandas as pd

from rnnbench.rundir import Run
from rnnbench.errors import UsageError

FORMATS = ("table", "markdown", "csv", "json")


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    """One row per run: its identity, its model and its scores."""
    rows = []
    for run in runs:
        model, m = run.config["model"], run.metrics
        rows.append({
            "experiment": run.config["experiment"],
            "variant": run.config["variant"],
            "variant_key": m["variant_key"],
            "seed": run.config["seed"],
            "cell": model["cell"],
            "direction": "bi" if model["bidirectional"] else "uni",
            "impl": model.get("impl", "torch"),
            "layers": model["num_layers"],
            "hidden_size": m.get("hidden_size", model["hidden_size"]),  # a budget's solved size is in the metrics
            "param_budget": model.get("param_budget"),
            "params": m["parameters"],
            "test_accuracy": m["test_accuracy"],
            "test_macro_f1": m["test_macro_f1"],
            "task": m["task"],
            "long_accuracy": m.get("long_accuracy"),  # reversal: exact accuracy on the longer, unseen lengths
            "test_mse": m.get("test_mse"),  # reversal: squared error of the answers read as numbers
            "validation_accuracy": m["validation_accuracy"],
            "epochs": m["epochs_run"],
            "train_seconds": m["train_seconds"],
            "seconds_per_epoch": m["seconds_per_epoch"],
            "path": str(run.path),
        })  # fmt: skip
    return pd.DataFrame(rows)


def summarize(per_run: pd.DataFrame, sort: str | None = None) -> pd.DataFrame:
    """One row per (experiment, variant configuration): means and sample standard deviations over seeds.

    The std of a single seed is NaN (undefined): not shown, and written as null. Runs of a variant whose
    configuration changed between experiments keep separate rows, told apart by their 8-digit key.
    """
    if per_run.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    keys = ["experiment", "variant_key"]
    grouped = per_run.groupby(keys, sort=False)
    summary = grouped.agg(
        variant=("variant", "first"), cell=("cell", "first"), direction=("direction", "first"),
        impl=("impl", "first"), layers=("layers", "first"), hidden_size=("hidden_size", "first"),
        param_budget=("param_budget", "first"), params=("params", "first"),
        seeds=("seed", "nunique"),
        test_accuracy_mean=("test_accuracy", "mean"), test_accuracy_std=("test_accuracy", "std"),
        test_macro_f1_mean=("test_macro_f1", "mean"), test_macro_f1_std=("test_macro_f1", "std"),
        task=("task", "first"),
        long_accuracy_mean=("long_accuracy", "mean"), long_accuracy_std=("long_accuracy", "std"),
        test_mse_mean=("test_mse", "mean"), test_mse_std=("test_mse", "std"),
        test_mse_min=("test_mse", "min"), test_mse_max=("test_mse", "max"),
        validation_accuracy_mean=("validation_accuracy", "mean"),
        epochs_mean=("epochs", "mean"),
        train_seconds_mean=("train_seconds", "mean"), seconds_per_epoch_mean=("seconds_per_epoch", "mean"),
    ).reset_index()  # fmt: skip
    summary["param_budget"] = summary["param_budget"].astype("Int64")  # whole numbers, or null without a budget
    renamed = summary.duplicated(["experiment", "variant"], keep=False)
    summary.loc[renamed, "variant"] = summary.loc[renamed, "variant"] + "@" + summary.loc[renamed, "variant_key"]
    summary = summary[list(SUMMARY_COLUMNS)]
    if sort is None:
        return summary.sort_values(["experiment", "test_accuracy_mean"], ascending=[True, False], ignore_index=True)
    if sort not in summary.columns:
        raise UsageError(f"--sort: '{sort}' is not one of {', '.join(summary.columns)}")
    ascending = sort in ("experiment", "variant", "variant_key", "cell", "impl", "direction", "params", "param_budget",
                         "train_seconds_mean",
                         "seconds_per_epoch_mean", "layers", "hidden_size", "epochs_mean")  # fmt: skip
    return summary.sort_values(["experiment", sort], ascending=[True, ascending], ignore_index=True, kind="stable")


SUMMARY_COLUMNS = (
    "experiment", "variant", "variant_key", "cell", "impl", "direction", "layers", "hidden_size", "param_budget",
    "params", "seeds",
    "test_accuracy_mean", "test_accuracy_std", "test_macro_f1_mean", "test_macro_f1_std",
    "long_accuracy_mean", "long_accuracy_std", "test_mse_mean", "test_mse_std", "test_mse_min", "test_mse_max",
    "task", "validation_accuracy_mean", "epochs_mean", "train_seconds_mean", "seconds_per_epoch_mean",
)  # fmt: skip

DISPLAY_HEADERS = ("variant", "cell", "dir", "size", "params", "seeds", "test acc %", "macro-F1 %", "epochs",
                   "train s")  # fmt: skip


def display_rows(summary: pd.DataFrame) -> list[list[str]]:
    """The human-readable cells of each summary row, in `headers` order (percentages, mean ± std).

    The experiment is not a column: tables are shown one experiment at a time (see `by_experiment`).
    """
    rows = []
    for row in summary.itertuples():
        scores = [_mean_std(row.test_accuracy_mean, row.test_accuracy_std, 100)]
        if row.task == "reversal":
            scores += [_mean_std(row.long_accuracy_mean, row.long_accuracy_std, 100),
                       _mean_std(row.test_mse_mean, row.test_mse_std, 1, digits=2)]  # fmt: skip
        else:
            scores += [_mean_std(row.test_macro_f1_mean, row.test_macro_f1_std, 100)]
        rows.append([row.variant, row.cell, "-" if row.cell in ("linear", "majority") else row.direction, _size(row),
                     f"{row.params:,}", str(row.seeds), *scores, f"{row.epochs_mean:.1f}",
                     f"{row.train_seconds_mean:.2f}"])  # fmt: skip
    return rows


def headers(part: pd.DataFrame) -> tuple[str, ...]:
    """DISPLAY_HEADERS for one experiment: a reversal table shows exact-sequence accuracy, in range and longer,
    and the squared error of the answers read as numbers (the tutorial's regression score)."""
    if (part["task"] == "reversal").all():
        return DISPLAY_HEADERS[:6] + ("exact % (test)", "exact % (longer)", "MSE (test)") + DISPLAY_HEADERS[8:]
    return DISPLAY_HEADERS


def by_experiment(summary: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(name, part) for name, part in summary.groupby("experiment", sort=True)]


def to_markdown(summary: pd.DataFrame) -> str:
    """One table per experiment under a '### name' heading.

    Example row: '| gru-bi-1x64 | gru | bi | 1x64 | 39,938 | 3 | 96.1 ± 0.4 | 96.0 ± 0.5 | 11.0 | 1.70 |'.
    """
    blocks = []
    for name, part in by_experiment(summary):
        lines = [f"### {name}", "", "| " + " | ".join(headers(part)) + " |",
                 "|" + "|".join("---" if i < 4 else "---:" for i in range(len(headers(part)))) + "|"]  # fmt: skip
        lines += ["| " + " | ".join(cells) + " |" for cells in display_rows(part)]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def to_csv(summary: pd.DataFrame) -> str:
    return summary.to_csv(index=False)


def to_records(summary: pd.DataFrame) -> list[dict]:
    """JSON-ready rows; NaN (the std of one seed) becomes None."""
    return json.loads(summary.to_json(orient="records"))


def _mean_std(mean: float, std: float, scale: float, digits: int = 1) -> str:
    """Example: (0.9612, 0.004, 100) -> '96.1 ± 0.4'; a NaN std (one seed) -> '96.1'; no mean -> '-'."""
    if mean is None or pd.isna(mean):
        return "-"
    shown = f"{mean * scale:.{digits}f}"
    return shown if pd.isna(std) else f"{shown} ± {std * scale:.{digits}f}"


def _size(row) -> str:
    """Example: '1x64'; '1x84 (budget 40,000)' for a variant sized by its parameter budget; '-' for majority."""
    if row.cell == "majority":
        return "-"
    size = f"{row.layers}x{row.hidden_size}"
    return size if pd.isna(row.param_budget) else f"{size} (budget {int(row.param_budget):,})"
