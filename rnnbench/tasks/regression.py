"""What every text → number task shares (a CSV with `target: number`): tensors of float targets, optionally
scaled with the training split's mean and spread, a recurrent regressor, its scores in the target's units beside
a mean-predictor baseline, and answering texts with a number.

Not a task itself: task modules call it with their own data and tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnbench import architectures, metrics
from rnnbench.data.batches import TensorSplit
from rnnbench.data.names import SPLITS, describe_overlap
from rnnbench.errors import RnnbenchError, describing_weights, load_weights
from rnnbench.fields import ModelSpec
from rnnbench.metrics import Metric
from rnnbench.views import Table

if TYPE_CHECKING:  # torch, the models and training are imported where a model is built, trained or read:
    import torch  # reading an experiment's `data:` section or its runs' scores needs none of them

WATCH = ("validation_loss", "min")  # early stopping keeps the epoch with the lowest validation MSE
SCORES = ("mse", "rmse", "mae", "r2", "spearman")
METRICS = {
    "test_rmse": Metric("RMSE (test)", 1, 3, False),
    "test_baseline_rmse": Metric("mean-baseline RMSE", 1, 3, False),
    "test_mae": Metric("MAE (test)", 1, 3, False),
    "test_r2": Metric("R² (test)", 1, 3, True, low=None, high=1.0),
    "test_spearman": Metric("Spearman ρ (test)", 1, 3, True, low=-1.0, high=1.0),
    "test_baseline_mae": Metric("mean-baseline MAE", 1, 3, False),
    "validation_loss": Metric("validation loss", 1, 4, False),
}
COLUMNS = ("test_rmse", "test_baseline_rmse", "test_mae", "test_r2", "test_spearman")
SHOW_SCORES = (
    ("rmse", "RMSE", 1),
    ("mae", "MAE", 1),
    ("r2", "R²", 1),
    ("spearman", "Spearman ρ", 1),
    ("loss", "loss", 1),
)
SHOW_SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Prepared:
    splits: object  # data.text.NumberSplits: (text, value) examples per split and the data report
    encoder: object  # a Tokenizer: .size and .encode(texts) -> (tokens, lengths)
    tensors: dict[str, TensorSplit]  # float targets, scaled; on the training device
    sizes: dict
    shift: float  # a target is trained on as (value - shift) / spread; answers are scaled back
    spread: float
    budget_vocab_size: int

    @property
    def report(self) -> dict:
        return self.splits.report


def scaling(splits, scale: str) -> tuple[float, float, np.ndarray]:
    """(shift, spread, the training targets): with scale "standard", the training split's mean and standard
    deviation (fitted on training alone, so nothing of the test split leaks into training), else (0, 1). Raises
    RnnbenchError for targets too large to train on."""
    train_values = np.array([value for _, value in splits.train], dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below, in words
        shift, spread = (
            (float(train_values.mean()), float(train_values.std()) or 1.0) if scale == "standard" else (0.0, 1.0)
        )
        squares = np.square((train_values - shift) / spread).sum()  # what the loss sums
    if not (np.isfinite(shift) and np.isfinite(spread) and np.isfinite(squares)):
        raise RnnbenchError(
            f"the training targets are too large to train on (their mean or spread overflows a float: "
            f"largest {np.abs(train_values).max():.3g}); rescale the target column"
        )
    return shift, spread, train_values


def prepare(splits, encoder, device: torch.device, scale: str, budget_vocab_size: int, sizes: dict) -> Prepared:
    """Encode each split once, its targets scaled (scaling)."""
    shift, spread, train_values = scaling(splits, scale)
    import torch

    tensors = {}
    for split in SPLITS:
        examples = getattr(splits, split)
        tokens, lengths = encoder.encode([text for text, _ in examples])
        targets = (torch.tensor([value for _, value in examples], dtype=torch.float32) - shift) / spread
        tensors[split] = TensorSplit(tokens, lengths, targets).to(device)
    sizes = {
        **model_sizes(encoder, budget_vocab_size, sizes),
        "max_length": max(t.tokens.shape[1] for t in tensors.values()),
        **{f"{split}_size": size for split, size in splits.report["sizes"].items()},
        "duplicates_removed": splits.report["duplicates_removed"],
        "conflicting_texts": splits.report["conflicting_texts"],
        "target_mean": float(train_values.mean()),
        "target_std": float(train_values.std()),
        "target_shift": shift,
        "target_spread": spread,
    }
    return Prepared(splits, encoder, tensors, sizes, shift, spread, budget_vocab_size)


def model_sizes(encoder, budget_vocab_size: int, sizes: dict) -> dict:
    """What the data decided that shapes the models (`build` reads it), without tensors: the vocabulary."""
    return {"vocab_size": encoder.size, "corpus_vocab_size": budget_vocab_size, **sizes}


def build(model: ModelSpec, sizes: dict, vocab_size: int | None = None) -> tuple[str, dict]:
    """(architecture, arguments) of a recurrent regressor: the classifier's encoder and head with one output."""
    hidden = model.hidden_size
    if model.param_budget:
        hidden = architectures.size_for_budget(
            lambda size: architectures.model_arguments(
                model, sizes["corpus_vocab_size"], 1, [1.0], hidden_size=size, regression=True
            ),
            model.param_budget,
        )
    return architectures.model_arguments(
        model, vocab_size or sizes["vocab_size"], 1, [1.0], hidden_size=hidden, regression=True
    )


def validator(prepared: Prepared) -> Callable:
    """The per-epoch validation score: (no accuracy, the mean squared error on the scaled targets)."""

    from rnnbench.train import outputs

    def loss(model, split):
        return None, outputs(model, split)[1]

    return loss


def predicted(model: torch.nn.Module, prepared: Prepared, split: TensorSplit) -> tuple[np.ndarray, float]:
    """(answers in the target's units, the mean training loss on the split)."""
    from rnnbench.train import outputs

    values, loss = outputs(model, split)
    return values.squeeze(-1).double().numpy() * prepared.spread + prepared.shift, loss


def score(model: torch.nn.Module, prepared: Prepared, spec, columns: tuple[str, str]) -> tuple[dict, dict]:
    """Every split's MSE, RMSE, MAE, R², Spearman ρ (target units) and loss; the mean predictor's test MSE, RMSE
    and MAE (it answers the training split's mean for every text); one predictions row per test example."""
    scores, rows = {}, []
    mean = float(np.mean([value for _, value in prepared.splits.train]))
    for split_name in SPLITS:
        split = prepared.tensors[split_name]
        if len(split) == 0:
            scores |= {f"{split_name}_{name}": None for name in (*SCORES, "loss")}
            continue
        answers, loss = predicted(model, prepared, split)
        truth = np.array([value for _, value in getattr(prepared.splits, split_name)])
        scores |= {f"{split_name}_{name}": value for name, value in metrics.regression_scores(answers, truth).items()}
        scores[f"{split_name}_loss"] = loss
        if split_name == "test":
            baseline = metrics.regression_scores(np.full_like(truth, mean), truth)
            scores |= {f"test_baseline_{name}": baseline[name] for name in ("mse", "rmse", "mae")}
            item, target = columns
            rows = [
                {item: text, target: value, "predicted": float(answer)}
                for (text, value), answer in zip(prepared.splits.test, answers)
            ]
    return scores, {"predictions": rows}


class Predictor:
    """Answers texts with a number, in the target's units, from a trained regressor."""

    def __init__(
        self,
        model: torch.nn.Module,
        encoder,
        clean: Callable[[str], str],
        shift: float,
        spread: float,
        max_length: int,
        longest: int | None = None,
    ):
        self.model, self.encoder, self.clean = model.eval(), encoder, clean
        self.shift, self.spread, self.max_length = shift, spread, max_length
        self.longest = longest  # the longest training input, in tokens (None: an older run recorded none)

    @classmethod
    def from_files(
        cls,
        state_dict: dict,
        info: dict,
        where: Path,
        encoder_of: Callable[[dict], object],
        clean: Callable[[str], str],
        max_length: int,
    ) -> Predictor:
        from rnnbench.tasks.classification import model_classes

        with describing_weights(where):
            model = model_classes()[info["architecture"]](**info["arguments"])
            load_weights(model, state_dict, where)
            encoder, shift, spread = encoder_of(info), float(info["target_shift"]), float(info["target_spread"])
        return cls(model, encoder, clean, shift, spread, max_length, info.get("longest_input"))

    def predict(self, texts: list[str], top_k: int = 1, where: list[str] | None = None) -> list[dict]:
        """Example: ['wonderful'] -> [{'input': 'wonderful', 'value': 2.7}]. `where` names each text in errors;
        unseen characters (or words) and `notes` on a text longer than any trained on are added as a classifier's."""
        import torch

        from rnnbench.tasks.classification import cleaned_inputs, longer_note, unit, unknown, unseen_key

        cleaned = cleaned_inputs(texts, self.clean, "text", self.max_length, where)
        tokens, lengths = self.encoder.encode(cleaned)
        with torch.no_grad():
            values = self.model.eval()(tokens, lengths)[0].squeeze(-1).double() * self.spread + self.shift
        answers = [{"input": text, "value": float(value)} for text, value in zip(texts, values.tolist())]
        for answer, item, length in zip(answers, cleaned, lengths.tolist()):
            unseen = unknown(self.encoder, item)
            if unseen:
                answer[unseen_key(self.encoder)] = unseen
            if self.longest is not None and length > self.longest:
                answer["notes"] = [longer_note(length, self.longest, unit(self.encoder), "text")]
        return answers


def show_tables(record, predictions: list[dict] | None, columns: tuple[str, str], top: int) -> list[Table | str]:
    """The mean predictor beside the scores, and the test texts answered worst."""
    found = []
    if record.scores.get("test_baseline_rmse") is not None:
        found.append(
            f"mean predictor (always the training split's mean, {record.data.get('target_mean', float('nan')):.3f}): "
            f"test RMSE {record.scores['test_baseline_rmse']:.3f}, MAE {record.scores['test_baseline_mae']:.3f}"
        )
    if predictions:
        found.append(worst_table(predictions, columns, top, "worst answered, test split"))
    return found


def worst_table(predictions: list[dict], columns: tuple[str, str], top: int, title: str) -> Table:
    """The `top` test examples answered furthest from their target, with the error (answer − target)."""
    item, target = columns
    worst = sorted(predictions, key=lambda row: -abs(float(row["predicted"]) - float(row[target])))[:top]
    return Table(
        title,
        [item, target, "predicted", "error"],
        [
            [
                row[item],
                f"{float(row[target]):.3f}",
                f"{float(row['predicted']):.3f}",
                f"{float(row['predicted']) - float(row[target]):+.3f}",
            ]
            for row in worst
        ],
        right={1, 2, 3},
    )


def report_errors(
    best_variant: str, best_records: list, predictions: list[list[dict] | None], columns: tuple[str, str]
) -> list[str]:
    """Markdown: the best variant's test texts answered worst, over all its seeds."""
    from rnnbench.views import to_markdown

    lines = ["## Errors worth looking at", ""]
    if any(rows is None for rows in predictions):
        return lines + ["(No test predictions recorded.)", ""]
    table = worst_table([row for seed_rows in predictions for row in seed_rows], columns, 15, "")
    seeds = f"{len(best_records)} seed{'s' if len(best_records) > 1 else ''}"
    return (
        lines
        + [f"The best variant, **{best_variant}**: the test texts it answered worst, over its {seeds}.", ""]
        + to_markdown(table)
    )


def data_table(report: dict, title: str) -> Table:
    """What deduplication, conflicting targets and the split did."""
    rows = [
        [
            f"{report['rows']:,}",
            f"{report['distinct']:,}",
            f"{report['duplicates_removed']:,}",
            f"{report['conflicting_texts']:,}",
            *(f"{report['sizes'][split]:,}" for split in SPLITS),
        ]
    ]
    notes = []
    if report["conflicting_texts"]:
        examples = "; ".join(
            f"{text}: {', '.join(f'{v:g}' for v in values)}" for text, values in report["conflict_examples"][:3]
        )
        treatment = "dropped" if report["conflicts_policy"] == "drop" else "kept, all in one split"
        many = report["conflicting_texts"] > 1
        notes.append(
            f"{report['conflicting_texts']:,} text{'s are' if many else ' is'} listed with different values "
            f"(e.g. {examples}): "
            f"{treatment} (conflicts: {report['conflicts_policy']})"
        )
    notes.append(describe_overlap(report, "text"))
    return Table(
        title,
        ["rows", "distinct texts", "duplicates removed", "conflicting", *SPLITS],
        rows,
        right=set(range(7)),
        notes=notes,
    )
