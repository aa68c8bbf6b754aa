"""The adding problem: can a recurrent network remember two values across T steps? (Hochreiter & Schmidhuber
1997; the standard test of long-range memory in Le, Jaitly & Hinton 2015 and Bai, Kolter & Koltun 2018.)

Data (data/memory.py): T steps of (value ∈ U[0, 1], marker) pairs, one marker in each half, the target the sum of
the two marked values; train, validation and test sets drawn from their own streams of the seed, and an optional
longer test set (`long_length`) that no model trains on. Models (forecasters.py): the recurrent network of the
series task reads the (value, marker) steps and answers one number from its last state, trained on the mean
squared error. Scores: the test MSE beside the constant predictor's (predicting 1 scores 1/6 ≈ 0.167 in
expectation; each split's own is recorded), and `solved`: test MSE below SOLVED (0.01, 6% of the constant
predictor's). `predict` adds the two marked values of a sequence written "0.3 0.9* 0.4 0.5*".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rnnbench import architectures
from rnnbench.data import memory, numbers
from rnnbench.data.batches import TensorSplit
from rnnbench.errors import RnnbenchError
from rnnbench.fields import BASELINE_FIELDS, CLASSIFIER_ONLY, ModelSpec, is_default
from rnnbench.metrics import Metric
from rnnbench.tasks import memory as shared
from rnnbench.views import Table

if TYPE_CHECKING:  # torch and the models are imported where a model is built, trained or read
    import torch

ARCHITECTURES = ("forecaster",)  # the series task's network: steps of values in, numbers out of the last state
VALIDATION_FIELD = "validation_samples"
MODEL_SIZES = ("features",)
READ_ON_VALIDATE = False  # generated: nothing to read
BASELINES = ()  # the constant predictor is scored in every run, beside the network (test_baseline_mse)
SCORED_BESIDE = ()
NO_LOSS = ()
INPUT_FIELDS = {}  # every data field changes what the splits hold
PREDICT_BY_DEFAULT = False
MODEL_COLUMN = "answer"
SOLVED = 0.01  # a run solved the problem when its test MSE is below this (the constant predictor scores 1/6)
LONGEST_PREDICT = 100_000  # the most steps `predict` reads
WATCH = ("validation_loss", "min")  # the validation MSE
RANK = ("validation_mse", "min")  # `predict` answers from the run with the lowest validation MSE
METRICS = {
    "test_mse": Metric("MSE (test)", 1, 4, False),
    "test_solved": Metric("solved %", 100, 0, True, high=1.0),
    "long_mse": Metric("MSE (longer)", 1, 4, False),
    "test_baseline_mse": Metric("predict-1 MSE", 1, 3, False),
    "validation_mse": Metric("validation MSE", 1, 4, False),
}
COLUMNS = ("test_mse", "test_solved", "long_mse", "test_baseline_mse")
RECORDS = {"test_mse": (int, float, type(None))}
SHOW_SCORES = (("mse", "MSE", 1), ("baseline_mse", "predict-1 MSE", 1))
SHOW_SPLITS = ("train", "validation", "test", "long")


def model_classes() -> dict[str, type]:
    from rnnbench import forecasters

    return forecasters.ARCHITECTURES


class Data(shared.Sizes):
    """Generated adding-problem sequences (data/memory.py): T = `length` steps; `long_length`, a test set of
    longer sequences never trained on."""

    dataset: Literal["adding"]


def canonical(model: ModelSpec) -> ModelSpec:
    """The architecture made explicit; the embedding, which a network reading values does not have, at its
    default."""
    update = {"architecture": ARCHITECTURES[0]} if model.architecture is None else {}
    update["embedding_dim"] = ModelSpec.model_fields["embedding_dim"].default
    return model.model_copy(update=update)


def problems(data: Data, variants: dict[str, ModelSpec]) -> list[str]:
    found = shared.long_length_problem(data)
    steps = data.length * (data.train_samples + data.validation_samples + data.test_samples)
    if steps > 2 * 10**9:  # (value, marker) float32 pairs: 8 bytes a step
        found.append(
            f"data.train_samples: {steps:,} steps in all would take {steps * 8 / 2**30:.0f} GiB; ask for fewer"
        )
    for name, model in variants.items():
        if model.architecture not in (None, *ARCHITECTURES) or model.cell in BASELINE_FIELDS:
            found.append(
                f"variant {name}: the adding problem needs a recurrent cell reading its steps "
                f"(architecture forecaster; got {model.architecture or 'forecaster'}, cell {model.cell})"
            )
        found += [
            f"variant {name}: {field} is for text classifiers; the answer is read from the last state"
            for field in CLASSIFIER_ONLY
            if field != "param_budget" and not is_default(model, field)
        ]
        if model.forecast != "direct":
            found.append(f"variant {name}: forecast {model.forecast}: the adding problem has one answer (direct)")
    return found


def watch(data: Data) -> tuple[str, str]:
    return WATCH


def show_scores(record) -> tuple[tuple, tuple]:
    return SHOW_SCORES, SHOW_SPLITS


def describe_model(model: ModelSpec) -> tuple[str, str]:
    """(what the model reads, what it answers), for `validate`."""
    return "(value, marker) steps", "their sum"


# ------------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Prepared:
    tensors: dict[str, TensorSplit]  # "train", "validation", "test", "long" (empty where not asked for)
    sizes: dict
    report: dict


load, fingerprint = shared.load, shared.fingerprint


def prepare(data: Data, source: None, seed: int, device: torch.device) -> Prepared:
    import torch

    counts = shared.splits(data)
    tensors, report, seen = {}, {"splits": {}, "overlap": {}}, set()
    for split, (count, length) in counts.items():
        inputs, targets = memory.adding(count, length, memory.generator(seed, "adding", split))
        rows = {row.tobytes() for row in inputs}
        if split != "train":  # checked, not assumed: how many of its sequences a training sequence repeats
            report["overlap"][f"train-{split}"] = len(rows & seen)
        else:
            seen = rows
        tensors[split] = TensorSplit(
            torch.from_numpy(inputs), torch.full((count,), length, dtype=torch.long), torch.from_numpy(targets)[:, None]
        ).to(device)
        constant = float(((targets - 1.0) ** 2).mean()) if count else None
        report["splits"][split] = {"sequences": count, "length": length, "baseline_mse": constant}
    sizes = {
        "features": 2,
        "length": data.length,
        **{f"{split}_size": len(tensors[split]) for split in tensors},
    }
    return Prepared(tensors, sizes, {**report, "sizes": {split: len(tensors[split]) for split in tensors}})


def describe(sizes: dict, report: dict) -> str:
    long = report["splits"]["long"]
    longer = f", and {long['sequences']:,} of {long['length']} steps" if long["sequences"] else ""
    return (
        f"generated {sizes['train_size']:,} / {sizes['validation_size']:,} / {sizes['test_size']:,} adding-problem "
        f"sequences of {sizes['length']} steps{longer}; predicting 1 scores MSE "
        f"{report['splits']['test']['baseline_mse']:.3f} on the test set"
    )


def data_table(report: dict, title: str) -> Table:
    rows = [
        [
            split,
            f"{row['sequences']:,}",
            str(row["length"]),
            "-" if row["baseline_mse"] is None else f"{row['baseline_mse']:.4f}",
        ]
        for split, row in report["splits"].items()
    ]
    return Table(
        title,
        ["split", "sequences", "steps", "predict-1 MSE"],
        rows,
        right={1, 2, 3},
        notes=[
            "each split drawn from its own stream of the seed; sequences a training one repeats (checked): "
            + ", ".join(f"{pair} {count}" for pair, count in report["overlap"].items())
        ],
    )


# ------------------------------------------------------------------------------------ model and scores


def model_sizes(data: Data, source: None, seed: int) -> dict:
    return {"features": 2}


def build(model: ModelSpec, data: Data, sizes: dict) -> tuple[str, dict]:
    return architectures.forecaster_arguments(model, (), sizes["features"], 1)


def validator(prepared: Prepared):
    """Each epoch's validation score: (no accuracy, the validation MSE)."""
    from rnnbench.train import loss_only

    return loss_only


def score(model: torch.nn.Module, prepared: Prepared, spec) -> tuple[dict, dict]:
    """Each split's MSE and the constant predictor's; `test_solved` 1 where the test MSE is below SOLVED."""
    from rnnbench.train import outputs

    scores = {}
    for split, tensors in prepared.tensors.items():
        found = outputs(model, tensors)[1] if len(tensors) else None
        scores[f"{split}_mse"] = found
        scores[f"{split}_baseline_mse"] = prepared.report["splits"][split]["baseline_mse"]
    scores["test_solved"] = float(scores["test_mse"] < SOLVED)
    return scores, {}


def model_info(prepared: Prepared, data: Data) -> dict:
    return {"length": data.length}


class AddingPredictor:
    """Answers from an adding-problem run: values separated by spaces, the two to add marked with a star."""

    def __init__(self, model: torch.nn.Module, length: int):
        self.model, self.length = model.eval(), length

    def predict(self, texts: list[str], top_k: int = 1, where: list[str] | None = None) -> list[dict]:
        """Example: ['0.3 0.9* 0.4 0.5*'] -> [{'input': ..., 'output': 1.39, 'sum': 1.4}] from a model that learned to
        add; `notes` where the length is not the one trained on."""
        import torch

        where = where or [f"sequence {position}" for position in range(1, len(texts) + 1)]
        answers = []
        for text, name in zip(texts, where):
            steps = self._parse(text, name)
            window = torch.tensor(steps, dtype=torch.float32)[None]
            with torch.no_grad():
                value = float(self.model(window, torch.tensor([len(steps)]))[0][0, 0])
            answer = {"input": text, "output": round(value, 4), "sum": round(sum(v for v, m in steps if m), 6)}
            if len(steps) != self.length:
                answer["notes"] = [f"{len(steps)} steps; the model trained on {self.length}: the answer says less"]
            answers.append(answer)
        return answers

    @staticmethod
    def _parse(text: str, name: str) -> list[tuple[float, float]]:
        parts = text.split()
        if not parts:
            raise RnnbenchError(f"{name} ({text!r}): empty; give values such as '0.3 0.9* 0.4 0.5*'")
        if len(parts) < 2 or len(parts) > LONGEST_PREDICT:
            raise RnnbenchError(f"{name}: give 2 to {LONGEST_PREDICT:,} values such as '0.3 0.9* 0.4 0.5*'")
        steps = []
        for part in parts:
            value = numbers.finite_number(part.removesuffix("*"), f"{name}: value {len(steps) + 1}")
            steps.append((value, 1.0 if part.endswith("*") else 0.0))
        if sum(marker for _, marker in steps) != 2:
            raise RnnbenchError(f"{name}: mark exactly two values to add with a star, as in '0.3 0.9* 0.4 0.5*'")
        return steps


def predictor(state_dict: dict, info: dict, where: Path) -> AddingPredictor:
    return AddingPredictor(shared.model_from_run(model_classes(), state_dict, info, where), int(info["length"]))


def candidates(records: list) -> tuple[list, list[str]]:
    return records, [f"{len(records)} adding runs"]


show_tables, report_errors, plots = shared.show_tables, shared.report_errors, shared.plots


def report_data(records: list, load_report) -> list[str]:
    data = records[0].spec.data
    longer = f", and {data.long_samples:,} of {data.long_length} steps never trained on" if data.long_length else ""
    what = (
        f"The adding problem, generated from each seed: {data.train_samples:,} / {data.validation_samples:,} / "
        f"{data.test_samples:,} train / validation / test sequences of {data.length} (value, marker) steps{longer}. "
        f"Solved: a test MSE below {SOLVED} (predicting 1 scores about 1/6 ≈ 0.167)."
    )
    return shared.report_data(records, load_report, what, data_table)
