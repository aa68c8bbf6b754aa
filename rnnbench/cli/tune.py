"""`rnnbench tune`: tune every variant of an experiment at one budget (its `tune:` section), then train each variant's
best setting and its own on the evaluation seeds; print how each study went and the tuned comparison."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from rnnbench import views
from rnnbench.cli.inputs import source, where_to_train
from rnnbench.cli.options import (
    AddressOption,
    CpusPerRunOption,
    DataDirOption,
    Executor,
    ExecutorOption,
    Format,
    GpusPerRunOption,
    JobsOption,
    JsonOption,
    ResultsOption,
    SetOption,
    ThreadsOption,
    check_placement,
    parse_jobs,
)
from rnnbench.cli.output import err, note, out, output_format, print_json, sigterm_as_ctrl_c
from rnnbench.cli.results import print_table, summary_of, tuning_curves
from rnnbench.errors import RnnbenchError
from rnnbench.terminal import print_view, progress, progress_printer


@sigterm_as_ctrl_c()
def tune(
    experiment: Annotated[
        Path, typer.Argument(metavar="EXPERIMENT.yaml", help="Experiment YAML file with a tune: section.")
    ],
    set_: SetOption = None,
    results: ResultsOption = Path("results"),
    data_dir: DataDirOption = None,
    threads: ThreadsOption = None,
    jobs: JobsOption = None,
    executor: ExecutorOption = Executor.local,
    address: AddressOption = None,
    cpus_per_run: CpusPerRunOption = 1,
    gpus_per_run: GpusPerRunOption = 0,
    format_: Annotated[
        Format, typer.Option("--format", help="table, or json (the studies and the tuned comparison).")
    ] = Format.table,
    as_json: JsonOption = False,
):
    """Tune every variant at one budget (tune.trials each; needs rnnbench\\[tune]), then retrain each one's best
    setting and its own on the evaluation seeds, and print the tuned comparison.

    Trials are run directories under the experiment (compare --trials shows them); the studies are stored in
    RESULTS/EXPERIMENT/studies.journal (optuna-dashboard opens it). Ctrl-C, SIGTERM or a kill stops it; the same
    command resumes without redoing or counting twice a finished trial."""
    jobs_given, executor, shown = jobs is not None, executor.value, output_format(format_, as_json)
    jobs = parse_jobs(jobs or "auto")
    check_placement(jobs if jobs_given else None, executor, threads, address, cpus_per_run, gpus_per_run)
    from rnnbench import config, studies

    exp = config.load(experiment, set_ or [])
    if exp.tune is None:
        raise RnnbenchError(f"{experiment}: no tune: section; add one to say what to tune (see the docs: Tuning)")
    studies.optuna()  # one line if the extra is missing, before any data is read
    threads, where = where_to_train(jobs, jobs_given, executor, threads, address, cpus_per_run, gpus_per_run)
    found = source(exp.data, data_dir)
    from rnnbench.environment import use_threads
    from rnnbench.tune import tune_experiment

    use_threads(threads)

    key = _key(exp.data)

    def told(study, number: int, state: str, value: float | None) -> None:
        shown_value = "" if value is None else f": {_score(value, key, exp.data.dataset)}"
        note(f"{study.variant}: trial {number} {state}{shown_value}")

    with progress(err) as bars:
        tuned = tune_experiment(
            exp,
            found,
            results,
            on_event=progress_printer(bars, Counter()),
            on_told=told,
            **where,
        )
    summary, *_ = summary_of(results, experiment=exp.name)
    if shown == "json":
        from rnnbench import compare as compare_runs

        print_json(
            {
                "experiment": exp.name,
                "journal": str(tuned.journal),
                "score": {"name": tuned.score[0], "direction": tuned.score[1]},
                "studies": [vars(study) for study in tuned.studies],
                "summary": compare_runs.to_records(summary),
            }
        )
    else:
        from rnnbench.compare import curves

        print_view(_studies_table(tuned, exp), out)
        for name, found in tuning_curves(results, exp.name).items():
            print_view(curves.table(name, found), out)
        print_table(summary)
    note(f"studies in {tuned.journal} (browse them: optuna-dashboard {tuned.journal})")
    if tuned.failures:
        raise RnnbenchError("; ".join(f"{f.spec.variant} seed {f.spec.seed} failed: {f.error}" for f in tuned.failures))


def _key(data) -> str:
    from rnnbench.selection import selection_score

    return selection_score(data)[0]


def _score(value: float, key: str, dataset: str) -> str:
    """Example: (0.8123, 'validation_accuracy', 'names') -> 'validation acc 81.2%'."""
    from rnnbench.compare import curves
    from rnnbench.tasks import TASKS

    label = TASKS[dataset].METRICS.get(key)
    words = label.label.removesuffix(" %") if label else key.replace("_", " ")
    return f"{words} {curves.score_text(value, key, dataset)}"


def _studies_table(tuned, exp) -> views.Table:
    """One row per study: its trials by how they ended, the epochs they trained, its best score and setting."""
    rows = [
        [
            study.variant,
            f"{study.finished + study.pruned + study.failed}/{exp.tune.trials}",
            str(study.pruned),
            str(study.failed),
            f"{study.epochs:,}",
            "-" if study.best_value is None else _score(study.best_value, tuned.score[0], exp.data.dataset),
            "-" if study.best_trial is None else str(study.best_trial),
            ", ".join(f"{name}={_value(value)}" for name, value in study.best_params.items()) or "-",
            ", ".join(f"{name} {share:.2f}" for name, share in study.importances.items()) or "-",
        ]
        for study in tuned.studies
    ]
    return views.Table(
        f"{exp.name}: tuning ({exp.tune.sampler} sampler, {exp.tune.pruner} pruner, seeds {exp.tune.seeds})",
        ["variant", "trials", "pruned", "failed", "epochs", "best (validation)", "trial", "setting", "what mattered"],
        rows,
        right={1, 2, 3, 4},
        notes=[
            f"every variant tuned at the same budget: {exp.tune.trials} trials, pruned and failed ones counted; "
            f"rows '<variant>-tuned' below are each best setting retrained on seeds {exp.tune.evaluation_seeds}",
            "what mattered: each setting's share of the variance of the finished trials' validation scores (fANOVA)",
        ],
    )


def _value(value) -> str:
    from rnnbench import yamlfile

    return yamlfile.scalar(value, digits=3)
