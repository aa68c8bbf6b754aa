"""The csv task: the user's own texts, in a CSV file, to classify (`target: class`) or to answer with a number
(`target: number`).

Data: the file is read and checked before anything trains (data/csvfile.py: one-line errors naming the file, line
and column), deduplicated by text, and split by distinct text (a text is never in two splits), stratified by
class for classification. Characters or words become ids (a Keras-like word tokenizer, an optional vocabulary
cap and truncation). Models: the recurrent classifier, or the same encoder with one output trained on the mean
squared error. A classifier is scored as the names task is; a regressor in the target's units beside a mean
predictor. `predict "some text"` answers a class or a number.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from rnnbench.data import csvfile, names, text
from rnnbench.data.tokenizer import Tokenizer
from rnnbench.errors import RnnbenchError
from rnnbench.fields import BASELINE_FIELDS, Fraction, Integer, ModelSpec, Size, Strict, Text, ValidationFraction
from rnnbench.tasks import classification, classification_views, regression
from rnnbench.views import Table, to_markdown

if TYPE_CHECKING:  # torch and the models are imported where a model is built, trained or read: validating
    import torch  # an experiment file and reading runs' scores need neither

ARCHITECTURES = ("classifier",)
VALIDATION_FIELD = "validation_fraction"  # the data field that sizes the validation split (None: the task has none)
MODEL_SIZES = ("vocab_size", "num_classes")  # the data sizes that shape its models (params)
READ_ON_VALIDATE = True  # `validate` reads and checks the file as `run` would
PREDICT_BY_DEFAULT = False  # answers from a run or an experiment named on the command line
SCORED_BESIDE = ()  # no baseline is added unasked
NO_LOSS = ()  # a baseline it runs has its own loss (the majority class: the cross-entropy of its frequencies)
RANK = None  # `predict` ranks runs by the watched score
model_classes = classification.model_classes
MODEL_COLUMN = "head"
METRICS = classification.METRICS | regression.METRICS
COLUMNS = classification.COLUMNS + regression.COLUMNS  # a table shows those its runs recorded
RECORDS = {}
MAX_TEXT_LENGTH = 100_000
BASELINES = ("majority", "linear")  # the baseline cells it trains (config refuses another task's)
INPUT_FIELDS = {  # data fields a variant can set (they change how texts are read, not which are in each split),
    "tokenizer": str,  # and how each shows in an automatic variant name
    "vocab_size": lambda size: f"vocab{size}" if size else "vocab-all",
    "max_length": lambda length: f"cut{length}" if length else "uncut",
    "truncate": lambda end: f"truncate-{end}",
}
describe_model = classification.describe_model


class Data(Strict):
    """A CSV (or tab-separated) file of texts and their targets. Relative paths are read from the folder
    `rnnbench` runs in."""

    dataset: Literal["csv"]
    path: Text = Field(min_length=1)
    test_path: Text | None = None  # a separate test file; else the test split is cut from `path`
    text_column: Text = "text"
    target_column: Text = "label"
    target: Literal["class", "number"] = "class"
    tokenizer: Literal["char", "word"] = "char"  # word: lower-cased words, punctuation removed (Keras' Tokenizer)
    vocab_size: Annotated[Integer, Field(ge=3)] | None = (
        None  # ids in all, padding and unknown included (Keras' num_words)
    )
    max_length: Size | None = None  # longer texts are cut to this many tokens
    truncate: Literal["pre", "post"] = "pre"  # pre drops a long text's start (keeps its end), as Keras does
    conflicts: Literal["drop", "keep"] = "drop"  # a text listed with several targets: dropped, or kept in one split
    scale_target: Literal["none", "standard"] = "none"  # number: standardise with the training split's mean and std
    validation_fraction: ValidationFraction = 0.1
    test_fraction: Fraction = 0.1


def canonical(model: ModelSpec) -> ModelSpec:
    return model


def problems(data: Data, variants: dict[str, ModelSpec]) -> list[str]:
    found = [
        f"variant {name}: architecture {model.architecture} is for the reversal task; csv needs classifier"
        for name, model in variants.items()
        if model.architecture not in (None, "classifier")
    ]
    found += [
        f"variant {name}: model.max_length is read only by head flatten and cell linear; to cut texts to "
        "a number of tokens, set data.max_length (in a grid: grid.data.max_length)"
        for name, model in variants.items()
        if model.max_length is not None and model.head != "flatten" and model.cell != "linear"
    ]
    if data.target == "class" and data.scale_target != "none":
        found.append(f"data.scale_target: scales a number target; target is class (got {data.scale_target!r})")
    if data.target == "number":
        found += [
            f"variant {name}: cell {model.cell} is a classification baseline; a number target is compared with "
            "the mean predictor every run records (test_baseline_rmse)"
            for name, model in variants.items()
            if model.cell in BASELINE_FIELDS
        ]
        found += [
            f"variant {name}: softmax_output is for classifiers (target: number answers one value)"
            for name, model in variants.items()
            if model.softmax_output
        ]
    return found


def watch(data: Data) -> tuple[str, str]:
    return classification.WATCH if data.target == "class" else regression.WATCH


# ------------------------------------------------------------------------------------------------- data


def load(data: Data, data_dir: Path | None, on_download=None) -> tuple[tuple, str]:
    """(the checked table of `path` and of `test_path` or None, a line saying what was read)."""
    table = csvfile.read_table(data.path, data.text_column, data.target_column, data.target)
    test = (
        csvfile.read_table(data.test_path, data.text_column, data.target_column, data.target)
        if data.test_path
        else None
    )
    for file, found in ((data.path, table), (data.test_path, test)):
        _check_lengths(file, found, data)
    if test is not None and data.target == "class":
        unknown = [
            (label, line) for label, line in zip(test.targets, test.line_numbers) if label not in set(table.targets)
        ]
        if unknown:
            raise RnnbenchError(
                f"{data.test_path}: line {unknown[0][1]}, column '{data.target_column}': class "
                f"{unknown[0][0]!r} never occurs in {data.path}; a model cannot answer it"
            )
    note = f"{data.path}: {table.rows:,} rows read and checked (sha256 {table.sha256[:12]})"
    if test is not None:
        note += f"; test file {data.test_path}: {test.rows:,} rows"
    return (table, test), note


MAX_UNCUT_LENGTH = 10_000  # characters: a longer text without data.max_length is refused (memory grows with it)


def _check_lengths(file: str | None, table, data: Data) -> None:
    """Refuse a text so long that training on it would exhaust memory, unless max_length cuts it."""
    if table is None or data.max_length is not None or not table.texts:
        return
    longest = max(range(len(table.texts)), key=lambda i: len(table.texts[i]))
    if len(table.texts[longest]) > MAX_UNCUT_LENGTH:
        raise RnnbenchError(
            f"{file}: line {table.line_numbers[longest]}, column '{data.text_column}': a text of "
            f"{len(table.texts[longest]):,} characters; above {MAX_UNCUT_LENGTH:,}, set data.max_length "
            "to cut texts (every step of every text is kept in memory for training)"
        )


def fingerprint(data: Data, source: tuple) -> dict:
    """What a finished run must have been trained on to be reused: the file's (and test file's) sha256."""
    table, test = source
    return {"sha256": table.sha256} | ({"test_sha256": test.sha256} if test is not None else {})


def prepare(data: Data, source: tuple, seed: int, device: torch.device):
    """Dedupe and split by distinct text with this seed, fit the tokenizer on the training split, encode once."""
    splits, tokenizer, budget_vocab, file = _fitted(data, source, seed)
    if data.target == "class":
        prepared = classification.prepare(splits, tokenizer, budget_vocab, file, device)
    else:
        with _in_target_column(data):
            prepared = regression.prepare(splits, tokenizer, device, data.scale_target, budget_vocab, file)
    prepared.report["overlap"] |= text.read_alike(splits, tokenizer)  # split by text; what the model reads is tokens
    return prepared


def model_sizes(data: Data, source: tuple, seed: int) -> dict:
    """The vocabulary (and classes) this seed's split decides (what `params` counts from), the data checked as
    prepare checks it (lengths, the split, targets a regression can train on), without tensors."""
    splits, tokenizer, budget_vocab, file = _fitted(data, source, seed)
    if data.target == "class":
        return classification.model_sizes(splits, tokenizer, budget_vocab, file)
    with _in_target_column(data):
        regression.scaling(splits, data.scale_target)
    return regression.model_sizes(tokenizer, budget_vocab, file)


@contextlib.contextmanager
def _in_target_column(data: Data):
    """An error about the targets says which file and column they came from."""
    try:
        yield
    except RnnbenchError as err:
        raise RnnbenchError(f"{data.path}: column '{data.target_column}': {err}") from None


def _fitted(data: Data, source: tuple, seed: int) -> tuple:
    """(this seed's splits, the tokenizer fitted on its training split, the vocabulary a parameter budget is solved
    against, what the run records of the file)."""
    table, test = source
    for name, found in ((data.path, table), (data.test_path, test)):  # a variant may set another max_length
        _check_lengths(name, found, data)
    file = {"rows": table.rows, "tokenizer": data.tokenizer, **fingerprint(data, source)}
    if test is not None:
        file["test_file_rows"] = test.rows
    if data.vocab_size:  # the embedding has vocab_size rows, as Keras' Embedding(num_words), used or not
        file["vocab_rows"] = data.vocab_size
    if data.target == "class":
        splits = names.build_splits(
            _by_label(table),
            seed=seed,
            validation_fraction=data.validation_fraction,
            test_fraction=data.test_fraction,
            multi_language=data.conflicts,
            test=_by_label(test) if test else None,
        )
    else:
        splits = text.split_numbers(
            table.texts,
            table.targets,
            seed=seed,
            validation_fraction=data.validation_fraction,
            test_fraction=data.test_fraction,
            conflicts=data.conflicts,
            test=list(zip(test.texts, test.targets)) if test else None,
        )
    tokenizer = Tokenizer.fit(
        [item for item, _ in splits.train], data.tokenizer, data.vocab_size, data.max_length, data.truncate
    )
    everything = [item for part in names.SPLITS for item, _ in getattr(splits, part)]
    budget_vocab = data.vocab_size or Tokenizer.fit(everything, data.tokenizer, None, None, data.truncate).size
    return splits, tokenizer, budget_vocab, file


def _by_label(table: csvfile.Table) -> dict[str, list[str]]:
    """{label: [texts]} in sorted label order (class i is the i-th label)."""
    grouped = {label: [] for label in sorted(set(table.targets))}
    for item, label in zip(table.texts, table.targets):
        grouped[label].append(item)
    return grouped


def describe(sizes: dict, report: dict) -> str:
    """One seed's data in a line: what the data determined (deduplication and the split check: the data table's)."""
    what = (
        f"{sizes['num_classes']} classes"
        if "num_classes" in sizes
        else f"targets with mean {sizes['target_mean']:.3g} and std {sizes['target_std']:.3g} (training split)"
    )
    return (
        f"data determined {what}, vocabulary {sizes['vocab_size']:,} {sizes['tokenizer']} tokens (incl. padding and "
        f"unknown), max length {sizes['max_length']}; split {sizes['train_size']:,} / {sizes['validation_size']:,} "
        f"/ {sizes['test_size']:,} examples"
        + (
            f"; {report['test_file_names']:,} texts of the test file held out of training"
            if report.get("test_file_names")
            else ""
        )
    )


def data_table(report: dict, title: str) -> Table:
    if "languages" in report:
        return classification_views.data_table(report, title, "text")
    return regression.data_table(report, title)


# ------------------------------------------------------------------------------------ model and scores


def build(model: ModelSpec, data: Data, sizes: dict) -> tuple[str, dict]:
    vocab = sizes.get("vocab_rows")
    if data.target == "class":
        return classification.build(model, sizes, vocab)
    return regression.build(model, sizes, vocab)


def validator(prepared):
    return (
        classification.validator(prepared)
        if isinstance(prepared, classification.Prepared)
        else regression.validator(prepared)
    )


def score(model: torch.nn.Module, prepared, spec) -> tuple[dict, dict]:
    if isinstance(prepared, classification.Prepared):
        return classification.score(model, prepared, spec, ("text", "label"))
    return regression.score(model, prepared, spec, ("text", "target"))


def model_info(prepared, data: Data) -> dict:
    """What predict needs beside the weights: the tokenizer, the labels or the target's scaling, and the longest
    training text in tokens (predict notes a longer one)."""
    info = {
        "tokenizer": prepared.encoder.to_dict(),
        "target": data.target,
        "longest_input": prepared.tensors["train"].longest,
    }
    if data.target == "class":
        return info | {"labels": list(prepared.splits.labels)}
    return info | {"target_shift": prepared.shift, "target_spread": prepared.spread}


def predictor(state_dict: dict, info: dict, where: Path):
    def encoder_of(saved: dict) -> Tokenizer:
        return Tokenizer.from_dict(saved["tokenizer"])

    if info.get("target") == "number":
        return regression.Predictor.from_files(state_dict, info, where, encoder_of, names.clean, MAX_TEXT_LENGTH)
    return classification.Predictor.from_files(
        state_dict, info, where, encoder_of, names.clean, "text", MAX_TEXT_LENGTH
    )


def candidates(records: list) -> tuple[list, list[str]]:
    return records, [f"{len(records)} csv runs"]


# ------------------------------------------------------------------------------------ what a run shows


def show_scores(record) -> tuple[tuple, tuple]:
    if record.spec.data.target == "class":
        return classification.SHOW_SCORES, classification.SHOW_SPLITS
    return regression.SHOW_SCORES, regression.SHOW_SPLITS


def show_tables(record, predictions: list[dict] | None, top: int) -> list:
    if record.spec.data.target == "class":
        return classification_views.show_tables(record, predictions, ("text", "label"), top)
    return regression.show_tables(record, predictions, ("text", "target"), top)


def report_data(records: list, load_report) -> list[str]:
    first = records[0]
    lines = [
        f"Read from `{first.spec.data.path}` ({first.data.get('rows', 0):,} rows, sha256 "
        f"`{first.data.get('sha256', '')[:12]}`), {first.spec.data.tokenizer} tokens.",
        "",
    ]
    if first.spec.data.target == "class":
        found = classification_views.report_data(records, load_report, "text")
        return found[:2] + lines + found[2:]
    report = load_report(first.path)
    return ["## Data", ""] + lines + (to_markdown(regression.data_table(report, "")) if report else [])


def report_errors(best_variant: str, best_records: list, records: list, load_predictions) -> list[str]:
    predictions = [load_predictions(record.path) for record in best_records]
    if best_records[0].spec.data.target == "class":
        return classification_views.report_errors(best_variant, best_records, predictions, ("text", "label"))
    return regression.report_errors(best_variant, best_records, predictions, ("text", "target"))


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
    if best_records[0].spec.data.target == "class":
        return classification_views.plots(
            experiment, best_variant, best_records, stem, records_of, styles, load_report, load_predictions
        )
    return []
