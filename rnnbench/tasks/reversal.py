"""The reversal task: generated digit sequences such as "3 7 2", to be answered reversed ("2 7 3").

Data: seeded distinct sequences of lengths min_length..max_length, each in one split, and a `long` test set
of lengths never seen in training (data/reversal.py). Models: a tagger, the tutorial's repeat decoder, or an
encoder-decoder with optional attention (sequence_models.py). Scores: exact-sequence accuracy (what early
stopping watches), token accuracy, exact accuracy per length, and the MSE of the answers read as numbers.
`predict` reverses sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from rnnbench import architectures
from rnnbench.data import reversal
from rnnbench.data.batches import TensorSplit
from rnnbench.fields import (
    BASELINE_FIELDS,
    CLASSIFIER_ONLY,
    Fraction,
    Integer,
    ModelSpec,
    Size,
    Strict,
    ValidationFraction,
    is_default,
)
from rnnbench.metrics import Metric
from rnnbench.tasks import sequences
from rnnbench.views import Table, to_markdown

if TYPE_CHECKING:  # torch and the models are imported where a model is built, trained or read: validating
    import torch  # an experiment file and reading runs' scores need neither

ARCHITECTURES = ("encoder_decoder", "tagger", "repeat_decoder")  # the first is the default
VALIDATION_FIELD = "validation_fraction"  # the data field that sizes the validation split (None: the task has none)
MODEL_SIZES = ("symbols",)  # the data sizes that shape its models (params)
READ_ON_VALIDATE = False  # generated: nothing to read
BASELINES = ()  # the baseline cells it trains (config refuses another task's)
INPUT_FIELDS = {}  # data fields a variant can set: none, every one changes what the splits hold
PREDICT_BY_DEFAULT = False  # answers only from a run or experiment named on the command line
SCORED_BESIDE = ()  # no baseline is added unasked
NO_LOSS = ()  # it has no baseline
RANK = None  # `predict` ranks runs by the watched score
model_classes = sequences.model_classes
MODEL_COLUMN = "model"
WATCH = ("validation_accuracy", "max")  # validation exact-sequence accuracy
METRICS = {
    "test_accuracy": Metric("exact % (test)", 100, 1, True),
    "long_accuracy": Metric("exact % (longer)", 100, 1, True),
    "test_mse": Metric("MSE (test)", 1, 2, False),
    "test_token_accuracy": Metric("token acc %", 100, 1, True),
    "validation_accuracy": Metric("validation exact %", 100, 1, True),
}
RECORDS = {"test_accuracy": (int, float, type(None))}  # what its readers need in metrics.json
COLUMNS = ("test_accuracy", "long_accuracy", "test_mse")
SHOW_SCORES = (("accuracy", "exact %", 100), ("token_accuracy", "token %", 100), ("mse", "MSE", 1))
SHOW_SPLITS = ("train", "validation", "test", "long")
# exact-sequence scores per split and per length, answers to symbol sequences, accuracy by length in tables and plots
validator, score, show_tables, report_errors, plots = (
    sequences.validator,
    sequences.score,
    sequences.show_tables,
    sequences.report_errors,
    sequences.plots,
)


def watch(data) -> tuple[str, str]:
    return WATCH


def show_scores(record) -> tuple[tuple, tuple]:
    """What `show` tabulates per split: ((score, header, scale), ...), and the splits."""
    return SHOW_SCORES, SHOW_SPLITS


class Data(Strict):
    """Generated digit sequences to output reversed (see data/reversal.py); `long_*` is a test set of lengths
    never seen in training."""

    dataset: Literal["reversal"]
    symbols: Annotated[Integer, Field(ge=2, le=1000)] = 9  # ids 1..symbols; 0 pads
    samples: Annotated[Integer, Field(ge=10, le=10_000_000)] = 1000
    min_length: Size = 1
    max_length: Size = 5
    validation_fraction: ValidationFraction = 0.1
    test_fraction: Fraction = 0.2
    long_samples: Annotated[Integer, Field(ge=0, le=10_000_000)] = 1000
    long_min_length: Size = 6
    long_max_length: Size = 10
    split: Literal["distinct", "leaky"] = "distinct"  # leaky: drawn with repeats, as the tutorials do, so copies of
    # test sequences sit in training; only for reproducing them and measuring how much that inflates a score


def canonical(model: ModelSpec) -> ModelSpec:
    """The architecture made explicit; a regression model keeps the default embedding_dim, which it does not read."""
    if model.architecture is None:
        model = model.model_copy(update={"architecture": ARCHITECTURES[0]})
    if model.regression:  # digits go in as values, not through an embedding
        model = model.model_copy(update={"embedding_dim": ModelSpec.model_fields["embedding_dim"].default})
    return model


def problems(data: Data, variants: dict[str, ModelSpec]) -> list[str]:
    found = []
    if data.min_length > data.max_length:
        found.append(f"data.max_length: below min_length {data.min_length} (got {data.max_length})")
    if data.long_samples and data.long_min_length > data.long_max_length:
        found.append(f"data.long_max_length: below long_min_length {data.long_min_length} (got {data.long_max_length})")
    if data.long_samples and data.min_length <= data.max_length and data.long_min_length <= data.max_length:
        found.append(
            f"data.long_min_length: {data.long_min_length} is a training length ({data.min_length}–"
            f"{data.max_length}); the longer test set measures lengths never trained on, so it starts above "
            "max_length (or set long_samples: 0)"
        )
    # every sequence is in one split only, so there must be as many distinct ones as asked for
    for field, count, low, high in (
        ("samples", data.samples, data.min_length, data.max_length),
        ("long_samples", data.long_samples, data.long_min_length, data.long_max_length),
    ):
        exist = reversal.count_sequences(data.symbols, low, high, count)
        if data.split == "distinct" and low <= high and count > exist:
            found.append(
                f"data.{field}: {count:,} distinct sequences asked for, but only {exist:,} of lengths "
                f"{low}–{high} over {data.symbols} symbols exist; ask for fewer, or allow longer ones"
            )
    # a split the fractions leave empty would be scored as nothing, or watched as nothing, without a word
    test, validation = round(data.samples * data.test_fraction), round(data.samples * data.validation_fraction)
    if test == 0:
        found.append(
            f"data.test_fraction: leaves no test sequences of {data.samples:,} samples; raise it or samples "
            f"(got {data.test_fraction})"
        )
    if data.validation_fraction > 0 and validation == 0:
        found.append(
            f"data.validation_fraction: leaves no validation sequences of {data.samples:,} samples; raise it "
            f"or samples, or set it to 0 for none (got {data.validation_fraction})"
        )
    if data.samples - test - validation < 1:
        found.append(f"data.samples: {data.samples:,} leave no training sequences after the test and validation splits")
    for name, model in variants.items():
        kind = model.architecture or ARCHITECTURES[0]
        unused = [field for field in CLASSIFIER_ONLY if not is_default(model, field)]
        if kind == "classifier" or model.cell in BASELINE_FIELDS:
            found.append(
                f"variant {name}: the reversal task needs architecture tagger or encoder_decoder "
                f"with a recurrent cell (got {kind}, cell {model.cell})"
            )
        elif unused:
            found.append(f"variant {name}: {', '.join(unused)}: only for the names task")
    return found


def describe_model(model: ModelSpec) -> tuple[str, str]:
    """(what the model reads, what it is), for `validate`."""
    reads = "digit values" if model.regression else f"embedding {model.embedding_dim or 16}"
    parts = [
        (f"{model.attention} attention", model.attention != "none"),
        ("sentinels", model.sentinels),
        (f"reads {model.readout.replace('_', ' ')}", model.attention != "none"),
        ("regression (MSE)", model.regression),
    ]
    return reads, ", ".join([model.architecture] + [part for part, used in parts if used])


# ------------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Prepared:
    tensors: dict[str, TensorSplit]  # "train", "validation", "test", "long", on the training device
    symbols: int
    max_steps: dict[str, int]  # per split: the longest answer plus its end token
    sizes: dict
    length: int  # the longest training sequence: what a regression model pads to and reads in full
    report: dict  # per length, how many sequences exist and each split holds; the split check (data.json)


def load(data: Data, data_dir: Path | None, on_download=None) -> tuple[None, None]:
    return None, None  # generated from the seed: nothing to read


def fingerprint(data: Data, source) -> dict:
    """What a finished run must have been trained on to be reused, beyond its config: sequences drawn the way
    `data.split` says today. Runs from before sequences were drawn distinct recorded no `draw` (their draw was
    today's leaky one, under the same settings and so the same variant key), and are not reused."""
    return {"draw": data.split}


def prepare(data: Data, source: None, seed: int, device: torch.device) -> Prepared:
    generated = reversal.build(
        seed=seed,
        samples=data.samples,
        symbols=data.symbols,
        min_length=data.min_length,
        max_length=data.max_length,
        validation_fraction=data.validation_fraction,
        test_fraction=data.test_fraction,
        long_samples=data.long_samples,
        long_min_length=data.long_min_length,
        long_max_length=data.long_max_length,
        split=data.split,
    )
    max_steps = {name: (data.long_max_length if name == "long" else data.max_length) + 1 for name in reversal.SPLITS}
    tensors = {name: split.to(device) for name, split in generated.splits.items()}
    return Prepared(tensors, data.symbols, max_steps, generated.sizes, data.max_length, generated.report)


def describe(sizes: dict, report: dict) -> str:
    """One seed's data in a line (the split check: the data table's)."""
    distinct = ", all distinct" if report["split"] == "distinct" else ""
    return (
        f"generated {sizes['train_size']} / {sizes['validation_size']} / {sizes['test_size']} sequences of symbols "
        f"1-{sizes['symbols']} and {sizes['long_size']} longer ones{distinct}"
    )


def data_table(report: dict, title: str) -> Table:
    """A row per length: how many distinct sequences exist and how many each split holds (a length whose every
    sequence is used is marked: it cannot give more), a total row; under it, the split check."""
    rows, used_up = [], []
    for row in report["lengths"]:
        drawn = sum(row[split] for split in reversal.SPLITS)
        if report["split"] == "distinct" and row["exist"] is not None and drawn == row["exist"]:
            used_up.append(str(row["length"]))
        rows.append(
            [
                str(row["length"]),
                "-" if row["exist"] is None else f"{row['exist']:,}",
                *(f"{row[split]:,}" for split in reversal.SPLITS),
            ]
        )
    rows.append(["total", "", *(f"{report['sizes'][split]:,}" for split in reversal.SPLITS)])
    many = len(used_up) > 1
    notes = (
        [
            f"length{'s' if many else ''} {', '.join(used_up)}: every sequence of {'these lengths' if many else 'it'} "
            "is drawn, so no split can hold more"
        ]
        if used_up
        else []
    )
    notes.append(reversal.describe_overlap(report))
    return Table(
        title, ["length", "exist", *reversal.SPLITS], rows, right=set(range(1, 6)), bold_last=True, notes=notes
    )


# ------------------------------------------------------------------------------------ model and scores


def model_sizes(data: Data, source: None, seed: int) -> dict:
    """The symbols, the one size the data decides of its models: the data config's, for every seed."""
    return {"symbols": data.symbols}


def build(model: ModelSpec, data: Data, sizes: dict) -> tuple[str, dict]:
    # the answer is the input reversed: the same symbols on both sides, one vocabulary
    return architectures.sequence_arguments(
        model,
        model.architecture or ARCHITECTURES[0],
        source_symbols=sizes["symbols"],
        target_symbols=sizes["symbols"],
        one_vocabulary=True,
        length=data.max_length,
    )


def model_info(prepared: Prepared, data: Data) -> dict:
    """The most output steps, and the longest training sequence (predict notes a longer one)."""
    return {"max_steps": prepared.max_steps["long"], "longest_input": prepared.tensors["train"].longest}


def predictor(state_dict: dict, info: dict, where: Path) -> sequences.SequencePredictor:
    return sequences.SequencePredictor.from_files(state_dict, info, where)


def candidates(records: list) -> tuple[list, list[str]]:
    """The runs `predict` chooses among: runs on a leaky split only when no other can answer (their validation
    scores are inflated by the leak), as for names."""
    honest = [record for record in records if record.spec.data.split != "leaky"]
    notes = (
        [f"{len(records) - len(honest)} runs on a leaky split passed over"]
        if honest and len(honest) < len(records)
        else []
    )
    return honest or records, [f"{len(honest or records)} reversal runs", *notes]


def report_data(records: list, load_report) -> list[str]:
    """Markdown: how the data was generated, the first seed's sequences per length and each seed's split check."""
    sizes, data = records[0].data, records[0].spec.data
    lines = [
        "## Data",
        "",
        f"Generated from each seed: {sizes['train_size']:,} / {sizes['validation_size']:,} / "
        f"{sizes['test_size']:,} train / validation / test sequences of symbols 1–{sizes['symbols']} with lengths "
        f"{data.min_length}–{data.max_length}, and {sizes['long_size']:,} longer ones (lengths "
        f"{data.long_min_length}–{data.long_max_length}) that no model trains on.",
        "",
    ]
    reports = {}
    for record in records:
        reports.setdefault(record.spec.seed, load_report(record.path))
    found = {seed: report for seed, report in sorted(reports.items()) if report is not None}
    if not found:  # before distinct sequences, a test or validation sequence could also be a training one
        return lines + [
            "These runs hold no data report: an older rnnbench generated them, whose splits could share "
            "sequences (short ones repeat, and copies of test sequences were trained on).",
            "",
        ]
    seed, report = next(iter(found.items()))
    lines += to_markdown(data_table(report, ""), f"Seed {seed}, distinct sequences per length:")
    return lines + [f"- seed {seed}: {reversal.describe_overlap(report)}" for seed, report in found.items()] + [""]
