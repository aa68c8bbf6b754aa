"""Copy memory: can a recurrent network hold 10 symbols across T blank steps and write them out when asked?
(Hochreiter & Schmidhuber 1997; the form of Arjovsky, Shah & Bengio 2016 and Bai, Kolter & Koltun 2018.)

Data (data/memory.py): 10 symbols from an alphabet of 8, T - 1 blanks, then 11 delimiters (T + 20 steps); the
answer is a blank at every step but the last 10, which repeat the 10 symbols. Train, validation and test sets are
drawn from their own streams of the seed with no symbol string in two splits, and an optional longer test set
(`long_length`) no model trains on. Models (sequence_models.py): the reversal task's tagger, one answer per input
step. Scores: the cross-entropy per step (what the models train on; Bai et al.'s reported loss) beside the
memoryless baseline's, 10 log 8 / (T + 20); the share of test sequences copied exactly, and of the 10 symbols
copied right; `solved`: at least SOLVED (99%) of the test sequences copied exactly. `predict` copies symbols 1-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rnnbench import architectures
from rnnbench.data import memory
from rnnbench.data.batches import TensorSplit
from rnnbench.errors import RnnbenchError
from rnnbench.fields import BASELINE_FIELDS, CLASSIFIER_ONLY, ModelSpec, is_default
from rnnbench.metrics import Metric
from rnnbench.tasks import memory as shared
from rnnbench.views import Table

if TYPE_CHECKING:  # torch and the models are imported where a model is built, trained or read
    import torch

ARCHITECTURES = ("tagger",)  # one answer per input step
VALIDATION_FIELD = "validation_samples"
MODEL_SIZES = ("symbols",)
READ_ON_VALIDATE = False
BASELINES = ()  # the memoryless baseline is computed in closed form beside every run (test_baseline_loss)
SCORED_BESIDE = ()
NO_LOSS = ()
INPUT_FIELDS = {}
PREDICT_BY_DEFAULT = False
MODEL_COLUMN = "answer"
SOLVED = 0.99  # a run solved copy memory when it copies at least this share of the test sequences exactly
WATCH = ("validation_loss", "min")  # the cross-entropy per step
RANK = ("validation_loss", "min")
METRICS = {
    "test_loss": Metric("CE / step (test)", 1, 4, False),
    "test_solved": Metric("solved %", 100, 0, True, high=1.0),
    "test_accuracy": Metric("copied % (test)", 100, 1, True),
    "test_symbol_accuracy": Metric("symbols %", 100, 1, True),
    "long_accuracy": Metric("copied % (longer)", 100, 1, True),
    "test_baseline_loss": Metric("memoryless CE / step", 1, 4, False),
    "validation_loss": Metric("validation CE / step", 1, 4, False),
}
COLUMNS = ("test_loss", "test_solved", "test_accuracy", "test_symbol_accuracy", "long_accuracy", "test_baseline_loss")
RECORDS = {"test_loss": (int, float, type(None))}
SHOW_SCORES = (("loss", "CE / step", 1), ("accuracy", "copied %", 100), ("symbol_accuracy", "symbols %", 100))
SHOW_SPLITS = ("train", "validation", "test", "long")


def model_classes() -> dict[str, type]:
    from rnnbench import sequence_models

    return sequence_models.ARCHITECTURES


class Data(shared.Sizes):
    """Generated copy-memory sequences (data/memory.py): T = `length` blanks between the symbols and the
    delimiters; `long_length`, a test set of longer gaps never trained on."""

    dataset: Literal["copy"]


def canonical(model: ModelSpec) -> ModelSpec:
    return model.model_copy(update={"architecture": ARCHITECTURES[0]}) if model.architecture is None else model


def problems(data: Data, variants: dict[str, ModelSpec]) -> list[str]:
    found = shared.long_length_problem(data)
    strings = data.train_samples + data.validation_samples + data.test_samples + (data.long_samples or 0)
    if strings > memory.ALPHABET**memory.COPIED // 100:
        found.append(f"data.train_samples: {strings:,} distinct symbol strings asked for; ask for fewer")
    for name, model in variants.items():
        if model.architecture not in (None, *ARCHITECTURES) or model.cell in BASELINE_FIELDS:
            found.append(
                f"variant {name}: copy memory needs a recurrent tagger, one answer per step (architecture tagger; "
                f"got {model.architecture or 'tagger'}, cell {model.cell})"
            )
        found += [
            f"variant {name}: {field}: only for the names task"
            for field in CLASSIFIER_ONLY
            if not is_default(model, field)
        ]
        if model.regression:
            found.append(f"variant {name}: regression: copy memory answers symbols, not values")
    return found


def watch(data: Data) -> tuple[str, str]:
    return WATCH


def show_scores(record) -> tuple[tuple, tuple]:
    return SHOW_SCORES, SHOW_SPLITS


def describe_model(model: ModelSpec) -> tuple[str, str]:
    return f"embedding {model.embedding_dim or 16}", "a symbol per step"


# ------------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Prepared:
    tensors: dict[str, TensorSplit]
    sizes: dict
    report: dict


load, fingerprint = shared.load, shared.fingerprint


def prepare(data: Data, source: None, seed: int, device: torch.device) -> Prepared:
    import torch

    counts = shared.splits(data)
    taken: set = set()  # no symbol string in two splits
    tensors, report = {}, {"splits": {}}
    for split, (count, length) in counts.items():
        before = len(taken)
        inputs, targets = memory.copy(count, length, memory.generator(seed, "copy", split), taken)
        steps = torch.full((count,), length + 2 * memory.COPIED, dtype=torch.long)
        tensors[split] = TensorSplit(torch.from_numpy(inputs), steps, torch.from_numpy(targets)).to(device)
        report["splits"][split] = {
            "sequences": count,
            "length": length,
            "baseline_loss": memory.memoryless_cross_entropy(length),
            "new_strings": len(taken) - before,
        }
    report["sizes"] = {split: len(tensors[split]) for split in tensors}
    report["overlap"] = {  # every string drawn is new to `taken`, so no split repeats another's
        f"train-{split}": report["splits"][split]["sequences"] - report["splits"][split]["new_strings"]
        for split in ("validation", "test", "long")
    }
    sizes = {"symbols": memory.DELIMITER, **{f"{split}_size": len(tensors[split]) for split in tensors}}
    return Prepared(tensors, {**sizes, "length": data.length}, report)


def describe(sizes: dict, report: dict) -> str:
    long = report["splits"]["long"]
    longer = f", and {long['sequences']:,} with {long['length']} blanks" if long["sequences"] else ""
    return (
        f"generated {sizes['train_size']:,} / {sizes['validation_size']:,} / {sizes['test_size']:,} copy-memory "
        f"sequences with {sizes['length']} blanks{longer}, no symbol string in two splits; the memoryless "
        f"baseline scores {report['splits']['test']['baseline_loss']:.4f} per step"
    )


def data_table(report: dict, title: str) -> Table:
    rows = [
        [split, f"{row['sequences']:,}", str(row["length"]), f"{row['baseline_loss']:.4f}"]
        for split, row in report["splits"].items()
    ]
    return Table(
        title,
        ["split", "sequences", "blanks (T)", "memoryless CE / step"],
        rows,
        right={1, 2, 3},
        notes=["each split drawn from its own stream of the seed; no 10-symbol string is in two splits (checked)"],
    )


# ------------------------------------------------------------------------------------ model and scores


def model_sizes(data: Data, source: None, seed: int) -> dict:
    return {"symbols": memory.DELIMITER}


def build(model: ModelSpec, data: Data, sizes: dict) -> tuple[str, dict]:
    # ids 1..10 in (blank, 8 symbols, delimiter); 1..9 out (blank, 8 symbols)
    return architectures.sequence_arguments(
        model,
        "tagger",
        source_symbols=sizes["symbols"],
        target_symbols=memory.DELIMITER - 1,
        one_vocabulary=False,
        length=data.length + 2 * memory.COPIED,
    )


def validator(prepared: Prepared):
    from rnnbench.train import loss_only

    return loss_only


def score(model: torch.nn.Module, prepared: Prepared, spec) -> tuple[dict, dict]:
    """Per split: the cross-entropy per step, the share of sequences copied exactly and of symbols copied right
    (the last 10 steps), the memoryless baseline; `test_solved` 1 where at least SOLVED are copied exactly."""
    from rnnbench import sequence_models
    from rnnbench.train import outputs

    scores = {}
    for split, tensors in prepared.tensors.items():
        if len(tensors) == 0:
            scores |= {f"{split}_{name}": None for name in ("loss", "accuracy", "symbol_accuracy", "baseline_loss")}
            continue
        answers, _ = sequence_models.answer(model, tensors.tokens, tensors.lengths, tensors.tokens.shape[1])
        copied = answers[:, -memory.COPIED :].cpu() == tensors.targets[:, -memory.COPIED :].cpu()
        scores |= {
            f"{split}_loss": outputs(model, tensors)[1],
            f"{split}_accuracy": float(copied.all(dim=1).float().mean()),
            f"{split}_symbol_accuracy": float(copied.float().mean()),
            f"{split}_baseline_loss": prepared.report["splits"][split]["baseline_loss"],
        }
    scores["test_solved"] = float(scores["test_accuracy"] >= SOLVED)
    return scores, {}


def model_info(prepared: Prepared, data: Data) -> dict:
    return {"length": data.length}


class CopyPredictor:
    """Answers from a copy-memory run: 10 symbols (1-8) in, the 10 the model writes after T blanks out."""

    def __init__(self, model: torch.nn.Module, length: int):
        self.model, self.length = model.eval(), length

    def predict(self, texts: list[str], top_k: int = 1, where: list[str] | None = None) -> list[dict]:
        """Example: ['3 1 4 1 5 2 6 5 3 5'] -> [{'input': ..., 'output': '3 1 4 1 5 2 6 5 3 5'}] from a model that
        learned to copy."""
        import numpy as np
        import torch

        from rnnbench import sequence_models

        where = where or [f"sequence {position}" for position in range(1, len(texts) + 1)]
        answers = []
        for text, name in zip(texts, where):
            symbols = self._parse(text, name)
            inputs, _ = memory.copy(1, self.length, np.random.default_rng(0))
            inputs[0, : memory.COPIED] = np.array(symbols) + memory.FIRST_SYMBOL - 1
            tokens = torch.from_numpy(inputs)
            ids, _ = sequence_models.answer(self.model, tokens, torch.tensor([tokens.shape[1]]), tokens.shape[1])
            written = ids[0, -memory.COPIED :].tolist()
            shown = [str(i - memory.FIRST_SYMBOL + 1) if i >= memory.FIRST_SYMBOL else "_" for i in written]
            answers.append({"input": text, "output": " ".join(shown)})
        return answers

    @staticmethod
    def _parse(text: str, name: str) -> list[int]:
        parts = text.replace(",", " ").split()
        if not parts:
            raise RnnbenchError(f"{name} ({text!r}): empty; give {memory.COPIED} symbols such as '3 1 4 1 5 2 6 5 3 5'")
        if len(parts) != memory.COPIED or not all(p.isdigit() and 1 <= int(p) <= memory.ALPHABET for p in parts):
            raise RnnbenchError(
                f"{name} ({text[:60]!r}): give {memory.COPIED} symbols from 1 to {memory.ALPHABET}, such as "
                "'3 1 4 1 5 2 6 5 3 5'"
            )
        return [int(part) for part in parts]


def predictor(state_dict: dict, info: dict, where: Path) -> CopyPredictor:
    return CopyPredictor(shared.model_from_run(model_classes(), state_dict, info, where), int(info["length"]))


def candidates(records: list) -> tuple[list, list[str]]:
    return records, [f"{len(records)} copy-memory runs"]


show_tables, report_errors, plots = shared.show_tables, shared.report_errors, shared.plots


def report_data(records: list, load_report) -> list[str]:
    data = records[0].spec.data
    longer = f", and {data.long_samples:,} with {data.long_length} never trained on" if data.long_length else ""
    what = (
        f"Copy memory, generated from each seed: {data.train_samples:,} / {data.validation_samples:,} / "
        f"{data.test_samples:,} train / validation / test sequences of 10 symbols, {data.length} blanks and 11 "
        f"delimiters{longer}. Solved: at least {SOLVED:.0%} of the test sequences copied exactly; the memoryless "
        f"baseline scores {memory.memoryless_cross_entropy(data.length):.4f} per step."
    )
    return shared.report_data(records, load_report, what, data_table)
