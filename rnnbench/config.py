"""The experiment schema, and the only reader of experiment YAML.

load(path, overrides) reads the YAML (as YAML 1.2: see yamlfile.py), applies `--set key=value` overrides to the
raw mapping, validates it (reporting every problem at once, each naming its field and quoting the value as it
was written), and returns a frozen Experiment whose `run_specs()` lists one RunSpec per (variant, seed):
everything that determines one run's result.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    create_model,
    field_validator,
)

from rnnbench import yamlfile
from rnnbench.errors import ConfigError
from rnnbench.fields import (
    BASELINE_FIELDS,
    Device,
    ExperimentName,
    ModelSpec,
    RecordedExperimentName,
    RecordedVariantName,
    Seed,
    Strict,
    Text,
    Train,
    VariantName,
    architecture_problems,
    canonical,
    distinct,
    file_name,
    model_problems,
    reads_nothing,
)
from rnnbench.tasks import TASKS
from rnnbench.yamlfile import Written

DEFAULT_TASK = next(iter(TASKS))  # a `data:` section without `dataset` (files from before there were other tasks)


def _dataset_of(value) -> str | None:
    """The task a `data:` mapping names (None for what names none, such as `dataset: [names]`)."""
    dataset = value.get("dataset", DEFAULT_TASK) if isinstance(value, dict) else getattr(value, "dataset", None)
    return dataset if isinstance(dataset, str) else None


Data = Annotated[
    Union[tuple(Annotated[task.Data, Tag(name)] for name, task in TASKS.items())],  # noqa: UP007
    Discriminator(_dataset_of, custom_error_type="unknown_dataset", custom_error_message="unknown dataset"),
]  # `dataset` picks the task's schema


def task_of(data):
    """The task module of a validated `data:` section."""
    return TASKS[data.dataset]


def resolved_model(model: ModelSpec, data) -> ModelSpec:
    """The model as its task runs it: fields a baseline does not read reset, the task's defaults made explicit."""
    return task_of(data).canonical(canonical(model))


def task_problems(data, variants: dict) -> list[str]:
    """What the dataset rules out (each task's own checks), baselines of another task, and fields that belong to
    another architecture."""
    task = task_of(data)
    problems = task.problems(data, variants)
    for name, model in variants.items():
        if model.cell in BASELINE_FIELDS and model.cell not in task.BASELINES:
            offered = ", ".join(task.BASELINES) or "none"
            problems.append(
                f"variant {name}: cell {model.cell} is another task's baseline ({data.dataset}'s: {offered})"
            )
        problems += architecture_problems(name, model, model.architecture or task.ARCHITECTURES[0])
    return problems


class Variant(ModelSpec):
    """An entry of `variants`: the fields it sets override `model`; `train:` and `data:` override those sections'
    fields (data: only the task's INPUT_FIELDS); `name` defaults to one made from what it changes."""

    name: VariantName | None = None
    train: Train | None = None  # the fields written here override the experiment's `train:`
    data: dict[str, object] | None = None  # checked against the task's data schema in validate()


class Axes(Strict):
    """A grid's axes: lists of values, each field's own checks applied to every value."""

    @field_validator("*")
    @classmethod
    def _non_empty_and_distinct(cls, values):
        if not isinstance(values, list):
            return values
        if values == []:
            raise ValueError("an empty list leaves no variants; remove the field or give at least one value")
        return distinct(values)


def axes_of(schema: type[BaseModel]) -> type[Axes]:
    """The grid schema of `schema`: every field becomes an optional list of that field's values (checked alike)."""

    def value(info):  # the field's type with its checks (bounds, value kind) attached
        return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation

    fields = {name: (list[value(info)] | None, None) for name, info in schema.model_fields.items()}
    return create_model(f"{schema.__name__}Axes", __base__=Axes, **fields)


class Grid(axes_of(ModelSpec)):
    """Lists of values; every combination becomes a variant. Model fields at the top, `train:` and `data:` for
    those sections (data: only the task's INPUT_FIELDS, which leave every split as it is)."""

    train: axes_of(Train) | None = None
    data: dict[str, list[object]] | None = None  # checked against the task's data schema in validate()


class Setting(typing.NamedTuple):
    """What one variant trains: its model, its training settings and its data settings."""

    model: ModelSpec
    train: Train
    data: object  # the task's Data


SECTIONS = ("model", "train", "data")  # what a variant can set, in the order names show them


class RunSpec(Strict):
    """Everything that determines one run's result (the device only decides where it runs)."""

    experiment: RecordedExperimentName
    description: Text = ""  # the experiment's, for reports; not part of the variant key
    variant: RecordedVariantName
    data: Data
    model: ModelSpec
    train: Train
    seed: Seed
    device: Device

    def variant_key(self) -> str:
        """8 hex digits naming this variant's exact configuration (data, model, training; not its display name):
        the same key means the same experiment, so renaming a variant or adding others never retrains it."""
        # Fields left at their defaults are left out, so a later version that adds a field (with a default that
        # keeps today's behaviour) gives every existing run the same key: upgrading never retrains anything.
        payload = self.model_dump(include={"data", "model", "train"}, mode="json", exclude_defaults=True)
        payload["data"]["dataset"] = self.data.dataset
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:8]


class Experiment(Strict):
    name: ExperimentName
    description: Text = ""
    data: Data = TASKS[DEFAULT_TASK].Data()
    model: ModelSpec = ModelSpec()
    grid: Grid | None = None
    variants: list[Variant] = []
    train: Train = Train()
    seeds: Annotated[list[Seed], AfterValidator(distinct)] = Field(default=[0], min_length=1)
    device: Device = "auto"

    def resolved_variants(self) -> dict[str, Setting]:
        """Variant name -> setting: the grid's combinations, then the listed variants (`model` alone if neither),
        then the task's SCORED_BESIDE baselines the experiment does not list (series: naive, ...). Raise ValueError
        listing every problem (a name used twice, two variants the same, fields that clash)."""
        base = Setting(self.model, self.train, self.data)
        entries = []  # (where it came from, its name or None, {(section, field): value} it sets)
        if self.grid is not None:
            axes = {(section, field): values for section, field, values in grid_axes(self.grid)}
            entries += [("grid", None, dict(zip(axes, values))) for values in itertools.product(*axes.values())]
        for i, variant in enumerate(self.variants):
            fields = {
                ("model", field): getattr(variant, field)
                for field in variant.model_fields_set - {"name", "train", "data"}
            }
            fields |= {
                ("train", field): getattr(variant.train, field)
                for field in (variant.train.model_fields_set if variant.train else ())
            }
            fields |= {("data", field): value for field, value in (variant.data or {}).items()}
            entries.append((f"variants[{i}]", variant.name, fields))
        entries = entries or [("model", None, {})]
        listed = {fields.get(("model", "cell"), self.model.cell) for _, _, fields in entries}
        named = {name for _, name, _ in entries if name}
        entries += [
            ("baseline", None, {("model", "cell"): cell})
            for cell in getattr(task_of(self.data), "SCORED_BESIDE", ())
            if cell not in listed and cell not in named
        ]  # a task's benchmarks, beside every experiment of it
        settings = [(where, name, self._setting(fields)) for where, name, fields in entries]
        varying = {
            (section, field)
            for section in SECTIONS
            for field in type(getattr(base, section)).model_fields
            if len({_hashable(getattr(getattr(s, section), field)) for _, _, s in settings}) > 1
        }
        axes = {(section, field) for section, field, _ in grid_axes(self.grid)} if self.grid else set()
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

    def _setting(self, fields: dict[tuple[str, str], object]) -> Setting:
        """The experiment's sections with `fields` ({(section, field): value}) written over them."""
        parts = {
            section: {field: value for (where, field), value in fields.items() if where == section}
            for section in SECTIONS
        }
        model = resolved_model(ModelSpec(**{**self.model.model_dump(), **parts["model"]}), self.data)
        if reads_nothing(model.cell):  # reads no window and trains nothing: one setting only
            return Setting(model, self.train, self.data)
        train = Train(**{**self.train.model_dump(), **parts["train"]}) if parts["train"] else self.train
        data = (
            type(self.data).model_validate({**self.data.model_dump(), **parts["data"]}) if parts["data"] else self.data
        )
        return Setting(model, train, data)

    def run_specs(self) -> list[RunSpec]:
        """One spec per (seed, variant), seeds outermost so every variant of a seed shares one data split."""
        variants = self.resolved_variants()
        return [
            RunSpec(
                experiment=self.name,
                description=self.description,
                variant=name,
                data=setting.data,
                model=setting.model,
                train=setting.train,
                seed=seed,
                device=self.device,
            )
            for seed in self.seeds
            for name, setting in variants.items()
        ]


def changed_settings(experiment: Experiment, setting: Setting) -> list[str]:
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


def grid_axes(grid: Grid) -> list[tuple[str, str, list]]:
    """(section, field, values) for every axis a grid sets: model fields, then train fields (each in schema
    order), then data fields in the order written."""
    axes = [("model", field, getattr(grid, field)) for field in ModelSpec.model_fields]
    axes += [("train", field, getattr(grid.train, field)) for field in Train.model_fields] if grid.train else []
    axes += [("data", field, values) for field, values in (grid.data or {}).items()]
    return [(section, field, values) for section, field, values in axes if values is not None]


def _hashable(value):
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


# ---------------------------------------------------------------------------------------------- loading


MAX_FILE_BYTES = 1_000_000  # an experiment file is a few kilobytes; anything larger is not one


def load(path: Path, overrides: list[str] = ()) -> Experiment:
    """Read, override and validate an experiment file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)
        text = content.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            str(path), [f"cannot read: not UTF-8 text (byte {content[err.start]:#04x} at position {err.start})"]
        ) from None
    except OSError as err:
        raise ConfigError(str(path), [f"cannot read: {err.strerror or err}"]) from None
    if len(content) > MAX_FILE_BYTES:
        raise ConfigError(str(path), [f"is over {MAX_FILE_BYTES:,} bytes; an experiment file is a few kilobytes"])
    try:
        raw, written = yamlfile.read(text)
    except yamlfile.Problems as err:
        raise ConfigError(str(path), err.problems) from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["expected a mapping of fields (name, data, model, ...) at the top level"])
    problems = []
    for override in overrides:
        try:
            apply_override(raw, override, written)
        except ValueError as err:
            shown = override if len(override) <= 60 else override[:57] + "..."
            problems.append(f"--set {shown}: {err}")
    if problems:
        raise ConfigError(str(path), problems)
    return validate(raw, source=str(path), written=written)


def validate(raw: dict, source: str = "experiment", written: dict[tuple, Written] | None = None) -> Experiment:
    """The experiment `raw` describes; `written` (from yamlfile.read) lets errors quote values as written."""
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as err:
        problems = [describe(e, written) for e in err.errors()]
        problems += _data_read_as_closest(raw, err, written) + _raw_override_problems(raw, written)
        raise ConfigError(source, problems) from None
    problems = data_override_problems(experiment, written)
    if problems:
        raise ConfigError(source, problems)
    try:
        variants = experiment.resolved_variants()
        for data in distinct_data(variants):  # each data setting a variant sets is checked as the experiment's is
            found = task_problems(data, {name: s.model for name, s in variants.items() if s.data == data})
            problems += [problem for problem in found if problem not in problems]
    except ValueError as err:
        problems += str(err).splitlines()
        variants = {}
    for name, (_, train, data) in [("", (None, experiment.train, experiment.data)), *variants.items()]:
        size = next(field for field in ("validation_fraction", "validation_length") if hasattr(data, field))
        if getattr(data, size) == 0 and train.patience and train.stop_on == "validation":
            problems.append(
                ("train.patience" if not name else f"variant {name}: train.patience") + ": early "
                f"stopping needs a validation split; set it to 0 or give data.{size} > 0 "
                f"(got {train.patience})"
            )
            break
    if problems:
        raise ConfigError(source, problems)
    return experiment


DATASET_CUTOFF = 0.6  # 'cvs' and 'scv' mean csv


def _data_read_as_closest(raw: dict, err: ValidationError, written: dict[tuple, Written] | None) -> list[str]:
    """With a `dataset:` that names no task but is close to one (`name` for names), the other `data:` fields
    checked as that task's, so that every problem is reported at once rather than after the name is fixed."""
    if not any(error["type"] == "unknown_dataset" for error in err.errors()) or not isinstance(raw.get("data"), dict):
        return []
    dataset = raw["data"].get("dataset")
    guess = _closest(dataset, list(TASKS), DATASET_CUTOFF) if isinstance(dataset, str) else None
    if guess is None:
        return []
    try:
        TASKS[guess].Data.model_validate({**raw["data"], "dataset": guess})
    except ValidationError as found:
        return [
            describe({**error, "loc": ("data", guess, *error["loc"])}, written) + f" (checked as dataset {guess})"
            for error in found.errors()
        ]
    return []


def data_override_problems(experiment: Experiment, written: dict[tuple, Written] | None = None) -> list[str]:
    """What is wrong with the `data:` fields a grid or a variant sets: only the task's INPUT_FIELDS (which leave
    every split as it is, so every variant is scored on the same test examples), each value valid."""
    grid = experiment.grid.data if experiment.grid and experiment.grid.data else None
    return _override_problems(
        experiment.data, grid, [(i, v.data) for i, v in enumerate(experiment.variants) if v.data], written
    )


def _raw_override_problems(raw: dict, written: dict[tuple, Written] | None) -> list[str]:
    """The same checks on the raw file, when other fields are invalid, so that all problems are told at once;
    nothing if its `data:` section is invalid itself (then there is nothing to check against)."""
    from pydantic import TypeAdapter

    try:
        data = TypeAdapter(Data).validate_python(raw.get("data", {}))
    except ValidationError:
        return []
    grid = raw.get("grid") if isinstance(raw.get("grid"), dict) else {}
    grid_data = grid.get("data") if isinstance(grid.get("data"), dict) else None
    if grid_data is not None:  # an axis that is not a list is the schema's to report
        grid_data = {field: values for field, values in grid_data.items() if isinstance(values, list) and values}
    variants = raw.get("variants") if isinstance(raw.get("variants"), list) else []
    listed = [(i, v["data"]) for i, v in enumerate(variants) if isinstance(v, dict) and isinstance(v.get("data"), dict)]
    return _override_problems(data, grid_data, listed, written)


def _override_problems(
    data, grid_data: dict | None, variants: list[tuple[int, dict]], written: dict[tuple, Written] | None
) -> list[str]:
    task = task_of(data)
    overrides = [(("grid", "data"), grid_data, True)] if grid_data else []
    overrides += [(("variants", i, "data"), fields, False) for i, fields in variants]
    problems = []
    for where, fields, listed in overrides:
        for field, values in fields.items():
            path = yamlfile.dotted((*where, field))
            if field not in task.INPUT_FIELDS:
                problems.append(_not_an_input_field(path, field, task, data.dataset))
                continue
            if listed and (not isinstance(values, list) or not values):
                problems.append(
                    f"{path}: a grid axis is a list of values (got {_shown(values, (*where, field), written)})"
                )
                continue
            for index, value in enumerate(values) if listed else [(None, values)]:
                location = (*where, field) + ((index,) if listed else ())
                try:
                    type(data).model_validate({**data.model_dump(), field: value})
                except ValidationError as err:
                    problems += [describe({**error, "loc": location}, written) for error in err.errors()]
            if listed:
                try:
                    distinct([_hashable(value) for value in values])
                except ValueError as err:
                    problems.append(f"{path}: {err}")
    return problems


def _not_an_input_field(path: str, field: str, task, dataset: str) -> str:
    inputs = ", ".join(task.INPUT_FIELDS) or "none"
    if field in task.Data.model_fields:
        return (
            f"{path}: changes which examples each split holds, so the variants would not be scored on one test "
            f"set; give it in `data:` for the whole experiment (data fields a variant can set for {dataset}: "
            f"{inputs})"
        )
    guess = _closest(field, list(task.Data.model_fields))
    return (
        f"{path}: unknown field"
        + (f"; did you mean {guess}?" if guess else "")
        + f" (data fields a variant can set for {dataset}: {inputs})"
    )


def data_options(dataset: str, fields: dict):
    """A task's data settings given as command-line options (`rnnbench data names`), validated like a file's;
    the problems name the options. Fields given as None keep their defaults."""
    try:
        return TASKS[dataset].Data.model_validate({key: value for key, value in fields.items() if value is not None})
    except ValidationError as err:
        problems = []
        for error in err.errors():
            option = "--" + str(error["loc"][0]).replace("_", "-")
            problems.append(option + ":" + describe({**error, "loc": ("data", *error["loc"])}).split(":", 1)[1])
        raise ConfigError(f"data {dataset}", problems) from None


def apply_override(raw: dict, assignment: str, written: dict[tuple, Written] | None = None) -> None:
    """Set one dotted field in the raw mapping, the value read as YAML 1.2 like the file, and record its text
    in `written` (replacing what the file wrote there). Example: 'train.max_epochs=2', 'grid.cell=[gru, lstm]'."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError("expected KEY=VALUE, for example train.max_epochs=2")
    try:
        value, texts = yamlfile.read(text)
    except yamlfile.Problems as err:
        if not err.syntax:  # a duplicate key, a tag, an alias bomb: refused as in a file
            raise ValueError("; ".join(err.problems)) from None
        value, texts = text.strip(), {(): Written(text.strip(), None)}  # not YAML: the text as it is
    node = raw
    parts = [part.strip() for part in key.split(".")]
    if len(parts) > yamlfile.MAX_DEPTH:
        raise ValueError(f"nested more than {yamlfile.MAX_DEPTH} levels deep")
    target = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"'{'.'.join(parts[: i + 1])}' is not an index of a list of {len(node)}")
            part = int(part)
        elif not isinstance(node, dict):
            raise ValueError(f"'{'.'.join(parts[:i])}' is not a mapping")
        target.append(part)
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    if written is not None:
        target = tuple(target)
        for path in [path for path in written if path[: len(target)] == target or target[: len(path)] == path]:
            del written[path]  # what the file wrote there, or at a scalar the override turned into a mapping
        written.update({target + path: Written(where.text, None) for path, where in texts.items()})


def field_path(location: tuple) -> str:
    """Example: ('grid', 'cell', 1) -> 'grid.cell[1]'; ('data', 'reversal', 'samples') -> 'data.samples'."""
    return yamlfile.dotted(_schema_path(location))


def _schema_path(location: tuple) -> tuple:
    """A pydantic error location as the file's key path: without the task tag that picks the `data:` schema."""
    if location[:1] == ("data",) and location[1:2] and location[1] in TASKS:
        return location[:1] + location[2:]
    return location


def describe(error: dict, written: dict[tuple, Written] | None = None) -> str:
    """One pydantic error -> 'field.path: what is wrong (got value)', listing valid choices where there are some.
    The value is quoted as `written` says it was written (`on`, not what a reader made of it), else as it is; a
    value a `--set` override wrote says so ('; set by --set'), since the line names the experiment file."""
    text, origin = _describe(error, written), _origin(_schema_path(error["loc"]), written)
    head, guess, rest = text.partition("; did you mean ")  # the origin before the guess, which ends the line
    return head + origin + guess + rest


def _origin(path: tuple, written: dict[tuple, Written] | None) -> str:
    """'; set by --set' for a value a command-line override wrote (it has no line in the file), else ''."""
    where = (written or {}).get(path)
    return "; set by --set" if where is not None and where.line is None else ""


def _describe(error: dict, written: dict[tuple, Written] | None) -> str:
    path = field_path(error["loc"])
    if error["type"] == "extra_forbidden":
        section, field = error["loc"][0], str(error["loc"][-1])
        data_fields = {name for task in TASKS.values() for name in task.INPUT_FIELDS}
        if section in ("grid", "variants") and len(error["loc"]) <= 3 and field in {*Train.model_fields, *data_fields}:
            part = "train" if field in Train.model_fields else "data"
            example = (
                f"{{{part}: {{{field}: [...]}}}}" if section == "grid" else f"[{{cell: gru, {part}: {{{field}: ...}}}}]"
            )
            return f"{path}: a {part} field; write it under {part}: ({section}: {example})"
        valid = _fields_of(error["loc"][:-1])
        guess = _closest(str(error["loc"][-1]), valid)
        return (
            f"{path}: unknown field"
            + (f"; did you mean {guess}?" if guess else "")
            + (f"{'' if guess else ';'} valid fields: {', '.join(valid)}" if valid else "")
        )
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    if error["type"] == "unknown_dataset":
        got = error["input"].get("dataset") if isinstance(error["input"], dict) else error["input"]
        where = _schema_path(error["loc"]) + ("dataset",)
        guess = _closest(got, list(TASKS), DATASET_CUTOFF) if isinstance(got, str) else None
        return f"{path}.dataset: is not one of {', '.join(TASKS)} (got {_shown(got, where, written)})" + (
            f"; did you mean {guess}?" if guess else ""
        )
    message = re.sub(r" or instance of \w+", "", error["msg"].removeprefix("Value error, "))
    message = message[0].lower() + message[1:]
    guess = None
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"is not one of {expected.replace(' or ', ', ')}".replace("'", "")
        choices = [choice.strip() for choice in expected.replace(" or ", ", ").replace("'", "").split(",")]
        guess = _closest(str(error["input"]), choices) if isinstance(error["input"], str) else None
    return f"{path}: {message} (got {_shown(error['input'], _schema_path(error['loc']), written)})" + (
        f"; did you mean {guess}?" if guess else ""
    )


def _closest(word: str, choices: list[str], cutoff: float = 0.75) -> str | None:
    """The valid name a typo most likely meant. Example: ('hiden_size', [..., 'hidden_size', ...]) -> 'hidden_size';
    ('lstmm', ['rnn', 'gru', 'lstm']) -> 'lstm'; nothing close -> None. Short names (a dataset: 'cvs' for csv)
    take a lower `cutoff`: two letters swapped in three are a third of the word."""
    found = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff) or difflib.get_close_matches(
        word.lower(), [choice.lower() for choice in choices], n=1, cutoff=cutoff
    )
    if not found:
        return None
    return next((choice for choice in choices if choice.lower() == found[0].lower()), found[0])


def _shown(value, path: tuple, written: dict[tuple, Written] | None, limit: int = 60) -> str:
    """A refused value for an error line: text quoted, anything else as written, cut to `limit` characters.

    Examples: 'on' -> "'on'"; True written as `true` -> 'true'; 100000.0 written as `1e5` -> '1e5'.
    """
    where = (written or {}).get(path)
    if where is None or isinstance(value, (dict, list)):
        shown = repr(value)
    else:
        shown = repr(where.text) if isinstance(value, str) else where.text or "nothing"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _fields_of(location: tuple) -> list[str]:
    """The field names of the schema object at `location` (walking through lists and optionals)."""
    annotation = Experiment
    if location[:1] == ("data",) and location[1:2] and location[1] in TASKS:  # a tagged union: that member
        annotation, location = TASKS[location[1]].Data, location[2:]
    for part in location:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            continue
        if (
            not (isinstance(annotation, type) and issubclass(annotation, BaseModel))
            or part not in annotation.model_fields
        ):
            return []
        annotation = annotation.model_fields[part].annotation
    annotation = _unwrap(annotation)
    return list(annotation.model_fields) if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []


def _unwrap(annotation):
    """list[X] -> X, X | None -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation
