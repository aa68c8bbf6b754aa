"""What every text → class task shares (names, and a CSV with `target: class`): tensors of each split, the
classifier and baselines built from a variant, the scores, the errors worth reading, and answering texts.

Not a task itself: the task modules call it with their own data, their own tokenizer and their own words for
an example and its class ("name" and "language", or "text" and "label").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rnnbench import architectures, metrics
from rnnbench.data.batches import TensorSplit
from rnnbench.data.names import SPLITS, NamesSplits
from rnnbench.errors import RnnbenchError, describing_weights, load_weights
from rnnbench.fields import ModelSpec
from rnnbench.metrics import Metric

if TYPE_CHECKING:  # torch, the models and training are imported where a model is built, trained or read:
    import torch  # reading an experiment's `data:` section or its runs' scores needs none of them

WATCH = ("validation_accuracy", "max")  # early stopping keeps the epoch with the best validation accuracy


def watch(data) -> tuple[str, str]:
    return WATCH


MODEL_COLUMN = "head"  # what `validate` calls the part after the recurrent layers


def validator(prepared) -> Callable:
    """The per-epoch validation score: (accuracy, loss)."""
    from rnnbench.train import classification_score

    return classification_score


def model_classes() -> dict[str, type]:
    """Class name (as build returns it and model.json records it) -> model class."""
    from rnnbench import models

    return models.ARCHITECTURES


METRICS = {
    "test_accuracy": Metric("test acc %", 100, 1, True),
    "test_balanced_accuracy": Metric("balanced acc %", 100, 1, True),
    "test_macro_f1": Metric("macro-F1 %", 100, 1, True),
    "test_majority_accuracy": Metric("majority %", 100, 1, True),
    "validation_accuracy": Metric("validation acc %", 100, 1, True),
}
RECORDS = {"data.labels": list, "test_confusion_matrix": list, "test_accuracy": (int, float, type(None))}  # read back
COLUMNS = ("test_accuracy", "test_balanced_accuracy", "test_macro_f1", "test_majority_accuracy")
SCORES = ("accuracy", "balanced_accuracy", "macro_f1", "loss")
SHOW_SCORES = (
    ("accuracy", "accuracy %", 100),
    ("balanced_accuracy", "balanced acc %", 100),
    ("macro_f1", "macro-F1 %", 100),
    ("loss", "loss", 1),
)  # `show`: (score, header, scale)
SHOW_SPLITS = ("train", "validation", "test")


def show_scores(record) -> tuple[tuple, tuple]:
    """What `show` tabulates per split: ((score, header, scale), ...), and the splits."""
    return SHOW_SCORES, SHOW_SPLITS


@dataclass(frozen=True)
class Prepared:
    splits: NamesSplits  # examples (text, class index) per split, the labels, and the data report
    encoder: object  # a Vocab or a Tokenizer: .size and .encode(texts) -> (tokens, lengths)
    tensors: dict[str, TensorSplit]  # "train", "validation", "test", on the training device
    sizes: dict  # what the data decided, recorded in every run
    budget_vocab_size: int  # the vocabulary a parameter budget is solved against (the same for every seed)

    @property
    def report(self) -> dict:
        return self.splits.report

    @property
    def class_frequencies(self) -> list[float]:
        """Each class's share of the training split (what the majority baseline answers)."""
        return self.sizes["class_frequencies"]

    @property
    def majority_accuracy(self) -> float:
        """The test accuracy of always answering the training split's most frequent class."""
        majority = max(range(len(self.splits.labels)), key=self.class_frequencies.__getitem__)
        return (self.tensors["test"].targets.cpu() == majority).float().mean().item()


def encode(encoder, examples: list[tuple[str, int]]) -> TensorSplit:
    import torch

    tokens, lengths = encoder.encode([text for text, _ in examples])
    return TensorSplit(tokens, lengths, torch.tensor([label for _, label in examples], dtype=torch.long))


def model_sizes(splits: NamesSplits, encoder, budget_vocab_size: int, sizes: dict) -> dict:
    """What the data decided that shapes the models (`build` reads it), without tensors: the vocabulary, the
    classes and each one's share of the training split (what the majority baseline answers)."""
    counts = Counter(label for _, label in splits.train)
    total = max(sum(counts.values()), 1)
    return {
        "vocab_size": encoder.size,
        "corpus_vocab_size": budget_vocab_size,
        "num_classes": len(splits.labels),
        "labels": list(splits.labels),
        "class_frequencies": [counts[label] / total for label in range(len(splits.labels))],
        **sizes,
    }


def prepare(splits: NamesSplits, encoder, budget_vocab_size: int, sizes: dict, device: torch.device) -> Prepared:
    """Encode each split to tensors once and record what the data decided."""
    tensors = {split: encode(encoder, getattr(splits, split)).to(device) for split in SPLITS}
    per_class = splits.report["languages"].values()
    sizes = {
        **model_sizes(splits, encoder, budget_vocab_size, sizes),
        "max_length": max(t.tokens.shape[1] for t in tensors.values()),
        **{f"{split}_size": size for split, size in splits.report["sizes"].items()},
        "duplicates_removed": sum(r["duplicates_removed"] for r in per_class),
        "multi_language_names": splits.report["multi_language_names"],
        "multi_language_removed": sum(r["multi_language_removed"] for r in per_class),
    }
    return Prepared(splits, encoder, tensors, sizes, budget_vocab_size)


def build(model: ModelSpec, sizes: dict, vocab_size: int | None = None) -> tuple[str, dict]:
    """(architecture, constructor arguments) of a variant's classifier or baseline. A parameter budget is solved
    against the vocabulary of all splits, not this seed's training split, so that every seed of a variant trains
    the same hidden size (counts differ by a few weights)."""
    classes, frequencies = sizes["num_classes"], sizes["class_frequencies"]
    hidden = model.hidden_size
    if model.param_budget:
        hidden = architectures.size_for_budget(
            lambda size: architectures.model_arguments(
                model, sizes["corpus_vocab_size"], classes, frequencies, hidden_size=size
            ),
            model.param_budget,
        )
    return architectures.model_arguments(
        model, vocab_size or sizes["vocab_size"], classes, frequencies, hidden_size=hidden
    )


def score(model: torch.nn.Module, prepared: Prepared, spec, columns: tuple[str, str]) -> tuple[dict, dict]:
    """(the run's scores and details for metrics.json, its files: one predictions row per test example).

    `columns` names an example and its class in predictions.csv, e.g. ("name", "language")."""
    labels = list(prepared.splits.labels)
    scores, predictions = _scores(
        model,
        prepared.tensors,
        prepared.splits.test,
        len(labels),
        spec.train,
        by_name=getattr(spec.data, "split", "by_name") == "by_name",
        seed=spec.seed,
    )
    scores["test_majority_accuracy"] = prepared.majority_accuracy
    scores["test_per_class"] = metrics.per_class_scores(scores["test_confusion_matrix"], labels)
    scores["test_confused_pairs"] = metrics.confused_pairs(
        predictions["text"], [labels[i] for i in predictions["true"]], [labels[i] for i in predictions["predicted"]]
    )
    item, truth = columns
    rows = [
        {item: text, truth: labels[true], "predicted": labels[guess], "probability": p}
        for text, true, guess, p in zip(*predictions.values())
    ]
    return scores, {"predictions": rows}


def _scores(
    model: torch.nn.Module,
    splits: dict[str, TensorSplit],
    test_examples: list[tuple[str, int]],
    num_classes: int,
    train,
    *,
    by_name: bool,
    seed: int,
) -> tuple[dict, dict]:
    """(accuracy, balanced accuracy, macro-F1 and loss on every split (None for an empty one) and the test
    confusion matrix; the test predictions: text, true and predicted class, probability of the predicted one).

    With the eval_drop_last quirk each split is scored in batches of the training batch size, ignoring the
    last partial batch, as a PyTorch DataLoader with drop_last=True does (a split smaller than one batch is
    scored whole rather than not at all); the test predictions are those of the examples scored.
    """
    import torch

    from rnnbench.train import evaluate

    scores, predictions = {}, None
    for split_name, split in splits.items():
        if len(split) == 0:
            scores |= {f"{split_name}_{score}": None for score in SCORES}
            continue
        order = torch.arange(len(split))  # which examples are scored, in which order
        if train.eval_drop_last and len(split) >= train.batch_size:
            if by_name:  # stored class by class: shuffle (seeded) so the dropped tail is a random one
                order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))
            order = order[: (len(split) // train.batch_size) * train.batch_size]
            split = split.take(order)
        probabilities, predicted, loss = evaluate(
            model, split, batch_size=train.batch_size if train.eval_drop_last else None
        )
        targets = split.targets.cpu()
        scores[f"{split_name}_accuracy"] = metrics.accuracy(targets, predicted)
        scores[f"{split_name}_balanced_accuracy"] = metrics.balanced_accuracy(targets, predicted, num_classes)
        scores[f"{split_name}_macro_f1"] = metrics.macro_f1(targets, predicted, num_classes)
        scores[f"{split_name}_loss"] = loss
        if split_name == "test":
            scores["test_confusion_matrix"] = metrics.confusion_matrix(targets, predicted, num_classes).tolist()
            predictions = {
                "text": [test_examples[i][0] for i in order.tolist()],
                "true": targets.tolist(),
                "predicted": predicted.tolist(),
                "probability": probabilities.max(dim=-1).values.tolist(),
            }
    return scores, predictions


# ------------------------------------------------------------------------------------------ answering texts


class Predictor:
    """Ranks the classes of texts with a trained classifier: `clean` turns a text into what the model reads,
    `encoder` (a Vocab or a Tokenizer) into ids; `noun` names an input in messages ("name", "text")."""

    def __init__(
        self,
        model: torch.nn.Module,
        encoder,
        labels: list[str],
        clean: Callable[[str], str],
        noun: str,
        max_length: int,
        longest: int | None = None,
    ):
        self.model, self.encoder, self.labels, self.clean = model.eval(), encoder, labels, clean
        self.noun, self.max_length, self.longest = noun, max_length, longest  # longest: of the training inputs

    @classmethod
    def from_files(
        cls,
        state_dict: dict,
        info: dict,
        where: Path,
        encoder_of: Callable[[dict], object],
        clean: Callable[[str], str],
        noun: str,
        max_length: int,
    ) -> Predictor:
        import torch

        models = model_classes()
        if info.get("architecture") not in models:
            raise RnnbenchError(f"{where}: architecture {info.get('architecture')!r} is not a classifier")
        with describing_weights(where):
            model = models[info["architecture"]](**info["arguments"])
            load_weights(model, state_dict, where)
            encoder, labels = encoder_of(info), list(info["labels"])
        with torch.no_grad():
            classes = model.eval()(*encoder.encode(["a"]))[0].shape[-1]
        if len(labels) != classes:
            raise RnnbenchError(f"{where}: {len(labels)} labels for a model of {classes} classes")
        return cls(model, encoder, labels, clean, noun, max_length, info.get("longest_input"))

    def predict(self, texts: list[str], top_k: int = 3, where: list[str] | None = None) -> list[dict]:
        """Example: ['Tribbiani'] ->
        [{'input': 'Tribbiani', 'predictions': [{'label': 'Italian', 'probability': 0.99}, …]}].
        `where` names each text in errors (default 'name 1', 'name 2', ...). An answer adds what the model never
        saw: the characters (or words) it reads as unknown, and `notes` on an input longer than any it trained on."""
        from rnnbench import models

        cleaned = cleaned_inputs(texts, self.clean, self.noun, self.max_length, where)
        tokens, lengths = self.encoder.encode(cleaned)
        probabilities = models.probabilities(self.model, tokens, lengths)  # without gradients
        top = probabilities.topk(min(top_k, len(self.labels)), dim=-1)
        answers = [
            {
                "input": text,
                "predictions": [
                    {"label": self.labels[i], "probability": p} for p, i in zip(values.tolist(), indices.tolist())
                ],
            }
            for text, values, indices in zip(texts, top.values, top.indices)
        ]
        for answer, item, length in zip(answers, cleaned, lengths.tolist()):
            unseen = unknown(self.encoder, item)
            if unseen:  # the model reads each of them as one "unknown" token: the answer means less
                answer[unseen_key(self.encoder)] = unseen
            if self.longest is not None and length > self.longest:
                answer["notes"] = [longer_note(length, self.longest, unit(self.encoder), self.noun)]
        return answers


def cleaned_inputs(
    texts: list[str], clean: Callable[[str], str], noun: str, max_length: int, where: list[str] | None = None
) -> list[str]:
    """The texts `predict` was given, as the model reads them; an empty or over-long one is refused, naming it by
    `where` (default: its position). Example: ['  Rossi '] -> ['Rossi']; ['  '] -> 'name 1 ('  '): empty after
    trimming whitespace'; with where=['names.txt line 3'] -> 'names.txt line 3 ('  '): ...'."""
    cleaned = [clean(text) for text in texts]
    for position, (text, item) in enumerate(zip(texts, cleaned), start=1):
        name = where[position - 1] if where else f"{noun} {position}"
        if not item:
            raise RnnbenchError(f"{name} ({text!r}): empty after trimming whitespace; give a {noun}")
        if len(item) > max_length:
            raise RnnbenchError(f"{name}: {len(item):,} characters; {noun}s longer than {max_length:,} are refused")
    return cleaned


def longer_note(length: int, longest: int, unit: str, noun: str) -> str:
    """Example: (25, 18, 'characters', 'name') -> '25 characters, longer than any name this model trained on (18
    at most): the answer says less'."""
    return (
        f"{length:,} {unit}, longer than any {noun} this model trained on ({longest:,} at most): the answer says less"
    )


def unit(encoder) -> str:
    """What an encoder's lengths count: 'words' for a word tokenizer, else 'characters'."""
    return "words" if getattr(encoder, "kind", "char") == "word" else "characters"


def unseen_key(encoder) -> str:
    """Where an answer lists what the model never saw: characters, or words for a word tokenizer."""
    return "unseen_words" if unit(encoder) == "words" else "unseen_characters"


def unknown(encoder, text: str) -> list[str]:
    """The tokens of `text` the encoder reads as unknown: sorted characters for a Vocab, tokens for a Tokenizer."""
    if hasattr(encoder, "unknown"):
        return list(dict.fromkeys(encoder.unknown(text)))
    return sorted(set(text) - set(encoder.chars))


def describe_model(model: ModelSpec) -> tuple[str, str]:
    """(what a classifier reads, what its head is), for `validate`. Example: ('embedding 32', 'last → 256')."""
    reads = (
        f"one-hot × {model.max_length}"
        if model.cell == "linear"
        else f"embedding {model.embedding_dim}"
        if model.embedding_dim
        else "one-hot"
    )
    head = (
        model.head
        + (f" × {model.max_length}" if model.head == "flatten" else "")
        + (f" → {model.head_hidden}" if model.head_hidden else "")
        + (" → softmax" if model.softmax_output else "")
    )
    return reads, head
