"""Pure functions: classification scores and parameter counts, each checkable by hand."""

from __future__ import annotations

import numpy as np
from torch import nn

GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per recurrent layer: the LSTM's i, f, g, o; the GRU's r, z, n


def confusion_matrix(targets, predictions, num_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted. Example: ([0, 1, 1], [0, 0, 1], 2) -> [[1, 0], [1, 1]]."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(targets), np.asarray(predictions)), 1)
    return matrix


def accuracy(targets, predictions) -> float:
    """Example: ([0, 1, 1], [0, 0, 1]) -> 0.666…"""
    targets, predictions = np.asarray(targets), np.asarray(predictions)
    return float((targets == predictions).mean()) if len(targets) else float("nan")


def macro_f1(targets, predictions, num_classes: int) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in targets or predictions.

    Example: ([0, 1, 1], [0, 0, 1], 2) -> mean(F1 class 0 = 2/3, F1 class 1 = 2/3) = 0.666…
    """
    matrix = confusion_matrix(targets, predictions, num_classes)
    true_positive = np.diag(matrix).astype(float)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    present = (support + predicted) > 0
    f1 = 2 * true_positive / np.maximum(support + predicted, 1)  # 2TP / (2TP + FP + FN)
    return float(f1[present].mean()) if present.any() else float("nan")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def recurrent_parameters(cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> int:
    """Closed form for torch's RNN/GRU/LSTM: per layer and direction, gates × (H·I + H·H + 2H).

    Layers above the first read the concatenated directions (I = directions × H); torch keeps two bias
    vectors per gate (b_ih and b_hh), hence 2H. Example: ('gru', 10, 20, 1, False) -> 3 × (200 + 400 + 40) = 1920.
    """
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        total += directions * GATES[cell] * (hidden_size * layer_input + hidden_size * hidden_size + 2 * hidden_size)
    return total


def classifier_parameters(vocab_size: int, num_classes: int, cell: str, hidden_size: int, num_layers: int = 1,
                          bidirectional: bool = False, embedding_dim: int | None = None, dropout: float = 0.0) -> int:
    """Closed form for a whole RecurrentClassifier, from its constructor arguments."""
    directions = 2 if bidirectional else 1
    embedding = vocab_size * embedding_dim if embedding_dim else 0
    recurrent = recurrent_parameters(cell, embedding_dim or vocab_size, hidden_size, num_layers, bidirectional)
    head = directions * hidden_size * num_classes + num_classes
    return embedding + recurrent + head
