"""The `rnnbench` command: parse arguments, call one function, render its result.

This is the only module that exits, and with terminal.py (its tables and progress) the only one that prints.
Domain code raises RnnbenchError; here it becomes one line on stderr and a non-zero exit (2 for an invalid
experiment file), never a traceback.
"""

from __future__ import annotations

import functools
import inspect
import os
import shlex
import sys
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

import rnnbench
from rnnbench import views
from rnnbench.errors import RnnbenchError, UsageError
from rnnbench.extras import require
from rnnbench.terminal import print_view, progress, progress_printer

# Commands import what they use when they run (torch, pandas and scipy take seconds to import), so that
# `rnnbench --help` and a mistyped command answer at once. compare's --metric help lists compare.COMPARABLE
# (a test keeps the two equal) without importing it.
COMPARABLE = (
    "test_accuracy",
    "test_balanced_accuracy",
    "test_macro_f1",
    "validation_accuracy",
    "long_accuracy",
    "test_mse",
    "test_token_accuracy",
    "test_rmse",
    "test_mae",
    "test_r2",
    "test_spearman",
    "validation_loss",
    "test_mase",
    "test_smape",
    "test_mape",
    "validation_mase",
)


# Choices as enums, so that --help lists them and shell completion offers them.
class Format(str, Enum):  # --format of every command that prints results; --json is short for --format json
    table = "table"
    json = "json"


class CompareFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"


class PredictFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Executor(str, Enum):
    local = "local"
    ray = "ray"


class MultiLanguage(str, Enum):
    drop = "drop"
    keep = "keep"


class Split(str, Enum):
    by_name = "by_name"
    leaky = "leaky"


Metric = Enum("Metric", {name: name for name in COMPARABLE}, type=str)


class _FlagsTakeNoValue:
    """Help that shows a flag (--json, --help) with no value after it: typer 0.29 writes `--json <bool>`, which
    reads as if it took one (and `predict X --json true` then predicts the name "true")."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""  # only what help shows; parsing is unchanged
        return params


class _Command(_FlagsTakeNoValue, typer.core.TyperCommand):
    def __init__(self, *args, **kwargs):
        """A docstring's lines joined into paragraphs, so that help wraps them to the terminal's width (typer keeps
        each line break, which ends lines raggedly)."""
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(self.help).split("\n\n"))


class _Group(_FlagsTakeNoValue, typer.core.TyperGroup):
    pass


app = typer.Typer(
    cls=_Group,
    help="Compare RNN, GRU and LSTM models, uni- or bidirectional, from one experiment YAML.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # subcommands inherit it
)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader of the output went away (`rnnbench compare | head -1`): as `reported` does, stop quietly with
        exit status 0 (rich's own choice is 1)."""
        raise BrokenPipeError


# Piped output (CI logs, files) gets 200 columns rather than rich's default 80, so tables keep their natural
# width (a table never grows wider than its contents) and no cell is cut.
def _width(stream) -> int | None:
    return None if stream is not None and stream.isatty() else 200  # stdout is None when the shell closed it (>&-)


out = _Console(width=_width(sys.stdout))  # results: tables, JSON, predictions
err = _Console(stderr=True, width=_width(sys.stderr))  # progress, notes and errors

ResultsOption = Annotated[Path, typer.Option("--results", metavar="DIR", help="Folder that holds run directories.")]
DataDirOption = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help="Folder with the names corpus (DIR/names/*.txt or DIR/*.txt). "
        "Default: $RNNBENCH_DATA_DIR, else a per-user cache filled by a verified download.",
    ),
]
ThreadsOption = Annotated[
    Optional[int],
    typer.Option(
        "--threads",
        metavar="N",
        min=1,
        help="CPU threads torch trains with (recorded in each run). Default: "
        "$RNNBENCH_THREADS, else $OMP_NUM_THREADS, else the free cores (the cores less the last minute's "
        "load, at least 1).",
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table, for reading, or json, for programs.")]
JsonOption = Annotated[bool, typer.Option("--json", help="The same as --format json.")]
SetOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a field before validation, e.g. train.max_epochs=2. Repeatable."
    ),
]


def output_format(chosen: Enum, as_json: bool) -> str:
    """--format, with --json as its other spelling: 'json' if either asks for it. Example: (Format.table, True) ->
    'json'; --json with another --format is a usage error."""
    if as_json and chosen.value not in ("table", "json"):
        raise UsageError(f"--json: the same as --format json; give one of them (got --format {chosen.value} too)")
    return "json" if as_json else chosen.value


def print_json(value) -> None:
    """Results for programs: strict JSON (views.to_json) on stdout, one document per command."""
    sys.stdout.write(views.to_json(value) + "\n")


def reported(command):
    """Turn RnnbenchError into one red line on stderr and its exit code; Ctrl-C into a short note; a closed pipe
    (output piped into `head`) into a quiet exit 0."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            result = command(*args, **kwargs)
            sys.stdout.flush()  # here, so that a closed pipe is caught below rather than at exit
            return result
        except RnnbenchError as error:
            for line in str(error).splitlines():
                err.print(f"[red]error:[/red] {escape(line)}", highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished runs are kept; run the same command again to resume", markup=False)
            raise typer.Exit(130) from None
        except BrokenPipeError:  # the reader went away (`rnnbench compare | head -1`): not a failure
            raise _closed_pipe() from None
        except OSError as error:  # the output cannot be written: a full disk (> /dev/full), a closed stdout
            _closed_pipe()  # nothing more can go there, at exit either
            FAILED.append(error)  # a real failure, although stdout is now the null device (see entry)
            err.print(
                f"[red]error:[/red] cannot write the output ({escape(error.strerror or str(error))})", highlight=False
            )
            raise typer.Exit(1) from None

    return wrapper


def entry() -> None:
    """The `rnnbench` program: the app, except that output cut short by its reader (`rnnbench --help | head -1`)
    exits 0, as `reported` makes every command do. Help and usage are printed by typer, whose consoles exit 1
    there, pointing stdout at the null device first: that change (from something else) is the sign."""
    for name in ("stdout", "stderr"):  # closed by the shell (`>&-`): what would go there goes nowhere
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
    was_null = _stdout_is_null()
    try:
        app(prog_name="rnnbench")
    except SystemExit as done:
        if done.code == 1 and not was_null and _stdout_is_null() and not FAILED:
            raise SystemExit(0) from None
        raise


FAILED: list[OSError] = []  # output that could not be written for another reason than a closed pipe


def _stdout_is_null() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (AttributeError, OSError, ValueError):  # no stdout (closed by the shell)
        return False


def _closed_pipe() -> typer.Exit:
    """What a command that finds its output's reader gone ends with: stdout pointed at the null device (so that
    the flush at exit cannot fail again) and exit status 0."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no stdout at all
        pass
    return typer.Exit(0)


def version_callback(value: bool):
    if value:
        try:
            out.print(f"rnnbench {rnnbench.__version__}")
            sys.stdout.flush()
        except BrokenPipeError:
            raise _closed_pipe() from None
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
):
    """rnnbench: honest, fast, reproducible RNN / GRU / LSTM comparisons."""


@app.command(cls=_Command)
@reported
def validate(
    experiment: Annotated[Path, typer.Argument(metavar="EXPERIMENT.yaml", help="Experiment YAML file.")],
    set_: SetOption = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Check an experiment file and list the runs it resolves to, without training anything."""
    from rnnbench.errors import ConfigError

    shown = output_format(format_, as_json)
    try:
        _validate(experiment, set_ or [], shown)
    except RnnbenchError as error:
        if shown == "json":  # the problems for programs too; the lines on stderr and the exit status as ever
            problems = error.problems if isinstance(error, ConfigError) else str(error).splitlines()
            print_json({"experiment": str(experiment), "valid": False, "problems": problems})
        raise


def _validate(experiment: Path, overrides: list[str], shown: str) -> None:
    from rnnbench import compare as compare_runs
    from rnnbench import config
    from rnnbench.fields import BASELINE_FIELDS, reads_nothing

    exp = config.load(experiment, overrides)
    variants = exp.resolved_variants()
    runs = len(variants) * len(exp.seeds)
    count = compare_runs.count
    title = f"{exp.name}: {count(len(variants), 'variant')} × {count(len(exp.seeds), 'seed')} = {count(runs, 'run')}"
    task = config.task_of(exp.data)
    headers = ["variant", "cell", "impl", "dir", "size", "input", task.MODEL_COLUMN, "dropout"]
    changes = {name: config.changed_settings(exp, setting) for name, setting in variants.items()}
    headers += ["train / data"] if any(changes.values()) else []
    if task.READ_ON_VALIDATE:  # a local file: read, check and split it now, rather than at the start of a run
        from rnnbench.runner import prepare_seed

        source = _source(exp.data, None)
        for data in config.distinct_data(variants):
            prepare_seed(data, source, exp.seeds[0], torch_cpu())
    if shown == "json":
        print_json(
            {
                "experiment": str(experiment),
                "valid": True,
                "name": exp.name,
                "runs": runs,
                "seeds": exp.seeds,
                "variants": [
                    {"variant": name, "model": model.model_dump(mode="json"), "changed": changes[name]}
                    for name, (model, _, _) in variants.items()
                ],
            }
        )
        return
    rows = []
    for name, (model, _, _) in variants.items():
        baseline = model.cell in BASELINE_FIELDS
        size = f"{model.num_layers}x" + (
            f" budget {model.param_budget:,}" if model.param_budget else str(model.hidden_size)
        )
        reads, head = task.describe_model(model)
        rows.append(
            (
                [name, model.cell] + ["-"] * 6
                if reads_nothing(model.cell)
                else [
                    name,
                    model.cell,
                    "-" if baseline else model.impl,
                    "-" if baseline else "bi" if model.bidirectional else "uni",
                    size,
                    reads,
                    "-" if baseline else head,
                    f"{model.dropout:g}",
                ]
            )
            + (["\n".join(changes[name]) or "-"] if any(changes.values()) else [])
        )
    print_view(views.Table(title, headers, rows), out)
    out.print(f"{experiment}: valid", markup=False, highlight=False)


@app.command(cls=_Command)
@reported
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
    jobs: Annotated[
        str,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N|auto",
            help=(
                "Train N runs at once in worker processes (at most one per core), each with its share of the threads "
                "(--threads ÷ N, at least 1); auto: one per free core. Same metrics as one at a time with that thread "
                "count."
            ),
        ),
    ] = "1",
    executor: Annotated[
        Executor,
        typer.Option("--executor", help="local (this machine) or ray (one Ray task per run; needs rnnbench\\[ray])."),
    ] = Executor.local,
    address: Annotated[
        Optional[str],
        typer.Option(
            "--address",
            metavar="HOST:PORT",
            help=(
                "With --executor ray: the cluster to join (host:port, or auto for the one `ray start` runs here). "
                "Default: $RAY_ADDRESS, else a new local Ray."
            ),
        ),
    ] = None,
    cpus_per_run: Annotated[
        float,
        typer.Option(
            "--cpus-per-run",
            metavar="N",
            min=0.01,
            help="With --executor ray: CPUs each run asks for (its torch threads).",
        ),
    ] = 1,
    gpus_per_run: Annotated[
        float,
        typer.Option(
            "--gpus-per-run",
            metavar="N",
            min=0,
            help="With --executor ray: GPUs each run asks for; a fraction (0.25) lets small runs share one.",
        ),
    ] = 0,
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
    ones from their last finished epoch, and print its table."""
    jobs, executor, shown = jobs.strip().lower(), executor.value, output_format(format_, as_json)
    if jobs.isascii() and jobs.isdigit():
        jobs = str(int(jobs))  # 01 is 1
    if (
        executor == "local"
        and repeat is None
        and (jobs == "auto" or jobs.isascii() and jobs.isdigit() and int(jobs) > 1)
    ):
        from rnnbench.executors import warm_up

        warm_up()  # the workers' fork server imports torch while this process does
    from rnnbench import compare as compare_runs
    from rnnbench import config, rundir
    from rnnbench.environment import use_threads
    from rnnbench.sweep import run_experiment

    if repeat is not None:
        if experiment is not None or set_:
            raise UsageError(
                "--repeat: repeats one recorded run exactly as it was; give no experiment file and no --set"
            )
        if jobs != "1" or executor != "local":
            raise UsageError("--repeat: trains one run here, one at a time; give no --jobs and no --executor")
        return _repeat(repeat, data_dir, threads, shown)
    ray_only = [
        flag
        for flag, given in (
            ("--address", address is not None),
            ("--cpus-per-run", cpus_per_run != 1),
            ("--gpus-per-run", gpus_per_run != 0),
        )
        if given
    ]
    if ray_only and executor != "ray":
        raise UsageError(f"{', '.join(ray_only)}: only with --executor ray")
    if executor == "ray" and (jobs != "1" or threads is not None):
        raise UsageError(
            f"{'--jobs' if jobs != '1' else '--threads'}: for --executor local; on Ray, each run's "
            "threads are its --cpus-per-run, and as many run at once as the cluster has room for"
        )
    if experiment is None:
        raise UsageError("give an experiment file (rnnbench run EXPERIMENT.yaml), or --repeat RUN_DIR")
    use_threads(threads)  # with --jobs, the threads the workers share
    workers = _jobs(jobs)
    if executor == "ray":
        from rnnbench.executors import require_ray

        require_ray()  # before any data is read
    exp = config.load(experiment, set_ or [])
    source = _source(exp.data, data_dir)
    with progress(err) as bars:
        counts = Counter()
        outcome = run_experiment(
            exp,
            source,
            results,
            on_event=progress_printer(bars, counts),
            keep_checkpoint=keep_checkpoint,
            jobs=workers,
            executor=executor,
            address=address,
            cpus_per_run=cpus_per_run,
            gpus_per_run=gpus_per_run,
        )
    finished = outcome.paths
    if finished:
        summary, runs = _summary(results, experiment=exp.name)
        paths = rundir.write_summary(results, exp.name, compare_runs.to_csv(summary), compare_runs.to_markdown(summary))
        if shown == "table":
            _print_table(summary)
        where = f"runs and summary in {paths[0].parent}"
    else:
        summary, runs, where = None, [], f"no run finished in {Path(results) / exp.name}"
    resumed = f", {counts['resumed']} of them resumed from a checkpoint" if counts["resumed"] else ""
    failed = f"; failed: {len(outcome.failures)}" if outcome.failures else ""
    err.print(
        f"{where} (trained now: {counts['trained']}{resumed}; finished before: {counts['skipped']}; left to "
        f"another process: {counts['busy']}{failed})",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    problems = []
    if outcome.failures:
        for failure in outcome.failures:
            err.print(
                f"failed: {failure.spec.variant} seed {failure.spec.seed}: {failure.error}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        problems.append(
            f"{compare_runs.count(len(outcome.failures), 'run')} of {len(exp.run_specs())} failed (listed "
            f"above; tracebacks in {outcome.failures[0].record.parent}/*.failed.json); run the same "
            "command again to retry them"
        )
    ran = set(map(Path, finished))  # this experiment file's runs, read once by _summary
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
                    {"variant": f.spec.variant, "seed": f.spec.seed, "error": f.error, "record": str(f.record)}
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


def _jobs(text: str) -> int:
    """--jobs: a whole number of worker processes, or auto (one per free core); never more than the cores."""
    from rnnbench.environment import free_cores

    cores = os.cpu_count() or 1
    if text == "auto":
        free = max(1, min(free_cores() or cores, cores))
        if free < cores:
            err.print(
                f"note: --jobs auto: {free} of {cores} cores free (the last minute's load); running {free} at once",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return free
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise UsageError(f"--jobs: a whole number of worker processes (1 or more) or auto (got {text!r})")
    jobs = int(text)
    if jobs > cores:
        err.print(
            f"note: --jobs {jobs}: this machine has {cores} cores; running {cores} at once (more would only "
            "slow each other down)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        jobs = cores
    return jobs


def _repeat(path: Path, data_dir: Path | None, threads: int | None, shown: str) -> None:
    """`run --repeat`: train a recorded run again and say whether it came out the same (with the thread count it
    recorded, unless --threads says otherwise: a count of threads can change the last digits)."""
    from rnnbench import rundir
    from rnnbench.environment import use_threads
    from rnnbench.repeat import repeat_run

    recorded = rundir.load_run(path)
    then = recorded.environment.get("threads")
    use_threads(threads or (then if isinstance(then, int) and not isinstance(then, bool) and then >= 1 else None))
    source = _source(recorded.spec.data, data_dir)
    err.print(
        f"repeating {path} ({recorded.spec.experiment} / {recorded.spec.variant}, seed "
        f"{recorded.spec.seed}) in a temporary folder",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    with progress(err) as bars:
        outcome = repeat_run(path, source, on_event=progress_printer(bars))
    for note in outcome.notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
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
                out.print(f"  {difference}", markup=False, highlight=False, soft_wrap=True)
        raise RnnbenchError(
            f"{path}: the repeated run differs from the recorded one in {len(outcome.differences)} "
            f"place(s), listed {'above' if shown == 'table' else 'in the JSON'}"
        )
    if shown == "table":
        out.print(
            f"{path}: repeated, identical: all {outcome.metrics} recorded metrics and {outcome.epochs} epochs "
            f"of history match exactly, and so do all {outcome.tensors} weight tensors (timing, memory and the "
            "environment record left out)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@app.command(cls=_Command)
@reported
def params(
    experiment: Annotated[Path, typer.Argument(metavar="EXPERIMENT.yaml", help="Experiment YAML file.")],
    set_: SetOption = None,
    data_dir: DataDirOption = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Count every variant's parameters by role, without training, and check the recurrent closed form."""
    from rnnbench import config
    from rnnbench.params import parameter_counts

    shown = output_format(format_, as_json)
    exp = config.load(experiment, set_ or [])
    sizes, rows = parameter_counts(exp, _source(exp.data, data_dir))
    if shown == "json":
        print_json({"data": sizes, "variants": rows})
    else:
        _print_params(exp.name, sizes, rows)
    if not all(row.get("closed_form_matches", True) for row in rows):
        raise RnnbenchError("a counted recurrent layer does not match its closed form (a bug: please report it)")


def _print_params(name: str, sizes: dict, rows: list[dict]) -> None:
    from rnnbench.fields import reads_nothing

    decided = ", ".join(
        f"{key.replace('_', ' ')} {value:,}"
        for key, value in sizes.items()
        if key in ("vocab_size", "num_classes", "symbols", "max_length")
    )
    budgets = any(row["param_budget"] for row in rows)  # the column only where a variant has a budget
    headers = ["variant", "hidden", "embedding", "W_ih", "W_hh", "biases", "head", "total"] + (
        ["budget"] if budgets else []
    )
    table = [
        [
            row["variant"],
            "-" if reads_nothing(row["cell"]) else str(row["hidden_size"]),
            *(
                f"{row[key]:,}"
                for key in ("embedding", "input_to_hidden", "hidden_to_hidden", "biases", "head", "total")
            ),
            *([f"{row['param_budget']:,}" if row["param_budget"] else ""] if budgets else []),
        ]
        for row in rows
    ]
    print_view(
        views.Table(
            f"{name}: parameters ({decided}; seed {sizes['seed']})", headers, table, right=set(range(1, len(headers)))
        ),
        out,
    )
    out.print(
        "W_ih: input→hidden weights, W_hh: hidden→hidden weights, biases: the recurrent layers' biases; "
        "head: everything after them (a baseline's layers included)",
        markup=False,
    )
    out.print(
        "recurrent part, closed form (gates × (H·I + H² + biases·H) per layer and direction; an encoder-decoder's "
        "encoder and decoder added) vs counted tensors:",
        markup=False,
    )
    for row in (row for row in rows if "recurrent_formula" in row):
        counted = row["input_to_hidden"] + row["hidden_to_hidden"] + row["biases"]
        verdict = "✓" if row["closed_form_matches"] else f"✗ but counted {counted:,}"
        out.print(
            f"  {row['variant']}: {row['recurrent_formula']} = {row['recurrent_closed_form']:,} {verdict}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@app.command(cls=_Command)
@reported
def compare(
    results: ResultsOption = Path("results"),
    experiment: Annotated[
        Optional[str], typer.Option("--experiment", metavar="NAME", help="Only this experiment.")
    ] = None,
    sort: Annotated[
        Optional[str],
        typer.Option("--sort", metavar="COLUMN", help="Order by this column, e.g. params or test_accuracy_mean."),
    ] = None,
    format_: Annotated[
        CompareFormat, typer.Option("--format", help="table, markdown, csv or json.")
    ] = CompareFormat.table,
    as_json: JsonOption = False,
    metric: Annotated[
        Optional[Metric],
        typer.Option(
            "--metric",
            metavar="METRIC",
            help="The metric variants are compared on: "
            + ", ".join(COMPARABLE)
            + ". Default: the task's first column (test accuracy; test RMSE for a regressor).",
            show_default=False,
        ),
    ] = None,
    versus: Annotated[
        Optional[str],
        typer.Option("--vs", metavar="VARIANT", help="Compare every variant with this one (default: the best)."),
    ] = None,
    plot: Annotated[
        Optional[Path], typer.Option("--plot", metavar="DIR", help="Also write PNG plots into this folder.")
    ] = None,
):
    """Aggregate finished runs per variant, with statistics over seeds.

    Every metric gets mean ± std and a 95% interval over seeds; each variant is compared with the best (or
    --vs VARIANT) by a paired t-test over the seeds they share, Holm-adjusted, and marked when the seeds cannot
    tell the difference from noise."""
    from rnnbench import compare as compare_runs

    shown = output_format(format_, as_json)
    metric = metric.value if metric is not None else None
    if plot is not None:
        require("plot", "--plot")  # before any work
    summary, runs = _summary(results, experiment=experiment, sort=sort, metric=metric, versus=versus)
    if versus is not None:
        for name, part in compare_runs.by_experiment(summary):
            if not (part["variant"] == versus).any():
                err.print(
                    f"note: --vs {versus}: experiment {name} has no such variant; it is compared with its best",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    if shown == "table":
        _print_table(summary)
    else:
        sys.stdout.write(compare_runs.RENDERERS[shown](summary))
    if plot is not None:
        from rnnbench.plots import write_plots

        for path in write_plots(summary, runs, plot):
            err.print(f"plot: {path}", markup=False, highlight=False, soft_wrap=True)


PREDICT_CHUNK = 4096  # inputs answered at once
MAX_UNSEEN_NOTES = 20  # notes on unseen characters, for a long file of inputs (--format csv and json list them all)


@app.command(cls=_Command)
@reported
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
    top_k: Annotated[int, typer.Option("--top-k", metavar="K", min=1, help="How many languages to list per name.")] = 3,
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
    for note in notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    predictor = from_run(path)
    one_series = getattr(predictor, "one_series", False)  # a forecaster: its inputs are one series, or none
    if not texts and not one_series:
        raise UsageError("give names to answer (rnnbench predict Rossi Schmidt) or a file of them (--file names.txt)")
    err.print(f"model: {path} ({why})", markup=False, highlight=False, soft_wrap=True)
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
    unseen_notes = 0
    for answer in answers:
        if (answer.get("unseen_characters") or answer.get("unseen_words")) and unseen_notes < MAX_UNSEEN_NOTES:
            unseen_notes += 1
            words = bool(answer.get("unseen_words"))
            unseen = " ".join(answer["unseen_words" if words else "unseen_characters"])
            err.print(
                f"note: {answer['input']!r} has {'words' if words else 'characters'} "
                f"this model never saw in training ({unseen}); it reads each as one unknown token, so the answer "
                "says less",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        if "output" in answer:  # a reversal run answers with a sequence
            shown = answer["output"]
        elif "value" in answer:  # a regression run answers with a number, in the target's units
            shown = f"{answer['value']:.4g}"
        else:
            shown = ", ".join(f"{p['label']} {100 * p['probability']:.2f}%" for p in answer["predictions"])
        out.print(f"{answer['input']}: {shown}", markup=False, highlight=False, soft_wrap=True)


@app.command(cls=_Command)
@reported
def show(
    run_path: Annotated[
        Path,
        typer.Argument(
            metavar="RUN_DIR",
            help="A run directory, e.g. results/<experiment>/<variant>-<key>/seed-0.",
            show_default=False,
        ),
    ],
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="How many confused pairs to list.")] = 10,
    format_: Annotated[
        Format, typer.Option("--format", help="table, or json: the run's metrics.json as recorded.")
    ] = Format.table,
    as_json: JsonOption = False,
):
    """Show one run's scores and the errors worth looking at.

    Names: per-language precision, recall and F1, the most confused language pairs with example names, and the
    confusion matrix. Reversal: exact accuracy per length."""
    from rnnbench import compare as compare_runs
    from rnnbench import rundir
    from rnnbench.tasks import TASKS

    shown = output_format(format_, as_json)
    run = rundir.load_run(run_path)
    if shown == "json":
        print_json(run.metrics)
        return
    kept = (
        "diverged"
        if run.diverged
        else f"weights of the best, epoch {run.best_epoch}"
        if run.spec.train.restore_best
        else "weights of the last epoch kept"
    )
    out.print(
        f"{run.path}: {run.spec.experiment} / {run.spec.variant}, seed {run.spec.seed}; {run.parameters:,} "
        f"parameters; {compare_runs.count(run.epochs_run, 'epoch')} ({kept}) in {run.train_seconds:.1f} s",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if run.diverged is not None:
        out.print(
            f"diverged in epoch {run.diverged['epoch']} ({run.diverged.get('reason', 'not finite')}): no scores; "
            f"{run.path / 'history.csv'} holds the losses up to then",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    task = TASKS[run.task]
    scores, splits = task.show_scores(run)
    rows = []
    for split in splits:
        cells = [run.scores.get(f"{split}_{key}") for key, _, _ in scores]
        if any(cell is not None for cell in cells):
            rows.append(
                [
                    split,
                    *(
                        "-" if cell is None else f"{cell * scale:.{1 if scale == 100 else 3}f}"
                        for cell, (_, _, scale) in zip(cells, scores)
                    ),
                ]
            )
    print_view(
        views.Table(
            "scores", ["split", *(header for _, header, _ in scores)], rows, right=set(range(1, len(scores) + 1))
        ),
        out,
    )
    for item in task.show_tables(run, rundir.load_predictions(run.path), top):
        if isinstance(item, str):
            out.print(item, markup=False, highlight=False, soft_wrap=True)
        else:
            print_view(item, out)


@app.command(cls=_Command)
@reported
def report(
    experiment: Annotated[
        str,
        typer.Argument(
            metavar="EXPERIMENT",
            help="An experiment YAML file, or the name of an experiment under --results.",
            show_default=False,
        ),
    ],
    results: ResultsOption = Path("results"),
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out", metavar="DIR", help="Folder for report.md and its plots. Default: <results>/<experiment>/report."
        ),
    ] = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Write one self-contained Markdown report of an experiment, with its plots.

    How to repeat it, the environment, the data hygiene report, the comparison with statistics, the plots and
    the errors worth reading."""
    shown = output_format(format_, as_json)
    require("plot", "report")  # its plots; before anything is read or written
    from rnnbench import compare as compare_runs
    from rnnbench import config
    from rnnbench.report import write_report

    name = config.load(Path(experiment)).name if experiment.endswith((".yaml", ".yml")) else experiment
    runs = _runs(results, name)
    path = write_report(runs, out_dir or Path(results) / name / "report")
    if shown == "json":
        print_json({"report": str(path), "runs": len(runs), "plots": sorted(str(p) for p in path.parent.glob("*.png"))})
        return
    beside = "its plots and experiment.yaml" if (path.parent / "experiment.yaml").is_file() else "its plots"
    err.print(
        f"report of {compare_runs.count(len(runs), 'run')}, with {beside} beside it:", markup=False, highlight=False
    )
    out.print(str(path), markup=False, highlight=False, soft_wrap=True)


data_app = typer.Typer(cls=_Group, help="Look at a dataset before training on it.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("names", cls=_Command)
@reported
def data_names(
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
        rows = task.write_csv(_source(data, data_dir), to_csv)
        if shown == "json":
            print_json({"file": str(to_csv), "lines": rows, "languages": list(data.languages)})
            return
        out.print(
            f"{to_csv}: {rows:,} lines of {len(data.languages)} languages as text,label",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    report = task.split(_source(data, data_dir), data, seed).report
    if shown == "json":
        print_json({"seed": seed, **report})
        return
    print_view(task.data_table(report, f"names data (seed {seed})"), out)


export_app = typer.Typer(cls=_Group, help="Send finished runs to MLflow or TensorBoard.", no_args_is_help=True)
app.add_typer(export_app, name="export")
ExportExperimentOption = Annotated[
    Optional[str], typer.Option("--experiment", metavar="NAME", help="Only the runs of this rnnbench experiment.")
]


@export_app.command("mlflow", cls=_Command)
@reported
def export_mlflow(
    results: ResultsOption = Path("results"),
    experiment: ExportExperimentOption = None,
    tracking_uri: Annotated[
        Optional[str],
        typer.Option(
            "--tracking-uri",
            metavar="URI",
            help=(
                "The MLflow tracking store or server. Default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db (a file "
                "here; `mlflow ui` here shows it)."
            ),
            show_default=False,
        ),
    ] = None,
    mlflow_experiment: Annotated[
        Optional[str],
        typer.Option(
            "--mlflow-experiment",
            metavar="NAME",
            help=(
                "The MLflow experiment to log into. Default: the one named after each run's rnnbench experiment "
                "(created if missing)."
            ),
            show_default=False,
        ),
    ] = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Log every finished run to MLflow: settings as parameters, per-epoch and final metrics, tags, and the run
    directory as artefacts. Runs exported before are not logged again (needs rnnbench\\[mlflow])."""
    from rnnbench.export.mlflow import DEFAULT_TRACKING_URI, to_mlflow

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    look = f"mlflow ui --backend-store-uri {shlex.quote(uri)}" if uri.startswith("sqlite:") else None
    _export(
        "mlflow",
        functools.partial(to_mlflow, tracking_uri=uri, experiment=mlflow_experiment),
        results,
        experiment,
        output_format(format_, as_json),
        uri,
        look,
    )


@export_app.command("tensorboard", cls=_Command)
@reported
def export_tensorboard(
    results: ResultsOption = Path("results"),
    experiment: ExportExperimentOption = None,
    logdir: Annotated[
        Path,
        typer.Option(
            "--logdir",
            metavar="DIR",
            help="Folder for the event files: one folder per run, DIR/EXPERIMENT/VARIANT-KEY/seed-N.",
        ),
    ] = Path("tensorboard_logs"),
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Write TensorBoard event files for every finished run: per-epoch and final scalars, the resolved config
    as text. Runs exported before are left as they are (needs rnnbench\\[tensorboard])."""
    from rnnbench.export.tensorboard import to_tensorboard

    _export(
        "tensorboard",
        functools.partial(to_tensorboard, logdir=logdir),
        results,
        experiment,
        output_format(format_, as_json),
        str(logdir),
        f"tensorboard --logdir {shlex.quote(str(logdir))}",
    )


def _export(extra: str, write, results: Path, experiment: str | None, shown: str, where: str, look: str | None) -> None:
    """`export <extra>`: check the extra is installed, read the finished runs (of `experiment`), export them with
    `write(runs, on_run=...)` and print the result: one row per run (key, status, MLflow run id or folder; the run
    directories that could not be read are skipped too), then what to run to look; if it fails part-way, how far
    it got."""
    from rnnbench.compare import count

    require(extra, f"export {extra}")  # before the runs are read
    unreadable = []
    runs = _runs(results, experiment, unreadable)
    err.print(f"exporting {count(len(runs), 'run')} to {where}", markup=False, highlight=False, soft_wrap=True)
    done = []
    try:
        exported = write(runs, on_run=done.append)
    except RnnbenchError:
        if done:
            err.print(
                f"note: {count(len(done), 'run')} of {len(runs)} exported (or there already) before the error; "
                "exporting again goes on from there",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        raise
    if shown == "json":
        print_json({"destination": where, "runs": [vars(item) for item in exported], "unreadable": unreadable})
    else:
        print_view(
            views.Table(
                f"exported to {where}",
                ["run", "status", "where"],
                [[item.run_key, item.status, item.where] for item in exported],
            ),
            out,
        )
    counts = Counter(item.status for item in exported)
    counts["skipped"] += len(unreadable)  # listed as they were read
    for item in exported:
        if item.status == "skipped":
            err.print(f"[yellow]skipped:[/yellow] {escape(item.where)}", highlight=False, soft_wrap=True)
    err.print(
        f"{counts['exported']} exported, {counts['already there']} already there"
        + (f", {counts['skipped']} skipped (damaged, listed above)" if counts["skipped"] else "")
        + (
            f", {counts['differs']} differ from what is there under the same run key (left as they were; delete "
            "those there to export these)"
            if counts["differs"]
            else ""
        )
        + (f"; look: {look}" if look else ""),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def torch_cpu():
    import torch

    return torch.device("cpu")


def _source(data, data_dir: Path | None):
    """What the experiment's task learns from, read and checked before any training, with a progress bar if the
    names corpus has to be downloaded."""
    from rnnbench.runner import load_source

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:  # off a terminal, no bar (nor the blank line it leaves)
        download = None

        def show_download(done: int, total: int | None):
            nonlocal download
            if download is None:
                download = bar.add_task("downloading the names corpus", total=total)
            bar.update(download, completed=done)

        source, note = load_source(data, data_dir, on_download=show_download)
    if note:
        err.print(note, markup=False, highlight=False, soft_wrap=True)
    return source


def _runs(results: Path, experiment: str | None = None, unreadable: list[str] | None = None) -> list:
    """The finished runs under `results` (of one experiment, if named); damaged run directories are listed as
    skipped (and added to `unreadable`, if given) and left alone."""
    from rnnbench import rundir

    if not Path(results).is_dir():
        raise RnnbenchError(f"{results}: no such results folder; run an experiment first or pass --results DIR")
    runs, problems = rundir.find_runs(results)
    for problem in problems:
        err.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False, soft_wrap=True)
    if unreadable is not None:
        unreadable += problems
    if experiment is not None:
        runs = [run for run in runs if run.spec.experiment == experiment]
    if not runs:
        raise RnnbenchError(
            f"{results}: no finished runs"
            + (f" of experiment '{experiment}'" if experiment else "")
            + "; run one first: rnnbench run EXPERIMENT.yaml"
        )
    return runs


def _summary(
    results: Path,
    experiment: str | None = None,
    sort: str | None = None,
    metric: str | None = None,
    versus: str | None = None,
):
    from rnnbench import compare as compare_runs

    runs = _runs(results, experiment)
    summary = compare_runs.summarize(compare_runs.runs_frame(runs), sort=sort, metric=metric, reference=versus)
    return summary, runs


def _print_table(summary) -> None:
    from rnnbench import compare as compare_runs

    for name, part in compare_runs.by_experiment(summary):
        headers = list(compare_runs.headers(part))
        right = {i for i, header in enumerate(headers) if i >= 4 and header != "settings"}
        print_view(views.Table(name, headers, compare_runs.display_rows(part), right=right), out)
        out.print(compare_runs.legend(part), markup=False, highlight=False, style="dim")
