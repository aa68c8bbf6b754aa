"""The names task: surname → language, on the 18 files of the PyTorch char-RNN tutorial's corpus.

Data: the corpus is located (or downloaded and verified, see data/corpus.py), cleaned, deduped and split by
distinct name, stratified by language (data/names.py says why). Models: a recurrent classifier over characters,
or a baseline. Early stopping watches validation accuracy. `predict` ranks the languages of a surname.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from rnnbench.data import corpus as names_corpus
from rnnbench.data import names
from rnnbench.data.corpus import LANGUAGES
from rnnbench.data.vocab import Vocab
from rnnbench.errors import RnnbenchError
from rnnbench.fields import Flag, Fraction, ModelSpec, Strict, ValidationFraction, distinct
from rnnbench.tasks import classification, classification_views
from rnnbench.views import Table

if TYPE_CHECKING:  # torch and the models are imported where a model is built, trained or read: validating
    import torch  # an experiment file and reading runs' scores need neither

Language = Literal[LANGUAGES]
ARCHITECTURES = ("classifier",)  # the first is the default
VALIDATION_FIELD = "validation_fraction"  # the data field that sizes the validation split (None: the task has none)
MODEL_SIZES = ("vocab_size", "num_classes")  # the data sizes that shape its models (params)
READ_ON_VALIDATE = False  # the corpus may need a download: `run` and `data names` read it
BASELINES = ("majority", "linear")  # the baseline cells it trains (config refuses another task's)
INPUT_FIELDS = {}  # data fields a variant can set: none, every one changes what the splits hold
PREDICT_BY_DEFAULT = True  # `rnnbench predict NAME` with no --run or --experiment answers from a names run
SCORED_BESIDE = ()  # no baseline is added unasked
NO_LOSS = ()  # a baseline it runs has its own loss (the majority class: the cross-entropy of its frequencies)
RANK = None  # `predict` ranks runs by the watched score
NOUNS = ("name", "language")  # an example and its class, in tables and in predictions.csv
# a text → class task: the classifier, its scores, what early stopping watches and how tables read them
MODEL_COLUMN, METRICS, COLUMNS, RECORDS = (
    classification.MODEL_COLUMN,
    classification.METRICS,
    classification.COLUMNS,
    classification.RECORDS,
)
watch, validator, show_scores = classification.watch, classification.validator, classification.show_scores
model_classes = classification.model_classes
MAX_NAME_LENGTH = 100


class Data(Strict):
    """Surname → language. Names listed under several chosen languages are dropped (or kept, see names.py)."""

    dataset: Literal["names"] = "names"
    languages: Annotated[list[Language], AfterValidator(distinct)] = Field(default=list(LANGUAGES), min_length=2)
    multi_language: Literal["drop", "keep"] = "drop"
    validation_fraction: ValidationFraction = 0.1
    test_fraction: Fraction = 0.1
    strip_accents: Flag = False
    lowercase: Flag = False
    dedupe: Flag = True  # false keeps repeated lines (by_name keeps a name's copies together in one split)
    split: Literal["by_name", "leaky"] = "by_name"  # leaky: a random split of the lines, repeats included, that
    # puts copies of test names in training; only for measuring how much that inflates accuracy

    @field_validator("languages", mode="before")
    @classmethod
    def _all_means_every_language(cls, value):
        return list(LANGUAGES) if value == "all" or value == ["all"] else value

    @field_validator("split", mode="before")
    @classmethod
    def _random_is_leaky(cls, value):
        return "leaky" if value == "random" else value  # its name before 0.2: runs recorded with it still load


def canonical(model: ModelSpec) -> ModelSpec:
    return model


def problems(data: Data, variants: dict[str, ModelSpec]) -> list[str]:
    return [
        f"variant {name}: architecture {model.architecture} is for the reversal task; names needs classifier"
        for name, model in variants.items()
        if model.architecture not in (None, "classifier")
    ]


describe_model = classification.describe_model


# ------------------------------------------------------------------------------------------------- data


def load(data: Data, data_dir: Path | None, on_download=None) -> tuple[dict[str, list[str]], str]:
    """(the raw lines of each chosen language, a line saying where they came from): the verified corpus from
    `data_dir`, $RNNBENCH_DATA_DIR or the per-user cache, downloaded into the cache if it is not there."""
    names_dir = names_corpus.locate(data_dir, on_progress=on_download)
    return names.read_corpus(names_dir, data.languages), f"names corpus: {names_dir} (verified)"


def split(corpus: dict[str, list[str]], data: Data, seed: int) -> names.NamesSplits:
    """Clean, dedupe and split the corpus as `data` says, with this seed."""
    return names.build_splits(
        corpus,
        seed=seed,
        validation_fraction=data.validation_fraction,
        test_fraction=data.test_fraction,
        multi_language=data.multi_language,
        strip_accents=data.strip_accents,
        lowercase=data.lowercase,
        dedupe=data.dedupe,
        split=data.split,
    )


def fingerprint(data, source) -> dict:
    """What a finished run must have been trained on to be reused: nothing beyond its config (the corpus is
    verified against its SHA-256 sums; generated data comes from the seed)."""
    return {}


def prepare(data: Data, source: dict[str, list[str]], seed: int, device: torch.device) -> classification.Prepared:
    """Clean and split the corpus (`source`: language -> lines) with this seed, then encode each split to tensors
    once."""
    return classification.prepare(*_fitted(data, source, seed), device=device)


def model_sizes(data: Data, source: dict[str, list[str]], seed: int) -> dict:
    """The vocabulary and classes this seed's split decides (what `params` counts from), without tensors."""
    return classification.model_sizes(*_fitted(data, source, seed))


def _fitted(data: Data, source: dict[str, list[str]], seed: int) -> tuple:
    """(this seed's splits, the training split's vocabulary, the size of every split's, nothing more to record)."""
    splits = split(source, data, seed)
    vocab = Vocab.from_texts([name for name, _ in splits.train])
    # the characters of every split: the same for all seeds, so a parameter budget gives them one hidden size
    everything = Vocab.from_texts([name for part in names.SPLITS for name, _ in getattr(splits, part)]).size
    return splits, vocab, everything, {}


def write_csv(corpus: dict[str, list[str]], path: Path) -> int:
    """Write every line of the corpus as a CSV row (text, label: the language), as the files have them (repeats
    included: the csv task dedupes as this task does). Refuses to replace an existing file; returns the rows."""
    import csv

    path = Path(path)
    try:
        with path.open("x", newline="", encoding="utf-8") as out:  # "x": never over an existing file
            writer = csv.writer(out)
            writer.writerow(["text", "label"])
            writer.writerows((line, language) for language, lines in corpus.items() for line in lines)
    except FileExistsError:
        raise RnnbenchError(f"{path}: already exists; it was kept (choose another --csv file)") from None
    except OSError as err:
        raise RnnbenchError(f"{path}: cannot write ({err.strerror or err})") from None
    return sum(len(lines) for lines in corpus.values())


def describe(sizes: dict, report: dict) -> str:
    """One seed's data in a line, printed as each seed starts: what the data determined. What cleaning and the split
    did (duplicates, names under several languages, the split check) is the data table's to say."""
    return (
        f"data determined {sizes['num_classes']} classes, vocabulary {sizes['vocab_size']} (incl. padding and "
        f"unknown), max length {sizes['max_length']}; split {sizes['train_size']} / {sizes['validation_size']} / "
        f"{sizes['test_size']} names"
    )


def data_table(report: dict, title: str) -> Table:
    return classification_views.data_table(report, title, "name")


# ------------------------------------------------------------------------------------ model and scores


def build(model: ModelSpec, data: Data, sizes: dict) -> tuple[str, dict]:
    return classification.build(model, sizes)


def score(model: torch.nn.Module, prepared: classification.Prepared, spec) -> tuple[dict, dict]:
    return classification.score(model, prepared, spec, NOUNS)


def model_info(prepared: classification.Prepared, data: Data) -> dict:
    """What predict needs beside the weights: the characters, the languages, how names were cleaned, and the
    longest training name (predict notes a longer one)."""
    return {
        "vocab": list(prepared.encoder.chars),
        "labels": list(prepared.splits.labels),
        "preprocessing": {"strip_accents": data.strip_accents, "lowercase": data.lowercase},
        "longest_input": prepared.tensors["train"].longest,
    }


def predictor(state_dict: dict, info: dict, where: Path) -> classification.Predictor:
    preprocessing = dict(info.get("preprocessing") or {})
    return classification.Predictor.from_files(
        state_dict,
        info,
        where,
        lambda info: Vocab(tuple(info["vocab"])),
        lambda text: names.clean(text, **preprocessing),
        "name",
        MAX_NAME_LENGTH,
    )


def candidates(records: list) -> tuple[list, list[str]]:
    """The runs `predict` chooses among (all of one label set), and why others were passed over: runs on a leaky
    split answer only when no other can (their validation scores are inflated by the very leak they measure)."""
    honest = [record for record in records if record.spec.data.split != "leaky"]
    notes = (
        [f"{len(records) - len(honest)} runs on a leaky split passed over"]
        if honest and len(honest) < len(records)
        else []
    )
    records = honest or records
    return records, [f"{len(records)} runs with {len(records[0].data['labels'])} languages", *notes]


# ------------------------------------------------------------------------------------ what a run shows


def show_tables(record, predictions: list[dict] | None, top: int) -> list[Table]:
    return classification_views.show_tables(record, predictions, NOUNS, top)


def report_data(records: list, load_report) -> list[str]:
    """Markdown: the data hygiene report of every seed."""
    return classification_views.report_data(records, load_report, NOUNS[0])


def report_errors(best_variant: str, best_records: list, records: list, load_predictions) -> list[str]:
    """Markdown: the best variant's per-language scores and most confused pairs, over all its seeds."""
    return classification_views.report_errors(
        best_variant, best_records, [load_predictions(r.path) for r in best_records], NOUNS
    )


plots = classification_views.plots
