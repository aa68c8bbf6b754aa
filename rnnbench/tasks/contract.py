"""The contract every task module keeps: the names the rest of rnnbench reads from a module in TASKS.

A new task is a new module that provides every member below (tests/test_task_contract.py checks each registered
module against this Protocol: every member present, constants of the right kind, functions with these
parameters), and one line in tasks/__init__.py. Nothing outside rnnbench/tasks/ knows a task by name.

A module is checked against the Protocol, not derived from it: tasks are modules of constants and functions,
so the methods below are written without `self` in mind (their parameters after `self` are the module
function's). Types are documentation here; `prepared`, `source` and `record` are each task's own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from pydantic import BaseModel

from rnnbench.fields import ModelSpec
from rnnbench.metrics import Metric
from rnnbench.views import Table


@runtime_checkable
class Task(Protocol):
    # --- the experiment file: what its `data:` section and its variants may say
    Data: type[BaseModel]  # the pydantic schema of `data:`, discriminated on its `dataset` field
    ARCHITECTURES: tuple[str, ...]  # the values of `model.architecture` it accepts, its default first
    BASELINES: tuple[str, ...]  # the baseline cells it can score (cells that read nothing but their data)
    SCORED_BESIDE: tuple[str, ...]  # baselines added to every experiment of the task as variants (often none)
    NO_LOSS: tuple[str, ...]  # baselines with no loss in the space its networks train in (their forward answers
    # loss None): history.csv and metrics.json record none for them, and `export` sends none
    INPUT_FIELDS: dict[str, str]  # {data field: how it shows in a variant name}: fields a variant may set, which
    # change how examples are read, never which examples each split holds
    VALIDATION_FIELD: str | None  # the data field that sizes the validation split (None: the task has none)
    READ_ON_VALIDATE: bool  # `validate` reads its data (a local file) rather than leaving it to `run`
    PREDICT_BY_DEFAULT: bool  # `predict` with no --run or --experiment may answer from this task's runs

    # --- models: what each architecture is built from
    MODEL_COLUMN: str  # what `validate` and `params` call the part after the recurrent layers
    MODEL_SIZES: tuple[str, ...]  # the data sizes (keys of model_sizes) that shape its models, which `params`
    # names above its table

    # --- scores: how tables read them, which they show (the first is compared) and what predict ranks by
    METRICS: dict[str, Metric]
    COLUMNS: tuple[str, ...]
    RECORDS: dict[str, type | tuple[type, ...]]  # what its readers need in metrics.json, of which type
    RANK: tuple[str, str] | None  # (score, "max" or "min") `predict` ranks runs by; None: the watched score

    def model_classes(self) -> dict[str, Callable[..., torch.nn.Module]]:
        """Class name (as build returns it and model.json records it) -> model class, which takes flat constructor
        arguments. A function, not a constant: the classes import torch, which reading a task's `data:` schema,
        validating an experiment or comparing its runs never needs."""

    def canonical(self, model: ModelSpec) -> ModelSpec:
        """The model with the task's defaults made explicit (so that variant keys do not drift)."""

    def problems(self, data: Any, variants: dict[str, ModelSpec]) -> list[str]:
        """What its data settings rule out for these variants, one line each."""

    def describe_model(self, model: ModelSpec) -> tuple[str, str]:
        """(what the model reads, its MODEL_COLUMN part) in words, for `validate` and `params`."""

    def load(self, data: Any, data_dir: Path | None, on_download: Callable | None = None) -> tuple[Any, str | None]:
        """(what it learns from, a line saying where that came from): read or located once per experiment."""

    def fingerprint(self, data: Any, source: Any) -> dict:
        """What a finished run must have recorded in its data sizes to be reused (a file's SHA-256, ...)."""

    def prepare(self, data: Any, source: Any, seed: int, device: torch.device) -> Any:
        """One seed's splits as tensors: an object with .tensors (split -> TensorSplit), .sizes and .report."""

    def describe(self, sizes: dict, report: dict) -> str:
        """One line on the prepared data: sizes and how it was split."""

    def data_table(self, report: dict, title: str) -> Table:
        """The data report of one seed as a table."""

    def model_sizes(self, data: Any, source: Any, seed: int) -> dict:
        """What one seed's data decides of its models, without tensors or torch: the keys of prepare's .sizes that
        `build` reads (and MODEL_SIZES names), with the same values (`params` counts from them), once the data is
        checked as prepare checks it (what `validate` runs, for a task that READ_ON_VALIDATE)."""

    def build(self, model: ModelSpec, data: Any, sizes: dict) -> tuple[str, dict]:
        """(architecture, constructor arguments) of a variant, from its data config and the sizes its data decided
        (prepare's .sizes, or model_sizes'): model_classes()[architecture](**arguments) is the model. Torch-free
        (architectures.py): a parameter budget is solved with closed-form counts."""

    def watch(self, data: Any) -> tuple[str, str]:
        """(history key, "max" or "min"): what early stopping watches, and its direction."""

    def validator(self, prepared: Any) -> Callable:
        """score(model, split) -> (accuracy or None, loss): what each epoch measures."""

    def score(self, model: torch.nn.Module, prepared: Any, spec: Any) -> tuple[dict, dict]:
        """(metrics, files) of a finished model: its scores, and the files written beside them (predictions)."""

    def model_info(self, prepared: Any, data: Any) -> dict:
        """What predict needs beside the weights (vocabularies, labels, scaler), saved in model.json: enough to
        answer exactly as the run was scored (never a cut-down copy of its data), and what an input unlike the
        training data is told by (the longest training input, a series' training range)."""

    def predictor(self, state_dict: dict, info: dict, where: Path) -> Any:
        """The model rebuilt from a run: an object with .predict(texts, top_k, where) -> list[dict], one answer per
        input; an answer to an input unlike the training data holds `notes`, a sentence each."""

    def candidates(self, records: list) -> tuple[list, list[str]]:
        """(the runs predict may answer from, a line for each passed over and why)."""

    def show_scores(self, record: Any) -> tuple[tuple, tuple]:
        """((score, header, scale) ..., splits): the scores table `show` prints."""

    def show_tables(self, record: Any, predictions: list[dict] | None, top: int) -> list:
        """The task's own tables (and sentences) of one run, for `show`."""

    def report_data(self, records: list, load_report: Callable) -> list[str]:
        """Markdown lines on the data of an experiment's runs (load_report reads one run's data report)."""

    def report_errors(
        self, best_variant: str, best_records: list, records: list, load_predictions: Callable
    ) -> list[str]:
        """Markdown lines on the errors of the best variant (load_predictions reads one run's predictions)."""

    def plots(
        self,
        experiment: str,
        best_variant: str,
        best_records: list,
        stem: str,
        records_of: dict,
        styles: dict,
        load_report: Callable,
        load_predictions: Callable,
    ) -> list:
        """[(figure, file name)]: the task's own figures of an experiment, built with rnnbench.figures."""
