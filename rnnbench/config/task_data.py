"""The `data:` section: the tasks' data schemas joined into one, its `dataset` field picking which reads it, and
the task a validated section belongs to (task_of)."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Discriminator, Tag

from rnnbench.tasks import TASKS

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
