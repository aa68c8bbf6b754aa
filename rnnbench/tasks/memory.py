"""What the long-range memory tasks share (the adding problem, copy memory): the data section's sizes, the splits
each seed draws, a generated task's (lack of) loading, a model rebuilt from a run, and the report's data lines.
Their data is data/memory.py's; their own modules say what each generates, trains and scores.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from pydantic import Field

from rnnbench import architectures
from rnnbench.errors import describing_weights, load_weights
from rnnbench.fields import Integer, Strict
from rnnbench.views import Table, to_markdown

SPLITS = ("train", "validation", "test", "long")


class Sizes(Strict):
    """How long and how many: T = `length`; `long_length`, a test set of longer sequences never trained on."""

    length: Annotated[Integer, Field(ge=2, le=100_000)] = 100
    train_samples: Annotated[Integer, Field(ge=1, le=10_000_000)] = 10_000
    validation_samples: Annotated[Integer, Field(ge=0, le=10_000_000)] = 1_000
    test_samples: Annotated[Integer, Field(ge=1, le=10_000_000)] = 1_000
    long_length: Annotated[Integer, Field(ge=2, le=100_000)] | None = None
    long_samples: Annotated[Integer, Field(ge=1, le=10_000_000)] = 1_000


def splits(data: Sizes) -> dict[str, tuple[int, int]]:
    """{split: (sequences, T)}; the longer test set holds none unless `long_length` is given."""
    return {
        "train": (data.train_samples, data.length),
        "validation": (data.validation_samples, data.length),
        "test": (data.test_samples, data.length),
        "long": (data.long_samples if data.long_length else 0, data.long_length or data.length),
    }


def long_length_problem(data: Sizes) -> list[str]:
    if data.long_length is not None and data.long_length <= data.length:
        return [
            f"data.long_length: the longer test set measures lengths never trained on, so it is above length "
            f"{data.length} (got {data.long_length})"
        ]
    return []


def load(data, data_dir: Path | None, on_download=None) -> tuple[None, None]:
    return None, None  # generated from the seed: nothing to read


def fingerprint(data, source) -> dict:
    return {}


def model_from_run(classes: dict, state_dict: dict, info: dict, where: Path):
    """The model a run saved, rebuilt with its weights (errors name `where`)."""
    with describing_weights(where):
        arguments = architectures.current_arguments(info["architecture"], info["arguments"])
        model = classes[info["architecture"]](**arguments)
        load_weights(model, state_dict, where)
    return model


def report_data(records: list, load_report: Callable, what: str, table: Callable[[dict, str], Table]) -> list[str]:
    """Markdown: `what` the data is (a sentence), then the first run's data table."""
    report = load_report(records[0].path)
    return ["## Data", "", what, ""] + (to_markdown(table(report, "")) if report else [])


def show_tables(record, predictions: list[dict] | None, top: int) -> list:
    """`show`: the scores table says it all (no tables of the task's own yet)."""
    return []


def report_errors(best_variant: str, best_records: list, records: list, load_predictions: Callable) -> list[str]:
    return []  # the report's comparison says it all (no error analysis of the task's own yet)


def plots(
    experiment: str,
    best_variant: str,
    best_records: list,
    stem: str,
    records_of: dict,
    styles: dict,
    load_report: Callable,
    load_predictions: Callable,
) -> list:
    return []  # the learning curves and the score against parameters (no figure of the task's own yet)
