"""What sequence-to-sequence tasks share (the reversal task today): the exact-sequence score each epoch watches,
every split's scores (exact and token accuracy, exact accuracy per length, the MSE of answers read as numbers),
the predictor that answers symbol sequences, and exact accuracy by length in `show`, `report` and the plots.

`prepared` is such a task's Prepared: .tensors by split and .max_steps (the most output steps per split).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench import metrics
from rnnbench.errors import RnnbenchError, describing_weights, load_weights
from rnnbench.views import Table, to_markdown

if TYPE_CHECKING:  # torch, the models and training are imported where a model is built, trained or read:
    import torch  # reading an experiment's `data:` section or its runs' scores needs none of them

MAX_SYMBOLS = 100  # the longest sequence `predict` reads


def model_classes() -> dict[str, type]:
    """Class name (as build returns it and model.json records it) -> model class."""
    from rnnbench import sequence_models

    return sequence_models.ARCHITECTURES


def validator(prepared):
    """The per-epoch validation score: (exact-sequence accuracy, teacher-forced loss)."""
    import torch

    from rnnbench import sequence_models

    def exact_and_loss(model, split):
        predictions, _ = sequence_models.answer(model, split.tokens, split.lengths, prepared.max_steps["validation"])
        with torch.no_grad():
            loss = model.eval()(split.tokens, split.lengths, split.targets)[1].item()
        model.train()
        return metrics.sequence_scores(predictions, split.targets, split.lengths)["exact_accuracy"], loss

    return exact_and_loss


def score(model: torch.nn.Module, prepared, spec) -> tuple[dict, dict]:
    from rnnbench import sequence_models

    scores = {}
    for name, split in prepared.tensors.items():
        if len(split) == 0:  # no validation split, or no longer test set
            scores |= {
                f"{name}_accuracy": None,
                f"{name}_token_accuracy": None,
                f"{name}_accuracy_by_length": None,
                f"{name}_mse": None,
            }
            continue
        predictions, values = sequence_models.answer(model, split.tokens, split.lengths, prepared.max_steps[name])
        found = metrics.sequence_scores(predictions, split.targets, split.lengths)
        scores |= {
            f"{name}_accuracy": found["exact_accuracy"],
            f"{name}_token_accuracy": found["token_accuracy"],
            f"{name}_accuracy_by_length": found["exact_by_length"],
            f"{name}_mse": metrics.sequence_mse(values, split.targets, width=prepared.max_steps[name] - 1),
        }
    return scores | {"test_macro_f1": None}, {}  # accuracy here is exact-sequence accuracy; macro-F1 does not apply


class SequencePredictor:
    """Answers from a reversal run: symbols separated by spaces in, the model's output sequence out."""

    def __init__(self, model: torch.nn.Module, symbols: int, longest: int | None = None):
        self.model, self.symbols = model.eval(), symbols  # the symbols it reads
        self.longest = longest  # the longest training sequence (None: an older run recorded none)

    @classmethod
    def from_files(cls, state_dict: dict, info: dict, where: Path) -> SequencePredictor:
        from rnnbench import architectures

        with describing_weights(where):
            arguments = architectures.current_arguments(info["architecture"], info["arguments"])
            model = model_classes()[info["architecture"]](**arguments)
            load_weights(model, state_dict, where)
        return cls(model, int(model.source_symbols), info.get("longest_input"))

    def predict(self, texts: list[str], top_k: int = 1, where: list[str] | None = None) -> list[dict]:
        """Example: ['3 7 2'] -> [{'input': '3 7 2', 'output': '2 7 3'}] from a model that learned to reverse; a
        regression model adds the raw 'values' its answer was rounded from; a sequence longer than any trained on,
        `notes`. `where` names each text in errors."""
        import torch

        from rnnbench import sequence_models

        where = where or [f"sequence {position}" for position in range(1, len(texts) + 1)]
        sequences = [self._parse(text, name) for text, name in zip(texts, where)]
        lengths = torch.tensor([len(sequence) for sequence in sequences])
        tokens = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            tokens[row, : len(sequence)] = torch.tensor(sequence)
        outputs, values = sequence_models.answer(self.model, tokens, lengths, max_steps=int(lengths.max()) + 1)
        regression = getattr(self.model, "regression", False)
        # a token model's answer ends at PAD; a regression model answers one rounded value per step, 0 included
        answers = [
            {
                "input": text,
                "output": " ".join(
                    str(i)
                    for i in (row.tolist()[: len(sequence)] if regression else [i for i in row.tolist() if i != 0])
                ),
            }
            for text, sequence, row in zip(texts, sequences, outputs)
        ]
        if regression:  # the raw numbers the rounded answer came from
            for answer, sequence, row in zip(answers, sequences, values.tolist()):
                answer["values"] = [round(value, 4) for value in row[: len(sequence)]]
        for answer, sequence in zip(answers, sequences):
            if self.longest is not None and len(sequence) > self.longest:
                answer["notes"] = [
                    f"{len(sequence)} symbols, longer than any sequence this model trained on ({self.longest} at "
                    "most): the answer says less"
                ]
        return answers

    def _parse(self, text: str, name: str) -> list[int]:
        parts = text.replace(",", " ").split()
        if not parts:
            raise RnnbenchError(f"{name} ({text!r}): empty; give symbols such as '3 7 2'")
        if len(parts) > MAX_SYMBOLS:
            raise RnnbenchError(f"{name}: {len(parts)} symbols; more than {MAX_SYMBOLS} are refused")
        for part in parts:
            if not (part.isdigit() and 1 <= int(part) <= self.symbols):
                raise RnnbenchError(f"{name} ({text!r}): {part!r} is not a symbol 1..{self.symbols}")
        return [int(part) for part in parts]


def by_length_table(record) -> Table:
    found = metrics.exact_by_length(record.details)
    return Table(
        "exact % by length", ["length", "exact %"], [[str(n), f"{100 * v:.1f}"] for n, v in found.items()], right={0, 1}
    )


def show_tables(record, predictions: list[dict] | None, top: int) -> list[Table]:
    return [by_length_table(record)]


def report_errors(best_variant: str, best_records: list, records: list, load_predictions) -> list[str]:
    """Markdown: exact accuracy per length, mean over seeds, a row per variant."""
    import pandas as pd  # here, not at the top: `predict` and `--help` need no pandas

    per_variant = {}
    for record in records:
        per_variant.setdefault(record.spec.variant, []).append(metrics.exact_by_length(record.details))
    columns = sorted({length for seeds in per_variant.values() for seed in seeds for length in seed})
    rows = []
    for variant, seeds in per_variant.items():
        means = [pd.Series([seed.get(length) for seed in seeds], dtype=float).mean() for length in columns]
        rows.append([variant, *("-" if pd.isna(m) else f"{100 * m:.1f}" for m in means)])
    table = Table("", ["variant", *map(str, columns)], rows, right=set(range(1, len(columns) + 1)))
    return [
        "## Exact accuracy by length",
        "",
        "Mean over seeds, % (lengths beyond the training range were never seen in training).",
        "",
    ] + to_markdown(table)


def plots(
    experiment: str,
    best_variant: str,
    best_records: list,
    stem: str,
    records_of: dict,
    styles: dict,
    load_report,
    load_predictions,
) -> list:
    from rnnbench.figures import accuracy_by_length

    per_length = {variant: [metrics.exact_by_length(r.details) for r in found] for variant, found in records_of.items()}
    data = best_records[0].spec.data
    figure = accuracy_by_length(per_length, (data.min_length, data.max_length), styles, title=experiment)
    return [(figure, f"{stem}-accuracy-by-length.png")]
