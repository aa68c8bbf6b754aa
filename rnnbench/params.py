"""`rnnbench params`: every variant's parameters by role, without training, for every task.

Each model is built on the meta device (shapes only: no memory, no initialisation) from the sizes the first
seed's data decides; each recurrent layer's count is checked against its closed form.
"""

from __future__ import annotations

import torch

from rnnbench import metrics
from rnnbench.config import Experiment, distinct_data, task_of


def parameter_counts(experiment: Experiment, source) -> tuple[dict, list[dict]]:
    """(the data sizes used, one row per variant with its parameters split by role).

    Each row with recurrent layers also carries their closed form, as text and as a number, and whether that
    number equals the counted tensors (for an encoder-decoder, the encoder's and decoder's layers together). The
    data sizes come from the split of the experiment's first seed; other seeds can differ by a character or two
    of vocabulary. `source` is what the task loads (runner.load_source).
    """
    task, seed = task_of(experiment.data), experiment.seeds[0]
    variants = experiment.resolved_variants()
    prepared = {
        data.model_dump_json(): task.prepare(data, source, seed, torch.device("cpu"))
        for data in distinct_data(variants)
    }  # one, unless variants set the task's INPUT_FIELDS
    rows = []
    for name, (spec, _, data) in variants.items():
        architecture, arguments = task.build(spec, prepared[data.model_dump_json()])
        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            model = task.model_classes()[architecture](**arguments)
        row = {
            "variant": name,
            "cell": spec.cell,
            "architecture": architecture,
            "hidden_size": arguments.get("hidden_size", spec.hidden_size),
            "param_budget": spec.param_budget,
            **metrics.parameter_breakdown(model),
        }
        layers = recurrent_layers(model)
        if layers:
            biases = 2 if spec.bias == "double" else 1
            forms = [
                (
                    metrics.recurrent_formula(
                        spec.cell, size, layer.hidden_size, layer.num_layers, directions == 2, biases
                    ),
                    metrics.recurrent_parameters(
                        spec.cell, size, layer.hidden_size, layer.num_layers, directions == 2, biases
                    ),
                )
                for layer, size, directions in layers
            ]
            row["recurrent_formula"] = " + ".join(form for form, _ in forms)
            row["recurrent_closed_form"] = sum(count for _, count in forms)
            counted = row["input_to_hidden"] + row["hidden_to_hidden"] + row["biases"]
            row["closed_form_matches"] = row["recurrent_closed_form"] == counted
        rows.append(row)
    first = next(iter(prepared.values()))
    sizes = {key: value for key, value in first.sizes.items() if not isinstance(value, (list, dict))}
    return {"seed": seed, **sizes}, rows


def recurrent_layers(model: torch.nn.Module) -> list[tuple[torch.nn.Module, int, int]]:
    """Each stack of recurrent layers in `model` with its input size and number of directions."""
    found = []
    for module in model.modules():
        if hasattr(module, "num_layers") and hasattr(module, "hidden_size") and hasattr(module, "weight_ih_l0"):
            directions = 2 if getattr(module, "bidirectional", False) or getattr(module, "directions", 1) == 2 else 1
            found.append((module, module.weight_ih_l0.shape[1], directions))
    return found
