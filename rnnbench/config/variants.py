"""Grid and variant expansion: an experiment's `model:`, `grid:` and `variants:` made into one named Setting per
variant (the grid's combinations, then the listed variants, then the task's baselines), and the automatic names.

Every function here takes a validated Experiment (schema.py) or its parts; Experiment.resolved_variants() is
resolve_variants(experiment).
"""

from __future__ import annotations

import itertools
import typing

from rnnbench import yamlfile
from rnnbench.config.task_data import task_of
from rnnbench.fields import ModelSpec, Train, canonical, file_name, model_problems, reads_nothing


def resolved_model(model: ModelSpec, data) -> ModelSpec:
    """The model as its task runs it: fields a baseline does not read reset, the task's defaults made explicit."""
    return task_of(data).canonical(canonical(model))


class Setting(typing.NamedTuple):
    """What one variant trains: its model, its training settings and its data settings."""

    model: ModelSpec
    train: Train
    data: object  # the task's Data


SECTIONS = ("model", "train", "data")  # what a variant can set, in the order names show them


def resolve_variants(experiment) -> dict[str, Setting]:
    """Variant name -> setting: the grid's combinations, then the listed variants (`model` alone if neither),
    then the task's SCORED_BESIDE baselines the experiment does not list (series: naive, ...). Raise ValueError
    listing every problem (a name used twice, two variants the same, fields that clash)."""
    base = Setting(experiment.model, experiment.train, experiment.data)
    entries = []  # (where it came from, its name or None, {(section, field): value} it sets)
    if experiment.grid is not None:
        axes = {(section, field): values for section, field, values in grid_axes(experiment.grid)}
        entries += [("grid", None, dict(zip(axes, values))) for values in itertools.product(*axes.values())]
    for i, variant in enumerate(experiment.variants):
        fields = {
            ("model", field): getattr(variant, field) for field in variant.model_fields_set - {"name", "train", "data"}
        }
        fields |= {
            ("train", field): getattr(variant.train, field)
            for field in (variant.train.model_fields_set if variant.train else ())
        }
        fields |= {("data", field): value for field, value in (variant.data or {}).items()}
        entries.append((f"variants[{i}]", variant.name, fields))
    entries = entries or [("model", None, {})]
    listed = {fields.get(("model", "cell"), experiment.model.cell) for _, _, fields in entries}
    named = {name for _, name, _ in entries if name}
    entries += [
        ("baseline", None, {("model", "cell"): cell})
        for cell in task_of(experiment.data).SCORED_BESIDE
        if cell not in listed and cell not in named
    ]  # a task's benchmarks, beside every experiment of it
    settings = [(where, name, _setting(experiment, fields)) for where, name, fields in entries]
    varying = {
        (section, field)
        for section in SECTIONS
        for field in type(getattr(base, section)).model_fields
        if len({hashable(getattr(getattr(s, section), field)) for _, _, s in settings}) > 1
    }
    axes = {(section, field) for section, field, _ in grid_axes(experiment.grid)} if experiment.grid else set()
    resolved, problems = {}, []
    for where, name, setting in settings:
        # a name shows a grid axis always, and any other field that varies where it leaves the defaults
        shown = {
            (section, field)
            for section, field in varying
            if (section, field) in axes
            or getattr(getattr(setting, section), field) != getattr(getattr(base, section), field)
        }
        if name is None:
            name = variant_name(setting, shown)
            try:
                file_name(name, "_.+=-")
            except ValueError as err:  # a grid varying many fields: the name becomes a directory
                problems.append(
                    f"{where}: the automatic variant name '{name[:40]}...' {err}; vary fewer fields "
                    "in one grid, or list the variant under `variants` with a short `name`"
                )
        if where == "grid" and resolved.get(name) == setting:
            continue  # a baseline crossed with axes it does not read, e.g. majority × hidden_size: listed once
        problems += [f"{where} ({name}): {problem}" for problem in model_problems(setting.model)]
        if name in resolved:
            problems.append(f"{where}: variant name '{name}' is used twice; give the variant a distinct name")
        twin = next((other for other, s in resolved.items() if s == setting), None)
        if twin is not None:
            problems.append(f"{where}: variant '{name}' has the same settings as '{twin}'; drop one of them")
        resolved[name] = setting
    if problems:
        raise ValueError("\n".join(problems))
    return resolved


def _setting(experiment, fields: dict[tuple[str, str], object]) -> Setting:
    """The experiment's sections with `fields` ({(section, field): value}) written over them."""
    parts = {
        section: {field: value for (where, field), value in fields.items() if where == section} for section in SECTIONS
    }
    model = resolved_model(ModelSpec(**{**experiment.model.model_dump(), **parts["model"]}), experiment.data)
    if reads_nothing(model.cell):  # reads no window and trains nothing: one setting only
        return Setting(model, experiment.train, experiment.data)
    train = Train(**{**experiment.train.model_dump(), **parts["train"]}) if parts["train"] else experiment.train
    data = (
        type(experiment.data).model_validate({**experiment.data.model_dump(), **parts["data"]})
        if parts["data"]
        else experiment.data
    )
    return Setting(model, train, data)


def changed_settings(experiment, setting: Setting) -> list[str]:
    """The train and data fields a variant sets otherwise than the experiment. Example: ['train.batch_size 32']."""
    return [
        f"{section}.{field} {yamlfile.scalar(getattr(getattr(setting, section), field))}"
        for section in ("train", "data")
        for field in type(getattr(setting, section)).model_fields
        if getattr(getattr(setting, section), field) != getattr(getattr(experiment, section), field)
    ]


def distinct_data(variants: dict[str, Setting]) -> list:
    """The data settings the variants use, each once, in order (one unless variants set INPUT_FIELDS)."""
    found = []
    for setting in variants.values():
        if setting.data not in found:
            found.append(setting.data)
    return found


def grid_axes(grid) -> list[tuple[str, str, list]]:
    """(section, field, values) for every axis a grid sets: model fields, then train fields (each in schema
    order), then data fields in the order written."""
    axes = [("model", field, getattr(grid, field)) for field in ModelSpec.model_fields]
    axes += [("train", field, getattr(grid.train, field)) for field in Train.model_fields] if grid.train else []
    axes += [("data", field, values) for field, values in (grid.data or {}).items()]
    return [(section, field, values) for section, field, values in axes if values is not None]


def hashable(value):
    return tuple(value) if isinstance(value, list) else value


def variant_name(setting: Setting, shown: set[tuple[str, str]]) -> str:
    """Example: gru, bidirectional, 1 layer of 64 -> 'gru-bi-1x64', plus a suffix for each (section, field) in
    `shown`, model fields first.

    More examples: 'gru-uni-1x64-scratch', 'lstm-uni-1-budget40000', 'gru-uni-1x64-lr0.001-batch32',
    'gru-uni-1x64-word', 'linear-3x256', 'majority'.
    """
    model = setting.model
    if reads_nothing(model.cell):  # a baseline that reads nothing else: majority, naive, ...
        name = model.cell
    else:
        size = f"-budget{model.param_budget}" if model.param_budget else f"x{model.hidden_size}"
        if model.cell == "linear":
            name = f"linear-{model.num_layers}{size}"
        else:
            name = f"{model.cell}-{'bi' if model.bidirectional else 'uni'}-{model.num_layers}{size}"
            name += "".join(
                "-" + suffix(getattr(model, field))
                for field, suffix in NAME_SUFFIXES.items()
                if ("model", field) in shown
            )
    suffixes = {"train": TRAIN_SUFFIXES, "data": task_of(setting.data).INPUT_FIELDS}
    for section in ("train", "data") if name != model.cell else ():  # a baseline reading nothing: its cell says all
        name += "".join(
            "-" + suffix(getattr(getattr(setting, section), field))
            for field, suffix in suffixes[section].items()
            if (section, field) in shown
        )
    return name


NAME_SUFFIXES = {  # how a model field shows in automatic variant names when it differs between variants
    "impl": str,
    "embedding_dim": lambda dim: f"emb{dim}" if dim else "onehot",
    "dropout": lambda p: f"drop{p:g}",
    "bias": lambda bias: f"{bias}-bias",
    "activation": str,
    "head": lambda head: f"head-{head}",
    "head_hidden": lambda width: f"headx{width}" if width else "headx0",
    "max_length": lambda length: f"len{length}" if length else "len-none",
    "softmax_output": lambda on: "softmax-out" if on else "logits-out",
    "carry_state": lambda on: "carry" if on else "fresh",
    "architecture": lambda kind: {"encoder_decoder": "encdec", "repeat_decoder": "repeat", None: "classifier"}.get(
        kind, kind
    ),
    "attention": lambda kind: f"attn-{kind}",
    "sentinels": lambda on: "sentinels" if on else "no-sentinels",
    "readout": lambda part: f"readout-{part.replace('_', '-')}",
    "regression": lambda on: "regression" if on else "tokens",
    "init": lambda scheme: f"init-{scheme}",
    "forget_bias": lambda bias: "fb-none" if bias is None else f"fb{bias:.12g}",
    "chrono": lambda steps: "chrono-none" if steps is None else f"chrono{steps}",
    "forecast": str,
}
TRAIN_SUFFIXES = {  # the same for the training fields
    "learning_rate": lambda rate: f"lr{rate:.12g}",
    "batch_size": lambda size: f"batch{size}",
    "max_epochs": lambda epochs: f"epochs{epochs}",
    "patience": lambda epochs: f"patience{epochs}",
    "grad_clip": lambda norm: f"clip{norm:.12g}" if norm else "noclip",
    "weight_decay": lambda decay: f"wd{decay:.12g}",
    "eval_drop_last": lambda on: "eval-drop-last" if on else "eval-all",
    "restore_best": lambda on: "restore-best" if on else "keep-last",
    "stop_on": lambda watched: f"stop-on-{watched.replace('_', '-')}",
    "batching": str,
}
