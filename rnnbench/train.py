"""fit() and evaluate(): the training loop with early stopping, best-weight restore and timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from rnnbench.data.batches import TensorSplit

EVAL_BATCH_SIZE = 1024


@dataclass
class FitResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch
    best_epoch: int = 0
    best_validation_accuracy: float = -1.0
    train_seconds: float = 0.0


@torch.no_grad()
def evaluate(model: nn.Module, split: TensorSplit, batch_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(probabilities (N, C), predicted classes (N,), mean loss) over a whole split, in eval mode, on the CPU."""
    was_training = model.training
    model.eval()
    outputs = torch.cat([model(batch.tokens, batch.lengths)[0] for batch in split.batches(batch_size or EVAL_BATCH_SIZE)])
    model.train(was_training)
    loss = nn.functional.cross_entropy(outputs, split.targets).item()  # the training loss, quirks included
    probabilities = (outputs if model.softmax_output else outputs.softmax(dim=-1)).cpu()
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
    score: Callable[[nn.Module, TensorSplit], tuple[float, float]] | None = None,
    restore_best: bool = True,
) -> FitResult:
    """Adam on the training split; stop after `patience` epochs without a better validation accuracy
    (0 = never) and leave the model holding the best epoch's weights (the last epoch's if not restore_best).

    `score(model, split) -> (accuracy, loss)` measures the validation split; the default is classification
    accuracy. Training accuracy is tracked batch by batch for classifiers only (None for other tasks).
    """
    score = score or classification_score
    trainable = [p for p in model.parameters() if p.requires_grad]
    # A model without parameters (the majority baseline) is scored for one epoch and not trained.
    optimizer = torch.optim.Adam(trainable, lr=learning_rate, weight_decay=weight_decay) if trainable else None
    max_epochs = max_epochs if trainable else 1
    result = FitResult()
    best_state = None
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        # Sums stay on the device so the loop never waits for it; they are read once per epoch.
        loss_sum = torch.zeros((), device=train.targets.device)
        correct = torch.zeros((), device=train.targets.device, dtype=torch.long)
        for batch in train.batches(batch_size, generator):
            logits, loss = model(batch.tokens, batch.lengths, batch.targets)
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(trainable, grad_clip)
                optimizer.step()
            loss_sum += loss.detach() * len(batch)
            if batch.targets.dim() == 1:  # a classifier: one class per example
                correct += (logits.argmax(dim=-1) == batch.targets).sum()
        if len(validation):
            validation_accuracy, validation_loss = score(model, validation)
        else:  # no validation split: no early stopping, and the last epoch's weights are kept
            validation_loss = validation_accuracy = None
        seconds = time.perf_counter() - start  # .item() has synchronised with the device
        result.train_seconds += seconds
        row = {
            "epoch": epoch,
            "train_loss": loss_sum.item() / len(train),
            "train_accuracy": correct.item() / len(train) if train.targets.dim() == 1 else None,
            "validation_loss": validation_loss,
            "validation_accuracy": validation_accuracy,
            "seconds": seconds,
        }
        result.history.append(row)
        if on_epoch:
            on_epoch(row)
        if validation_accuracy is None or validation_accuracy > result.best_validation_accuracy:
            result.best_epoch, result.best_validation_accuracy = epoch, validation_accuracy
            if restore_best:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif patience and epoch - result.best_epoch >= patience:
            break
    if best_state is not None:  # restore_best, or no validation split: the last epoch's weights stay
        model.load_state_dict(best_state)
    return result
