"""Pure functions: classification and sequence scores, the mistakes worth reading, and parameter counts, each
checkable by hand."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # the scores of tensors import torch where they run: tables and parameter counts need none
    import torch
    from torch import nn

# weight blocks per recurrent layer: the LSTM's i, f, g, o; the GRU's r, z, n (cells.py builds its layers with
# the same: a test checks the two agree)
GATES = {"rnn": 1, "gru": 3, "lstm": 4, "linear_rnn": 1}


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


def balanced_accuracy(targets, predictions, num_classes: int) -> float:
    """Mean recall over the classes present in targets: each language counts the same, however many names it has.

    Example: ([0, 0, 0, 1], [0, 0, 0, 0], 2) -> mean(recall 1.0, recall 0.0) = 0.5 (plain accuracy: 0.75).
    """
    matrix = confusion_matrix(targets, predictions, num_classes)
    support = matrix.sum(axis=1)
    present = support > 0
    return float((np.diag(matrix)[present] / support[present]).mean()) if present.any() else float("nan")


def per_class_scores(confusion, labels: list[str]) -> list[dict]:
    """Precision, recall, F1 and support of every class from a confusion matrix (rows: true, columns: predicted),
    in label order; a class never predicted has precision 0. Matrices summed over seeds work the same.

    Example: [[1, 0], [1, 1]], ['a', 'b'] -> a: P 0.5, R 1.0, F1 0.667, support 1; b: P 1.0, R 0.5, F1 0.667,
    support 2.
    """
    matrix = np.asarray(confusion)
    true_positive = np.diag(matrix).astype(float)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    precision = true_positive / np.maximum(predicted, 1)
    recall = true_positive / np.maximum(support, 1)
    f1 = 2 * true_positive / np.maximum(support + predicted, 1)
    return [
        {"label": label, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
        for label, p, r, f, n in zip(labels, precision, recall, f1, support)
    ]


def worst_first(per_class: list[dict]) -> list[dict]:
    """per_class_scores rows ordered worst F1 first (ties by label), classes without test examples last."""
    return sorted(per_class, key=lambda row: (row["support"] == 0, row["f1"], row["label"]))


def confused_pairs(
    names: list[str], true: list[str], predicted: list[str], top: int = 10, examples: int = 5
) -> list[dict]:
    """The most frequent (true, predicted) mistakes, with their share of the true class and example names.

    Ties go alphabetically; examples are the first distinct names in alphabetical order (lists from several
    seeds can be joined: counts add up). Example: names ['Abel', 'Bauer',
    'Conti'], true ['French', 'German', 'Italian'], predicted ['German', 'German', 'Spanish'] -> [{'true': 'French',
    'predicted': 'German', 'count': 1, 'rate': 1.0, 'examples': ['Abel']}, {'true': 'Italian', ...}].
    """
    support = Counter(true)
    mistakes = defaultdict(list)
    for name, truth, guess in zip(names, true, predicted):
        if truth != guess:
            mistakes[truth, guess].append(name)
    ranked = sorted(mistakes.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    return [
        {
            "true": truth,
            "predicted": guess,
            "count": len(found),
            "rate": len(found) / support[truth],
            "examples": sorted(set(found))[:examples],
        }
        for (truth, guess), found in ranked
    ]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def recurrent_parameters(
    cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool, biases: int = 2
) -> int:
    """Closed form, per layer and direction: gates × (H·I + H·H + biases·H).

    Layers above the first read the concatenated directions (I = directions × H); torch keeps two bias
    vectors per gate (b_ih and b_hh), Keras one. Example: ('gru', 10, 20, 1, False) -> 3 × (200 + 400 + 40) = 1920.
    """
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        total += (
            directions * GATES[cell] * (hidden_size * layer_input + hidden_size * hidden_size + biases * hidden_size)
        )
    return total


def recurrent_formula(
    cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool, biases: int = 2
) -> str:
    """recurrent_parameters as arithmetic to read. Example: ('gru', 32, 64, 1, False) -> '3×(64·32 + 64² + 2·64)'."""
    directions = 2 if bidirectional else 1
    terms = []
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        bias = f" + {biases}·{hidden_size}" if biases > 1 else f" + {hidden_size}"
        term = f"{GATES[cell]}×({hidden_size}·{layer_input} + {hidden_size}²{bias})"
        terms.append(f"{directions}×{term}" if directions > 1 else term)
    return " + ".join(terms)


BREAKDOWN = ("embedding", "input_to_hidden", "hidden_to_hidden", "biases", "head")


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """Counted tensors by role. Example: a GRU classifier -> {'embedding': 2048, 'input_to_hidden': 6144, ...}.

    Recurrent weights are told apart by torch's names (weight_ih_*, weight_hh_*, bias_*), which the scratch
    cells share, in whichever module they sit (a classifier's rnn, an encoder-decoder's encoder and decoder);
    everything else outside the embeddings (the input's, and an encoder-decoder's target one where it has its own: a
    classifier head, attention, a baseline's layers) counts as head.
    """
    counts = dict.fromkeys(BREAKDOWN, 0)
    for name, parameter in model.named_parameters():
        last = name.rsplit(".", 1)[-1]
        role = (
            "embedding"
            if name.startswith(("embedding.", "target_embedding."))
            else "input_to_hidden"
            if last.startswith("weight_ih")
            else "hidden_to_hidden"
            if last.startswith("weight_hh")
            else "biases"
            if last.startswith(("bias_ih", "bias_hh"))
            else "head"
        )
        counts[role] += parameter.numel()
    return {**counts, "total": sum(counts.values())}


def sequence_scores(predictions: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor) -> dict:
    """Token accuracy, exact-sequence accuracy and exact accuracy per length, for answers padded with 0.

    predictions (N, S) ids, 0 after each answer; targets (N, T) padded with 0; lengths (N,) target lengths.
    An answer is exact when it equals its target and stops there. Token accuracy counts target positions
    answered right. Example: predictions [[2, 7, 3], [4, 0, 0]], targets [[2, 7, 3], [5, 0, 0]], lengths [3, 1]
    -> token 0.75, exact 0.5, by length {1: 0.0, 3: 1.0}.
    """
    import torch
    import torch.nn.functional as F

    width = max(predictions.shape[1], targets.shape[1])
    predictions = F.pad(predictions.cpu(), (0, width - predictions.shape[1]))
    targets = F.pad(targets.cpu(), (0, width - targets.shape[1]))
    lengths = lengths.cpu()
    real = torch.arange(width)[None, :] < lengths[:, None]
    exact = (predictions == targets).all(dim=1)
    return {
        "token_accuracy": ((predictions == targets) & real).sum().item() / max(real.sum().item(), 1),
        "exact_accuracy": exact.float().mean().item() if len(exact) else float("nan"),
        "exact_by_length": {int(n): exact[lengths == n].float().mean().item() for n in lengths.unique()},
    }


def exact_by_length(run_metrics: dict) -> dict[int, float]:
    """A reversal run's recorded exact accuracy per length, the test split's and the longer set's together.

    Example: {'test_accuracy_by_length': {'5': 0.9}, 'long_accuracy_by_length': {'6': 0.4}} -> {5: 0.9, 6: 0.4}.
    """
    found = {}
    for split in ("test", "long"):
        found |= {
            int(length): value for length, value in (run_metrics.get(f"{split}_accuracy_by_length") or {}).items()
        }
    return dict(sorted(found.items()))


def sequence_mse(values: torch.Tensor, targets: torch.Tensor, width: int) -> float:
    """Mean squared error of answers read as numbers against the targets, over a fixed `width` of steps, padding
    (0) included: the tutorial's regression score, which any reversal answer can be given.

    values (N, S) floats (a regression model's outputs, or a token model's answer ids); targets (N, T) ids.
    Both are padded with 0 or cut to `width`. Example: values [[2.5, 7.0]], targets [[2, 7, 3]], width 3 ->
    ((0.5)² + 0² + 3²) / 3 = 3.0833…
    """

    import torch.nn.functional as F

    def fixed(tensor):
        tensor = tensor.detach().cpu().double()
        return F.pad(tensor, (0, width - tensor.shape[1])) if tensor.shape[1] < width else tensor[:, :width]

    return F.mse_loss(fixed(values), fixed(targets)).item() if len(targets) else float("nan")


class Metric(NamedTuple):
    """How a recorded score reads in tables: label, display scale (100: a share shown as %), decimals, whether
    higher is better, and the range its values can take (a confidence interval is clipped to it)."""

    label: str
    scale: float
    digits: int
    higher_is_better: bool
    low: float | None = 0.0
    high: float | None = None  # None: no upper bound; a share (scale 100) is at most 1


def regression_scores(predicted, targets) -> dict:
    """MSE, RMSE, MAE, R² and Spearman's ρ of predicted numbers against targets, in the targets' units.

    R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (the coefficient of determination; 0 for always answering the mean of these
    targets, negative for worse); Spearman's ρ is scipy.stats.spearmanr (the Pearson correlation of ranks; None
    when either side is constant). Example: predicted [1, 2, 3], targets [1, 2, 4] -> MSE 1/3, RMSE 0.577,
    MAE 1/3, R² 0.786, ρ 1.0.
    """
    from scipy.stats import spearmanr

    predicted, targets = np.asarray(predicted, dtype=float), np.asarray(targets, dtype=float)
    if not len(targets):
        return dict.fromkeys(("mse", "rmse", "mae", "r2", "spearman"))
    errors = predicted - targets
    mse = float(np.mean(errors**2))
    spread = float(np.sum((targets - targets.mean()) ** 2))
    constant = np.ptp(predicted) == 0 or np.ptp(targets) == 0
    return {
        "mse": mse,
        "rmse": mse**0.5,
        "mae": float(np.mean(np.abs(errors))),
        "r2": 1 - float(np.sum(errors**2)) / spread if spread > 0 else None,
        "spearman": None if constant else float(spearmanr(predicted, targets).statistic),
    }


# ------------------------------------------------------------------------------------------ forecasting


def seasonal_naive_scale(history, period: int) -> float:
    """MASE's denominator: the in-sample mean absolute error of the seasonal naive forecast, (1 / (n − m)) ·
    Σ_{t=m+1..n} |y_t − y_{t−m}| over `history` with m = `period` (1: the naive forecast). Hyndman & Koehler
    (2006), "Another look at measures of forecast accuracy", eq. 7. Example: [1, 2, 4, 7], m 1 -> 2.0."""
    history = np.asarray(history, dtype=float)
    return float(np.mean(np.abs(history[period:] - history[:-period])))


def forecast_errors(actual, forecast, scale: float) -> dict:
    """MAE, RMSE, MAPE %, sMAPE % and MASE of one forecast, in the series' units.

    MAPE = 100 · mean(|y − ŷ| / |y|) (None if some y is 0); sMAPE = 100 · mean(2 |y − ŷ| / (|y| + |ŷ|)) (the
    M4 competition's definition, terms with y = ŷ = 0 counted as 0); MASE = MAE / `scale` (seasonal_naive_scale
    of the history before the test part; None if that is 0). Hyndman & Athanasopoulos, Forecasting: Principles
    and Practice (3rd ed.), §5.8. Example: actual [10, 20], forecast [12, 18], scale 4 -> MAE 2, RMSE 2,
    MAPE 15.0, sMAPE 14.35, MASE 0.5.
    """
    actual, forecast = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    errors = np.abs(actual - forecast)
    both = np.abs(actual) + np.abs(forecast)
    terms = np.divide(2 * errors, both, out=np.zeros_like(errors), where=both > 0)
    return {
        "mae": float(errors.mean()),
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mape": None if np.any(actual == 0) else float(100 * np.mean(errors / np.abs(actual))),
        "smape": float(100 * terms.mean()),
        "mase": float(errors.mean() / scale) if scale > 0 else None,
    }


BASELINE_FORECASTS = ("naive", "seasonal_naive", "drift", "mean")


def baseline_forecast(kind: str, history, horizon: int, period: int) -> np.ndarray:
    """The next `horizon` values by a benchmark method of Hyndman & Athanasopoulos (FPP3 §5.2), from all of
    `history` (y_1 … y_T):

        naive           ŷ_{T+h} = y_T
        seasonal_naive  ŷ_{T+h} = y_{T+h−m(k+1)}, k = ⌊(h−1)/m⌋: the value one season (m = `period`) earlier
        drift           ŷ_{T+h} = y_T + h (y_T − y_1) / (T − 1): the line from the first to the last value
        mean            ŷ_{T+h} = (y_1 + … + y_T) / T

    Example: history [1, 2, 3, 4], horizon 2, period 2 -> naive [4, 4], seasonal_naive [3, 4], drift [5, 6],
    mean [2.5, 2.5].
    """
    return summary_forecast(kind, forecast_summary(history, period), horizon, period)


def forecast_summary(history, period: int) -> dict:
    """All that the benchmark forecasts read of a history y_1 … y_T: its length T, its first value, its mean and
    its last season (the last `period` values; fewer if it is shorter). A run keeps this of its whole series, so
    that `predict` forecasts after the series exactly as the run scored the method (summary_forecast).
    Example: [1, 2, 3, 4], period 2 -> {'count': 4, 'first': 1.0, 'mean': 2.5, 'season': [3.0, 4.0]}."""
    history = np.asarray(history, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # a sum past the largest float: an infinite mean, refused
        mean = float(history.mean())  # by whoever forecasts from it
    return {"count": len(history), "first": float(history[0]), "mean": mean, "season": history[-period:].tolist()}


def summary_forecast(kind: str, summary: dict, horizon: int, period: int) -> np.ndarray:
    """baseline_forecast from a history's forecast_summary. Example: {'count': 4, 'first': 1.0, 'mean': 2.5,
    'season': [3.0, 4.0]}, horizon 2, period 2 -> drift [5, 6]."""
    count, season = summary["count"], np.asarray(summary["season"], dtype=float)
    last = season[-1]
    steps = np.arange(1, horizon + 1)
    if kind == "seasonal_naive" and count < period:
        raise ValueError(f"seasonal naive: {count} values, less than one season of {period}")
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "naive":
            return np.full(horizon, last)
        if kind == "seasonal_naive":
            return season[len(season) - period + (steps - 1) % period]
        if kind == "drift":
            slope = (last - summary["first"]) / (count - 1) if count > 1 else 0.0
            return last + steps * slope
        if kind == "mean":
            return np.full(horizon, summary["mean"])
    raise ValueError(f"unknown baseline {kind!r}")
