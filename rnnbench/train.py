"""fit() and evaluate(): the training loop with early stopping, best-weight restore and timing.

What early stopping watches, and in which direction, is the task's choice (`watch`): a classifier's validation
accuracy (higher is better), a regressor's validation loss (lower is better), or, as a tutorial quirk, the
training loss. The loop itself knows no task.

A model with nothing to train (a baseline: the majority class, a benchmark forecast) is not trained: it is
scored once, recorded as epoch 1, with its own loss where it has one (the majority class's cross-entropy) and
none where it has none (a benchmark forecast, made from the whole history, has no loss in the scaled window
space the networks train in: its forward answers loss None).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from rnnbench.data.batches import TensorSplit
from rnnbench.models import unpacked_batches_of_one_length

EVAL_BATCH_SIZE = 1024
HISTORY = ("epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "seconds")


@dataclass
class FitResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch, keys HISTORY
    best_epoch: int = 0
    best_value: float | None = None  # the watched value at best_epoch
    train_seconds: float = 0.0
    diverged: dict | None = None  # {"epoch": n, "reason": "training loss is nan"}: training stopped there
    pruned: int | None = None  # the epoch after which `prune` stopped training (a tuning trial's pruner)


def divergence(model: nn.Module, row: dict) -> str | None:
    """Why an epoch's model cannot be trusted: a non-finite training or validation loss, or non-finite weights
    (what a too-large learning rate without gradient clipping ends in); None if all is finite."""
    for key in ("train_loss", "validation_loss"):
        if row[key] is not None and not math.isfinite(row[key]):
            return f"{key.replace('_', ' ')} is {row[key]}"
    weights = [p.detach().isfinite().all() for p in model.parameters()]
    if weights and not torch.stack(weights).all().item():
        return "weights are not finite"
    return None


@torch.inference_mode()
def outputs(model: nn.Module, split: TensorSplit, batch_size: int | None = None) -> tuple[torch.Tensor, float | None]:
    """(the model's outputs for every example, on the CPU: (N, C) logits or probabilities, (N, 1) values, or
    (N, H) forecasts;
    the mean training loss over the split, None for a model that has none), in eval mode."""
    was_training = model.training
    model.eval()
    pieces, loss_sum = [], 0.0
    for batch in split.batches(batch_size or EVAL_BATCH_SIZE):
        output, loss = model(batch.tokens, batch.lengths, batch.targets)
        pieces.append(output)
        loss_sum = None if loss is None or loss_sum is None else loss_sum + loss.item() * len(batch)
    model.train(was_training)
    return torch.cat(pieces).cpu(), None if loss_sum is None else loss_sum / len(split)


def loss_only(model: nn.Module, split: TensorSplit) -> tuple[None, float | None]:
    """A validation score for a model judged by its loss alone (a regression, a forecast): (no accuracy, the mean
    loss over `split`)."""
    return None, outputs(model, split)[1]


@torch.inference_mode()
def evaluate(
    model: nn.Module, split: TensorSplit, batch_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(probabilities (N, C), predicted classes (N,), mean loss) of a classifier over a whole split, in eval mode,
    on the CPU."""
    was_training = model.training
    model.eval()
    logits = torch.cat(
        [model(batch.tokens, batch.lengths)[0] for batch in split.batches(batch_size or EVAL_BATCH_SIZE)]
    )
    model.train(was_training)
    loss = nn.functional.cross_entropy(logits, split.targets).item()  # the training loss, quirks included
    probabilities = (logits if model.softmax_output else logits.softmax(dim=-1)).cpu()
    return probabilities, probabilities.argmax(dim=-1), loss


def classification_score(model: nn.Module, split: TensorSplit) -> tuple[float, float]:
    """(accuracy, mean loss) of a classifier over a split."""
    _, predictions, loss = evaluate(model, split)
    return (predictions == split.targets.cpu()).float().mean().item(), loss


def fit(
    model: nn.Module,
    train: TensorSplit,
    validation: TensorSplit,
    *,
    learning_rate: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    grad_clip: float | None,
    weight_decay: float,
    generator: torch.Generator,
    on_epoch: Callable[[dict], None] | None = None,
    score: Callable[[nn.Module, TensorSplit], tuple[float | None, float | None]] | None = None,
    watch: tuple[str, str] = ("validation_accuracy", "max"),
    restore_best: bool = True,
    resume: dict | None = None,
    on_checkpoint: Callable[[dict], None] | None = None,
    bucketed: bool = False,
    prune: Callable[[dict], bool] | None = None,
) -> FitResult:
    """Adam on the training split; stop after `patience` epochs (0 = never) in which the watched history value
    (`watch` = (key, "max" or "min")) did not improve, and leave the model holding the best epoch's weights (the
    last epoch's if not restore_best, or if there is no validation split to watch).

    bucketed: batches of one length each, in a random order (TensorSplit.batches' by_length), instead of
    batches drawn at random.

    `score(model, split) -> (accuracy or None, loss)` measures the validation split each epoch; the default is
    classification accuracy. Training accuracy is tracked batch by batch for classifiers only (None otherwise).

    A model without trainable parameters (a baseline) is not trained: see scored_once.

    The first epoch whose loss or weights are not finite ends training: the result says `diverged` (epoch and
    reason), and the model keeps the weights it diverged with, to be recorded as such and never scored.

    `prune(row) -> bool`, asked after every epoch (a tuning trial's pruner, which has seen the epoch's row), stops
    training there when it says so, as early stopping would: the result says after which epoch (`pruned`).

    After every epoch that did not diverge (of a model with parameters), `on_checkpoint(state)` receives everything
    the rest of training depends on (see checkpoint_state); fit(..., resume=state) continues from it and ends
    exactly as the uninterrupted call would have, on the same device.
    """
    score = score or classification_score
    key, direction = watch
    trainable = [p for p in model.parameters() if p.requires_grad]
    classes = train.targets.dim() == 1 and not train.targets.is_floating_point()  # one class id per example
    if not trainable:  # a baseline: nothing to train, so no epoch to run (nor to resume)
        return scored_once(model, train, validation, score, watch[0], classes, on_epoch)
    optimizer = torch.optim.Adam(trainable, lr=learning_rate, weight_decay=weight_decay)
    result = FitResult()
    best_state = None
    if resume is not None:
        best_state = restore(resume, model, optimizer, generator, result)
    first = max_epochs + 1 if resume is not None and resume["stopped"] else len(result.history) + 1
    with unpacked_batches_of_one_length(bucketed):  # bucketed batches are mostly of one length
        for epoch in range(first, max_epochs + 1):
            start = time.perf_counter()
            model.train()
            # Sums stay on the device so the loop never waits for it; they are read once per epoch.
            loss_sum = torch.zeros((), device=train.targets.device)
            correct = torch.zeros((), device=train.targets.device, dtype=torch.long)
            for batch in train.batches(batch_size, generator, by_length=bucketed):
                logits, loss = model(batch.tokens, batch.lengths, batch.targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(trainable, grad_clip)
                optimizer.step()
                loss_sum += loss.detach() * len(batch)
                if classes:
                    correct += (logits.argmax(dim=-1) == batch.targets).sum()
            if len(validation):
                validation_accuracy, validation_loss = score(model, validation)
            else:  # no validation split: no early stopping on it, and the last epoch's weights are kept
                validation_loss = validation_accuracy = None
            seconds = time.perf_counter() - start  # .item() has synchronised with the device
            result.train_seconds += seconds
            row = {
                "epoch": epoch,
                "train_loss": loss_sum.item() / len(train),
                "train_accuracy": correct.item() / len(train) if classes else None,
                "validation_loss": validation_loss,
                "validation_accuracy": validation_accuracy,
                "seconds": seconds,
            }
            result.history.append(row)
            if on_epoch:
                on_epoch(row)
            reason = divergence(model, row)
            if reason is not None:  # nothing after this epoch can recover, and nothing before it is the run asked for
                result.diverged = {"epoch": epoch, "reason": reason}
                return result
            value = row[key]
            if (
                value is None
                or result.best_value is None
                or (value > result.best_value if direction == "max" else value < result.best_value)
            ):
                result.best_epoch, result.best_value = epoch, value
                if restore_best:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            stop = epoch == max_epochs or bool(patience and epoch - result.best_epoch >= patience)
            if prune is not None and prune(row) and not stop:  # asked every epoch: each one is reported
                stop, result.pruned = True, epoch
            if on_checkpoint is not None:
                on_checkpoint(checkpoint_state(model, optimizer, generator, result, best_state, stop))
            if stop:
                break
    if best_state is not None:  # restore_best, or nothing to watch: the last epoch's weights stay
        model.load_state_dict(best_state)
    return result


def scored_once(
    model: nn.Module,
    train: TensorSplit,
    validation: TensorSplit,
    score: Callable[[nn.Module, TensorSplit], tuple[float | None, float | None]],
    key: str,
    classes: bool,
    on_epoch: Callable[[dict], None] | None = None,
) -> FitResult:
    """A model with nothing to train (a baseline), scored once and recorded as epoch 1, the best: its own loss
    on the training split and its validation score (`score`), where it has them; None where it has none (a
    benchmark forecast's forward answers loss None: it forecasts from the whole history, not the window, and has
    no loss in the scaled space the networks train in), never another model's. No checkpoint: nothing to resume."""
    start = time.perf_counter()
    answers, train_loss = outputs(model, train)
    validation_accuracy, validation_loss = score(model, validation) if len(validation) else (None, None)
    train_accuracy = (answers.argmax(dim=-1) == train.targets.cpu()).float().mean().item() if classes else None
    seconds = time.perf_counter() - start
    row = {
        "epoch": 1,
        "train_loss": train_loss,
        "train_accuracy": train_accuracy,
        "validation_loss": validation_loss,
        "validation_accuracy": validation_accuracy,
        "seconds": seconds,
    }
    result = FitResult(history=[row], best_epoch=1, best_value=row[key], train_seconds=seconds)
    if on_epoch:
        on_epoch(row)
    reason = divergence(model, row)  # a non-finite loss is said as such, as for a trained model
    if reason is not None:
        result.diverged = {"epoch": 1, "reason": reason}
    return result


def checkpoint_state(
    model: nn.Module, optimizer, generator: torch.Generator, result: FitResult, best_state: dict | None, stopped: bool
) -> dict:
    """Everything the epochs after this one depend on: the weights, Adam's moments, the batch-order generator,
    torch's global random state (dropout draws from it; on CUDA, the device's too), the history, the early
    stopping state, the best epoch's weights and whether training has stopped. Tensors, numbers, text and None
    only (torch.load's weights_only reads it)."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "generator": generator.get_state(),
        "cpu_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "history": result.history,
        "best_epoch": result.best_epoch,
        "best_value": result.best_value,
        "train_seconds": result.train_seconds,
        "best_state": best_state,
        "stopped": stopped,
        "carried": getattr(model, "carried", None),  # the carry_state quirk: the state the next batch starts from
    }


def restore(state: dict, model: nn.Module, optimizer, generator: torch.Generator, result: FitResult) -> dict | None:
    """Put a checkpoint_state back: into the model, the optimizer, the generators and `result`; returns the best
    epoch's weights it held (None if it held none)."""
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["cpu_rng"])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    if state["cuda_rng"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    result.history = list(state["history"])
    result.best_epoch, result.best_value = state["best_epoch"], state["best_value"]
    result.train_seconds = state["train_seconds"]
    if state.get("carried") is not None:
        model.carried = state["carried"]
    return state["best_state"]
