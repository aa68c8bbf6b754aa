"""The experiment schema, and the only reader of experiment YAML.

load(path, overrides) reads the YAML, applies `--set key=value` overrides to the raw mapping, validates it
(reporting every problem at once, each naming its field), and returns a frozen Experiment whose
`run_specs()` lists one RunSpec per (variant, seed): everything that determines one run's result.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import types
import typing
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, Discriminator, Tag, ConfigDict, Field, ValidationError, field_validator

from rnnbench.data.corpus import LANGUAGES
from rnnbench.errors import ConfigError

Cell = Literal["rnn", "gru", "lstm", "linear_rnn", "linear", "majority"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Language = Literal[LANGUAGES]
Layers = Annotated[int, Field(ge=1, le=16)]
Size = Annotated[int, Field(ge=1, le=65536)]
Dropout = Annotated[float, Field(ge=0.0, lt=1.0)]
Fraction = Annotated[float, Field(gt=0.0, lt=0.5)]
Seed = Annotated[int, Field(ge=0, lt=2**32)]  # what numpy and torch generators both accept
Architecture = Literal["classifier", "tagger", "encoder_decoder", "repeat_decoder"]
Attention = Literal["none", "dot", "additive", "location"]


def task_problems(data, variants: dict) -> list[str]:
    """What the dataset rules out: the model kinds each task has, and a length range that is empty."""
    problems = []
    if data.dataset == "reversal":
        if data.min_length > data.max_length:
            problems.append(f"data.max_length: below min_length {data.min_length} (got {data.max_length})")
        if data.long_samples and data.long_min_length > data.long_max_length:
            problems.append(f"data.long_max_length: below long_min_length {data.long_min_length} (got {data.long_max_length})")
    for name, model in variants.items():
        kind = architecture(model, data)
        if data.dataset == "names" and kind != "classifier":
            problems.append(f"variant {name}: architecture {kind} is for the reversal task; names needs classifier")
        if data.dataset == "reversal":
            unused = [field for field in NAMES_ONLY if getattr(model, field) != ModelSpec.model_fields[field].default]
            if kind == "classifier" or model.cell in BASELINE_FIELDS:
                problems.append(f"variant {name}: the reversal task needs architecture tagger or encoder_decoder "
                                f"with a recurrent cell (got {kind}, cell {model.cell})")
            elif unused:
                problems.append(f"variant {name}: {', '.join(unused)}: only for the names task")
        for field in ENCODER_DECODER_ONLY:
            if getattr(model, field) != ModelSpec.model_fields[field].default and kind != "encoder_decoder":
                problems.append(f"variant {name}: {field} needs architecture encoder_decoder (got {kind})")
        if model.readout != "state_and_context" and model.attention == "none":
            problems.append(f"variant {name}: readout {model.readout} needs attention (got attention none)")
        if model.regression and kind not in ("tagger", "repeat_decoder"):
            problems.append(f"variant {name}: regression needs architecture tagger or repeat_decoder (got {kind}): "
                            "a decoder that stops at an end token needs tokens")
    return problems


NAMES_ONLY = ("head", "head_hidden", "max_length", "softmax_output", "carry_state", "param_budget")
ENCODER_DECODER_ONLY = ("attention", "sentinels")


def architecture(model: ModelSpec, data) -> str:
    """The model's architecture, its task's default when left out: classifier for names, encoder_decoder else."""
    return model.architecture or ("classifier" if data.dataset == "names" else "encoder_decoder")


def distinct(values: list) -> list:
    """Refuse a list that repeats a value, naming it. Example: [1, 1] -> 'lists 1 more than once'."""
    repeated = [value for i, value in enumerate(values) if value in values[:i]]
    if repeated:
        raise ValueError(f"lists {repeated[0]} more than once")
    return values


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NamesData(Strict):
    """Surname → language. Names listed under several chosen languages are dropped (or kept, see names.py)."""

    dataset: Literal["names"] = "names"
    languages: Annotated[list[Language], AfterValidator(distinct)] = Field(default=list(LANGUAGES), min_length=2)
    multi_language: Literal["drop", "keep"] = "drop"
    validation_fraction: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.1  # 0: no validation split, no early stopping
    test_fraction: Fraction = 0.1
    strip_accents: bool = False
    lowercase: bool = False
    dedupe: bool = True  # false keeps repeated lines (by_name keeps a name's copies together in one split)
    split: Literal["by_name", "leaky"] = "by_name"  # leaky: a random split of the lines, repeats included, that
    # puts copies of test names in training; only for measuring how much that inflates accuracy

    @field_validator("languages", mode="before")
    @classmethod
    def _all_means_every_language(cls, value):
        return list(LANGUAGES) if value == "all" or value == ["all"] else value

    @field_validator("split", mode="before")
    @classmethod
    def _random_is_leaky(cls, value):
        return "leaky" if value == "random" else value  # its name before 0.2: runs recorded with it still load



class ReversalData(Strict):
    """Generated digit sequences to output reversed (see data/reversal.py); `long_*` is a test set of lengths
    never seen in training."""

    dataset: Literal["reversal"]
    symbols: Annotated[int, Field(ge=2, le=1000)] = 9  # ids 1..symbols; 0 pads
    samples: Annotated[int, Field(ge=10, le=10_000_000)] = 1000
    min_length: Size = 1
    max_length: Size = 5
    validation_fraction: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.1  # 0: no validation split, no early stopping
    test_fraction: Fraction = 0.2
    long_samples: Annotated[int, Field(ge=0, le=10_000_000)] = 1000
    long_min_length: Size = 6
    long_max_length: Size = 10


DATASETS = {"names": NamesData, "reversal": ReversalData}
Data = Annotated[
    Annotated[NamesData, Tag("names")] | Annotated[ReversalData, Tag("reversal")],
    Discriminator(lambda value: value.get("dataset", "names") if isinstance(value, dict) else getattr(value, "dataset", None),
                  custom_error_type="unknown_dataset", custom_error_message="unknown dataset"),
]  # `dataset` picks the schema; leaving it out means names


class ModelSpec(Strict):
    """One model: a names classifier with a recurrent cell, a baseline (see models.py), or a reversal model (see
    sequence_models.py). embedding_dim null = one-hot input."""

    cell: Cell = "gru"
    impl: Literal["torch", "scratch"] = "torch"  # scratch: the cells of cells.py, written from the equations
    bidirectional: bool = False
    num_layers: Layers = 1
    hidden_size: Size = 64
    param_budget: Annotated[int, Field(ge=1)] | None = None  # instead of hidden_size: the size whose total is closest
    embedding_dim: Size | None = 32
    dropout: Dropout = 0.0
    bias: Literal["double", "single"] = "double"  # single: one bias vector per gate, as Keras (scratch only)
    activation: Literal["tanh", "relu"] = "tanh"  # rnn: g; gru/lstm: candidate and lstm output (relu: scratch only)
    init: Literal["torch", "keras"] = "torch"  # keras: glorot / orthogonal weights, zero biases, forget-gate bias 1
    architecture: Architecture | None = None  # None: the task's default
    attention: Attention = "none"  # encoder_decoder only
    sentinels: bool = False  # encoder_decoder: the encoder reads BOS x_1 … x_L EOS (location attention starts there)
    readout: Literal["state_and_context", "context"] = "state_and_context"  # what the output layer reads (attention)
    regression: bool = False  # the tutorial's framing: one float per digit in and out, fixed length, MSE
    head: Literal["last", "mean", "max", "flatten"] = "last"  # which recurrent outputs the classifier reads
    head_hidden: Size | None = None  # a ReLU layer of this width inside the head (the tutorial's 256)
    max_length: Size | None = None  # names are padded or cut to this length: head flatten and cell linear need it
    softmax_output: bool = False  # tutorial quirk: the model ends in softmax, and the loss applies it again
    carry_state: bool = False  # tutorial quirk: a batch starts from the state the previous batch ended in


BASELINE_FIELDS = {  # the fields each baseline reads; canonical() resets the others to their defaults
    "majority": ("cell",),
    "linear": ("cell", "num_layers", "hidden_size", "param_budget", "max_length", "dropout", "softmax_output", "init"),
}


def canonical(model: ModelSpec, data=None) -> ModelSpec:
    """A baseline with the fields it does not read reset, so that they neither rename nor rehash it; a reversal
    model with its architecture made explicit.

    Example: majority with bidirectional true and hidden_size 256 -> plain majority, the same run as before;
    a regression model keeps the default embedding_dim, which it does not read.
    """
    if data is not None and data.dataset == "reversal" and model.architecture is None:
        model = model.model_copy(update={"architecture": "encoder_decoder"})
    if model.regression:  # digits go in as values, not through an embedding
        model = model.model_copy(update={"embedding_dim": ModelSpec.model_fields["embedding_dim"].default})
    if model.cell not in BASELINE_FIELDS:
        return model
    return ModelSpec(**{field: getattr(model, field) for field in BASELINE_FIELDS[model.cell]})


def model_problems(model: ModelSpec) -> list[str]:
    """What is wrong with a combination of model fields that are each valid alone."""
    problems = []
    needs_scratch = [what for what, used in (
        (f"cell {model.cell}", model.cell == "linear_rnn"),
        ("bias: single", model.bias == "single"),
        (f"activation: relu for {model.cell}", model.activation == "relu" and model.cell in ("gru", "lstm")),
    ) if used]  # fmt: skip
    if model.impl == "torch" and needs_scratch:
        problems.append(f"{', '.join(needs_scratch)}: only impl: scratch has this (torch's fused kernels do not)")
    if model.cell == "linear" and model.num_layers == 1 and model.param_budget is not None:
        problems.append("cell linear with num_layers 1 has no hidden size for param_budget to choose")
    if (model.head == "flatten" or model.cell == "linear") and model.max_length is None:
        problems.append(f"{'head flatten' if model.head == 'flatten' else 'cell linear'} needs max_length "
                        "(the fixed length names are padded or cut to)")  # fmt: skip
    return problems


class Variant(ModelSpec):
    """An entry of `variants`: the fields it sets override `model`; `name` defaults to one made from them."""

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+=-]*$")


class Grid(Strict):
    """Lists of values; every combination over `model` becomes a variant."""

    cell: list[Cell] | None = None
    bidirectional: list[bool] | None = None
    num_layers: list[Layers] | None = None
    hidden_size: list[Size] | None = None
    embedding_dim: list[Size | None] | None = None
    dropout: list[Dropout] | None = None
    impl: list[Literal["torch", "scratch"]] | None = None
    param_budget: list[Annotated[int, Field(ge=1)]] | None = None
    head: list[Literal["last", "mean", "max", "flatten"]] | None = None
    architecture: list[Architecture] | None = None
    attention: list[Attention] | None = None
    sentinels: list[bool] | None = None
    readout: list[Literal["state_and_context", "context"]] | None = None
    regression: list[bool] | None = None
    init: list[Literal["torch", "keras"]] | None = None

    @field_validator("*")
    @classmethod
    def _non_empty_and_distinct(cls, values):
        if values == []:
            raise ValueError("an empty list leaves no variants; remove the field or give at least one value")
        return values if values is None else distinct(values)


class Train(Strict):
    """Adam with early stopping on validation accuracy; the best epoch's weights are restored before testing."""

    learning_rate: float = Field(default=3e-3, gt=0)
    batch_size: Size = 64
    max_epochs: Size = 30
    patience: int = Field(default=5, ge=0)  # epochs without improvement before stopping; 0 never stops early
    grad_clip: float | None = Field(default=1.0, gt=0)  # max gradient norm; null turns clipping off
    weight_decay: float = Field(default=0.0, ge=0)
    eval_drop_last: bool = False  # tutorial quirk: score in batches of batch_size, ignoring the last partial batch
    restore_best: bool = True  # false keeps the last epoch's weights instead of the best validation epoch's


class RunSpec(Strict):
    """Everything that determines one run's result (the device only decides where it runs)."""

    experiment: str
    description: str = ""  # the experiment's, for reports; not part of the variant key
    variant: str
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
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    data: Data = NamesData()
    model: ModelSpec = ModelSpec()
    grid: Grid | None = None
    variants: list[Variant] = []
    train: Train = Train()
    seeds: Annotated[list[Seed], AfterValidator(distinct)] = Field(default=[0], min_length=1)
    device: Device = "auto"

    def resolved_variants(self) -> dict[str, ModelSpec]:
        """Variant name -> model: the grid's combinations, then the listed variants; `model` alone if neither."""
        defaults = self.model.model_dump()
        entries = []  # (where it came from, the fields it sets)
        if self.grid is not None:
            axes = {k: v for k, v in self.grid.model_dump().items() if v is not None}
            entries += [("grid", dict(zip(axes, values))) for values in itertools.product(*axes.values())]
        entries += [(f"variants[{i}]", {k: getattr(v, k) for k in v.model_fields_set}) for i, v in enumerate(self.variants)]
        entries = entries or [("model", {})]
        models = [(where, fields.pop("name", None), canonical(ModelSpec(**{**defaults, **fields}), self.data))
                  for where, fields in entries]  # fmt: skip
        varying = {k for k in defaults if len({getattr(m, k) for _, _, m in models}) > 1}
        axes = set(self.grid.model_fields_set if self.grid else ())
        resolved, problems = {}, []
        for where, name, model in models:
            # a name shows a grid axis always, and any other field that varies where it leaves the defaults
            shown = {k for k in varying if k in axes or getattr(model, k) != getattr(self.model, k)}
            name = name or variant_name(model, shown)
            if where == "grid" and resolved.get(name) == model:
                continue  # a baseline crossed with axes it does not read, e.g. majority × hidden_size: listed once
            problems += [f"{where} ({name}): {problem}" for problem in model_problems(model)]
            if name in resolved:
                problems.append(f"{where}: variant name '{name}' is used twice; give the variant a distinct name")
            twin = next((other for other, m in resolved.items() if m == model), None)
            if twin is not None:
                problems.append(f"{where}: variant '{name}' has the same settings as '{twin}'; drop one of them")
            resolved[name] = model
        if problems:
            raise ValueError("\n".join(problems))
        return resolved

    def run_specs(self) -> list[RunSpec]:
        """One spec per (seed, variant), seeds outermost so every variant of a seed shares one data split."""
        variants = self.resolved_variants()
        return [
            RunSpec(experiment=self.name, description=self.description, variant=name, data=self.data, model=model,
                    train=self.train, seed=seed, device=self.device)
            for seed in self.seeds for name, model in variants.items()
        ]  # fmt: skip


def variant_name(model: ModelSpec, shown: set[str]) -> str:
    """Example: gru, bidirectional, 1 layer of 64 -> 'gru-bi-1x64', plus a suffix for each field in `shown`.

    More examples: 'gru-uni-1x64-scratch', 'lstm-uni-1-budget40000', 'linear-3x256', 'majority'.
    """
    if model.cell == "majority":
        return "majority"
    size = f"-budget{model.param_budget}" if model.param_budget else f"x{model.hidden_size}"
    if model.cell == "linear":
        return f"linear-{model.num_layers}{size}"
    name = f"{model.cell}-{'bi' if model.bidirectional else 'uni'}-{model.num_layers}{size}"
    for field, suffix in NAME_SUFFIXES.items():
        if field in shown:
            name += "-" + suffix(getattr(model, field))
    return name


NAME_SUFFIXES = {  # how a field shows in automatic variant names when it differs between variants
    "impl": str,
    "embedding_dim": lambda dim: f"emb{dim}" if dim else "onehot",
    "dropout": lambda p: f"drop{p:g}",
    "bias": lambda bias: f"{bias}-bias",
    "activation": str,
    "head": lambda head: f"head-{head}",
    "head_hidden": lambda width: f"headx{width}" if width else "headx0",
    "max_length": lambda length: f"len{length}",
    "softmax_output": lambda on: "softmax-out" if on else "logits-out",
    "carry_state": lambda on: "carry" if on else "fresh",
    "architecture": lambda kind: {"encoder_decoder": "encdec", "repeat_decoder": "repeat", None: "classifier"}.get(kind, kind),
    "attention": lambda kind: f"attn-{kind}",
    "sentinels": lambda on: "sentinels" if on else "no-sentinels",
    "readout": lambda part: f"readout-{part.replace('_', '-')}",
    "regression": lambda on: "regression" if on else "tokens",
    "init": lambda scheme: f"init-{scheme}",
}


# ---------------------------------------------------------------------------------------------- loading


def load(path: Path, overrides: list[str] = ()) -> Experiment:
    """Read, override and validate an experiment file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), [f"cannot read: {err}"]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(str(path), [f"{where}not valid YAML: {problem}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["expected a mapping of fields (name, data, model, ...) at the top level"])
    problems = []
    for override in overrides:
        try:
            apply_override(raw, override)
        except ValueError as err:
            problems.append(f"--set {override}: {err}")
    if problems:
        raise ConfigError(str(path), problems)
    return validate(raw, source=str(path))


def validate(raw: dict, source: str = "experiment") -> Experiment:
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(source, [describe(e) for e in err.errors()]) from None
    problems = []
    try:
        problems += task_problems(experiment.data, experiment.resolved_variants())
    except ValueError as err:
        problems += str(err).splitlines()
    if experiment.data.validation_fraction == 0 and experiment.train.patience:
        problems.append("train.patience: early stopping needs a validation split; set it to 0 or give "
                        f"data.validation_fraction > 0 (got {experiment.train.patience})")
    if problems:
        raise ConfigError(source, problems)
    return experiment


def names_data(fields: dict) -> NamesData:
    """Names data settings given as command-line options (`rnnbench data names`), validated like a file's; the
    problems name the options. Fields given as None keep their defaults."""
    try:
        return NamesData.model_validate({key: value for key, value in fields.items() if value is not None})
    except ValidationError as err:
        problems = []
        for error in err.errors():
            option = "--" + str(error["loc"][0]).replace("_", "-")
            problems.append(option + ":" + describe({**error, "loc": ("data", *error["loc"])}).split(":", 1)[1])
        raise ConfigError("data names", problems) from None


def apply_override(raw: dict, assignment: str) -> None:
    """Set one dotted field in the raw mapping. Example: 'train.max_epochs=2', 'grid.cell=[gru, lstm]'."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError("expected KEY=VALUE, for example train.max_epochs=2")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    node = raw
    parts = [part.strip() for part in key.split(".")]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"'{'.'.join(parts[:i + 1])}' is not an index of a list of {len(node)}")
            part = int(part)
        elif not isinstance(node, dict):
            raise ValueError(f"'{'.'.join(parts[:i])}' is not a mapping")
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]


def field_path(location: tuple) -> str:
    """Example: ('grid', 'cell', 1) -> 'grid.cell[1]'; ('data', 'reversal', 'samples') -> 'data.samples'."""
    if location[:1] == ("data",) and location[1:2] and location[1] in DATASETS:
        location = location[:1] + location[2:]
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def describe(error: dict) -> str:
    """One pydantic error -> 'field.path: what is wrong (got value)', listing valid choices where there are some."""
    path = field_path(error["loc"])
    if error["type"] == "extra_forbidden":
        valid = _fields_of(error["loc"][:-1])
        return f"{path}: unknown field" + (f"; valid fields: {', '.join(valid)}" if valid else "")
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    if error["type"] == "unknown_dataset":
        got = error["input"].get("dataset") if isinstance(error["input"], dict) else error["input"]
        return f"{path}.dataset: is not one of {', '.join(DATASETS)} (got {got!r})"
    message = error["msg"].removeprefix("Value error, ")
    message = message[0].lower() + message[1:]
    if error["type"] == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"is not one of {expected.replace(' or ', ', ')}".replace("'", "")
    return f"{path}: {message} (got {error['input']!r})"


def _fields_of(location: tuple) -> list[str]:
    """The field names of the schema object at `location` (walking through lists and optionals)."""
    annotation = Experiment
    if location[:1] == ("data",) and location[1:2] and location[1] in DATASETS:  # a tagged union: that member
        annotation, location = DATASETS[location[1]], location[2:]
    for part in location:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or part not in annotation.model_fields:
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
