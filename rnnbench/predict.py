"""Answer from a trained model: choose the run, rebuild its model from the run directory alone (weights and
constructor arguments, never a pickled object), and let its task answer: languages for a surname, a reversed
sequence, a class or a number for a text."""

from __future__ import annotations

from pathlib import Path

from rnnbench import rundir
from rnnbench.errors import RnnbenchError
from rnnbench.config import DEFAULT_TASK
from rnnbench.tasks import TASKS


def best_run(results: Path, experiment: str | None = None) -> tuple[Path, str]:
    """The finished run to answer from, and a line saying why it was chosen.

    With `experiment`, among its runs; without, among the runs of the tasks that answer by default (names). Each
    task first passes over runs it should not answer from (names: leaky splits, and runs that know fewer
    languages); then the best watched validation score wins (ties: the first by path).
    """
    runs, _ = rundir.find_runs(results)
    experiments = sorted({run.spec.experiment for run in runs})
    if experiment is None and len(experiments) == 1:
        experiment = experiments[0]  # one experiment: nothing to choose between
    if experiment is not None:
        chosen = [run for run in runs if run.spec.experiment == experiment]
    else:
        chosen = [run for run in runs if TASKS[run.task].PREDICT_BY_DEFAULT]
    if not chosen and experiment is None and runs:
        raise RnnbenchError(f"{results}: no names run to answer from by default; choose an experiment with --experiment "
                            f"({', '.join(experiments)}) or a run with --run DIR")  # fmt: skip
    if not chosen:
        where = f"{results}: no finished run" + (f" of experiment '{experiment}'" if experiment else "")
        raise RnnbenchError(f"{where}; train one with `rnnbench run EXPERIMENT.yaml` or pass --run DIR")
    task = TASKS[chosen[0].task]
    candidates, why = task.candidates([run for run in chosen if run.task == chosen[0].task])
    key, direction = task.watch(candidates[0].spec.data)
    label = task.METRICS.get(key)
    best = choose(candidates, key, direction)
    value = best.scores.get(key)
    shown = ("none: these runs have no validation split" if value is None else
             f"{value * label.scale:.{label.digits}f}{'%' if label.scale == 100 else ''}" if label else f"{value:.4g}")  # fmt: skip
    return best.path, f"best {key.replace('_', ' ')} ({shown}) of " + "; ".join(why)


def choose(records: list, key: str, direction: str):
    """The record with the best `key` score (the first of ties); a run without it (no validation split) last."""
    def rank(record):
        value = record.scores.get(key)
        if value is None or value != value:  # None or NaN
            return float("-inf")
        return value if direction == "max" else -value

    return max(records, key=rank)


def from_run(path: Path):
    """The predictor of a run directory: `.predict(texts, top_k) -> list[dict]`, one answer per text."""
    state_dict, info = rundir.load_model_files(path)
    where = Path(path) / "model.json"
    task = TASKS.get(info.get("task", DEFAULT_TASK))  # model.json of the first runs named no task: names
    if task is None:
        raise RnnbenchError(f"{where}: a model of task {info.get('task')!r}, which this rnnbench does not know")
    return task.predictor(state_dict, info, where)
