"""run_experiment(): the recipe that ties config, data, model, training and run directory together.

seed → data split → for each variant: build, fit, evaluate, save. It reports what happens as small event
objects, so the CLI can draw progress without this module ever touching the terminal.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnbench import config, metrics, models, rundir, sequence_models
from rnnbench.config import Experiment, ModelSpec, NamesData, ReversalData, RunSpec, Train
from rnnbench.data import names, reversal
from rnnbench.data.batches import TensorSplit
from rnnbench.data.vocab import Vocab
from rnnbench.environment import environment_record, peak_memory_mb, resolve_device
from rnnbench.errors import RnnbenchError
from rnnbench.train import evaluate, fit


@dataclass(frozen=True)
class DataPrepared:
    seed: int
    device: torch.device
    sizes: dict  # what the data decided: vocabulary, classes, max length, split sizes, duplicates dropped
    report: dict | None  # names.NamesSplits.report; None for the reversal task


@dataclass(frozen=True)
class RunStarted:
    spec: RunSpec
    index: int  # 1-based position among the experiment's runs
    total: int
    parameters: int


@dataclass(frozen=True)
class EpochFinished:
    spec: RunSpec
    row: dict  # one history row


@dataclass(frozen=True)
class RunFinished:
    spec: RunSpec
    path: Path
    metrics: dict


@dataclass(frozen=True)
class RunSkipped:
    spec: RunSpec
    path: Path  # the finished run already there


Event = DataPrepared | RunStarted | EpochFinished | RunFinished | RunSkipped


def run_experiment(experiment: Experiment, names_dir: Path, results: Path,
                   on_event: Callable[[Event], None] = lambda event: None) -> list[Path]:
    """Train and save every (seed, variant) run not already finished; return all the experiment's run paths."""
    device = resolve_device(experiment.device)
    rundir.check_writable(results)
    specs = experiment.run_specs()
    finished = [rundir.finished_run(results, spec) for spec in specs]  # damaged runs fail here, before training
    corpus = names.read_corpus(names_dir, experiment.data.languages) if experiment.data.dataset == "names" else None
    paths = []
    for seed in experiment.seeds:
        pending = []
        for spec, done in zip(specs, finished):
            if spec.seed != seed:
                continue
            if done is not None:
                paths.append(done)
                on_event(RunSkipped(spec, done))
            else:
                pending.append(spec)
        if not pending:
            continue
        data, train_and_save_one = prepare_seed(experiment.data, corpus, seed, device, on_event)
        for spec in pending:
            position = (specs.index(spec) + 1, len(specs))
            try:
                paths.append(train_and_save_one(spec, data, device, results, on_event, position))
            except rundir.AlreadyFinished as done:  # a parallel process finished the same run first
                paths.append(done.path)
                on_event(RunSkipped(spec, done.path))
    return paths


def prepare_seed(data: NamesData | ReversalData, corpus: dict[str, list[str]] | None, seed: int,
                 device: torch.device, on_event: Callable[[Event], None]):
    """One seed's data for the task, announced with a DataPrepared event, and the function that trains and
    saves a run on it: (PreparedNames, train_and_save) or (PreparedReversal, train_and_save_reversal)."""
    if data.dataset == "names":
        prepared = prepare_names(corpus, data, seed, device)
        on_event(DataPrepared(seed, device, prepared.sizes, prepared.splits.report))
        return prepared, train_and_save
    prepared = prepare_reversal(data, seed, device)
    on_event(DataPrepared(seed, device, prepared.sizes, None))
    return prepared, train_and_save_reversal


@dataclass(frozen=True)
class PreparedNames:
    splits: names.NamesSplits
    vocab: Vocab
    tensors: dict[str, TensorSplit]  # "train", "validation", "test", on the training device
    sizes: dict  # what the data decided, recorded in every run's metrics

    @property
    def class_frequencies(self) -> list[float]:
        """Each language's share of the training split (what the majority baseline answers)."""
        counts = torch.bincount(self.tensors["train"].targets.cpu(), minlength=len(self.splits.labels))
        return (counts / counts.sum()).tolist()

    @property
    def majority_accuracy(self) -> float:
        """The test accuracy of always answering the training split's most frequent language."""
        majority = max(range(len(self.splits.labels)), key=self.class_frequencies.__getitem__)
        return (self.tensors["test"].targets.cpu() == majority).float().mean().item()


def split_names(corpus: dict[str, list[str]], data: NamesData, seed: int) -> names.NamesSplits:
    """Clean, dedupe and split the corpus as `data` says, with this seed."""
    return names.build_splits(corpus, seed=seed, validation_fraction=data.validation_fraction,
                              test_fraction=data.test_fraction, multi_language=data.multi_language,
                              strip_accents=data.strip_accents, lowercase=data.lowercase, dedupe=data.dedupe,
                              split=data.split)  # fmt: skip


def data_report(data: NamesData, names_dir: Path, seed: int) -> dict:
    """Without training: what cleaning and splitting the corpus with these settings and this seed does."""
    return split_names(names.read_corpus(names_dir, data.languages), data, seed).report


def prepare_names(corpus: dict[str, list[str]], data: NamesData, seed: int, device: torch.device) -> PreparedNames:
    """Clean and split the corpus with this seed, then encode each split to tensors once."""
    splits = split_names(corpus, data, seed)
    vocab = Vocab.from_texts([name for name, _ in splits.train])
    tensors = {split: _tensors(vocab, getattr(splits, split)).to(device) for split in names.SPLITS}
    per_language = splits.report["languages"].values()
    sizes = {
        "vocab_size": vocab.size,
        # the characters of every split: the same for all seeds, so a parameter budget gives them one hidden size
        "corpus_vocab_size": Vocab.from_texts([name for split in names.SPLITS for name, _ in getattr(splits, split)]).size,
        "num_classes": len(splits.labels),
        "labels": list(splits.labels),
        "max_length": max(t.tokens.shape[1] for t in tensors.values()),
        **{f"{split}_size": size for split, size in splits.report["sizes"].items()},
        "duplicates_removed": sum(r["duplicates_removed"] for r in per_language),
        "multi_language_names": splits.report["multi_language_names"],
        "multi_language_removed": sum(r["multi_language_removed"] for r in per_language),
    }
    return PreparedNames(splits, vocab, tensors, sizes)


def train_and_save(spec: RunSpec, data: PreparedNames, device: torch.device, results: Path,
                   on_event: Callable[[Event], None], position: tuple[int, int]) -> Path:
    """Build, fit, score and save one run; returns its directory."""
    torch.manual_seed(spec.seed)  # the same seed gives every variant the same init stream and batch order
    sizes = (data.vocab.size, len(data.splits.labels), data.class_frequencies)
    hidden = budget_hidden_size(spec.model, data) if spec.model.param_budget else spec.model.hidden_size
    architecture, arguments = models.model_arguments(spec.model, *sizes, hidden_size=hidden)
    model = models.build(architecture, arguments).to(device)
    parameters = metrics.count_parameters(model)
    on_event(RunStarted(spec, *position, parameters))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train = spec.train
    result = fit(model, data.tensors["train"], data.tensors["validation"], learning_rate=train.learning_rate,
                 batch_size=train.batch_size, max_epochs=train.max_epochs, patience=train.patience,
                 grad_clip=train.grad_clip, weight_decay=train.weight_decay, restore_best=train.restore_best,
                 generator=torch.Generator().manual_seed(spec.seed),
                 on_epoch=lambda row: on_event(EpochFinished(spec, row)))  # fmt: skip
    memory, memory_kind = peak_memory_mb(device)
    labels = list(data.splits.labels)
    scores, predictions = _scores(model, data.tensors, data.splits.test, len(labels), spec.train,
                                  by_name=spec.data.split == "by_name", seed=spec.seed)  # fmt: skip
    run_metrics = {
        "task": "names",
        "experiment": spec.experiment,
        "variant": spec.variant,
        "variant_key": spec.variant_key(),
        "seed": spec.seed,
        "parameters": parameters,
        "parameter_breakdown": metrics.parameter_breakdown(model),
        "hidden_size": hidden,
        "param_budget": spec.model.param_budget,
        **scores,
        "test_majority_accuracy": data.majority_accuracy,
        "test_per_class": metrics.per_class_scores(scores["test_confusion_matrix"], labels),
        "test_confused_pairs": metrics.confused_pairs(predictions["name"], [labels[i] for i in predictions["true"]],
                                                      [labels[i] for i in predictions["predicted"]]),
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.train_seconds / len(result.history),
        "peak_memory_mb": memory,
        "peak_memory_kind": memory_kind,
        "data": data.sizes,
        "environment": environment_record(device, spec.seed),
    }
    model_info = {
        "task": "names",
        "architecture": architecture,
        "arguments": arguments,
        "vocab": list(data.vocab.chars),
        "labels": list(data.splits.labels),
        "preprocessing": {"strip_accents": spec.data.strip_accents, "lowercase": spec.data.lowercase},
    }
    test_predictions = [{"name": name, "language": labels[truth], "predicted": labels[guess], "probability": p}
                        for name, truth, guess, p in zip(*predictions.values())]  # fmt: skip
    path = rundir.save_run(results, spec, history=result.history, metrics=run_metrics,
                           state_dict=model.state_dict(), model_info=model_info, data_report=data.splits.report,
                           predictions=test_predictions)  # fmt: skip
    on_event(RunFinished(spec, path, run_metrics))
    return path


@dataclass(frozen=True)
class PreparedReversal:
    tensors: dict[str, TensorSplit]  # "train", "validation", "test", "long", on the training device
    symbols: int
    max_steps: dict[str, int]  # per split: the longest answer plus its end token
    sizes: dict


def prepare_reversal(data: ReversalData, seed: int, device: torch.device) -> PreparedReversal:
    generated = reversal.build(seed=seed, samples=data.samples, symbols=data.symbols, min_length=data.min_length,
                               max_length=data.max_length, validation_fraction=data.validation_fraction,
                               test_fraction=data.test_fraction, long_samples=data.long_samples,
                               long_min_length=data.long_min_length, long_max_length=data.long_max_length)  # fmt: skip
    max_steps = {name: (data.long_max_length if name == "long" else data.max_length) + 1 for name in reversal.SPLITS}
    tensors = {name: split.to(device) for name, split in generated.splits.items()}
    return PreparedReversal(tensors, data.symbols, max_steps, generated.sizes)


def train_and_save_reversal(spec: RunSpec, data: PreparedReversal, device: torch.device, results: Path,
                            on_event: Callable[[Event], None], position: tuple[int, int]) -> Path:
    """Build, fit, score and save one reversal run; returns its directory."""
    torch.manual_seed(spec.seed)
    architecture, arguments = sequence_models.sequence_arguments(spec.model, data.symbols,
                                                                 config.architecture(spec.model, spec.data),
                                                                 length=spec.data.max_length)  # fmt: skip
    model = sequence_models.ARCHITECTURES[architecture](**arguments).to(device)
    parameters = metrics.count_parameters(model)
    on_event(RunStarted(spec, *position, parameters))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train = spec.train

    def exact_and_loss(model, split):
        predictions, _ = sequence_models.answer(model, split.tokens, split.lengths, data.max_steps["validation"])
        with torch.no_grad():
            loss = model.eval()(split.tokens, split.lengths, split.targets)[1].item()
        model.train()
        return metrics.sequence_scores(predictions, split.targets, split.lengths)["exact_accuracy"], loss

    result = fit(model, data.tensors["train"], data.tensors["validation"], learning_rate=train.learning_rate,
                 batch_size=train.batch_size, max_epochs=train.max_epochs, patience=train.patience,
                 grad_clip=train.grad_clip, weight_decay=train.weight_decay, restore_best=train.restore_best,
                 generator=torch.Generator().manual_seed(spec.seed), score=exact_and_loss,
                 on_epoch=lambda row: on_event(EpochFinished(spec, row)))  # fmt: skip
    memory, memory_kind = peak_memory_mb(device)
    scores = {}
    for name, split in data.tensors.items():
        if len(split) == 0:  # no validation split, or no longer test set
            scores |= {f"{name}_accuracy": None, f"{name}_token_accuracy": None, f"{name}_accuracy_by_length": None,
                       f"{name}_mse": None}  # fmt: skip
            continue
        predictions, values = sequence_models.answer(model, split.tokens, split.lengths, data.max_steps[name])
        found = metrics.sequence_scores(predictions, split.targets, split.lengths)
        scores |= {f"{name}_accuracy": found["exact_accuracy"], f"{name}_token_accuracy": found["token_accuracy"],
                   f"{name}_accuracy_by_length": found["exact_by_length"],
                   f"{name}_mse": metrics.sequence_mse(values, split.targets, width=data.max_steps[name] - 1)}  # fmt: skip
    run_metrics = {
        "task": "reversal", "experiment": spec.experiment, "variant": spec.variant,
        "variant_key": spec.variant_key(), "seed": spec.seed, "architecture": architecture,
        "parameters": parameters, "parameter_breakdown": metrics.parameter_breakdown(model),
        "hidden_size": spec.model.hidden_size, "param_budget": None,
        **scores, "test_macro_f1": None,  # accuracy here is exact-sequence accuracy; macro-F1 does not apply
        "epochs_run": len(result.history), "best_epoch": result.best_epoch, "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.train_seconds / len(result.history), "peak_memory_mb": memory,
        "peak_memory_kind": memory_kind, "data": data.sizes, "environment": environment_record(device, spec.seed),
    }  # fmt: skip
    model_info = {"task": "reversal", "architecture": architecture, "arguments": arguments,
                  "max_steps": data.max_steps["long"]}  # fmt: skip
    path = rundir.save_run(results, spec, history=result.history, metrics=run_metrics,
                           state_dict=model.state_dict(), model_info=model_info)  # fmt: skip
    on_event(RunFinished(spec, path, run_metrics))
    return path


NOT_REPEATABLE = ("train_seconds", "seconds_per_epoch", "peak_memory_mb", "peak_memory_kind", "environment",
                  "format_version")  # fmt: skip  # what a repeat of a run is not expected to reproduce


@dataclass(frozen=True)
class Repeated:
    differences: list[str]  # one line per recorded metric, history value or weight tensor that came out otherwise
    metrics: int  # how many recorded metrics were compared
    epochs: int  # how many epochs of history were compared
    tensors: int  # how many weight tensors were compared
    notes: list[str]  # how this machine differs from the one that recorded the run


def repeat_run(path: Path, names_dir: Path | None, on_event: Callable[[Event], None] = lambda event: None) -> Repeated:
    """Train the run recorded at `path` again, from its config.yaml alone, in a temporary folder, and compare
    what it records with what the original recorded: every metric and every epoch's history, except timing,
    memory and the environment. On the same machine and torch version, on the CPU, they are identical."""
    recorded = rundir.load_run(path)
    weights, _ = rundir.load_model_files(path)  # damaged weights fail here, before any training
    spec = RunSpec.model_validate({key: value for key, value in recorded.config.items() if key != "format_version"})
    device = resolve_device(spec.device)
    corpus = names.read_corpus(names_dir, spec.data.languages) if spec.data.dataset == "names" else None
    with tempfile.TemporaryDirectory(prefix="rnnbench-repeat-") as scratch:
        data, train_and_save_one = prepare_seed(spec.data, corpus, spec.seed, device, on_event)
        repeated = train_and_save_one(spec, data, device, Path(scratch), on_event, (1, 1))
        again, history, history_again = rundir.load_run(repeated), rundir.load_history(path), rundir.load_history(repeated)
        weights_again, _ = rundir.load_model_files(repeated)
    now = environment_record(device, spec.seed)
    notes = [f"recorded with {key} {recorded.metrics['environment'].get(key)}, repeated with {now[key]}: identical "
             "numbers are not expected" for key in ("torch", "device", "threads")
             if recorded.metrics.get("environment", {}).get(key) not in (None, now[key])]  # fmt: skip
    compared = [key for key in recorded.metrics if key not in NOT_REPEATABLE]
    differences = [f"{key}: recorded {_short(recorded.metrics[key])}, repeated {_short(again.metrics.get(key))}"
                   for key in compared if not _same(recorded.metrics[key], again.metrics.get(key))]  # fmt: skip
    if len(history) != len(history_again):
        differences.append(f"history: recorded {len(history)} epochs, repeated {len(history_again)}")
    for row, row_again in zip(history, history_again):
        changed = [key for key in row if key != "seconds" and not _same(row[key], row_again.get(key))]
        differences += [f"history epoch {int(row['epoch'])} {key}: recorded {row[key]}, repeated {row_again.get(key)}"
                        for key in changed]  # fmt: skip
    unequal = [name for name in weights if name not in weights_again or not torch.equal(weights[name], weights_again[name])]
    unequal += [name for name in weights_again if name not in weights]
    if unequal:
        differences.append(f"weights: {len(unequal)} of {len(weights)} tensors differ ({', '.join(unequal[:3])}"
                           f"{', ...' if len(unequal) > 3 else ''})")  # fmt: skip
    return Repeated(differences, len(compared), len(history), len(weights), notes)


def _same(recorded, repeated) -> bool:
    """Equal, counting NaN equal to NaN (a diverged run's loss repeats as NaN)."""
    both_nan = isinstance(recorded, float) and isinstance(repeated, float) and math.isnan(recorded) and math.isnan(repeated)
    return both_nan or recorded == repeated


def _short(value) -> str:
    """A value for a one-line message. Example: a 18×18 confusion matrix -> '[[2, 0, ...' (60 characters at most)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def budget_hidden_size(model: ModelSpec, data: PreparedNames) -> int:
    """The hidden size a parameter budget gives, solved against the vocabulary of all splits rather than this
    seed's training split, so every seed of a variant trains the same size (counts differ by a few weights)."""
    sizes = (data.sizes["corpus_vocab_size"], len(data.splits.labels), data.class_frequencies)
    return models.hidden_size_for_budget(model, *sizes)


def _tensors(vocab: Vocab, examples: list[tuple[str, int]]) -> TensorSplit:
    tokens, lengths = vocab.encode([name for name, _ in examples])
    return TensorSplit(tokens, lengths, torch.tensor([label for _, label in examples], dtype=torch.long))


def _scores(model: torch.nn.Module, splits: dict[str, TensorSplit], test_names: list[tuple[str, int]],
            num_classes: int, train: Train, *, by_name: bool, seed: int) -> tuple[dict, dict]:
    """(accuracy, balanced accuracy, macro-F1 and loss on every split (None for an empty one) and the test
    confusion matrix; the test predictions: name, true and predicted class, probability of the predicted one).

    With the eval_drop_last quirk each split is scored in batches of the training batch size, ignoring the
    last partial batch, as a PyTorch DataLoader with drop_last=True does (a split smaller than one batch is
    scored whole rather than not at all); the test predictions are those of the names scored.
    """
    scores, predictions = {}, None
    for split_name, split in splits.items():
        if len(split) == 0:
            scores |= {f"{split_name}_{score}": None for score in ("accuracy", "balanced_accuracy", "macro_f1", "loss")}
            continue
        order = torch.arange(len(split))  # which examples are scored, in which order
        if train.eval_drop_last and len(split) >= train.batch_size:
            if by_name:  # stored language by language: shuffle (seeded) so the dropped tail is a random one
                order = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))
            order = order[: (len(split) // train.batch_size) * train.batch_size]
            split = split.take(order)
        probabilities, predicted, loss = evaluate(model, split, batch_size=train.batch_size if train.eval_drop_last else None)
        targets = split.targets.cpu()
        scores[f"{split_name}_accuracy"] = metrics.accuracy(targets, predicted)
        scores[f"{split_name}_balanced_accuracy"] = metrics.balanced_accuracy(targets, predicted, num_classes)
        scores[f"{split_name}_macro_f1"] = metrics.macro_f1(targets, predicted, num_classes)
        scores[f"{split_name}_loss"] = loss
        if split_name == "test":
            scores["test_confusion_matrix"] = metrics.confusion_matrix(targets, predicted, num_classes).tolist()
            predictions = {"name": [test_names[i][0] for i in order.tolist()], "true": targets.tolist(),
                           "predicted": predicted.tolist(),
                           "probability": probabilities.max(dim=-1).values.tolist()}  # fmt: skip
    return scores, predictions


def parameter_counts(experiment: Experiment, names_dir: Path) -> tuple[dict, list[dict]]:
    """Without training: (the data sizes used, one row per variant with its parameters split by role).

    Each recurrent row also carries the closed form of its recurrent part, as text and as a number, and
    whether that number equals the counted tensors. The data sizes (vocabulary, classes) come from the split
    of the experiment's first seed; other seeds can differ by a character or two of vocabulary.
    """
    if experiment.data.dataset != "names":
        raise RnnbenchError(f"params: counts names experiments only so far; {experiment.name} is a "
                            f"{experiment.data.dataset} experiment (its runs record their parameters in metrics.json)")
    seed = experiment.seeds[0]
    corpus = names.read_corpus(names_dir, experiment.data.languages)
    data = prepare_names(corpus, experiment.data, seed, torch.device("cpu"))
    sizes = (data.vocab.size, len(data.splits.labels), data.class_frequencies)
    rows = []
    for name, spec in experiment.resolved_variants().items():
        hidden = budget_hidden_size(spec, data) if spec.param_budget else spec.hidden_size
        architecture, arguments = models.model_arguments(spec, *sizes, hidden_size=hidden)
        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            model = models.build(architecture, arguments)
        row = {"variant": name, "cell": spec.cell, "hidden_size": hidden, "param_budget": spec.param_budget,
               **metrics.parameter_breakdown(model)}  # fmt: skip
        if architecture == "RecurrentClassifier":
            layer_input = spec.embedding_dim or data.vocab.size
            biases = 2 if spec.bias == "double" else 1
            row["recurrent_formula"] = metrics.recurrent_formula(spec.cell, layer_input, hidden, spec.num_layers,
                                                                 spec.bidirectional, biases)  # fmt: skip
            row["recurrent_closed_form"] = metrics.recurrent_parameters(spec.cell, layer_input, hidden, spec.num_layers,
                                                                        spec.bidirectional, biases)  # fmt: skip
            counted = row["input_to_hidden"] + row["hidden_to_hidden"] + row["biases"]
            row["closed_form_matches"] = row["recurrent_closed_form"] == counted
        rows.append(row)
    return {"seed": seed, **data.sizes}, rows
