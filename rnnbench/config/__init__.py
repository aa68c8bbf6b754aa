"""The experiment schema, and the only reader of experiment YAML.

load(path, overrides) reads the YAML (as YAML 1.2: see yamlfile.py), applies `--set key=value` overrides to the
raw mapping, validates it (reporting every problem at once, each naming its field and quoting the value as it
was written), and returns a frozen Experiment whose `run_specs()` lists one RunSpec per (variant, seed):
everything that determines one run's result.

One module a job, lowest first (each imports only those above it):
    task_data.py        the `data:` section: the tasks' schemas joined on `dataset`; task_of(data)
    variants.py         grid and variant expansion into named Settings; automatic variant names
    schema.py           Experiment, its grid and variants, and RunSpec with its variant key
    messages.py         pydantic errors as 'field.path: what is wrong (got value)' lines; the closest name to a
                        typo (closest) or a path that does not exist (closest_path)
    checks.py           what the schema alone cannot check: task rules, data overrides, validation split
    experiment_file.py  load (file and --set overrides), validate (a mapping), data_options (command line)
This module defines nothing: it names what the rest of rnnbench uses, and every public name the single module
it grew from had.
"""

from rnnbench.config.checks import task_problems, validation_problem
from rnnbench.config.experiment_file import MAX_FILE_BYTES, apply_override, data_options, load, validate
from rnnbench.config.messages import closest, closest_path, describe, field_path
from rnnbench.config.schema import Experiment, Grid, RunSpec, Variant
from rnnbench.config.task_data import DEFAULT_TASK, Data, task_of
from rnnbench.config.variants import Setting, changed_settings, distinct_data, resolved_model, variant_name
from rnnbench.fields import ModelSpec, Train

__all__ = [
    "DEFAULT_TASK",
    "MAX_FILE_BYTES",
    "Data",
    "Experiment",
    "Grid",
    "ModelSpec",
    "RunSpec",
    "Setting",
    "Train",
    "Variant",
    "apply_override",
    "changed_settings",
    "closest",
    "closest_path",
    "data_options",
    "describe",
    "distinct_data",
    "field_path",
    "load",
    "resolved_model",
    "task_of",
    "task_problems",
    "validate",
    "validation_problem",
    "variant_name",
]
