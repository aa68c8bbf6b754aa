"""The fields every task shares: what a model is (ModelSpec) and how it trains (Train), with their checks.

Task modules (rnnbench/tasks/) build their `data:` schemas from the types here; the config package assembles the whole
experiment schema from both. Nothing here knows a task by name.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# ------------------------------------------------------------------------------------------ value kinds
# pydantic, left to itself, turns true into 1.0 for a number field and 'yes' into true for a boolean one; read
# with YAML 1.1 rules, `weight_decay: on` trained with weight decay 1.0. Each kind below takes only its own
# values (the experiment file is read with YAML 1.2 rules, see yamlfile.py, so `on` arrives as text) and says
# what it expected; every schema field uses one of them.
YES_NO = {"yes", "no", "on", "off", "y", "n"}


def number(value):
    """An int or float, kept as it is. Examples: 3 -> 3, 0.001 -> 0.001; True, 'yes' and '3' are refused."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return value
    raise ValueError("expected a number, not " + _kind(value))


def whole_number(value):
    """An integer however it is written. Examples: 10 -> 10, 1e1 (10.0) -> 10, 1e6 -> 1000000; 2.5, True and
    '10' are refused."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if math.isfinite(value) and float(value).is_integer():
            return int(value)
        raise ValueError("expected a whole number")
    raise ValueError("expected a whole number, not " + _kind(value))


def flag(value):
    """True or False only. Examples: True -> True; 'yes', 'on', 1 and None are refused."""
    if isinstance(value, bool):
        return value
    said = isinstance(value, str) and value.lower() in YES_NO
    raise ValueError("write true or false" + ("; yes, no, on and off are text" if said else ""))


def text(value):
    """A string. Examples: 'off' -> 'off'; 1e5 (100000.0), True and None are refused."""
    if isinstance(value, str):
        return value
    raise ValueError(f"expected text, not {_kind(value)}; write it in quotes to mean the text")


def _kind(value) -> str:
    """Example: True -> 'true or false', 'x' -> 'text', None -> 'null', [1] -> 'a list'."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, numbers.Number):
        return "a number"
    kinds = {str: "text", type(None): "null", list: "a list", tuple: "a list", dict: "a mapping"}
    return kinds.get(type(value), type(value).__name__)


Number = Annotated[float, BeforeValidator(number)]
Integer = Annotated[int, BeforeValidator(whole_number)]
Flag = Annotated[bool, BeforeValidator(flag)]
Text = Annotated[str, BeforeValidator(text)]

# ------------------------------------------------------------------------------------------ names of directories
MAX_NAME_LENGTH = 100  # with the longest plot suffix, <experiment>-confusion-<variant>.png stays under 255 bytes


def file_name(name: str, punctuation: str = "_.-", longest: int = MAX_NAME_LENGTH) -> str:
    """Refuse a name that cannot be one file or directory name on any system, since it becomes one.

    Examples: 'de-it_2' -> 'de-it_2'; 'a/b', '..', '-x', '' and a name of 101 characters are refused.
    """
    if len(name) > longest:
        raise ValueError(f"is {len(name):,} characters long; it names a directory, so at most {longest}")
    if not re.fullmatch(rf"[A-Za-z0-9][A-Za-z0-9{re.escape(punctuation)}]*", name):
        raise ValueError(
            f"names a directory: letters, digits and {' '.join(punctuation)} only, starting with a letter or digit"
        )
    return name


ExperimentName = Annotated[Text, AfterValidator(file_name)]  # results/<experiment>/
VariantName = Annotated[Text, AfterValidator(lambda name: file_name(name, "_.+=-"))]  # <variant>-<key>/
# the same names as a run's config.yaml records them: `run --repeat` writes them as directories again; the runs
# named before names had a length limit (a variant's automatic name could be longer) still load
RecordedExperimentName = Annotated[Text, AfterValidator(lambda name: file_name(name, longest=200))]
RecordedVariantName = Annotated[Text, AfterValidator(lambda name: file_name(name, "_.+=-", longest=200))]

# ------------------------------------------------------------------------------------------ shared fields
Cell = Literal["rnn", "gru", "lstm", "linear_rnn", "linear", "majority", "naive", "seasonal_naive", "drift", "mean"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Layers = Annotated[Integer, Field(ge=1, le=16)]
Size = Annotated[Integer, Field(ge=1, le=65536)]
Dropout = Annotated[Number, Field(ge=0.0, lt=1.0)]
Fraction = Annotated[Number, Field(gt=0.0, lt=0.5)]
ValidationFraction = Annotated[Number, Field(ge=0.0, lt=0.5)]  # 0: no validation split, no early stopping
Seed = Annotated[Integer, Field(ge=0, lt=2**32)]  # what numpy and torch generators both accept
Architecture = Literal["classifier", "tagger", "encoder_decoder", "repeat_decoder", "forecaster"]
Attention = Literal["none", "dot", "additive", "location"]


def distinct(values: list) -> list:
    """Refuse a list that repeats a value, naming it. Example: [1, 1] -> 'lists 1 more than once'."""
    repeated = [value for i, value in enumerate(values) if value in values[:i]]
    if repeated:
        raise ValueError(f"lists {repeated[0]} more than once")
    return values


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ModelSpec(Strict):
    """One model: a recurrent classifier (or regressor), a baseline, or a sequence model for the reversal task
    (see models.py and sequence_models.py). embedding_dim null = one-hot input."""

    cell: Cell = "gru"
    impl: Literal["torch", "scratch"] = "torch"  # scratch: the cells of cells.py, written from the equations
    bidirectional: Flag = False
    num_layers: Layers = 1
    hidden_size: Size = 64
    param_budget: Annotated[Integer, Field(ge=1)] | None = (
        None  # instead of hidden_size: the size whose total is closest
    )
    embedding_dim: Size | None = 32
    dropout: Dropout = 0.0
    bias: Literal["double", "single"] = "double"  # single: one bias vector per gate, as Keras (scratch only)
    activation: Literal["tanh", "relu"] = "tanh"  # rnn: g; gru/lstm: candidate and lstm output (relu: scratch only)
    # how the weights start (initialisation.py): keras: glorot / orthogonal weights, zero biases, forget-gate bias 1;
    # orthogonal: each gate's recurrent block orthogonal; identity: rnn only, W_hh = I and zero biases (IRNN)
    init: Literal["torch", "keras", "orthogonal", "identity"] = "torch"
    forget_bias: Annotated[Number, Field(ge=-20, le=20)] | None = None  # lstm: the forget gate's starting bias
    chrono: Annotated[Integer, Field(ge=3, le=10**6)] | None = None  # lstm: chrono gate biases for dependencies
    # up to this many steps (Tallec & Ollivier 2018)
    architecture: Architecture | None = None  # None: the task's default
    attention: Attention = "none"  # encoder_decoder only
    sentinels: Flag = False  # encoder_decoder: the encoder reads BOS x_1 … x_L EOS (location attention starts there)
    readout: Literal["state_and_context", "context"] = "state_and_context"  # what the output layer reads (attention)
    regression: Flag = False  # the tutorial's framing: one float per digit in and out, fixed length, MSE
    head: Literal["last", "mean", "max", "flatten"] = "last"  # which recurrent outputs the classifier reads
    head_hidden: Size | None = None  # a ReLU layer of this width inside the head (the tutorial's 256)
    max_length: Size | None = None  # texts are padded or cut to this length: head flatten and cell linear need it
    softmax_output: Flag = False  # tutorial quirk: the model ends in softmax, and the loss applies it again
    carry_state: Flag = False  # tutorial quirk: a batch starts from the state the previous batch ended in
    forecast: Literal["direct", "recursive"] = "direct"  # series: all horizon steps from the last state, or one
    # step at a time, each forecast fed back as the next input


BASELINE_FIELDS = {  # the fields each baseline reads; canonical() resets the others to their defaults
    "majority": ("cell",),  # names and csv: the training split's most frequent class
    **{kind: ("cell",) for kind in ("naive", "seasonal_naive", "drift", "mean")},  # series: benchmark forecasts
    "linear": ("cell", "num_layers", "hidden_size", "param_budget", "max_length", "dropout", "softmax_output", "init"),
}
CLASSIFIER_ONLY = ("head", "head_hidden", "max_length", "softmax_output", "carry_state", "param_budget")
ENCODER_DECODER_ONLY = ("attention", "sentinels")


def reads_nothing(cell: str) -> bool:
    """A baseline that reads nothing but its data: majority, naive, seasonal_naive, drift, mean (not linear)."""
    return BASELINE_FIELDS.get(cell) == ("cell",)


def canonical(model: ModelSpec) -> ModelSpec:
    """A baseline with the fields it does not read reset, so that they neither rename nor rehash it.

    Example: majority with bidirectional true and hidden_size 256 -> plain majority, the same run as before.
    """
    if model.cell not in BASELINE_FIELDS:
        return model
    return ModelSpec(**{field: getattr(model, field) for field in BASELINE_FIELDS[model.cell]})


def is_default(model: ModelSpec, field: str) -> bool:
    return getattr(model, field) == ModelSpec.model_fields[field].default


def model_problems(model: ModelSpec) -> list[str]:
    """What is wrong with a combination of model fields that are each valid alone."""
    problems = []
    needs_scratch = [
        what
        for what, used in (
            (f"cell {model.cell}", model.cell == "linear_rnn"),
            ("bias: single", model.bias == "single"),
            (f"activation: relu for {model.cell}", model.activation == "relu" and model.cell in ("gru", "lstm")),
        )
        if used
    ]
    if model.impl == "torch" and needs_scratch:
        problems.append(f"{', '.join(needs_scratch)}: only impl: scratch has this (torch's fused kernels do not)")
    for field in ("forget_bias", "chrono"):
        if getattr(model, field) is not None and model.cell != "lstm":
            problems.append(f"{field} is for the lstm cell's gates (cell {model.cell} has no forget gate)")
    if model.forget_bias is not None and model.chrono is not None:
        problems.append("forget_bias and chrono both set the forget gate's bias: choose one")
    if model.init == "identity" and model.cell not in ("rnn", "linear_rnn"):
        problems.append(f"init identity is for the rnn cell (IRNN; cell {model.cell} has gates)")
    if model.init in ("orthogonal", "identity") and model.cell == "linear":
        problems.append(f"init {model.init} sets recurrent weights: cell linear has none")
    if model.cell == "linear" and model.num_layers == 1 and model.param_budget is not None:
        problems.append("cell linear with num_layers 1 has no hidden size for param_budget to choose")
    if (model.head == "flatten" or model.cell == "linear") and model.max_length is None:
        problems.append(
            f"{'head flatten' if model.head == 'flatten' else 'cell linear'} needs max_length "
            "(the fixed length texts are padded or cut to)"
        )
    return problems


def architecture_problems(name: str, model: ModelSpec, kind: str) -> list[str]:
    """Fields that belong to another architecture than the variant's `kind`, whatever the task."""
    problems = [
        f"variant {name}: {field} needs architecture encoder_decoder (got {kind})"
        for field in ENCODER_DECODER_ONLY
        if not is_default(model, field) and kind != "encoder_decoder"
    ]
    if not is_default(model, "forecast") and kind != "forecaster":
        problems.append(f"variant {name}: forecast {model.forecast} is for a series (dataset: series)")
    if model.readout != "state_and_context" and model.attention == "none":
        problems.append(f"variant {name}: readout {model.readout} needs attention (got attention none)")
    if model.regression and kind not in ("tagger", "repeat_decoder"):
        problems.append(
            f"variant {name}: regression needs architecture tagger or repeat_decoder (got {kind}): "
            "a decoder that stops at an end token needs tokens"
        )
    return problems


class Train(Strict):
    """Adam with early stopping on the task's validation score; the best epoch's weights are restored before
    testing."""

    learning_rate: Number = Field(default=3e-3, gt=0)
    batch_size: Size = 64
    max_epochs: Size = 30
    patience: Integer = Field(default=5, ge=0)  # epochs without improvement before stopping; 0 never stops early
    grad_clip: Number | None = Field(default=1.0, gt=0)  # max gradient norm; null turns clipping off
    weight_decay: Number = Field(default=0.0, ge=0)
    eval_drop_last: Flag = False  # tutorial quirk: score in batches of batch_size, ignoring the last partial batch
    restore_best: Flag = True  # false keeps the last epoch's weights instead of the best validation epoch's
    # tutorial quirk: stop when the *training* loss stops falling (Keras' EarlyStopping(monitor='loss')), which
    # needs no validation split and watches the very data it fits; "validation" watches the task's score
    stop_on: Literal["validation", "train_loss"] = "validation"
    # bucketed (the default): the shuffled examples sorted by length into batches (bucketing), the batches drawn in
    # a random order: most batches hold one length, so they need no padding and no packing, and an epoch is faster
    # (names_18 over 3 seeds: as accurate as shuffled batches or more, benchmarks/batching.py);
    # shuffled: batches drawn at random, the default until bucketing was measured (runs made then repeat with it)
    batching: Literal["shuffled", "bucketed"] = "bucketed"
