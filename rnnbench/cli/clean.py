"""`rnnbench clean`: remove the unfinished runs an experiment file no longer has."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnbench.cli.options import Format, FormatOption, JsonOption, ResultsOption, SetOption
from rnnbench.cli.output import note, output_format, print_json, say


def clean(
    experiment: Annotated[
        Path, typer.Argument(metavar="EXPERIMENT.yaml", help="Experiment YAML file.", show_default=False)
    ],
    set_: SetOption = None,
    results: ResultsOption = Path("results"),
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Remove the unfinished runs an experiment file no longer has: the checkpoints and failure records that runs
    started with other settings (the file edited since, or other --set values) left in
    <results>/<experiment>/.incomplete/, where they would stay for good.

    Finished runs are never removed, nor the checkpoints of runs the file still has (`run` resumes them), nor a
    run another process is training now, nor what `rnnbench tune` resumes (a trial its studies hold as running,
    the evaluation runs). Give the --set values `run` was given."""
    from rnnbench import config, rundir
    from rnnbench.tune import runs_to_keep

    shown = output_format(format_, as_json)
    exp = config.load(experiment, set_ or [])
    keep = {(spec.variant_key(), spec.seed) for spec in exp.run_specs() + runs_to_keep(exp, results)}
    removed, busy = rundir.remove_unfinished(results, exp.name, keep)
    kept = [run for run in rundir.unfinished_runs(results, exp.name) if run not in busy]
    folder = Path(results) / exp.name / ".incomplete"
    if shown == "json":
        print_json(
            {
                "experiment": exp.name,
                "folder": str(folder),
                **{
                    what: [
                        {"key": run.key, "seed": run.seed, "files": [str(f) for f in run.files + run.debris]}
                        for run in runs
                    ]
                    for what, runs in (("removed", removed), ("kept", kept), ("busy", busy))
                },
            }
        )
        return
    for run in removed:
        say(f"removed: {run} ({', '.join(file.name for file in run.files)})")
    if not (removed or kept or busy):
        note(f"{folder}: no unfinished runs; nothing to remove")
        return
    note(
        f"{folder}: removed {_runs(len(removed))} that {experiment} no longer has"
        + (f"; kept {_runs(len(kept))} it has, which `rnnbench run` (or `tune`) resumes" if kept else "")
        + (f"; left {_runs(len(busy))} that another process is training now" if busy else "")
    )


def _runs(count: int) -> str:
    return f"{count} unfinished run{'' if count == 1 else 's'}"
