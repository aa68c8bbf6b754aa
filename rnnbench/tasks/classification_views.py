"""What a text → class run shows (names, and a CSV with `target: class`): per-class scores, the most confused
pairs, the confusion matrix, the data hygiene report, the report's sections and the confusion heatmap.

Not a task itself: the task modules call it with their own words for an example and its class ("name" and
"language", or "text" and "label").
"""

from __future__ import annotations

import numpy as np

from rnnbench import metrics
from rnnbench.data.names import REPORT_COLUMNS, TREATMENT, describe_overlap
from rnnbench.views import Table, to_markdown


def per_class_table(per_class: list[dict], truth: str, title: str) -> Table:
    """Per-class precision, recall and F1, worst F1 first; a class without test examples has no recall to speak of."""
    rows = []
    for row in metrics.worst_first(per_class):
        scored = row["support"] > 0
        rows.append(
            [
                row["label"],
                str(row["support"]),
                *(f"{100 * row[key]:.1f}" if scored else "-" for key in ("precision", "recall", "f1")),
            ]
        )
    return Table(title, [truth, "test examples", "precision %", "recall %", "F1 %"], rows, right={1, 2, 3, 4})


def confused_table(pairs: list[dict], columns: tuple[str, str]) -> Table:
    item, truth = columns
    rows = [
        [p["true"], p["predicted"], str(p["count"]), f"{100 * p['rate']:.1f}%", ", ".join(p["examples"])] for p in pairs
    ]
    return Table(
        f"most confused: true {truth} → answered",
        ["true", "answered", f"{item}s", "share of true", "examples"],
        rows,
        right={2, 3},
    )


def confusion_table(matrix: list[list[int]], labels: list[str]) -> Table:
    rows = [[label, *(str(count) if count else "·" for count in row)] for label, row in zip(labels, matrix)]
    return Table(
        "confusion matrix, test split (rows: true, columns: answered)",
        ["", *(label[:3] for label in labels)],
        rows,
        right=set(range(1, len(labels) + 1)),
    )


def confused_from_predictions(rows: list[dict], columns: tuple[str, str], top: int = 10) -> list[dict]:
    item, truth = columns
    return metrics.confused_pairs(
        [r[item] for r in rows], [r[truth] for r in rows], [r["predicted"] for r in rows], top=top
    )


def show_tables(record, predictions: list[dict] | None, columns: tuple[str, str], top: int) -> list[Table | str]:
    """What `show` prints for a classification run after its scores: per-class scores, the most confused pairs
    with examples, the confusion matrix. `columns` names an example and its class, e.g. ("name", "language")."""
    labels, details = record.data["labels"], record.details
    per_class = details.get("test_per_class") or metrics.per_class_scores(details["test_confusion_matrix"], labels)
    pairs = (
        details.get("test_confused_pairs")
        if predictions is None
        else confused_from_predictions(predictions, columns, top)
    )
    tables = []
    if record.scores.get("test_majority_accuracy") is not None:
        tables.append(
            f"majority class (always the training split's most frequent {columns[1]}): "
            f"{100 * record.scores['test_majority_accuracy']:.1f}% of the test split"
        )
    tables.append(per_class_table(per_class, columns[1], f"per {columns[1]}, test split (worst F1 first)"))
    if pairs:
        tables.append(confused_table(pairs[:top], columns))
    return tables + [confusion_table(details["test_confusion_matrix"], labels)]


def summed_confusion(records: list) -> np.ndarray:
    return np.sum([record.details["test_confusion_matrix"] for record in records], axis=0)


def data_table(report: dict, title: str, noun: str) -> Table:
    """The data hygiene report as a table: a row per class (lines, distinct, duplicates removed, in several
    classes, split sizes) and a total row; under it, what the multi-class policy did and the split check."""
    rows = [[label, *(f"{row[key]:,}" for key in REPORT_COLUMNS)] for label, row in report["languages"].items()]
    rows.append(["total", *(f"{sum(row[key] for row in report['languages'].values()):,}" for key in REPORT_COLUMNS)])
    notes = []
    count, policy = report["multi_language_names"], report["multi_language_policy"]
    if count:
        examples = "; ".join(f"{text}: {', '.join(labels)}" for text, labels in report["multi_language_examples"][:3])
        treatment = (
            TREATMENT[policy]
            if noun == "name"
            else TREATMENT[policy].replace("languages", "classes").replace("language", "class")
        )
        notes.append(
            f"{count:,} {noun}s are listed under several of these {'languages' if noun == 'name' else 'classes'} "
            f"(e.g. {examples}): {treatment} ({'multi_language' if noun == 'name' else 'conflicts'}: {policy})"
        )
    notes.append(describe_overlap(report, noun))
    headers = [("language" if noun == "name" else "class"), *REPORT_COLUMNS.values()]
    if noun != "name":
        headers[4] = "in several classes"
    return Table(title, headers, rows, right=set(range(1, len(headers))), bold_last=True, notes=notes)


def report_errors(
    best_variant: str, records: list, predictions: list[list[dict] | None], columns: tuple[str, str]
) -> list[str]:
    """Markdown: the best variant's per-class scores and most confused pairs, over all its seeds."""
    labels = records[0].data["labels"]
    matrix = summed_confusion(records)
    item, truth = columns
    lines = [
        "## Errors worth looking at",
        "",
        f"The best variant, **{best_variant}**, on the test splits of its {len(records)} seed"
        f"{'s together' if len(records) > 1 else ''} "
        f"({int(matrix.sum()):,} test examples).",
        "",
    ]
    table = per_class_table(metrics.per_class_scores(matrix, labels), truth, "")
    lines += to_markdown(table, f"### Per {truth} (worst F1 first)")
    if any(rows is None for rows in predictions):
        return lines + ["(No test predictions recorded: these runs were written by an older rnnbench.)", ""]
    rows = [row for seed_rows in predictions for row in seed_rows]
    return lines + to_markdown(
        confused_table(confused_from_predictions(rows, columns), columns), "### Most confused pairs"
    )


def report_data(records: list, load_report, noun: str) -> list[str]:
    """Markdown: the data hygiene report of every seed: the per-class table once (a split by text gives every seed
    the same sizes), then each seed's split sizes and overlap check."""
    reports = {}
    for record in records:
        reports.setdefault(record.spec.seed, load_report(record.path))
    lines = ["## Data", ""]
    found = {seed: report for seed, report in sorted(reports.items()) if report is not None}
    if not found:
        return lines + ["These runs hold no data report (they were written by an older rnnbench).", ""]
    seed, report = next(iter(found.items()))
    lines += to_markdown(data_table(report, "", noun), f"Seed {seed}, split `{report['split']}`:")
    for seed, report in found.items():
        sizes = report["sizes"]
        lines.append(
            f"- seed {seed}: {sizes['train']:,} / {sizes['validation']:,} / {sizes['test']:,} "
            f"train / validation / test examples; {describe_overlap(report, noun)}"
        )
    return lines + [""]


def plots(
    experiment: str,
    best_variant: str,
    best_records: list,
    stem: str,
    records_of: dict,
    styles: dict,
    load_report,
    load_predictions,
) -> list:
    """The best variant's confusion matrix, summed over its seeds, as (figure, file name)."""
    from rnnbench.figures import confusion_heatmap, file_name

    seeds = f"{len(best_records)} seed{'s' if len(best_records) > 1 else ''}"
    figure = confusion_heatmap(
        summed_confusion(best_records),
        best_records[0].data["labels"],
        title=f"{experiment}: {best_variant}, test split, {seeds}",
    )
    return [(figure, f"{stem}-confusion-{file_name(best_variant)}.png")]
