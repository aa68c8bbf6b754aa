"""`rnnbench params`: every variant's parameters by role, without training, for every task.

Counted in closed form (architectures.counts) from the sizes the first seed's data decides: no model is built and
torch is not imported. tests/test_architectures.py checks every count against the tensors torch builds.
"""

from __future__ import annotations

from rnnbench import architectures
from rnnbench.config import Experiment, distinct_data, task_of


def parameter_counts(experiment: Experiment, source) -> tuple[dict, list[dict]]:
    """(the data sizes used, one row per variant with its parameters split by role).

    Each row with recurrent layers also carries their count as arithmetic to read (for an encoder-decoder, the
    encoder's and decoder's layers together). The data sizes come from the split of the experiment's first seed;
    other seeds can differ by a character or two of vocabulary. `source` is what the task loads
    (runner.load_source).
    """
    task, seed = task_of(experiment.data), experiment.seeds[0]
    variants = experiment.resolved_variants()
    sizes = {
        data.model_dump_json(): task.model_sizes(data, source, seed) for data in distinct_data(variants)
    }  # one, unless variants set the task's INPUT_FIELDS
    rows = []
    for name, (spec, _, data) in variants.items():
        architecture, arguments = task.build(spec, data, sizes[data.model_dump_json()])
        row = {
            "variant": name,
            "cell": spec.cell,
            "architecture": architecture,
            "hidden_size": arguments.get("hidden_size", spec.hidden_size),
            "param_budget": spec.param_budget,
            **architectures.counts(architecture, arguments),
        }
        formula = architectures.formula(architecture, arguments)
        if formula:
            row["recurrent_formula"] = formula
        rows.append(row)
    first = next(iter(sizes.values()))
    return {"seed": seed, **{key: value for key, value in first.items() if not isinstance(value, (list, dict))}}, rows
