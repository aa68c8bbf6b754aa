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

import numpy as np
import pandas as pd
import yaml

import rnnbench
from rnnbench import compare, metrics, plots, rundir
from rnnbench.data.names import REPORT_COLUMNS, TREATMENT, describe_overlap
from rnnbench.config import ModelSpec
from rnnbench.errors import RnnbenchError
from rnnbench.rundir import Run


def write_report(runs: list[Run], folder: Path) -> Path:
    """Write report.md, experiment.yaml and the plots of one experiment's runs into `folder`; return report.md."""
    folder = Path(folder)
    summary = compare.summarize(compare.runs_frame(runs))
    images = plots.write_plots(summary, runs, folder)  # creates the folder, or says why it cannot
    experiment_file = resolved_experiment(runs)
    text = render(runs, summary, [image.name for image in images], experiment_file)
    try:
        if experiment_file is not None:
            rundir.write_text_atomic(folder / "experiment.yaml", yaml.safe_dump(experiment_file, sort_keys=False,
                                                                              allow_unicode=True))  # fmt: skip
        else:  # an earlier report's file would claim to repeat runs that this report says one file cannot
            (folder / "experiment.yaml").unlink(missing_ok=True)
        rundir.write_text_atomic(folder / "report.md", text)
    except OSError as err:
        raise RnnbenchError(f"{folder}: cannot write the report ({err.strerror or err})") from None
    return folder / "report.md"


def resolved_experiment(runs: list[Run]) -> dict | None:
    """An experiment file naming exactly these runs' variants: their shared data and training settings, each
    variant's model fields that differ from the defaults, and the seeds. None where one file cannot hold them:
    runs that differ in data, training settings or device, or a variant that changed its configuration (one
    name, two keys) or its name (one key, two names) between runs.
    """
    first = runs[0].config
    if any(run.config[key] != first[key] for run in runs for key in ("data", "train", "device")):
        return None
    names_of, keys_of, variants = {}, {}, {}
    for run in runs:
        name, key = run.config["variant"], run.metrics["variant_key"]
        names_of.setdefault(key, set()).add(name)
        keys_of.setdefault(name, set()).add(key)
        variants.setdefault(name, ModelSpec.model_validate(run.config["model"]).model_dump(mode="json", exclude_defaults=True))
    if any(len(found) > 1 for found in (*names_of.values(), *keys_of.values())):
        return None
    described = {"description": first["description"]} if first.get("description") else {}
    return {
        "name": first["experiment"],
        **described,
        "data": first["data"],
        "variants": [{"name": name, **model} for name, model in variants.items()],
        "train": first["train"],
        "seeds": sorted({run.config["seed"] for run in runs}),
        "device": first["device"],
    }


def render(runs: list[Run], summary: pd.DataFrame, images: list[str], experiment_file: dict | None) -> str:
    """The report's Markdown text."""
    first = runs[0].config
    name, task = first["experiment"], runs[0].metrics["task"]
    seeds = sorted({run.config["seed"] for run in runs})
    lines = [f"# {name}", ""]
    if first.get("description"):
        lines += [first["description"], ""]
    count = compare.count
    lines += [f"{count(len(summary), 'variant')} × {count(len(seeds), 'seed')} ({', '.join(map(str, seeds))}) = "
              f"{count(len(runs), 'run')} "
              f"of the {task} task.", ""]  # fmt: skip
    lines += _how_to_repeat(experiment_file, runs)
    lines += _environment(runs)
    lines += _data(runs) if task == "names" else _generated_data(runs)
    lines += _results(summary)
    lines += ["## Plots", ""] + [f"![{image.removesuffix('.png')}]({image})" for image in images] + [""]
    lines += _errors(summary, runs) if task == "names" else _by_length(summary, runs)
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines += ["---", "", f"Written by rnnbench {rnnbench.__version__} on {written} from the {len(runs)} run "
              f"directories under `{Path(runs[0].path).parent.parent}`.", ""]  # fmt: skip
    return "\n".join(lines)


def _how_to_repeat(experiment_file: dict | None, runs: list[Run]) -> list[str]:
    lines = ["## How to repeat it", ""]
    if experiment_file is None:
        return lines + ["These runs do not share one data, training and device setting (the experiment changed "
                        "between runs), so no single experiment file repeats them; each run's `config.yaml` "
                        "repeats that run: `rnnbench run --repeat RUN_DIR`.", ""]  # fmt: skip
    missing = len(experiment_file["variants"]) * len(experiment_file["seeds"]) - len(runs)
    extra = f" (and the {missing} variant × seed runs missing here)" if missing else ""
    return lines + [
        "The resolved experiment, written beside this report as `experiment.yaml`. Running it trains these very runs "
        f"again{extra}, with the same variant keys and seeds: `rnnbench run experiment.yaml`; one run alone: "
        "`rnnbench run --repeat RUN_DIR`.", "", "```yaml",
        yaml.safe_dump(experiment_file, sort_keys=False, allow_unicode=True).rstrip(), "```", ""]  # fmt: skip


def _environment(runs: list[Run]) -> list[str]:
    keys = ("rnnbench", "torch", "python", "platform", "device", "device_name", "threads", "git_commit")
    groups = Counter(tuple(str(run.metrics["environment"].get(key)) for key in keys) for run in runs)
    finished = sorted(run.metrics["environment"].get("finished") or "" for run in runs)
    lines = ["## Environment", "", "| " + " | ".join(keys) + " | runs |", "|" + "---|" * (len(keys) + 1)]
    lines += ["| " + " | ".join(group) + f" | {count} |" for group, count in groups.most_common()]
    if finished[-1]:
        lines += ["", f"Runs finished between {finished[0] or 'an unrecorded time'} and {finished[-1]}."]
    return lines + [""]


def _data(runs: list[Run]) -> list[str]:
    """The data hygiene report of every seed: the per-language table once (a split by name gives every seed
    the same sizes), then each seed's split sizes and overlap check."""
    reports = {}
    for run in runs:
        reports.setdefault(run.config["seed"], rundir.load_data_report(run.path))
    lines = ["## Data", ""]
    found = {seed: report for seed, report in sorted(reports.items()) if report is not None}
    if not found:
        return lines + ["These runs hold no data report (they were written by an older rnnbench).", ""]
    seed, report = next(iter(found.items()))
    keys = REPORT_COLUMNS
    rows = report["languages"]
    lines += [f"Seed {seed}, split `{report['split']}`:", "", "| language | " + " | ".join(keys.values()) + " |",
              "|---|" + "---:|" * len(keys)]  # fmt: skip
    lines += [f"| {language} | " + " | ".join(f"{row[key]:,}" for key in keys) + " |" for language, row in rows.items()]
    lines += ["| **total** | " + " | ".join(f"**{sum(row[key] for row in rows.values()):,}**" for key in keys) + " |", ""]
    policy, count = report["multi_language_policy"], report["multi_language_names"]
    lines += [f"{count:,} names are listed under several of these languages: {TREATMENT[policy]} "
              f"(`multi_language: {policy}`).", ""]
    for seed, report in found.items():
        sizes = report["sizes"]
        lines.append(f"- seed {seed}: {sizes['train']:,} / {sizes['validation']:,} / {sizes['test']:,} "
                     f"train / validation / test examples; {describe_overlap(report)}")  # fmt: skip
    return lines + [""]


def _generated_data(runs: list[Run]) -> list[str]:
    sizes = runs[0].metrics["data"]
    data = runs[0].config["data"]
    return ["## Data", "", f"Generated from each seed: {sizes['train_size']:,} / {sizes['validation_size']:,} / "
            f"{sizes['test_size']:,} train / validation / test sequences of symbols 1–{sizes['symbols']} with lengths "
            f"{data['min_length']}–{data['max_length']}, and {sizes['long_size']:,} longer ones (lengths "
            f"{data['long_min_length']}–{data['long_max_length']}) that no model trains on.", ""]  # fmt: skip


def _results(summary: pd.DataFrame) -> list[str]:
    table = compare.to_markdown(summary).split("\n", 2)[2]  # without its '### name' heading
    return ["## Results", "", table.rstrip(), ""] + _verdicts(summary) + [""]


def _verdicts(summary: pd.DataFrame) -> list[str]:
    """What the comparison says, in words."""
    metric = summary["compared_on"].iloc[0]
    _, scale, digits, _ = compare.METRICS[metric]
    if summary["reference"].iloc[0] is None:
        return [f"No variant has a {compare.label(summary, metric)} to compare."]
    reference = summary[summary["verdict"] == "reference"].iloc[0]
    shown = f"{reference[f'{metric}_mean'] * scale:.{digits}f}"
    lines = [f"On {compare.label(summary, metric)}, the best variant is **{reference['variant']}** ({shown})."]
    others = summary[summary["verdict"] != "reference"]

    def listed(rows):
        return ", ".join(f"{row.variant} ({row.difference * scale:+.{digits}f}, p={row.p_holm:.2g})" for row in rows.itertuples())

    if others.empty:
        return lines + ["It is the only variant: there is nothing to compare it with."]
    if (others["verdict"] == "untested").all():
        return lines + ["No difference can be tested: a paired test needs at least two seeds that both variants ran."]
    if (others["verdict"] == "real").any():
        lines.append(f"Differences the seeds can tell from noise: {listed(others[others['verdict'] == 'real'])}.")
    if (others["verdict"] == "noise").any():
        lines.append(f"Differences they cannot tell from noise: {listed(others[others['verdict'] == 'noise'])}.")
    return [" ".join(lines)]


def _errors(summary: pd.DataFrame, runs: list[Run]) -> list[str]:
    """The best variant's per-language scores and most confused pairs, over all its seeds."""
    best = compare.best_row(summary, "test_accuracy")
    found = [run for run in runs if run.metrics["variant_key"] == best["variant_key"]]
    labels = found[0].metrics["data"]["labels"]
    matrix = np.sum([run.metrics["test_confusion_matrix"] for run in found], axis=0)
    lines = ["## Errors worth looking at", "",
             f"The best variant, **{best['variant']}**, on the test splits of its {len(found)} seeds together "
             f"({int(matrix.sum()):,} test examples).", "", "### Per language (worst F1 first)", "",
             "| language | test examples | precision % | recall % | F1 % |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    per_class = metrics.per_class_scores(matrix, labels)
    for row in metrics.worst_first(per_class):
        cells = [f"{100 * row[key]:.1f}" if row["support"] else "-" for key in ("precision", "recall", "f1")]
        lines.append(f"| {row['label']} | {row['support']} | " + " | ".join(cells) + " |")
    predictions = [rundir.load_predictions(run.path) for run in found]
    if any(rows is None for rows in predictions):
        return lines + ["", "(No test predictions recorded: these runs were written by an older rnnbench.)", ""]
    rows = [row for seed_rows in predictions for row in seed_rows]
    pairs = metrics.confused_pairs([r["name"] for r in rows], [r["language"] for r in rows], [r["predicted"] for r in rows])
    lines += ["", "### Most confused pairs", "", "| true | answered | names | share of true | examples |",
              "|---|---|---:|---:|---|"]  # fmt: skip
    lines += [f"| {p['true']} | {p['predicted']} | {p['count']} | {100 * p['rate']:.1f}% | {', '.join(p['examples'])} |"
              for p in pairs]  # fmt: skip
    return lines + [""]


def _by_length(summary: pd.DataFrame, runs: list[Run]) -> list[str]:
    """Exact accuracy per length, mean over seeds, one row per variant."""
    per_variant = {}
    for run in runs:
        per_variant.setdefault(run.metrics["variant_key"], []).append(metrics.exact_by_length(run.metrics))
    columns = sorted({length for seeds in per_variant.values() for seed in seeds for length in seed})
    lines = ["## Exact accuracy by length", "", "Mean over seeds, % (lengths beyond the training range were never "
             "seen in training).", "", "| variant | " + " | ".join(map(str, columns)) + " |",
             "|---|" + "---:|" * len(columns)]  # fmt: skip
    for row in summary.itertuples():
        seeds = per_variant[row.variant_key]
        means = [pd.Series([seed.get(length) for seed in seeds], dtype=float).mean() for length in columns]
        lines.append(f"| {row.variant} | " + " | ".join("-" if pd.isna(m) else f"{100 * m:.1f}" for m in means) + " |")
    return lines + [""]

