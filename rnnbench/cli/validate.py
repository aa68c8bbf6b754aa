"""`rnnbench validate` and `rnnbench params`: look at an experiment file without training it, at the runs it
resolves to and at the parameters of each variant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnbench import views
from rnnbench.cli.inputs import note_abandoned, source
from rnnbench.cli.options import DataDirOption, Format, FormatOption, JsonOption, SetOption
from rnnbench.cli.output import out, output_format, print_json, say
from rnnbench.errors import ConfigError, RnnbenchError
from rnnbench.terminal import print_view

ExperimentArgument = Annotated[Path, typer.Argument(metavar="EXPERIMENT.yaml", help="Experiment YAML file.")]


def validate(
    experiment: ExperimentArgument,
    set_: SetOption = None,
    results: Annotated[
        Path,
        typer.Option(
            "--results", metavar="DIR", help="Folder that holds run directories: its unfinished runs are checked too."
        ),
    ] = Path("results"),
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Check an experiment file and list the runs it resolves to, without training anything; say if the results
    folder holds unfinished runs of it that no `run` of this file will resume (started with other settings)."""
    shown = output_format(format_, as_json)
    try:
        _validate(experiment, set_ or [], results, shown)
    except RnnbenchError as error:
        if shown == "json":  # the problems for programs too; the lines on stderr and the exit status as ever
            problems = error.problems if isinstance(error, ConfigError) else str(error).splitlines()
            print_json({"experiment": str(experiment), "valid": False, "problems": problems})
        raise


def _validate(experiment: Path, overrides: list[str], results: Path, shown: str) -> None:
    from rnnbench import config, rundir
    from rnnbench.fields import BASELINE_FIELDS, reads_nothing

    exp = config.load(experiment, overrides)
    abandoned = rundir.abandoned_runs(results, exp.name, exp.run_specs())
    variants = exp.resolved_variants()
    runs = len(variants) * len(exp.seeds)
    count = views.count
    title = f"{exp.name}: {count(len(variants), 'variant')} × {count(len(exp.seeds), 'seed')} = {count(runs, 'run')}"
    task = config.task_of(exp.data)
    headers = ["variant", "cell", "impl", "dir", "size", "input", task.MODEL_COLUMN, "dropout"]
    changes = {name: config.changed_settings(exp, setting) for name, setting in variants.items()}
    headers += ["train / data"] if any(changes.values()) else []
    if task.READ_ON_VALIDATE:  # a local file: read, check and split it now, as `run` does before training
        found = source(exp.data, None)
        for data in config.distinct_data(variants):  # the checks prepare makes, without tensors (nor torch)
            task.model_sizes(data, found, exp.seeds[0])
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
                "abandoned": [
                    {"key": run.key, "seed": run.seed, "files": [str(file) for file in run.files + run.debris]}
                    for run in abandoned
                ],
                "tune": None if exp.tune is None else exp.tune.model_dump(mode="json", exclude_none=True),
            }
        )
        note_abandoned(results, exp.name, abandoned, experiment, overrides)
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
    if exp.tune is not None:
        tune, space = exp.tune, exp.tune.space.dimensions()
        fields = ", ".join(field if section == "model" else f"{section}.{field}" for section, field in space)
        out.print(
            f"tune: {tune.trials} trials per variant ({tune.sampler} sampler, {tune.pruner} pruner) over {fields}; "
            f"tuning seeds {tune.seeds}, evaluation seeds {tune.evaluation_seeds}: rnnbench tune {experiment}",
            markup=False,
            highlight=False,
        )
    out.print(f"{experiment}: valid", markup=False, highlight=False)
    note_abandoned(results, exp.name, abandoned, experiment, overrides)


def params(
    experiment: ExperimentArgument,
    set_: SetOption = None,
    data_dir: DataDirOption = None,
    format_: FormatOption = Format.table,
    as_json: JsonOption = False,
):
    """Count every variant's parameters by role, without training (closed forms: no model is built)."""
    from rnnbench import config
    from rnnbench.config import task_of

    shown = output_format(format_, as_json)
    exp = config.load(experiment, set_ or [])
    found = source(exp.data, data_dir)  # a file or corpus that cannot be read is refused before torch is imported
    from rnnbench.params import parameter_counts

    sizes, rows = parameter_counts(exp, found)
    if shown == "json":
        print_json({"data": sizes, "variants": rows})
    else:
        _print_params(exp.name, sizes, rows, task_of(exp.data).MODEL_SIZES)


def _print_params(name: str, sizes: dict, rows: list[dict], model_sizes: tuple[str, ...]) -> None:
    from rnnbench.fields import reads_nothing

    decided = ", ".join(f"{key.replace('_', ' ')} {sizes[key]:,}" for key in model_sizes if key in sizes)
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
    if budgets and "corpus_vocab_size" in sizes:
        out.print(
            f"budgets: each hidden size is solved against the vocabulary of every split "
            f"({sizes['corpus_vocab_size']:,}), the same for every seed, so every seed of a variant trains one size; "
            "counted with this seed's vocabulary, a total can sit a little off the closest to its budget",
            markup=False,
        )
    out.print(
        "recurrent part, gates × (H·I + H² + biases·H) per layer and direction (an encoder-decoder's encoder and "
        "decoder added):",
        markup=False,
    )
    for row in (row for row in rows if "recurrent_formula" in row):
        recurrent = row["input_to_hidden"] + row["hidden_to_hidden"] + row["biases"]
        say(f"  {row['variant']}: {row['recurrent_formula']} = {recurrent:,}")
