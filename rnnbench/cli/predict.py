"""`rnnbench predict`: answer inputs given here or in a file with a trained run (the best one, unless named)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnbench.cli.options import JsonOption, PredictFormat, ResultsOption
from rnnbench.cli.output import note, output_format, print_json, say
from rnnbench.errors import UsageError

PREDICT_CHUNK = 4096  # inputs answered at once
MAX_NOTES = 20  # notes on inputs (unseen characters, longer than trained on), for a long file of inputs (--format
# csv and json list them all)
DEFAULT_TOP_K = 3


def predict(
    names: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="NAMES",
            help="Surnames (for a reversal run, sequences such as '3 7 2'; for a csv run, texts).",
            show_default=False,
        ),
    ] = None,
    run_path: Annotated[
        Optional[Path],
        typer.Option(
            "--run",
            metavar="RUN_DIR",
            help=(
                "Run directory to answer from. Default: the names run with the best validation accuracy (all "
                "candidates must know the same languages; diverged, leaky and damaged runs are passed over), or the "
                "best run of --experiment."
            ),
        ),
    ] = None,
    results: ResultsOption = Path("results"),
    experiment: Annotated[
        Optional[str], typer.Option("--experiment", metavar="NAME", help="Choose the best run of this experiment only.")
    ] = None,
    top_k: Annotated[
        Optional[int],
        typer.Option(
            "--top-k",
            metavar="K",
            min=1,
            help=f"How many languages to list per name (default {DEFAULT_TOP_K}; at most as many as the model knows).",
            show_default=False,
        ),
    ] = None,
    input_file: Annotated[
        Optional[Path],
        typer.Option(
            "--file",
            metavar="FILE",
            help=(
                "Answer every line of FILE too ('-': standard input); a .csv file (or with --column) is read by column."
            ),
        ),
    ] = None,
    column: Annotated[
        Optional[str],
        typer.Option(
            "--column", metavar="NAME", help="With --file: the CSV column to read (default: text, or the only column)."
        ),
    ] = None,
    format_: Annotated[
        PredictFormat, typer.Option("--format", help="table (one line per input), csv or json.")
    ] = PredictFormat.table,
    as_json: JsonOption = False,
):
    """Rank the likely languages of surnames with a trained model (or, from a reversal run, reverse sequences;
    from a csv run, answer a class or a number), for names given here or in a file."""
    from rnnbench.predict import answers_table, best_run, from_run, read_inputs

    shown = output_format(format_, as_json)
    if column is not None and input_file is None:
        raise UsageError("--column: reads a column of --file FILE; give the file")
    texts, where = list(names or []), [f"argument {i}" for i in range(1, len(names or []) + 1)]
    if input_file is not None:
        found, lines = read_inputs(input_file, column)
        texts, where = texts + found, where + lines
    path, why, notes = (run_path, "given by --run", []) if run_path else best_run(results, experiment)
    for line in notes:
        note(f"note: {line}")
    predictor = from_run(path)
    one_series = getattr(predictor, "one_series", False)  # a forecaster: its inputs are one series, or none
    if not texts and not one_series:
        raise UsageError("give names to answer (rnnbench predict Rossi Schmidt) or a file of them (--file names.txt)")
    note(f"model: {path} ({why})")
    labels = getattr(predictor, "labels", None)  # a classifier: it ranks as many labels as it knows
    if top_k is not None and labels is not None and top_k > len(labels):
        note(f"note: --top-k {top_k}: this model knows only {len(labels)} labels; each answer lists {len(labels)}")
    top_k = top_k or DEFAULT_TOP_K
    answers = [] if texts else predictor.predict([], top_k=top_k)
    for start in range(
        0, len(texts), max(len(texts), 1) if one_series else PREDICT_CHUNK
    ):  # else in pieces: low memory
        piece = slice(start, start + PREDICT_CHUNK)  # errors name a file's line; arguments alone, their position
        answers += predictor.predict(texts[piece], top_k=top_k, where=where[piece] if input_file else None)
    if shown == "json":
        print_json(answers)
        return
    if shown == "csv":
        import csv

        header, rows = answers_table(answers)
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    notes = 0
    for answer in answers:
        if (answer.get("unseen_characters") or answer.get("unseen_words")) and notes < MAX_NOTES:
            notes += 1
            words = bool(answer.get("unseen_words"))
            unseen = " ".join(answer["unseen_words" if words else "unseen_characters"])
            note(
                f"note: {_quoted(answer['input'])} has {'words' if words else 'characters'} "
                f"this model never saw in training ({unseen}); it reads each as one unknown token, so the answer "
                "says less"
            )
        for line in answer.get("notes", []):  # an input unlike what the model trained on (longer, far outside)
            if notes < MAX_NOTES:
                notes += 1
                note(f"note: {_quoted(answer['input']) if texts else answer['input']}: {line}")
        if "output" in answer:  # a reversal run answers with a sequence
            shown = answer["output"]
        elif "value" in answer:  # a regression run answers with a number, in the target's units
            shown = f"{answer['value']:.4g}"
        else:
            shown = ", ".join(f"{p['label']} {100 * p['probability']:.2f}%" for p in answer["predictions"])
        say(f"{answer['input']}: {shown}")


def _quoted(text: str, longest: int = 60) -> str:
    """An input as a note names it: quoted, a long one cut to its first `longest` characters. Example: 'Rossi' ->
    "'Rossi'"; 'x' * 500 -> "'xx…xx'… (500 characters)"."""
    if len(text) <= longest:
        return repr(text)
    return f"{text[:longest]!r}… ({len(text):,} characters)"
