"""`rnnbench data names`: what cleaning and splitting do to the names corpus, or the corpus written as a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnbench.cli.inputs import source
from rnnbench.cli.options import DataDirOption, Format, FormatOption, JsonOption, MultiLanguage, Split
from rnnbench.cli.output import out, output_format, print_json, say
from rnnbench.terminal import print_view


def names(
    languages: Annotated[
        Optional[list[str]],
        typer.Option(
            "--languages", metavar="LANGUAGES", help="Languages, comma-separated or repeated, or all (the default)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="N", min=0, help="The seed that draws the split.")] = 0,
    multi_language: Annotated[
        Optional[MultiLanguage],
        typer.Option(
            "--multi-language",
            help="Names listed under several languages: drop or keep (default drop).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        Optional[Split],
        typer.Option(
            "--split",
            help="by_name (the default), or leaky (lines split at random: only to measure the leak).",
            show_default=False,
        ),
    ] = None,
    validation_fraction: Annotated[
        Optional[float],
        typer.Option(
            "--validation-fraction",
            metavar="FRACTION",
            help="Share of each language's names held out for validation (default 0.1).",
        ),
    ] = None,
    test_fraction: Annotated[
        Optional[float],
        typer.Option("--test-fraction", metavar="FRACTION", help="Share held out for testing (default 0.1)."),
    ] = None,
    keep_repeats: Annotated[
        bool, typer.Option("--keep-repeats", help="Keep repeated lines (by default they are removed).")
    ] = False,
    strip_accents: Annotated[bool, typer.Option("--strip-accents", help="Map é to e, ñ to n, ...")] = False,
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lower-case every name.")] = False,
    data_dir: DataDirOption = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
    to_csv: Annotated[
        Optional[Path],
        typer.Option(
            "--csv",
            metavar="FILE",
            help=(
                "Instead, write the chosen languages' lines as a CSV (text,label) for the csv task; an existing file "
                "is never replaced."
            ),
        ),
    ] = None,
):
    """Report what cleaning and splitting do to the names corpus (or write it as a CSV with --csv).

    Per language: lines, distinct names, duplicates removed, names listed under several languages, split sizes;
    then whether any name is in two splits."""
    from rnnbench import config

    shown = output_format(format_, as_json)
    chosen = [part.strip() for value in languages or [] for part in value.split(",") if part.strip()] or None
    multi_language, split = (None if value is None else value.value for value in (multi_language, split))
    data = config.data_options(
        "names",
        {
            "languages": chosen,
            "multi_language": multi_language,
            "split": split,
            "validation_fraction": validation_fraction,
            "test_fraction": test_fraction,
            "dedupe": False if keep_repeats else None,
            "strip_accents": strip_accents or None,
            "lowercase": lowercase or None,
        },
    )
    task = config.task_of(data)
    if to_csv is not None:
        rows = task.write_csv(source(data, data_dir), to_csv)
        if shown == "json":
            print_json({"file": str(to_csv), "lines": rows, "languages": list(data.languages)})
            return
        say(f"{to_csv}: {rows:,} lines of {len(data.languages)} languages as text,label")
        return
    report = task.split(source(data, data_dir), data, seed).report
    if shown == "json":
        print_json({"seed": seed, **report})
        return
    print_view(task.data_table(report, f"names data (seed {seed})"), out)
