"""`rnnbench run`: train an experiment's runs (here, in worker processes or on Ray) and print its table, or, with
--repeat, train one recorded run again and say whether it came out the same; SIGTERM stops it as Ctrl-C does.
`rnnbench clean`: remove the unfinished runs an experiment file no longer has."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer

from rnnbench.cli.inputs import note_abandoned, source, where_to_train
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
from rnnbench.cli.output import err, note, output_format, print_json, say, sigterm_as_ctrl_c
from rnnbench.cli.results import print_table, summary_of
from rnnbench.errors import RnnbenchError, UsageError
from rnnbench.terminal import progress, progress_printer


@sigterm_as_ctrl_c()
def run(
    experiment: Annotated[
        Optional[Path], typer.Argument(metavar="EXPERIMENT.yaml", help="Experiment YAML file.", show_default=False)
    ] = None,
    set_: SetOption = None,
    results: ResultsOption = Path("results"),
    data_dir: DataDirOption = None,
    repeat: Annotated[
        Optional[Path],
        typer.Option(
            "--repeat",
            metavar="RUN_DIR",
            help=(
                "Train one recorded run again from its config.yaml, in a temporary folder, and report whether its "
                "metrics match (exit 1 if not)."
            ),
        ),
    ] = None,
    threads: ThreadsOption = None,
    keep_checkpoint: Annotated[
        bool,
        typer.Option(
            "--keep-checkpoint",
            help=(
                "Keep each run's last training state (weights, optimizer, random state) as checkpoint.pt in its run "
                "directory; by default it is deleted when the run finishes."
            ),
        ),
    ] = False,
    jobs: JobsOption = None,
    executor: ExecutorOption = Executor.local,
    address: AddressOption = None,
    cpus_per_run: CpusPerRunOption = 1,
    gpus_per_run: GpusPerRunOption = 0,
    format_: Annotated[
        Format,
        typer.Option(
            "--format",
            help=(
                "How the summary at the end is printed: table, or json (with the counts, the failures and every run's "
                "directory)."
            ),
        ),
    ] = Format.table,
    as_json: JsonOption = False,
):
    """Train every variant × seed of an experiment, skipping runs already finished and continuing interrupted
    ones from their last finished epoch, and print its table.

    Ctrl-C or SIGTERM (how batch schedulers and containers stop a job) stops it, workers included; each run
    keeps its last finished epoch, and the same command resumes."""
    # Everything that can be refused is checked before torch is imported (seconds): a mistake answers at once.
    jobs_given, executor, shown = jobs is not None, executor.value, output_format(format_, as_json)
    jobs = parse_jobs(jobs or "auto")
    if repeat is not None:
        if experiment is not None or set_:
            raise UsageError(
                "--repeat: repeats one recorded run exactly as it was; give no experiment file and no --set"
            )
        if jobs_given and jobs != 1 or executor != "local":
            raise UsageError("--repeat: trains one run here, one at a time; give no --jobs and no --executor")
        return _repeat(repeat, data_dir, threads, shown)
    check_placement(jobs if jobs_given else None, executor, threads, address, cpus_per_run, gpus_per_run)
    if experiment is None:
        raise UsageError("give an experiment file (rnnbench run EXPERIMENT.yaml), or --repeat RUN_DIR")
    from rnnbench import config

    exp = config.load(experiment, set_ or [])
    threads, where = where_to_train(jobs, jobs_given, executor, threads, address, cpus_per_run, gpus_per_run)
    if where["jobs"] > 1 and len(exp.run_specs()) > 1:
        from rnnbench.executors import warm_up

        warm_up()  # the workers' fork server imports torch while this process reads the data and does the same
    found = source(exp.data, data_dir)  # a file that cannot be read is refused before torch is imported
    from rnnbench import compare as compare_runs
    from rnnbench import rundir
    from rnnbench.environment import use_threads
    from rnnbench.sweep import run_experiment

    use_threads(threads)  # with --jobs, the threads the workers share
    with progress(err) as bars:
        counts = Counter()
        outcome = run_experiment(
            exp,
            found,
            results,
            on_event=progress_printer(bars, counts),
            keep_checkpoint=keep_checkpoint,
            **where,
        )
    finished = outcome.paths
    if finished:
        summary, runs, _ = summary_of(results, experiment=exp.name)
        paths = rundir.write_summary(results, exp.name, compare_runs.to_csv(summary), compare_runs.to_markdown(summary))
        if shown == "table":
            print_table(summary)
        where = f"runs and summary in {paths[0].parent}"
    else:
        summary, runs, where = None, [], f"no run finished in {Path(results) / exp.name}"
    resumed = f", {counts['resumed']} of them resumed from a checkpoint" if counts["resumed"] else ""
    failed = f"; failed: {len(outcome.failures)}" if outcome.failures else ""
    note(
        f"{where} (trained now: {counts['trained']}{resumed}; finished before: {counts['skipped']}; left to "
        f"another process: {counts['busy']}{failed})"
    )
    note_abandoned(results, exp.name, outcome.abandoned, experiment, set_ or [])
    problems = []
    if outcome.failures:
        for failure in outcome.failures:
            note(f"failed: {failure.spec.variant} seed {failure.spec.seed}: {failure.error}")
        problems += _failures_said(outcome.failures, len(exp.run_specs()), compare_runs.count)
    ran = set(map(Path, finished))  # this experiment file's runs, read once by summary_of
    diverged = [record for record in runs if record.path in ran and record.diverged is not None]
    if shown == "json":
        print_json(
            {
                "experiment": exp.name,
                "folder": str(Path(results) / exp.name),
                "runs": [str(path) for path in finished],
                "trained": counts["trained"],
                "resumed": counts["resumed"],
                "finished_before": counts["skipped"],
                "left_to_another_process": counts["busy"],
                "failed": [
                    {
                        "variant": f.spec.variant,
                        "seed": f.spec.seed,
                        "error": f.error,
                        "record": str(f.record),
                        "retry_repeats_it": f.repeats,
                    }
                    for f in outcome.failures
                ],
                "diverged": [
                    {"variant": r.spec.variant, "seed": r.spec.seed, "epoch": r.diverged["epoch"]} for r in diverged
                ],
                "summary": [] if summary is None else compare_runs.to_records(summary),
            }
        )
    if diverged:
        listed = ", ".join(f"{r.spec.variant} seed {r.spec.seed} (epoch {r.diverged['epoch']})" for r in diverged)
        problems.append(
            f"{compare_runs.count(len(diverged), 'run')} of {len(finished)} diverged: {listed}; "
            "lower train.learning_rate or set train.grad_clip to train them otherwise"
        )
    if problems:
        raise RnnbenchError("\n".join(problems))


def _failures_said(failures: list, total: int, count) -> list[str]:
    """The closing lines on failed runs: what to fix for a failure a retry repeats (a problem of the data or the
    settings: the same run fails the same way), a retry only for those it can change (a crash, a worker killed,
    out of memory)."""
    said = [
        f"{count(len(failures), 'run')} of {total} failed (listed above; tracebacks in "
        f"{failures[0].record.parent}/*.failed.json)"
    ]
    repeated = [failure for failure in failures if failure.repeats]
    if repeated:
        errors = list(dict.fromkeys(failure.error for failure in repeated))
        more = f" (and {count(len(errors) - 1, 'other problem')})" if len(errors) > 1 else ""
        said.append(
            f"{count(len(repeated), 'run')} failed on the data or the settings, and running again repeats it: fix "
            f"what the message says, then run the same command (finished runs are kept): {errors[0]}{more}"
        )
    if len(repeated) < len(failures):
        said.append(
            f"{count(len(failures) - len(repeated), 'run')} crashed or ran out of memory, which a retry can change: "
            "run the same command again to retry them"
        )
    return said


def _repeat(path: Path, data_dir: Path | None, threads: int | None, shown: str) -> None:
    """`run --repeat`: train a recorded run again and say whether it came out the same (with the thread count it
    recorded, unless --threads says otherwise: a count of threads can change the last digits)."""
    from rnnbench import rundir
    from rnnbench.environment import use_threads
    from rnnbench.repeat import repeat_run

    recorded = rundir.load_run(path)
    then = recorded.environment.get("threads")
    use_threads(threads or (then if isinstance(then, int) and not isinstance(then, bool) and then >= 1 else None))
    found = source(recorded.spec.data, data_dir)
    note(
        f"repeating {path} ({recorded.spec.experiment} / {recorded.spec.variant}, seed "
        f"{recorded.spec.seed}) in a temporary folder"
    )
    with progress(err) as bars:
        outcome = repeat_run(path, found, on_event=progress_printer(bars))
    for line in outcome.notes:
        note(f"note: {line}")
    if shown == "json":
        print_json(
            {
                "run": str(path),
                "identical": not outcome.differences,
                "differences": outcome.differences,
                "metrics": outcome.metrics,
                "epochs": outcome.epochs,
                "tensors": outcome.tensors,
            }
        )
    if outcome.differences:
        if shown == "table":
            for difference in outcome.differences:
                say(f"  {difference}")
        raise RnnbenchError(
            f"{path}: the repeated run differs from the recorded one in {len(outcome.differences)} "
            f"place(s), listed {'above' if shown == 'table' else 'in the JSON'}"
        )
    if shown == "table":
        say(
            f"{path}: repeated, identical: all {outcome.metrics} recorded metrics and {outcome.epochs} epochs "
            f"of history match exactly, and so do all {outcome.tensors} weight tensors (timing, memory and the "
            "environment record left out)"
        )
