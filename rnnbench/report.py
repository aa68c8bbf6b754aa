"""`rnnbench report`: one self-contained Markdown file for one experiment, with its plots beside it.

report.md holds, in order: how to repeat the experiment (the resolved experiment file, also written beside it
as experiment.yaml, which `rnnbench run` accepts and which names the very same runs), the environment the runs
recorded, the data hygiene report, the comparison table with its statistics and what they say, the plots, and
the errors worth reading (names: the best variant's per-language scores and its most confused language pairs
with example names, over all its seeds; reversal: exact accuracy per length). Everything comes from the run
directories; nothing is trained or re-scored.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from rnnbench import compare, plots, rundir, views, yamlfile
from rnnbench.compare import curves
from rnnbench.errors import RnnbenchError
from rnnbench.fields import ModelSpec
from rnnbench.rundir import RunRecord
from rnnbench.tasks import TASKS
from rnnbench.version import version


def write_report(runs: list[RunRecord], folder: Path) -> Path:
    """Write report.md, experiment.yaml and the plots of one experiment's runs into `folder`; return report.md.
    Tuning trials among `runs` (`rnnbench tune`'s) give the report its tuning curves and stay out of the rest.
    Raises RnnbenchError where only tuning trials are finished, or the folder cannot be written."""
    folder = Path(folder)
    trials = [run for run in runs if run.tuning_trial]
    runs = [run for run in runs if not run.tuning_trial]
    if not runs:
        raise RnnbenchError(
            f"{trials[0].spec.experiment}: only tuning trials are finished; let `rnnbench tune` finish the "
            "evaluation runs, or see the trials with rnnbench compare --trials --tuning"
        )
    summary = compare.summarize(compare.runs_frame(runs))
    images = plots.write_plots(summary, runs, folder, trials)  # creates the folder, or says why it cannot
    experiment_file = resolved_experiment(runs)
    text = render(runs, summary, [image.name for image in images], experiment_file, trials)
    try:
        if experiment_file is not None:
            rundir.write_text_atomic(folder / "experiment.yaml", yamlfile.dump(experiment_file))
        else:  # an earlier report's file would claim to repeat runs that this report says one file cannot
            (folder / "experiment.yaml").unlink(missing_ok=True)
        rundir.write_text_atomic(folder / "report.md", text)
    except OSError as err:
        raise RnnbenchError(f"{folder}: cannot write the report ({err.strerror or err})") from None
    return folder / "report.md"


def resolved_experiment(runs: list[RunRecord]) -> dict | None:
    """An experiment file naming exactly these runs' variants: their shared data and training settings, each
    variant's model fields that differ from the defaults (and its train and data fields that differ from the
    shared ones: a sweep), and the seeds. None where one file cannot hold them: runs that differ in data fields a
    variant cannot set (see the task's INPUT_FIELDS) or in device, or a variant that changed its configuration
    (one name, two keys) or its name (one key, two names) between runs.
    """
    first = runs[0].config
    inputs = TASKS[runs[0].task].INPUT_FIELDS
    shared = {key: value for key, value in first["data"].items() if key not in inputs}
    if any(
        run.config["device"] != first["device"]
        or {k: v for k, v in run.config["data"].items() if k not in inputs} != shared
        for run in runs
    ):
        return None
    names_of, keys_of, variants = {}, {}, {}
    for run in runs:
        name, key = run.spec.variant, run.variant_key
        names_of.setdefault(key, set()).add(name)
        keys_of.setdefault(name, set()).add(key)
        if name not in variants:
            model = ModelSpec.model_validate(run.config["model"]).model_dump(mode="json", exclude_defaults=True)
            changed = {
                section: {k: v for k, v in run.config[section].items() if first[section].get(k) != v}
                for section in ("train", "data")
            }
            variants[name] = {**model, **{section: fields for section, fields in changed.items() if fields}}
    if any(len(found) > 1 for found in (*names_of.values(), *keys_of.values())):
        return None
    described = {"description": first["description"]} if first.get("description") else {}
    return {
        "name": first["experiment"],
        **described,
        "data": first["data"],
        "variants": [{"name": name, **fields} for name, fields in variants.items()],
        "train": first["train"],
        "seeds": sorted({run.config["seed"] for run in runs}),
        "device": first["device"],
    }


def render(
    runs: list[RunRecord],
    summary: pd.DataFrame,
    images: list[str],
    experiment_file: dict | None,
    trials: list[RunRecord] = (),
) -> str:
    """The report's Markdown text; `trials`, the tuning trials of a tuned experiment, give it a Tuning section."""
    first = runs[0].config
    name, task = first["experiment"], runs[0].task
    seeds = sorted({run.config["seed"] for run in runs})
    lines = [f"# {name}", ""]
    if first.get("description"):
        lines += [first["description"], ""]
    count = compare.count
    lines += [
        f"{count(len(summary), 'variant')} × {count(len(seeds), 'seed')} ({', '.join(map(str, seeds))}) = "
        f"{count(len(runs), 'run')} "
        f"of the {task} task.",
        "",
    ]
    lines += _how_to_repeat(experiment_file, runs)
    lines += _environment(runs)
    lines += TASKS[task].report_data(runs, rundir.load_data_report)
    lines += _results(summary)
    lines += _tuning(trials)
    diverged = [run for run in runs if run.diverged is not None]
    if diverged:
        lines += [
            f"{count(len(diverged), 'run')} diverged (a loss or weights became NaN or infinite) and "
            f"{'has' if len(diverged) == 1 else 'have'} no scores: "
            + "; ".join(
                f"{run.spec.variant} seed {run.spec.seed}, epoch {run.diverged['epoch']} "
                f"({run.diverged.get('reason', 'not finite')})"
                for run in diverged
            )
            + ".",
            "",
        ]
    lines += ["## Plots", ""] + [f"![{image.removesuffix('.png')}]({image})" for image in images] + [""]
    best = compare.best_row(summary, summary["compared_on"].iloc[0])
    if best is not None:
        found = [run for run in runs if run.variant_key == best["variant_key"]]
        scored = [run for run in runs if run.diverged is None]  # a diverged run has no scores or predictions
        lines += TASKS[task].report_errors(best["variant"], found, scored, rundir.load_predictions)
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines += [
        "---",
        "",
        f"Written by rnnbench {version()} on {written} from the {len(runs)} run "
        f"directories under `{Path(runs[0].path).parent.parent}`.",
        "",
    ]
    return "\n".join(lines)


def _how_to_repeat(experiment_file: dict | None, runs: list[RunRecord]) -> list[str]:
    lines = ["## How to repeat it", ""]
    if experiment_file is None:
        return lines + [
            "These runs do not share one data, training and device setting (the experiment changed "
            "between runs), so no single experiment file repeats them; each run's `config.yaml` "
            "repeats that run: `rnnbench run --repeat RUN_DIR`.",
            "",
        ]
    missing = len(experiment_file["variants"]) * len(experiment_file["seeds"]) - len(runs)
    extra = f" (and the {missing} variant × seed runs missing here)" if missing else ""
    return lines + [
        "The resolved experiment, written beside this report as `experiment.yaml`. Running it trains these very runs "
        f"again{extra}, with the same variant keys and seeds: `rnnbench run experiment.yaml`; one run alone: "
        "`rnnbench run --repeat RUN_DIR`.",
        "",
        "```yaml",
        yamlfile.dump(experiment_file).rstrip(),
        "```",
        "",
    ]


def _tuning(trials: list[RunRecord]) -> list[str]:
    """The tuning curves of a tuned experiment, what each variant's trials spent and where the studies are."""
    found = curves.experiment_curves(trials)
    if found is None:
        return []
    name = trials[0].spec.experiment
    numbers = {(run.spec.trial.study, run.spec.trial.number) for run in trials}
    pruned = {(run.spec.trial.study, run.spec.trial.number) for run in trials if run.metrics.get("pruned_after_epoch")}
    spent = [
        f"{study.rsplit('-', 1)[0]} {compare.count(sum(s == study for s, _ in numbers), 'trial')} "
        f"({sum(s == study for s, _ in pruned)} pruned)"
        for study in sorted({study for study, _ in numbers})
    ]
    epochs = sum(run.epochs_run for run in trials)
    table = curves.table(name, found)
    return [
        "## Tuning",
        "",
        f"`rnnbench tune` gave every variant the same budget: {', '.join(spent)}; "
        f"{compare.count(len(trials), 'run')} and {epochs:,} epochs in all, each trial judged by its "
        f"{found['score'].replace('_', ' ')}. The rows `<variant>-tuned` above are each best setting retrained on "
        "the evaluation seeds. The studies are in `studies.journal` beside the runs (optuna-dashboard opens it); "
        "the same `rnnbench tune` command again trains nothing and prints what mattered per variant.",
        "",
        *views.to_markdown(table, f"### {table.title}"),
    ]


def _environment(runs: list[RunRecord]) -> list[str]:
    keys = ("rnnbench", "torch", "python", "platform", "device", "device_name", "threads", "git_commit")
    groups = Counter(tuple(str(run.environment.get(key)) for key in keys) for run in runs)
    finished = sorted(run.environment.get("finished") or "" for run in runs)
    lines = ["## Environment", "", "| " + " | ".join(keys) + " | runs |", "|" + "---|" * (len(keys) + 1)]
    lines += ["| " + " | ".join(group) + f" | {count} |" for group, count in groups.most_common()]
    if finished[-1]:
        lines += ["", f"Runs finished between {finished[0] or 'an unrecorded time'} and {finished[-1]}."]
    return lines + [""]


def _results(summary: pd.DataFrame) -> list[str]:
    table = compare.to_markdown(summary).split("\n", 2)[2]  # without its '### name' heading
    return ["## Results", "", table.rstrip(), ""] + _verdicts(summary) + [""]


def _verdicts(summary: pd.DataFrame) -> list[str]:
    """What the comparison says, in words."""
    metric = summary["compared_on"].iloc[0]
    scale, digits = compare.METRICS[metric].scale, compare.METRICS[metric].digits
    if summary["reference"].iloc[0] is None:
        return [f"No variant has a {compare.label(summary, metric)} to compare."]
    reference = summary[summary["verdict"] == "reference"].iloc[0]
    shown = f"{reference[f'{metric}_mean'] * scale:.{digits}f}"
    lines = [f"On {compare.label(summary, metric)}, the best variant is **{reference['variant']}** ({shown})."]
    others = summary[summary["verdict"] != "reference"]

    def listed(rows):
        return ", ".join(
            f"{row.variant} ({row.difference * scale:+.{digits}f}, p={row.p_holm:.2g})" for row in rows.itertuples()
        )

    if others.empty:
        return lines + ["It is the only variant: there is nothing to compare it with."]
    if (others["verdict"] == "untested").all():
        return lines + ["No difference can be tested: a paired test needs at least two seeds that both variants ran."]
    if (others["verdict"] == "real").any():
        lines.append(f"Differences the seeds can tell from noise: {listed(others[others['verdict'] == 'real'])}.")
    if (others["verdict"] == "noise").any():
        lines.append(f"Differences they cannot tell from noise: {listed(others[others['verdict'] == 'noise'])}.")
    return [" ".join(lines)]
