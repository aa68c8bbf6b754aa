"""Which finished run answers for an experiment: its task's candidates (names: a run on a leaky split only where no
other can answer), ranked by the task's selection score (its RANK, else the validation score early stopping
watched), best first. `predict` answers from the first of them whose weights read; `compare` marks it in its table,
with the score it was chosen by, so that the choice is never made on a number no table shows.

Pure functions over finished runs (RunRecords): nothing here reads files.
"""

from __future__ import annotations

from pathlib import Path

from rnnbench.errors import RnnbenchError
from rnnbench.tasks import TASKS


def ranked_candidates(records: list) -> tuple[list, str, list[str]]:
    """(the candidate runs, best first; the score they are ranked by; the task's words on what was ranked).

    `records`: finished, not diverged runs of one task and one label set (one question), in path order: ties keep
    it. Example: (18 names runs) -> ([run, ...], 'validation_accuracy', ['18 runs with 2 languages']).
    """
    candidates, why = TASKS[records[0].task].candidates(records)
    key, direction = selection_score(candidates[0].spec.data)
    return ranked(candidates, key, direction), key, why


def selection_score(data) -> tuple[str, str]:
    """(the score runs on `data` are chosen by, "max" or "min"): the task's RANK, else the validation score early
    stopping watched. What `predict` picks a run by and `tune` picks a setting by. Example: names -> (
    'validation_accuracy', 'max'); series -> ('validation_mase', 'min')."""
    task = TASKS[data.dataset]
    return task.RANK or task.watch(data)


def ranked(records: list, key: str, direction: str) -> list:
    """The records best `key` score first (ties keep their order); runs without it (no validation split) last."""

    def rank(record):
        value = record.scores.get(key)
        if value is None or value != value:  # None or NaN
            return float("-inf")
        return value if direction == "max" else -value

    return sorted(records, key=rank, reverse=True)


def reason(record, key: str, why: list[str]) -> str:
    """Why `record` was chosen, in words. Example: 'best validation accuracy (99.3%) of 18 runs with 2 languages';
    'best validation MASE (0.8123) of 12 series runs'."""
    label = TASKS[record.task].METRICS.get(key)
    value = record.scores.get(key)
    shown = (
        "none: these runs have no validation split"
        if value is None
        else f"{value * label.scale:.{label.digits}f}{'%' if label.scale == 100 else ''}"
        if label
        else f"{value:.4g}"
    )
    words = key.replace("_", " ")
    words = label.label if label and label.label.lower() == words else words  # the field's spelling: MASE
    return f"best {words} ({shown}) of " + "; ".join(why)


def check_one_question(records: list, results: Path) -> None:
    """Refuse to rank runs of different tasks or label sets against each other: a German-vs-Italian run's
    validation score says nothing about a Japanese-vs-Chinese one's, and neither answers the other's question."""
    questions: dict[tuple, list[str]] = {}
    for record in records:
        experiments = questions.setdefault((record.task, tuple(sorted(record.data.get("labels") or ()))), [])
        if record.spec.experiment not in experiments:
            experiments.append(record.spec.experiment)
    if len(questions) > 1:
        listed = "; ".join(
            f"{_labels(task, labels)} ({', '.join(experiments)})" for (task, labels), experiments in questions.items()
        )
        choices = " | ".join(f"--experiment {name}" for name in sorted({run.spec.experiment for run in records}))
        raise RnnbenchError(
            f"{results}: these runs answer different questions: {listed}; choose one: {choices} (or --run DIR)"
        )


def _labels(task: str, labels: tuple) -> str:
    """Example: ('names', ('German', 'Italian')) -> 'names: German, Italian'; 18 labels: 'names: 18 labels
    (Arabic, Chinese, Czech, ...)'."""
    if not labels:
        return task
    if len(labels) <= 4:
        return f"{task}: {', '.join(labels)}"
    return f"{task}: {len(labels)} labels ({', '.join(labels[:3])}, ...)"
