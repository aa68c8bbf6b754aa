"""`rnnbench tune`: every variant of an experiment tuned at one budget, then its best setting and its own one
retrained on seeds the tuning never saw.

    for each variant (cell × direction × whatever the grid sets): one Optuna study, `tune.trials` trials
    each round: every study not done asks for one trial; the round's runs train (here, in workers or on Ray, as
        `run`'s do); each trial is told its mean validation score (or pruned, or failed)
    then: each variant's best setting ("<variant>-tuned") and its own setting, on `tune.evaluation_seeds`

One writer: only this process asks for trials and tells their results (Optuna's ask-and-tell); the processes that
train a trial only report its epochs and ask whether to stop (studies.Pruning). A study asks for its next trial
once its previous one is told, as with one worker, so `--jobs` changes how long tuning takes, never which trials
it tries: the studies run side by side, not a study's trials. A trial left running by a stopped `tune` (Ctrl-C,
kill -9) is trained again under its own number (its run resumes from its checkpoint): no trial counts twice.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rnnbench import rundir, studies
from rnnbench.config import Experiment, RunSpec
from rnnbench.config.tuning import TrialTag
from rnnbench.errors import RnnbenchError
from rnnbench.events import Event
from rnnbench.fields import reads_nothing
from rnnbench.selection import selection_score
from rnnbench.sweep import run_experiment


@dataclass
class Study:
    """One variant's study and how its trials went (what `tune` prints at the end)."""

    variant: str
    name: str  # the variant's name and its key, untuned: the study's name in the journal
    finished: int = 0
    pruned: int = 0
    failed: int = 0
    epochs: int = 0  # trained by its trials, pruned ones included
    best_value: float | None = None
    best_trial: int | None = None
    best_params: dict = field(default_factory=dict)
    importances: dict = field(default_factory=dict)  # {parameter: its share of the score's variance} (fANOVA)


@dataclass
class Tuned:
    """What tune_experiment did: each study, the score they were tuned on, and the evaluation runs' paths."""

    studies: list[Study]
    score: tuple[str, str]  # (the validation score, "max" or "min")
    journal: Path
    paths: list[Path] = field(default_factory=list)
    failures: list = field(default_factory=list)


def tune_experiment(
    experiment: Experiment,
    source,
    results: Path,
    on_event: Callable[[Event], None],
    on_told: Callable[[Study, int, str, float | None], None] = lambda *_: None,
    **where,
) -> Tuned:
    """Tune every variant (baselines that read nothing have nothing to tune), then train each one's best setting
    and its own on the evaluation seeds; return the studies and the evaluation runs. `on_told(study, trial number,
    state, value)` hears each trial's end; `where` is run_experiment's (jobs, fit_jobs, executor, ...)."""
    if experiment.tune is None:
        raise RnnbenchError(f"experiment '{experiment.name}' has no tune: section; add one (see the docs: Tuning)")
    optuna = studies.optuna()
    rundir.check_writable(results)
    with rundir.claim_tuning(results, experiment.name) as mine:
        if not mine:
            raise RnnbenchError(
                f"{Path(results) / experiment.name}: another `rnnbench tune` of experiment '{experiment.name}' is "
                "running there now; wait for it to end (or stop it), then run this again"
            )
        return _tune(optuna, experiment, source, results, on_event, on_told, where)


def _tune(optuna, experiment: Experiment, source, results: Path, on_event, on_told, where: dict) -> Tuned:
    tune = experiment.tune
    key, direction = selection_score(experiment.data)
    storage = studies.storage(results, experiment.name)
    distributions = studies.distributions(tune)
    opened = {  # variant -> (Study, the Optuna study, its base spec)
        name: (state, _open(optuna, storage, state.name, tune, direction, base), base)
        for name, (state, base) in _bases(experiment).items()
    }
    while True:
        round_ = []  # (state, study, trial number, its specs)
        for state, study, base in opened.values():
            trial = _next_trial(optuna, study, tune, base, distributions)
            if trial is not None:
                number, params = trial
                round_.append((state, study, number, _trial_specs(experiment, state, base, number, params)))
        if not round_:
            break
        run_experiment(
            experiment, source, results, on_event, specs=[spec for *_, specs in round_ for spec in specs], **where
        )
        for state, study, number, specs in round_:
            told, value = _tell(optuna, study, number, specs, results, key)
            on_told(state, number, told, value)
    evaluation = []
    for state, study, base in opened.values():
        _summarise(
            state, study, results, [_trial_specs(experiment, state, base, t.number, t.params) for t in study.trials]
        )
        if state.best_trial is not None:
            model, train = studies.with_params(base.model, base.train, state.best_params)
            tag = TrialTag(study=state.name, number=state.best_trial, kind="tuned")
            evaluation += [
                _spec(experiment, f"{state.variant}-tuned", model, train, seed, tag) for seed in tune.evaluation_seeds
            ]
    untuned = [spec for spec in experiment.run_specs() if spec.seed == experiment.seeds[0]]
    evaluation += [spec.model_copy(update={"seed": seed}) for seed in tune.evaluation_seeds for spec in untuned]
    outcome = run_experiment(experiment, source, results, on_event, specs=evaluation, **where)
    return Tuned(
        [state for state, _, _ in opened.values()],
        (key, direction),
        studies.journal_path(results, experiment.name),
        outcome.paths,
        outcome.failures,
    )


def _bases(experiment: Experiment) -> dict[str, tuple[Study, RunSpec]]:
    """{variant: (its Study, its own setting on the first tuning seed)} for every variant that has something to
    tune (a baseline that reads nothing has not)."""
    bases = {}
    for name, setting in experiment.resolved_variants().items():
        if not reads_nothing(setting.model.cell):
            base = _spec(experiment, name, setting.model, setting.train, experiment.tune.seeds[0])
            bases[name] = (Study(name, f"{name}-{base.variant_key()}"), base)
    return bases


def runs_to_keep(experiment: Experiment, results: Path) -> list[RunSpec]:
    """The runs of `experiment`'s tuning that `rnnbench tune` would resume, whose unfinished state `clean` keeps:
    the trials its studies hold as running, each tuned setting and each untuned one on the evaluation seeds. None
    without a tune: section or studies; needs Optuna where there are studies (one line says what to install)."""
    if experiment.tune is None or not studies.journal_path(results, experiment.name).is_file():
        return []
    optuna = studies.optuna()
    storage = studies.storage(results, experiment.name)
    names = set(optuna.get_all_study_names(storage))
    tune, keep = experiment.tune, []
    for state, base in _bases(experiment).values():
        if state.name not in names:
            continue
        study = optuna.load_study(study_name=state.name, storage=storage)
        keep += [
            spec
            for trial in study.trials
            if trial.state.name == "RUNNING"
            for spec in _trial_specs(experiment, state, base, trial.number, trial.params)
        ]
        done = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
        if done:
            best = study.best_trial
            model, train = studies.with_params(base.model, base.train, best.params)
            tag = TrialTag(study=state.name, number=best.number, kind="tuned")
            keep += [_spec(experiment, f"{state.variant}-tuned", model, train, s, tag) for s in tune.evaluation_seeds]
    own = [spec for spec in experiment.run_specs() if spec.seed == experiment.seeds[0]]
    return keep + [spec.model_copy(update={"seed": seed}) for seed in tune.evaluation_seeds for spec in own]


def _trial_specs(experiment: Experiment, state: Study, base: RunSpec, number: int, params: dict) -> list[RunSpec]:
    """A trial's runs: the variant with the trial's values, on every tuning seed, tagged with study and number."""
    model, train = studies.with_params(base.model, base.train, params)
    tag = TrialTag(study=state.name, number=number, sampler=experiment.tune.sampler)
    variant = f"{state.variant}-trial{number}"
    return [_spec(experiment, variant, model, train, seed, tag) for seed in experiment.tune.seeds]


def _spec(experiment: Experiment, variant: str, model, train, seed: int, tag: TrialTag | None = None) -> RunSpec:
    return RunSpec(
        experiment=experiment.name,
        description=experiment.description,
        variant=variant,
        data=experiment.data,
        model=model,
        train=train,
        seed=seed,
        device=experiment.device,
        trial=tag,
    )


def _open(optuna, storage, name: str, tune, direction: str, base: RunSpec):
    """The variant's study, made or (resuming) loaded; one made with another search space or seeds is refused."""
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        sampler=sampler(optuna, tune, base, 0),
        direction="maximize" if direction == "max" else "minimize",
        load_if_exists=True,
    )
    made = {
        "space": json.dumps(tune.space.model_dump(mode="json", exclude_none=True), sort_keys=True),
        "sampler": tune.sampler,
        "pruner": tune.pruner,
        "startup_trials": tune.startup_trials,
        "warmup_epochs": tune.warmup_epochs,
        "seeds": tune.seeds,
    }
    if len(study.trials) > tune.trials:
        raise RnnbenchError(
            f"study {name}: holds {len(study.trials)} trials, more than tune.trials {tune.trials}; a budget spent "
            f"cannot shrink: give tune.trials {len(study.trials)} or more, or tune anew (--set name=...)"
        )
    if not study.user_attrs:
        for attribute, value in made.items():
            study.set_user_attr(attribute, value)
    else:
        changed = [attribute for attribute, value in made.items() if study.user_attrs.get(attribute) != value]
        if changed:
            raise RnnbenchError(
                f"study {name}: made with another tune.{changed[0]}; its trials would not be one study's: rename the "
                "experiment (--set name=...) or move its results away to tune anew"
            )
    return study


def sampler(optuna, tune, base: RunSpec, number: int):
    """The sampler that draws trial `number` of the variant `base`: seeded by the tuning seed, the variant and the
    trial number. A sampler seeded once per process would replay its first draws each time a stopped `tune` starts
    again; seeded per trial, a resumed study draws exactly what an uninterrupted one does (TPE reads the earlier
    trials from the study, not from the sampler)."""
    kind = optuna.samplers.TPESampler if tune.sampler == "tpe" else optuna.samplers.RandomSampler
    return kind(seed=(tune.seeds[0] * 2**32 + int(base.variant_key(), 16) + number * 7919) % 2**32)


def _next_trial(optuna, study, tune, base: RunSpec, distributions: dict) -> tuple[int, dict] | None:
    """(number, params) of the study's next trial: one a stopped `tune` left running (trained again, under its own
    number), else a new one while the budget lasts; None once every trial is told."""
    running = [trial for trial in study.trials if trial.state.name == "RUNNING"]
    if running:
        number, params = running[0].number, running[0].params
        if set(params) != set(distributions):  # stopped between the trial's creation and its last parameter
            study.sampler = sampler(optuna, tune, base, number)
            resumed = optuna.trial.Trial(study, running[0]._trial_id)
            params = {name: resumed._suggest(name, distribution) for name, distribution in distributions.items()}
        return number, params
    if len(study.trials) >= tune.trials:
        return None
    study.sampler = sampler(optuna, tune, base, len(study.trials))
    trial = study.ask(distributions)
    return trial.number, trial.params


def _tell(optuna, study, number: int, specs: list[RunSpec], results: Path, key: str) -> tuple[str, float | None]:
    """Tell the study how its trial went: failed (a run failed or diverged), pruned, or finished with the mean of its
    runs' validation scores."""
    paths = [rundir.finished_run(results, spec) for spec in specs]
    records = [rundir.load_run(path) for path in paths if path is not None]
    values = [record.scores.get(key) for record in records]
    states = optuna.trial.TrialState
    if len(records) < len(specs) or any(record.diverged for record in records) or None in values:
        study.tell(number, state=states.FAIL)
        return "failed", None
    if any(record.metrics.get("pruned_after_epoch") for record in records):
        study.tell(number, state=states.PRUNED)
        return "pruned", None
    value = statistics.fmean(values)
    study.tell(number, value)
    return "finished", value


def _summarise(state: Study, study, results: Path, trial_specs: list[list[RunSpec]]) -> None:
    """Count the study's trials by how they ended, the epochs their runs trained (a run two trials share, once),
    and its best trial (a finished one: Optuna never takes a pruned or failed trial for the best)."""
    for trial in study.trials:
        ended = trial.state.name
        state.finished += ended == "COMPLETE"
        state.pruned += ended == "PRUNED"
        state.failed += ended == "FAIL"
    paths = {rundir.finished_run(results, spec) for specs in trial_specs for spec in specs} - {None}
    state.epochs = sum(rundir.load_run(path).epochs_run for path in paths)
    if state.finished:
        best = study.best_trial
        state.best_value, state.best_trial, state.best_params = best.value, best.number, best.params
    state.importances = importances(study)


def importances(study) -> dict[str, float]:
    """Which setting mattered: each parameter's share of the variance of the finished trials' scores, by fANOVA
    (Hutter, Hoos & Leyton-Brown, ICML 2014; the analysis Greff et al. ran on the LSTM's hyperparameters), Optuna's
    FanovaImportanceEvaluator, seeded; shares add up to 1. Empty with fewer than two finished trials or nothing
    that varied. Example: {"train.learning_rate": 0.71, "hidden_size": 0.18, "dropout": 0.11}."""
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    finished = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    if len(finished) < 2 or len({trial.value for trial in finished}) < 2:
        return {}
    try:
        return dict(get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0)))
    except (RuntimeError, ValueError):  # every finished trial drew one value of each parameter
        return {}
