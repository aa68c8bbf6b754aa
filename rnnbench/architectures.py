"""Every model's constructor arguments, from a variant and the sizes its data decided, and its parameter count by
role in closed form. Torch-free: `params`, `validate` and solving a parameter budget count without building a
model (tests/test_architectures.py checks every count against torch's tensors, architecture by architecture).

    model_arguments      a classifier (or a regressor: the classifier with one output) or a names baseline
    sequence_arguments   a reversal model: tagger, repeat decoder or encoder-decoder
    forecaster_arguments a series model, or a benchmark forecast
    counts               (architecture, arguments) -> parameters by role: embedding, W_ih, W_hh, biases, head
    size_for_budget      the hidden size whose model comes closest to a parameter budget

The arguments are what a run directory stores in model.json; `predict` rebuilds any model from them.
"""

from __future__ import annotations

from collections.abc import Callable

from rnnbench.metrics import BREAKDOWN, GATES, recurrent_formula

LOCATION_CHANNELS = 8  # location attention's features of the previous step's weights (sequence_models reads it)

# ---------------------------------------------------------------------------------- constructor arguments


def model_arguments(
    spec,
    vocab_size: int,
    num_classes: int,
    class_frequencies: list[float],
    hidden_size: int | None = None,
    regression: bool = False,
) -> tuple[str, dict]:
    """A model config plus what the data decided -> (architecture, the constructor's keyword arguments) of a text
    model (models.py).

    `hidden_size` overrides the config's (a parameter budget turned into a size by `size_for_budget`);
    `regression` makes the recurrent model answer one number (num_classes 1) trained with the mean squared error.
    """
    hidden = hidden_size or spec.hidden_size
    if spec.cell == "majority":
        return "MajorityClassifier", {"class_frequencies": class_frequencies}
    if spec.cell == "linear":
        return "LinearClassifier", {
            "vocab_size": vocab_size,
            "num_classes": num_classes,
            "max_length": spec.max_length,
            "hidden_size": hidden,
            "num_layers": spec.num_layers,
            "dropout": spec.dropout,
            "softmax_output": spec.softmax_output,
            **initial_weights(spec),
        }
    return "RecurrentClassifier", {
        "vocab_size": vocab_size,
        "num_classes": num_classes,
        "cell": spec.cell,
        "hidden_size": hidden,
        "num_layers": spec.num_layers,
        "bidirectional": spec.bidirectional,
        "embedding_dim": spec.embedding_dim,
        "dropout": spec.dropout,
        "impl": spec.impl,
        "bias": spec.bias,
        "activation": spec.activation,
        "head": spec.head,
        "head_hidden": spec.head_hidden,
        "max_length": spec.max_length,
        "softmax_output": spec.softmax_output,
        "carry_state": spec.carry_state,
        **initial_weights(spec),
        **({"regression": True} if regression else {}),  # absent otherwise: model.json stays as before
    }


def sequence_arguments(
    spec, kind: str, *, source_symbols: int, target_symbols: int, one_vocabulary: bool, length: int
) -> tuple[str, dict]:
    """A model config plus what the data decided -> (architecture, the constructor's keyword arguments) of a
    sequence model (sequence_models.py).

    `one_vocabulary`: the source's symbols are the target's (reversal): an encoder-decoder reads both through one
    embedding. `length`: the longest training sequence, the fixed length a regression model pads to and reads.
    """
    arguments = {
        "source_symbols": source_symbols,
        "target_symbols": target_symbols,
        "cell": spec.cell,
        "hidden_size": spec.hidden_size,
        "num_layers": spec.num_layers,
        "bidirectional": spec.bidirectional,
        "embedding_dim": spec.embedding_dim or 16,
        "dropout": spec.dropout,
        "impl": spec.impl,
        "bias": spec.bias,
        "activation": spec.activation,
        **initial_weights(spec),
    }
    if kind in ("tagger", "repeat_decoder"):
        steps = {"regression": spec.regression, "length": length if spec.regression else None}
        return ("Tagger" if kind == "tagger" else "RepeatDecoder"), {**arguments, **steps}
    return "EncoderDecoder", {
        **arguments,
        "attention": spec.attention,
        "sentinels": spec.sentinels,
        "readout": spec.readout,
        "shared_embedding": one_vocabulary,
    }


def initial_weights(spec) -> dict:
    """The constructor arguments that say how the weights start (initialisation.py); forget_bias and chrono only
    where set, so that model.json stays as before for every other model."""
    return {
        "init": spec.init,
        **({"forget_bias": spec.forget_bias} if spec.forget_bias is not None else {}),
        **({"chrono": spec.chrono} if spec.chrono is not None else {}),
    }


def current_arguments(architecture: str, stored: dict) -> dict:
    """Constructor arguments as a run's model.json holds them -> today's. Runs saved before source and target were
    told apart hold one `symbols`: one vocabulary, read by an encoder-decoder through one shared embedding (the
    same tensors). Example: ("Tagger", {"symbols": 9, "cell": "gru"}) -> {"source_symbols": 9, "target_symbols": 9,
    "cell": "gru"}."""
    if not isinstance(stored, dict) or "symbols" not in stored:
        return stored
    arguments = {key: value for key, value in stored.items() if key != "symbols"}
    one = {"shared_embedding": True} if architecture == "EncoderDecoder" else {}
    return {"source_symbols": stored["symbols"], "target_symbols": stored["symbols"], **arguments, **one}


def forecaster_arguments(spec, baselines: tuple[str, ...], features: int, horizon: int) -> tuple[str, dict]:
    """A model config plus what the data decided (the columns read, the steps forecast) -> (architecture, the
    constructor's keyword arguments) of a forecaster (forecasters.py), its hidden size solved for the config's
    `param_budget` if it has one; a cell in `baselines` is a benchmark forecast, with no parameters."""
    if spec.cell in baselines:
        return "BaselineForecaster", {"kind": spec.cell, "horizon": horizon}
    arguments = {
        "features": features,
        "horizon": horizon,
        "cell": spec.cell,
        "hidden_size": spec.hidden_size,
        "num_layers": spec.num_layers,
        "bidirectional": spec.bidirectional,
        "dropout": spec.dropout,
        "impl": spec.impl,
        "bias": spec.bias,
        "activation": spec.activation,
        **initial_weights(spec),
        "strategy": spec.forecast,
    }
    if spec.param_budget:
        arguments["hidden_size"] = size_for_budget(
            lambda hidden: ("RecurrentForecaster", {**arguments, "hidden_size": hidden}), spec.param_budget
        )
    return "RecurrentForecaster", arguments


# ------------------------------------------------------------------------------------------------ counts


def stacks(architecture: str, arguments: dict) -> list[tuple[int, int, int, bool]]:
    """Each stack of recurrent layers a model holds: (input size, hidden size, layers, bidirectional), in order
    (an encoder's before its decoder's). Example: ("RecurrentClassifier", {"vocab_size": 30, "embedding_dim": 16,
    "hidden_size": 64, ...}) -> [(16, 64, 1, False)]."""
    a = {"num_layers": 1, "bidirectional": False, **arguments}  # the constructors' defaults
    match architecture:
        case "RecurrentClassifier":
            return [(a.get("embedding_dim") or a["vocab_size"], a["hidden_size"], a["num_layers"], a["bidirectional"])]
        case "RecurrentForecaster":
            return [(a["features"], a["hidden_size"], a["num_layers"], a["bidirectional"])]
        case "Tagger" | "RepeatDecoder" | "EncoderDecoder":
            width = a.get("embedding_dim", 16)
            reads = 1 if a.get("regression") else width
            encoder = (reads, a["hidden_size"], a["num_layers"], a["bidirectional"])
            if architecture == "Tagger":
                return [encoder]
            # the repeat decoder reads the encoder's final output at every step; the encoder-decoder, its answer
            decoder_reads = a["hidden_size"] if architecture == "RepeatDecoder" else width
            return [encoder, (decoder_reads, a["hidden_size"], a["num_layers"], False)]
    return []  # the baselines: no recurrent layers


def counts(architecture: str, arguments: dict) -> dict[str, int]:
    """Parameters by role, as metrics.parameter_breakdown counts a built model's tensors, and their total.
    Example: ("RecurrentClassifier", vocab 30, 5 classes, GRU 64, embedding 16) -> {"embedding": 480,
    "input_to_hidden": 3072, "hidden_to_hidden": 12288, "biases": 384, "head": 325, "total": 16549}.

    Per recurrent layer and direction (torch.nn.GRU/LSTM/RNN's documented weights): gates × H·I input weights,
    gates × H² hidden weights, gates × H per bias vector (two in torch's layout, one with bias: single on the
    scratch cells); layers above the first read both directions (I = directions × H). A linear layer's is
    in·out + out (without bias: in·out); an embedding's rows × width.
    """
    a, found = arguments, dict.fromkeys(BREAKDOWN, 0)
    biases = 1 if a.get("impl", "torch") != "torch" and a.get("bias") == "single" else 2  # fused: always two
    for input_size, hidden, layers, bidirectional in stacks(architecture, a):
        directions = 2 if bidirectional else 1
        for layer in range(layers):
            gates_h = directions * GATES[a["cell"]] * hidden
            found["input_to_hidden"] += gates_h * (input_size if layer == 0 else directions * hidden)
            found["hidden_to_hidden"] += gates_h * hidden
            found["biases"] += biases * gates_h
    found["embedding"], found["head"] = _embedding(architecture, a), _head(architecture, a)
    return {**found, "total": sum(found.values())}


def formula(architecture: str, arguments: dict) -> str:
    """The recurrent layers' count as arithmetic to read, stack by stack ('' for a baseline). Example: a GRU 64
    reading a 16-wide embedding -> '3×(64·16 + 64² + 2·64)'."""
    biases = 1 if arguments.get("impl", "torch") != "torch" and arguments.get("bias") == "single" else 2
    return " + ".join(
        recurrent_formula(arguments["cell"], *stack, biases=biases) for stack in stacks(architecture, arguments)
    )


def _linear(inputs: int, outputs: int, bias: bool = True) -> int:
    return inputs * outputs + (outputs if bias else 0)


def _embedding(architecture: str, a: dict) -> int:
    match architecture:
        case "RecurrentClassifier":
            return a["vocab_size"] * a["embedding_dim"] if a.get("embedding_dim") else 0
        case "Tagger" | "RepeatDecoder":
            return 0 if a.get("regression") else (a["source_symbols"] + 3) * a.get("embedding_dim", 16)
        case "EncoderDecoder":  # the source's, and the target's unless one vocabulary shares the first
            width = a.get("embedding_dim", 16)
            target = 0 if a.get("shared_embedding") else (a["target_symbols"] + 3) * width
            return (a["source_symbols"] + 3) * width + target
    return 0


def _head(architecture: str, a: dict) -> int:
    """Everything after the recurrent layers (and a baseline's layers): what parameter_breakdown calls head."""
    hidden = a.get("hidden_size")
    directions = 2 if a.get("bidirectional") else 1
    match architecture:
        case "RecurrentClassifier":
            features = directions * hidden * (a["max_length"] if a.get("head") == "flatten" else 1)
            widths = [features] + ([a["head_hidden"]] if a.get("head_hidden") else []) + [a["num_classes"]]
            return sum(_linear(i, o) for i, o in zip(widths, widths[1:]))
        case "LinearClassifier":
            layers = a.get("num_layers", 1)
            widths = [a["max_length"] * a["vocab_size"]] + [hidden] * (layers - 1) + [a["num_classes"]]
            return sum(_linear(i, o) for i, o in zip(widths, widths[1:]))
        case "RecurrentForecaster":
            return _linear(directions * hidden, a["horizon"] if a.get("strategy", "direct") == "direct" else 1)
        case "Tagger":
            return _linear(directions * hidden, 1 if a.get("regression") else a["target_symbols"] + 3)
        case "RepeatDecoder":
            bridge = _linear(2 * hidden, hidden) if directions == 2 else 0
            return bridge + _linear(hidden, 1 if a.get("regression") else a["target_symbols"] + 3)
        case "EncoderDecoder":
            return _encoder_decoder_head(a, hidden, directions)
    return 0  # the majority classifier and the benchmark forecasts read nothing


def _encoder_decoder_head(a: dict, hidden: int, directions: int) -> int:
    """The bridge of a bidirectional encoder, attention's projections and the output layer."""
    attention = a.get("attention", "none")
    total = _linear(2 * hidden, hidden) if directions == 2 else 0
    if attention != "none":
        total += _linear(directions * hidden, hidden, bias=False)  # keys
    if attention in ("additive", "location"):
        total += _linear(hidden, hidden, bias=False) + _linear(hidden, 1, bias=False)  # queries, score
    if attention == "location":
        total += LOCATION_CHANNELS * 3 + _linear(LOCATION_CHANNELS, hidden, bias=False)  # conv (kernel 3), location
    reads_state_and_context = attention != "none" and a.get("readout", "state_and_context") == "state_and_context"
    return total + _linear(hidden * (2 if reads_state_and_context else 1), a["target_symbols"] + 3)


# ------------------------------------------------------------------------------------------------ budgets


def size_for_budget(arguments_at: Callable[[int], tuple[str, dict]], budget: int) -> int:
    """The hidden size whose model (`arguments_at(hidden)` -> (architecture, arguments)) has the total parameter
    count closest to `budget` (ties: the smaller). Example: a GRU (embedding 32) with a 40,000 budget on German
    vs Italian -> hidden size 96, 39,682 parameters."""
    return closest_size(lambda hidden: counts(*arguments_at(hidden))["total"], budget)


def closest_size(total: Callable[[int], int], budget: int) -> int:
    """The hidden size in 1..65536 whose `total(size)` parameter count is closest to `budget` (ties: the smaller);
    `total` grows with the size, so a bisection finds it."""
    low, high = 1, 65536
    while low < high:  # the smallest size reaching the budget
        middle = (low + high) // 2
        low, high = (low, middle) if total(middle) >= budget else (middle + 1, high)
    return min({max(low - 1, 1), low}, key=lambda hidden: (abs(total(hidden) - budget), hidden))
