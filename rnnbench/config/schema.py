"""The experiment schema: what an experiment file may say (Experiment: its `data:`, `model:`, `train:`, `grid:` and
`variants:` sections, seeds, device), each section frozen and strict, and what determines one run's result (RunSpec,
named by its variant key).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, create_model, field_validator

from rnnbench.config.task_data import DEFAULT_TASK, Data
from rnnbench.config.tuning import TrialTag, Tune
from rnnbench.config.variants import Setting, resolve_variants
from rnnbench.fields import (
    Device,
    ExperimentName,
    ModelSpec,
    RecordedExperimentName,
    RecordedVariantName,
    Seed,
    Strict,
    Text,
    Train,
    VariantName,
    distinct,
)
from rnnbench.tasks import TASKS


class Variant(ModelSpec):
    """An entry of `variants`: the fields it sets override `model`; `train:` and `data:` override those sections'
    fields (data: only the task's INPUT_FIELDS); `name` defaults to one made from what it changes."""

    name: VariantName | None = None
    train: Train | None = None  # the fields written here override the experiment's `train:`
    data: dict[str, object] | None = None  # checked against the task's data schema in validate()


class Axes(Strict):
    """A grid's axes: lists of values, each field's own checks applied to every value."""

    @field_validator("*")
    @classmethod
    def _non_empty_and_distinct(cls, values):
        if not isinstance(values, list):
            return values
        if values == []:
            raise ValueError("an empty list leaves no variants; remove the field or give at least one value")
        return distinct(values)


def axes_of(schema: type[BaseModel]) -> type[Axes]:
    """The grid schema of `schema`: every field becomes an optional list of that field's values (checked alike)."""

    def value(info):  # the field's type with its checks (bounds, value kind) attached
        return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation

    fields = {name: (list[value(info)] | None, None) for name, info in schema.model_fields.items()}
    return create_model(f"{schema.__name__}Axes", __base__=Axes, **fields)


class Grid(axes_of(ModelSpec)):
    """Lists of values; every combination becomes a variant. Model fields at the top, `train:` and `data:` for
    those sections (data: only the task's INPUT_FIELDS, which leave every split as it is)."""

    train: axes_of(Train) | None = None
    data: dict[str, list[object]] | None = None  # checked against the task's data schema in validate()


KEYED_AGAINST = {("train", "batching"): "shuffled"}  # (section, field) -> its default when keys were first made


class RunSpec(Strict):
    """Everything that determines one run's result (the device only decides where it runs)."""

    experiment: RecordedExperimentName
    description: Text = ""  # the experiment's, for reports; not part of the variant key
    variant: RecordedVariantName
    data: Data
    model: ModelSpec
    train: Train
    seed: Seed
    device: Device
    trial: TrialTag | None = None  # a run of `rnnbench tune`: which study, trial and kind (part of the key)

    def variant_key(self) -> str:
        """8 hex digits naming this variant's exact configuration (data, model, training; not its display name):
        the same key means the same experiment, so renaming a variant or adding others never retrains it. A run of
        `rnnbench tune` is also keyed by its study, trial number and kind: each trial is a run of its own (two
        trials that draw one setting are two trials of the budget), and a tuned run is never a trial's."""
        # Fields left at their defaults are left out, so a later version that adds a field (with a default that
        # keeps today's behaviour) gives every existing run the same key: upgrading never retrains anything.
        payload = self.model_dump(include={"data", "model", "train"}, mode="json", exclude_defaults=True)
        payload["data"]["dataset"] = self.data.dataset
        # A default that changed is keyed against the value it had: runs made under the old default keep their
        # key (and are never taken for runs of the new one), and runs that set the new value keep theirs.
        for (section, field), first_default in KEYED_AGAINST.items():
            value = getattr(getattr(self, section), field)
            payload[section].pop(field, None)
            if value != first_default:
                payload[section][field] = value
        if self.trial is not None:
            payload["trial"] = self.trial.model_dump(mode="json", include={"study", "number", "kind"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:8]


class Experiment(Strict):
    name: ExperimentName
    description: Text = ""
    data: Data = TASKS[DEFAULT_TASK].Data()
    model: ModelSpec = ModelSpec()
    grid: Grid | None = None
    variants: list[Variant] = []
    train: Train = Train()
    seeds: Annotated[list[Seed], AfterValidator(distinct)] = Field(default=[0], min_length=1)
    device: Device = "auto"
    tune: Tune | None = None  # `rnnbench tune`: the search space and the budget; `run` leaves it aside

    def resolved_variants(self) -> dict[str, Setting]:
        """Variant name -> setting: the grid's combinations, then the listed variants (`model` alone if neither),
        then the task's SCORED_BESIDE baselines the experiment does not list (series: naive, ...). Raise ValueError
        listing every problem (a name used twice, two variants the same, fields that clash)."""
        return resolve_variants(self)

    def run_specs(self) -> list[RunSpec]:
        """One spec per (seed, variant), seeds outermost so every variant of a seed shares one data split."""
        variants = self.resolved_variants()
        return [
            RunSpec(
                experiment=self.name,
                description=self.description,
                variant=name,
                data=setting.data,
                model=setting.model,
                train=setting.train,
                seed=seed,
                device=self.device,
            )
            for seed in self.seeds
            for name, setting in variants.items()
        ]
