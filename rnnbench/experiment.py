"""run_experiment(): the recipe that ties config, data, model, training and run directory together.

seed → data split → for each variant: build, fit, evaluate, save. It reports what happens as small event
objects, so the CLI can draw progress without this module ever touching the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnbench import metrics, rundir
from rnnbench.config import Experiment, RunSpec
from rnnbench.data import names
from rnnbench.data.batches import TensorSplit
from rnnbench.data.vocab import Vocab
from rnnbench.environment import environment_record, peak_memory_mb, resolve_device
from rnnbench.models import RecurrentClassifier, classifier_arguments
from rnnbench.train import evaluate, fit


@dataclass(frozen=True)
class DataPrepared:
    seed: int
    device: torch.device
    sizes: dict  # what the data decided: vocabulary, classes, max length, split sizes, duplicates dropped
    report: dict  # names.NamesSplits.report


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
    specs = experiment.run_specs()
    corpus = names.read_corpus(names_dir, experiment.data.languages)
    paths = []
    for seed in experiment.seeds:
        seed_specs = [spec for spec in specs if spec.seed == seed]
        pending = [spec for spec in seed_specs if not rundir.is_finished(rundir.run_dir(results, spec))]
        for spec in seed_specs:
            if spec not in pending:
                paths.append(rundir.run_dir(results, spec))
                on_event(RunSkipped(spec, paths[-1]))
        if not pending:
            continue

        data = experiment.data
        splits = names.build_splits(corpus, seed=seed, validation_fraction=data.validation_fraction,
                                    test_fraction=data.test_fraction, multi_language=data.multi_language,
                                    strip_accents=data.strip_accents, lowercase=data.lowercase)  # fmt: skip
        vocab = Vocab.from_texts([name for name, _ in splits.train])
        train, validation, test = (_tensors(vocab, examples).to(device)
                                   for examples in (splits.train, splits.validation, splits.test))  # fmt: skip
        sizes = {
            "vocab_size": vocab.size,
            "num_classes": len(splits.labels),
            "labels": list(splits.labels),
            "max_length": max(train.tokens.shape[1], validation.tokens.shape[1], test.tokens.shape[1]),
            **{f"{split}_size": size for split, size in splits.report["sizes"].items()},
            "duplicates_removed": sum(r["duplicates_removed"] for r in splits.report["languages"].values()),
            "multi_language_names": splits.report["multi_language_names"],
            "multi_language_removed": sum(r["multi_language_removed"] for r in splits.report["languages"].values()),
        }
        on_event(DataPrepared(seed, device, sizes, splits.report))

        for spec in pending:
            torch.manual_seed(seed)  # the same seed gives every variant the same init stream and batch order
            arguments = classifier_arguments(spec.model, vocab.size, len(splits.labels))
            model = RecurrentClassifier(**arguments).to(device)
            parameters = metrics.count_parameters(model)
            on_event(RunStarted(spec, specs.index(spec) + 1, len(specs), parameters))
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            result = fit(model, train, validation, learning_rate=spec.train.learning_rate,
                         batch_size=spec.train.batch_size, max_epochs=spec.train.max_epochs,
                         patience=spec.train.patience, grad_clip=spec.train.grad_clip,
                         weight_decay=spec.train.weight_decay,
                         generator=torch.Generator().manual_seed(seed),
                         on_epoch=lambda row, spec=spec: on_event(EpochFinished(spec, row)))  # fmt: skip
            scores = _scores(model, {"train": train, "validation": validation, "test": test}, len(splits.labels))
            memory, memory_kind = peak_memory_mb(device)
            run_metrics = {
                "task": "names",
                "experiment": spec.experiment,
                "variant": spec.variant,
                "variant_key": spec.variant_key(),
                "seed": seed,
                "parameters": parameters,
                **scores,
                "epochs_run": len(result.history),
                "best_epoch": result.best_epoch,
                "train_seconds": result.train_seconds,
                "seconds_per_epoch": result.train_seconds / len(result.history),
                "peak_memory_mb": memory,
                "peak_memory_kind": memory_kind,
                "data": sizes,
                "environment": environment_record(device, seed),
            }
            model_info = {
                "task": "names",
                "architecture": "RecurrentClassifier",
                "arguments": arguments,
                "vocab": list(vocab.chars),
                "labels": list(splits.labels),
                "preprocessing": {"strip_accents": data.strip_accents, "lowercase": data.lowercase},
            }
            path = rundir.save_run(results, spec, history=result.history, metrics=run_metrics,
                                   state_dict=model.state_dict(), model_info=model_info)  # fmt: skip
            paths.append(path)
            on_event(RunFinished(spec, path, run_metrics))
    return paths


def _tensors(vocab: Vocab, examples: list[tuple[str, int]]) -> TensorSplit:
    tokens, lengths = vocab.encode([name for name, _ in examples])
    return TensorSplit(tokens, lengths, torch.tensor([label for _, label in examples], dtype=torch.long))


def _scores(model: RecurrentClassifier, splits: dict[str, TensorSplit], num_classes: int) -> dict:
    scores = {}
    for split_name, split in splits.items():
        _, predictions, loss = evaluate(model, split)
        targets = split.targets.cpu()
        scores[f"{split_name}_accuracy"] = metrics.accuracy(targets, predictions)
        scores[f"{split_name}_macro_f1"] = metrics.macro_f1(targets, predictions, num_classes)
        scores[f"{split_name}_loss"] = loss
    scores["test_confusion_matrix"] = metrics.confusion_matrix(targets, predictions, num_classes).tolist()
    return scores
