"""The Optuna studies of `rnnbench tune`: one per variant, all stored in one journal file in the experiment's folder
(results/<experiment>/studies.journal, which `optuna-dashboard` opens), the search space as Optuna's
distributions, a trial's setting, and the pruning of a trial run by the process that trains it.

Why a journal file and not SQLite: a trial's run reports each epoch's validation score, and asks whether to stop,
from the worker process that trains it, while the `tune` process asks for trials and tells their results. SQLite is
not safe for several writers (Optuna's FAQ); Optuna's journal storage appends every change to one file under a
file lock, which several processes on one machine (or on a shared file system) may write.

Optuna (the `tune` extra) is imported only here, and only when a study is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from rnnbench import extras
from rnnbench.config import ModelSpec, RunSpec, Train
from rnnbench.config.tuning import Tune
from rnnbench.errors import RnnbenchError

JOURNAL = "studies.journal"  # in results/<experiment>/


def journal_path(results: Path, experiment: str) -> Path:
    return Path(results) / experiment / JOURNAL


def optuna():
    """The optuna module, quiet (rnnbench says what happens), or one line saying how to install it."""
    module = extras.require("tune", "rnnbench tune")
    module.logging.set_verbosity(logging.WARNING)
    return module


def storage(results: Path, experiment: str):
    """The experiment's journal storage (the file and its folder made if need be)."""
    storages = optuna().storages
    path = journal_path(results, experiment)
    path.parent.mkdir(parents=True, exist_ok=True)
    return storages.JournalStorage(storages.journal.JournalFileBackend(str(path)))


def distributions(tune: Tune) -> dict[str, object]:
    """{parameter name: Optuna distribution} of the search space; a name is the field's, `train.` before a
    training field's. Example: {"dropout": FloatDistribution(0.0, 0.5), "train.learning_rate":
    FloatDistribution(0.0001, 0.01, log=True)}."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from rnnbench.config.checks import whole_number_field

    found = {}
    for (section, field), dimension in tune.space.dimensions().items():
        name = field if section == "model" else f"train.{field}"
        if dimension.choices is not None:
            found[name] = CategoricalDistribution(dimension.choices)
        elif whole_number_field(ModelSpec if section == "model" else Train, field):
            found[name] = IntDistribution(
                int(dimension.low), int(dimension.high), log=dimension.log, step=int(dimension.step or 1)
            )
        else:
            found[name] = FloatDistribution(dimension.low, dimension.high, log=dimension.log, step=dimension.step)
    return found


def with_params(model: ModelSpec, train: Train, params: dict) -> tuple[ModelSpec, Train]:
    """The variant's model and training settings with a trial's values (validated as the file's are)."""
    model_fields = {name: value for name, value in params.items() if not name.startswith("train.")}
    train_fields = {name.removeprefix("train."): value for name, value in params.items() if name.startswith("train.")}
    try:
        return (
            ModelSpec.model_validate({**model.model_dump(), **model_fields}),
            Train.model_validate({**train.model_dump(), **train_fields}),
        )
    except ValueError as err:  # the space's ends are checked; a value between them is too (a step off the range)
        raise RnnbenchError(f"tune.space: a trial's values are not valid ({err})") from None


def pruning(spec: RunSpec, results: Path, watched: str) -> Callable[[dict], bool] | None:
    """For a tuning trial's run (its config says which study and trial) whose study prunes: what fit() asks after
    every epoch, which reports the epoch's `watched` score to the study and says whether to stop. None for any
    other run, and for a trial its study no longer runs (`run --repeat` of a trial trains it whole)."""
    if spec.trial is None or spec.trial.kind != "trial" or not journal_path(results, spec.experiment).is_file():
        return None
    return Pruning(results, spec.experiment, spec.trial.study, spec.trial.number, watched)


class Pruning:
    """Report each epoch's watched score as the trial's intermediate value, and ask the study's pruner (picklable:
    it opens the journal in the process that trains the run)."""

    def __init__(self, results: Path, experiment: str, study: str, number: int, watched: str):
        self.results, self.experiment, self.study, self.number = results, experiment, study, number
        self.watched = watched
        self.opened = None

    def __call__(self, row: dict) -> bool:
        value = row.get(self.watched)
        if value is None:
            return False
        study, where, trial_id, pruner = self._open()
        if pruner is None or where.get_trial(trial_id).state.name != "RUNNING":
            return False
        if row["epoch"] not in where.get_trial(trial_id).intermediate_values:  # a resumed run reports once
            where.set_trial_intermediate_value(trial_id, row["epoch"], value)
        return pruner.prune(study, where.get_trial(trial_id))

    def _open(self):
        if self.opened is None:
            found = optuna()
            where = storage(self.results, self.experiment)
            study = found.load_study(study_name=self.study, storage=where)
            attrs = study.user_attrs
            pruner = (
                found.pruners.MedianPruner(
                    n_startup_trials=attrs["startup_trials"], n_warmup_steps=attrs["warmup_epochs"]
                )
                if attrs.get("pruner") == "median"
                else None
            )
            study_id = where.get_study_id_from_name(self.study)
            self.opened = (study, where, where.get_trial_id_from_study_id_trial_number(study_id, self.number), pruner)
        return self.opened
