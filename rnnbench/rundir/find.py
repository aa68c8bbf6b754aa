"""Finding finished runs under a results folder: every run (and a line for each that cannot be read), or the one
run of a spec, which `run` skips rather than trains again; and what to say when an experiment has none."""

from __future__ import annotations

import glob
from pathlib import Path

from rnnbench.config import RunSpec, closest
from rnnbench.errors import RnnbenchError
from rnnbench.rundir.files import is_finished, load_model_files, run_dir
from rnnbench.rundir.record import RunRecord, load_run


def finished_run(results: Path, spec: RunSpec) -> Path | None:
    """The finished run of this spec's configuration and seed, if any, whatever its variant was called then.

    Raises, before anything is trained, if the run's directory exists but is damaged or unfinished, since
    writing over it would lose what it holds.
    """
    path = run_dir(results, spec)
    matches = sorted(path.parent.parent.glob(f"*-{spec.variant_key()}/{path.name}"))
    found = path if path.exists() else matches[0] if matches else None
    if found is None:
        return None
    if not is_finished(found):
        raise RnnbenchError(
            f"{found}: holds no metrics.json (an unfinished or damaged run); move or delete it to retrain"
        )
    try:
        load_run(found)
        load_model_files(found)  # a run is skipped only if its weights can answer too
    except RnnbenchError as err:
        raise RnnbenchError(f"{err}; delete {found} to retrain it") from None
    return found


def find_runs(results: Path, experiment: str = "*") -> tuple[list[RunRecord], list[str]]:
    """Every finished run under `results` (of one experiment, if named), sorted by path, and one line per run
    directory that could not be read."""
    runs, problems = [], []
    folder = experiment if experiment == "*" else glob.escape(experiment)
    for metrics_file in sorted(Path(results).glob(f"{folder}/*/seed-*/metrics.json")):
        try:
            runs.append(load_run(metrics_file.parent))
        except RnnbenchError as err:
            problems.append(str(err))
    return runs, problems


def experiment_hint(experiment: str, runs: list[RunRecord]) -> str:
    """What to add to 'no finished run of experiment X' when `runs` (a results folder's) are of other experiments:
    '; did you mean Y?' naming the closest of their names, else '; it holds runs of A, B'; '' without runs.
    Example: ('names_de_ti', runs of names_de_it and names_18) -> '; did you mean names_de_it?'."""
    names = sorted({run.spec.experiment for run in runs})
    guess = closest(experiment, names)
    if guess is not None:
        return f"; did you mean {guess}?"
    return f"; it holds runs of {', '.join(names)}" if names else ""
