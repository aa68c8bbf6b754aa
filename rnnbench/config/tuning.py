"""The `tune:` section: a search space over `model:` and `train:` fields, the trials every variant gets (the equal
budget), the sampler and the pruner, and which seeds tune and which evaluate (`rnnbench tune`).

    tune:
      trials: 12                     # per variant: pruned and failed trials count
      sampler: tpe                   # or random (seeded)
      pruner: median                 # or none
      seeds: [0]                     # the trials train on these: their mean validation score is the objective
      evaluation_seeds: [1, 2, 3]    # each variant's best setting, and its untuned one, retrained and tested on these
      space:
        dropout: {low: 0.0, high: 0.5}
        hidden_size: {low: 32, high: 256, step: 32}
        train:
          learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
          batch_size: {choices: [32, 64, 128]}

A field's values pass that field's own checks (a dropout of 1 is refused as in `model:`); what a field needs of
the rest of the experiment (not a field the grid varies, hidden_size not beside a param_budget) is checks.py's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, create_model, model_validator

from rnnbench.fields import Flag, Integer, ModelSpec, Number, Seed, Size, Strict, Text, Train, distinct


class Dimension(Strict):
    """What one field takes while tuning: numbers from `low` to `high` (both included), on a log scale with
    `log: true` (Optuna's suggest_float / suggest_int; a whole-number field steps by `step`, default 1, a float
    field by `step` where given), or one of `choices` (suggest_categorical)."""

    low: Number | None = None
    high: Number | None = None
    log: Flag = False
    step: Annotated[Number, Field(gt=0)] | None = None
    choices: Annotated[list[bool | int | float | str | None], Field(min_length=1), AfterValidator(distinct)] | None = (
        None
    )

    @model_validator(mode="after")
    def _range_or_choices(self):
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.step is not None or self.log:
                raise ValueError("choices, or a range (low, high, log, step): not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a range needs low and high (or give choices: [...])")
        if not self.low < self.high:
            raise ValueError(f"an empty range: low {self.low:g} is not below high {self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError(f"log: true needs low above 0 (got {self.low:g})")
        if self.log and self.step is not None:
            raise ValueError("log: true and a step together: give one of them")
        if self.step is not None:
            steps = (self.high - self.low) / self.step
            if abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps)):
                top = self.low + int(steps) * self.step
                raise ValueError(
                    f"step {self.step:g} does not divide the range {self.low:g} to {self.high:g}: give high "
                    f"{top:g} (or a step that divides it)"
                )
        return self


def _space_of(schema) -> type[Strict]:
    """Every field of `schema` as an optional Dimension (cell, architecture and the task's wiring excluded)."""
    fields = {name: (Dimension | None, None) for name in schema.model_fields if name not in NOT_TUNED}
    return create_model(f"{schema.__name__}Space", __base__=Strict, **fields)


NOT_TUNED = ("cell", "architecture", "impl", "bidirectional", "param_budget")  # what a variant is, not how it trains


class Space(_space_of(ModelSpec)):
    """Model fields at the top, `train:` for its fields, as in a grid."""

    train: _space_of(Train) | None = None

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.dimensions():
            raise ValueError("an empty search space: give at least one model or train field to tune")
        return self

    def dimensions(self) -> dict[tuple[str, str], Dimension]:
        """{(section, field): its range or choices}, model fields first. Example: {("train", "learning_rate"):
        Dimension(low=0.0001, high=0.01, log=True)}."""
        found = {("model", name): value for name, value in self if name != "train" and value is not None}
        return found | {("train", name): value for name, value in (self.train or ()) if value is not None}


class Tune(Strict):
    space: Space
    trials: Size = 20  # per variant: the equal budget (pruned and failed trials count)
    sampler: Literal["tpe", "random"] = "tpe"  # seeded by the first of `seeds` and the variant's key
    pruner: Literal["median", "none"] = "median"  # stop a trial whose validation score is below the median so far
    startup_trials: Integer = Field(default=3, ge=0)  # trials of a variant finished before any is pruned
    warmup_epochs: Integer = Field(default=1, ge=0)  # epochs every trial trains before it can be pruned
    seeds: Annotated[list[Seed], AfterValidator(distinct)] = Field(default=[0], min_length=1)
    evaluation_seeds: Annotated[list[Seed], AfterValidator(distinct)] = Field(default=[1, 2, 3], min_length=1)

    @model_validator(mode="after")
    def _seeds_apart(self):
        shared = sorted(set(self.seeds) & set(self.evaluation_seeds))
        if shared:
            raise ValueError(
                f"seed {shared[0]} both tunes and evaluates: a setting chosen on a seed's validation split is "
                "tested on other seeds (give evaluation_seeds none of seeds)"
            )
        return self


class TrialTag(Strict):
    """What a run of `rnnbench tune` is, in its config.yaml: a trial of a variant's study (kind `trial`), or that
    study's best setting retrained on an evaluation seed (kind `tuned`). Its study, number and kind are part of
    the variant key (RunSpec.variant_key)."""

    study: Text  # the study's name: the variant's name and its key, untuned
    number: Integer = Field(ge=0)  # the trial's number in its study (the best trial's, for a tuned run)
    kind: Literal["trial", "tuned"] = "trial"
    sampler: Literal["tpe", "random"] | None = None  # how its study chose trials (what its tuning curve can say)
