"""What the schema alone cannot check, each problem one line: what a task's data rules out, the `data:` fields a
grid or a variant may set, and early stopping without a validation split."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from rnnbench import yamlfile
from rnnbench.config.messages import DATASET_CUTOFF, closest, describe, shown_value
from rnnbench.config.schema import Experiment
from rnnbench.config.task_data import Data, task_of
from rnnbench.config.variants import grid_axes, hashable
from rnnbench.fields import BASELINE_FIELDS, ModelSpec, Train, architecture_problems, distinct
from rnnbench.tasks import TASKS
from rnnbench.yamlfile import Written


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


def data_read_as_closest(raw: dict, err: ValidationError, written: dict[tuple, Written] | None) -> list[str]:
    """With a `dataset:` that names no task but is close to one (`name` for names), the other `data:` fields
    checked as that task's, so that every problem is reported at once rather than after the name is fixed."""
    if not any(error["type"] == "unknown_dataset" for error in err.errors()) or not isinstance(raw.get("data"), dict):
        return []
    dataset = raw["data"].get("dataset")
    guess = closest(dataset, list(TASKS), DATASET_CUTOFF) if isinstance(dataset, str) else None
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


def raw_override_problems(raw: dict, written: dict[tuple, Written] | None) -> list[str]:
    """The same checks on the raw file, when other fields are invalid, so that all problems are told at once;
    nothing if its `data:` section is invalid itself (then there is nothing to check against)."""
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
                    f"{path}: a grid axis is a list of values (got {shown_value(values, (*where, field), written)})"
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
                    distinct([hashable(value) for value in values])
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
    guess = closest(field, list(task.Data.model_fields))
    return (
        f"{path}: unknown field"
        + (f"; did you mean {guess}?" if guess else "")
        + f" (data fields a variant can set for {dataset}: {inputs})"
    )


def validation_problem(variant: str, train: Train, data) -> str | None:
    """Why early stopping on the validation split cannot run with these settings (`variant` names the variant,
    '' the experiment), or None. The task names the data field that sizes its validation split (VALIDATION_FIELD),
    None if it has no validation split.

    Example: patience 3 with validation_fraction 0 -> 'train.patience: early stopping needs a validation split;
    set it to 0 or give data.validation_fraction > 0 (got 3)'.
    """
    if not (train.patience and train.stop_on == "validation"):
        return None
    where = "train.patience" if not variant else f"variant {variant}: train.patience"
    field = task_of(data).VALIDATION_FIELD
    if field is None:
        return (
            f"{where}: early stopping needs a validation split, which dataset {data.dataset} does not have; set it "
            f"to 0 or train.stop_on to train_loss (got {train.patience})"
        )
    if getattr(data, field) == 0:
        return (
            f"{where}: early stopping needs a validation split; set it to 0 or give data.{field} > 0 "
            f"(got {train.patience})"
        )
    return None


def tune_problems(experiment: Experiment) -> list[str]:
    """What is wrong with the `tune:` section beside the rest of the experiment: a field the grid or a listed
    variant already sets (tuning would override what names the variant), hidden_size beside a param_budget (the
    budget decides it), and values the field itself refuses. Example: 'tune.space.train.learning_rate.low:
    Input should be greater than 0 (got 0)'."""
    if experiment.tune is None:
        return []
    problems = []
    axes = {(section, field) for section, field, _ in grid_axes(experiment.grid)} if experiment.grid else set()
    listed = {}
    for i, variant in enumerate(experiment.variants):
        for field in variant.model_fields_set - {"name", "train", "data"}:
            listed.setdefault(("model", field), f"variants[{i}]")
        for field in variant.train.model_fields_set if variant.train else ():
            listed.setdefault(("train", field), f"variants[{i}]")
    budgets = experiment.model.param_budget or any(v.param_budget for v in experiment.variants)
    for (section, field), dimension in experiment.tune.space.dimensions().items():
        where = ("tune", "space", field) if section == "model" else ("tune", "space", "train", field)
        path = yamlfile.dotted(where)
        if (section, field) in axes:
            problems.append(f"{path}: the grid already varies {section}.{field}; tune it or vary it, not both")
        elif (section, field) in listed:
            problems.append(f"{path}: {listed[section, field]} sets it; tune it or set it, not both")
        elif (section, field) == ("model", "hidden_size") and budgets:
            problems.append(f"{path}: a param_budget decides the hidden size; tune one or the other")
        problems += _dimension_problems(experiment, section, field, dimension, where)
    return problems


def _dimension_problems(experiment: Experiment, section: str, field: str, dimension, where: tuple) -> list[str]:
    """Each end of a range (or each choice) checked as the field's value in `section`; a whole-number field's
    range with a step that is not whole."""
    schema, base = (ModelSpec, experiment.model) if section == "model" else (Train, experiment.train)
    values = (
        [("choices", i, value) for i, value in enumerate(dimension.choices)]
        if dimension.choices is not None
        else [("low", None, dimension.low), ("high", None, dimension.high)]
    )
    problems = []
    for part, index, value in values:
        location = (*where, part) + ((index,) if index is not None else ())
        try:
            schema.model_validate({**base.model_dump(), field: value})
        except ValidationError as err:
            problems += [describe({**error, "loc": location}) for error in err.errors()]
    step = dimension.step
    if step is not None and whole_number_field(schema, field) and not float(step).is_integer():
        path = yamlfile.dotted((*where, "step"))
        problems.append(f"{path}: {field} takes whole numbers, so a whole step (got {step:g})")
    return problems


def whole_number_field(schema, field: str) -> bool:
    """Whether the field takes whole numbers only (hidden_size, batch_size) rather than any number (dropout)."""
    value = schema.model_fields[field].default
    try:
        schema.model_validate({field: (value if isinstance(value, (int, float)) else 1) + 0.5})
    except ValidationError:
        return True
    return False
