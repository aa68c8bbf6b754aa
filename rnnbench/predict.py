"""Answer from a trained model: choose the run, rebuild its model from the run directory alone (weights and
constructor arguments, never a pickled object), and let its task answer: languages for a surname, a reversed
sequence, a class or a number for a text."""

from __future__ import annotations

import sys
from pathlib import Path

from rnnbench import rundir, selection
from rnnbench.config import DEFAULT_TASK
from rnnbench.data import delimited
from rnnbench.errors import RnnbenchError
from rnnbench.selection import check_one_question
from rnnbench.tasks import TASKS


def best_run(results: Path, experiment: str | None = None) -> tuple[Path, str, list[str]]:
    """The finished run to answer from, a line saying why it was chosen, and notes on runs passed over.

    With `experiment`, among its runs; without, among the runs of the tasks that answer by default (names). Runs
    that answer another question are never ranked against each other: if the candidates know different label
    sets (German-vs-Italian and Japanese-vs-Chinese runs in one results folder), this refuses in one line that
    lists each `--experiment` choice; when the candidates span several experiments, the line says which. Diverged
    runs are passed over, so are damaged ones (with a note each); each task passes over runs it
    should not answer from (names: leaky splits); then the best watched validation score wins (ties: the first
    by path).
    """
    runs, damaged = rundir.find_runs(results)
    notes = [f"passed over a damaged run: {problem}" for problem in damaged]
    experiments = sorted({run.spec.experiment for run in runs})
    if experiment is None and len(experiments) == 1:
        experiment = experiments[0]  # one experiment: nothing to choose between
    if experiment is not None:
        chosen = [run for run in runs if run.spec.experiment == experiment]
    else:
        chosen = [run for run in runs if TASKS[run.task].PREDICT_BY_DEFAULT]
    if not chosen and experiment is None and runs:
        raise RnnbenchError(
            f"{results}: no names run to answer from by default; choose one: "
            + " | ".join(f"--experiment {name}" for name in experiments)
            + " (or --run DIR)"
        )
    if not chosen and experiment is not None and runs:
        raise RnnbenchError(
            f"{results}: no finished run of experiment '{experiment}'{rundir.experiment_hint(experiment, runs)}"
        )
    if not chosen:
        where = f"{results}: no finished run" + (f" of experiment '{experiment}'" if experiment else "")
        raise RnnbenchError(f"{where}; train one with `rnnbench run EXPERIMENT.yaml` or pass --run DIR")
    # a tuning trial's validation score chose a setting, which its evaluation runs answer from; a pruned one, never
    answers = [run for run in chosen if not run.tuning_trial]
    if answers and len(answers) < len(chosen):
        notes.append(f"{len(chosen) - len(answers)} tuning trial(s) passed over")
    chosen = answers or [run for run in chosen if not run.metrics.get("pruned_after_epoch")]
    if not chosen:
        raise RnnbenchError(f"{results}: only pruned tuning trials to answer from; let `rnnbench tune` finish")
    trained = [run for run in chosen if run.diverged is None]
    if not trained:
        raise RnnbenchError(
            f"{results}: every candidate run diverged (its loss became NaN or infinite), so none can "
            "answer; train again with a lower learning_rate or with grad_clip"
        )
    if len(trained) < len(chosen):
        notes.append(f"{len(chosen) - len(trained)} diverged run(s) passed over")
    check_one_question(trained, results)
    candidates, key, why = selection.ranked_candidates(trained)
    among = sorted({run.spec.experiment for run in candidates})
    if experiment is None and len(among) > 1:  # chosen without --experiment: say from which experiments
        why = [f"{why[0]} in experiments {', '.join(among)}", *why[1:]]
    for best in candidates:
        try:
            rundir.load_model_files(best.path)
        except RnnbenchError as err:
            notes.append(f"passed over a damaged run: {err}")
            continue
        return best.path, selection.reason(best, key, why), notes
    raise RnnbenchError(
        f"{results}: no candidate run has readable weights (see the notes above); retrain or pass --run DIR"
    )


def from_run(path: Path):
    """The predictor of a run directory: `.predict(texts, top_k) -> list[dict]`, one answer per text."""
    if rundir.is_finished(path):
        diverged = rundir.load_run(path).diverged
        if diverged is not None:
            raise RnnbenchError(
                f"{path}: this run diverged in epoch {diverged['epoch']} ({diverged.get('reason', 'not finite')}) "
                "and cannot answer; train again with a lower learning_rate or with grad_clip"
            )
    state_dict, info = rundir.load_model_files(path)
    where = Path(path) / "model.json"
    task = TASKS.get(info.get("task", DEFAULT_TASK))  # model.json of the first runs named no task: names
    if task is None:
        raise RnnbenchError(f"{where}: a model of task {info.get('task')!r}, which this rnnbench does not know")
    return task.predictor(state_dict, info, where)


MAX_INPUT_BYTES = 100_000_000  # a file of inputs to answer: a million names is ~10 MB


def read_inputs(path: Path, column: str | None = None, stdin=None) -> tuple[list[str], list[str]]:
    """(the inputs in a file, where each came from, for errors: 'names.txt line 3').

    One input per line, blank lines skipped; or, for a `.csv` or `.tsv` file or with `column`, one column of a
    CSV (or tab-separated) file with a header row (`column`, else the column named `text`, else the only column).
    '-' reads stdin.
    Raises RnnbenchError naming the file (and the line) for a file that cannot be read, is not UTF-8, or has no
    such column.
    """
    name = "stdin" if str(path) == "-" else str(path)
    try:
        content = (stdin or sys.stdin.buffer).read(MAX_INPUT_BYTES + 1) if name == "stdin" else _read_bytes(Path(path))
        text = content.decode("utf-8-sig")
    except FileNotFoundError:
        raise RnnbenchError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise RnnbenchError(f"{name}: is a folder; give a file of inputs, one per line") from None
    except UnicodeDecodeError as err:
        line = content[: err.start].count(b"\n") + 1
        raise RnnbenchError(
            f"{name} line {line}: not UTF-8 text (byte {content[err.start]:#04x}); save the file as UTF-8"
        ) from None
    except OSError as err:
        raise RnnbenchError(f"{name}: cannot read ({err.strerror or err})") from None
    if len(content) > MAX_INPUT_BYTES:
        raise RnnbenchError(f"{name}: over {MAX_INPUT_BYTES:,} bytes; split it into smaller files")
    if column is None and not name.lower().endswith((".csv", ".tsv")):
        found = [
            (line, f"{name} line {number}") for number, line in enumerate(text.splitlines(), start=1) if line.strip()
        ]
    else:  # read as every reader of a user's CSV reads it: the same header, field counts and quotes
        header, rows = delimited.read_rows(name, text)
        wanted = column or ("text" if "text" in header else header[0] if len(header) == 1 else None)
        if wanted not in header:
            asked = f"no column '{column}'" if column else "several columns and none named 'text'"
            raise RnnbenchError(f"{name}: {asked}; choose one with --column ({', '.join(header)})")
        index = header.index(wanted)
        found = [
            (row[index], f"{name} line {line}, column '{wanted}'")
            for line, row in rows
            if any(cell.strip() for cell in row)  # a row of empty fields holds no input
        ]
    if not found:
        raise RnnbenchError(f"{name}: no inputs in it")
    return [item for item, _ in found], [where for _, where in found]


def _read_bytes(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(MAX_INPUT_BYTES + 1)


def answers_table(answers: list[dict]) -> tuple[list[str], list[list]]:
    """(header, rows) of answers for a CSV file, the same columns whatever the inputs: the input, then what the
    task answers — each ranked label with its probability (as many as were asked for and the model has), a number,
    or a sequence — and, for a model that reads text, `unseen`: the characters (or words) it never saw in
    training; last, `notes`: what else makes an input unlike the training data (longer than any trained on, far
    outside the training range), sentences separated by '; '.
    Example (top-k 2): ['input', 'label_1', 'probability_1', 'label_2', 'probability_2', 'unseen', 'notes']."""
    ranks = max((len(answer["predictions"]) for answer in answers if "predictions" in answer), default=0)
    header = ["input"] + [f"{what}_{rank}" for rank in range(1, ranks + 1) for what in ("label", "probability")]
    header += [key for key in ("value", "output") if any(key in answer for answer in answers)]
    reads_text = any("predictions" in answer or "value" in answer for answer in answers)
    header += ["unseen"] if reads_text else []
    header += ["notes"]
    rows = []
    for answer in answers:
        row = [answer["input"]]
        row += [part for p in answer.get("predictions", []) for part in (p["label"], round(p["probability"], 6))]
        row += [answer[key] for key in ("value", "output") if key in header]
        row += [" ".join(answer.get("unseen_characters") or answer.get("unseen_words") or [])] if reads_text else []
        row += ["; ".join(answer.get("notes", []))]
        rows.append(row)
    return header, rows
