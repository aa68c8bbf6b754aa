"""Every registered task keeps the contract (rnnbench/tasks/contract.py): each member present, constants of the
right kind, functions taking the Protocol's parameters. A new task that forgets one fails here, not in a user's run."""

import inspect
import types
import typing

import pytest
from pydantic import BaseModel

from rnnbench.tasks import TASKS
from rnnbench.tasks.contract import Task

HINTS = typing.get_type_hints(Task)
CONSTANTS = {name: hint for name, hint in HINTS.items() if not name.startswith("_")}
FUNCTIONS = {
    name: member
    for name, member in vars(Task).items()
    if inspect.isfunction(member) and not name.startswith("_") and name not in CONSTANTS
}


def _kinds(hint) -> tuple[type, ...]:
    """The runtime types a hint admits at its top level. Example: tuple[str, str] | None -> (tuple, NoneType)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(kind for arg in typing.get_args(hint) for kind in _kinds(arg))
    if hint is None or hint is type(None):
        return (type(None),)
    return (typing.get_origin(hint) or hint,)


def test_the_contract_names_every_member_the_task_docs_promise():
    assert {"Data", "METRICS", "COLUMNS", "VALIDATION_FIELD", "RANK", "SCORED_BESIDE"} <= set(CONSTANTS)
    assert {"model_classes", "load", "prepare", "build", "score", "predictor", "plots", "report_data"} <= set(FUNCTIONS)


@pytest.mark.parametrize("task", TASKS)
def test_every_task_provides_every_member(task):
    module = TASKS[task]
    missing = [name for name in [*CONSTANTS, *FUNCTIONS] if not hasattr(module, name)]
    assert not missing, f"task {task} ({module.__name__}) lacks {missing}"
    assert isinstance(module, Task)  # the Protocol is runtime-checkable: the same question, asked by typing


@pytest.mark.parametrize("task", TASKS)
def test_every_constant_is_of_its_kind(task):
    module = TASKS[task]
    for name, hint in CONSTANTS.items():
        value = getattr(module, name)
        if name == "Data":
            assert isinstance(value, type) and issubclass(value, BaseModel), name
            assert typing.get_args(value.model_fields["dataset"].annotation) == (task,), "dataset: the registered name"
            continue
        kinds = tuple(kind for kind in _kinds(hint) if isinstance(kind, type))
        assert isinstance(value, kinds), f"task {task}: {name} is {type(value).__name__}, expected {hint}"
    assert module.ARCHITECTURES and module.model_classes()
    assert set(module.COLUMNS) <= set(module.METRICS)
    assert set(module.SCORED_BESIDE) <= set(module.BASELINES)
    assert set(module.NO_LOSS) <= set(module.BASELINES)
    assert module.VALIDATION_FIELD is None or module.VALIDATION_FIELD in module.Data.model_fields
    assert module.RANK is None or module.RANK[1] in ("max", "min")


@pytest.mark.parametrize("task", TASKS)
def test_every_function_takes_the_contracts_parameters(task):
    module = TASKS[task]
    for name, member in FUNCTIONS.items():
        expected = [p.name for p in inspect.signature(member).parameters.values()][1:]  # after self
        found = [p.name for p in inspect.signature(getattr(module, name)).parameters.values()]
        assert found == expected, f"task {task}: {name}({', '.join(found)}), the contract says ({', '.join(expected)})"
