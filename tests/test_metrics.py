import math

import pytest
import torch

from rnnbench import metrics
from rnnbench.models import RecurrentClassifier


def test_known_answers():
    targets, predictions = [0, 1, 1], [0, 0, 1]
    assert metrics.accuracy(targets, predictions) == pytest.approx(2 / 3)
    assert metrics.confusion_matrix(targets, predictions, 2).tolist() == [[1, 0], [1, 1]]
    # class 0: P = 1/2, R = 1 -> F1 2/3; class 1: P = 1, R = 1/2 -> F1 2/3
    assert metrics.macro_f1(targets, predictions, 2) == pytest.approx(2 / 3)


def test_macro_f1_ignores_classes_absent_from_targets_and_predictions():
    assert metrics.macro_f1([0, 0, 1], [0, 0, 1], num_classes=5) == 1.0
    assert math.isnan(metrics.accuracy([], []))


def test_macro_f1_counts_a_predicted_but_absent_class_as_zero():
    # class 2 never occurs but is predicted once: its F1 is 0 and it is averaged in
    assert metrics.macro_f1([0, 1], [0, 2], num_classes=3) == pytest.approx((1 + 0 + 0) / 3)


def test_recurrent_closed_form_by_hand():
    assert metrics.recurrent_parameters("gru", 10, 20, 1, False) == 3 * (200 + 400 + 40)
    # second layer of a bidirectional LSTM reads 2H features
    assert metrics.recurrent_parameters("lstm", 5, 4, 2, True) == 2 * 4 * (4 * 5 + 16 + 8) + 2 * 4 * (4 * 8 + 16 + 8)


def test_parameter_count_includes_every_tensor():
    model = RecurrentClassifier(vocab_size=3, num_classes=2, cell="rnn", hidden_size=1, embedding_dim=1)
    # embedding 3, rnn 1*1 + 1*1 + 2, head 1*2 + 2
    assert metrics.count_parameters(model) == 3 + 4 + 4
    assert all(isinstance(p, torch.nn.Parameter) for p in model.parameters())


def test_sequence_mse_known_answer():
    # width 3: (2.5 - 2)² + (7 - 7)² + (0 - 3)², over 3 steps; a longer answer is cut to the width
    assert metrics.sequence_mse(torch.tensor([[2.5, 7.0]]), torch.tensor([[2, 7, 3]]), width=3) == pytest.approx(
        9.25 / 3
    )
    assert metrics.sequence_mse(torch.tensor([[2.0, 7.0, 3.0, 9.0]]), torch.tensor([[2, 7, 3]]), width=3) == 0.0


def test_balanced_accuracy_weighs_every_class_the_same():
    assert metrics.balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0], 2) == pytest.approx(0.5)
    assert metrics.accuracy([0, 0, 0, 1], [0, 0, 0, 0]) == pytest.approx(0.75)
    assert metrics.balanced_accuracy([0, 1, 1], [0, 0, 1], num_classes=4) == pytest.approx((1 + 0.5) / 2)  # 2 absent


def test_per_class_scores_known_answer():
    rows = metrics.per_class_scores(metrics.confusion_matrix([0, 1, 1], [0, 0, 1], 3), ["a", "b", "c"])
    assert [(r["label"], r["support"]) for r in rows] == [("a", 1), ("b", 2), ("c", 0)]
    assert (
        rows[0]["precision"] == pytest.approx(0.5)
        and rows[0]["recall"] == 1.0
        and rows[0]["f1"] == pytest.approx(2 / 3)
    )
    assert rows[1]["precision"] == 1.0 and rows[1]["recall"] == pytest.approx(0.5)
    assert rows[2] == {"label": "c", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_confused_pairs_ranks_mistakes_with_examples():
    names = ["Abel", "Zorn", "Bauer", "Conti", "Rossi"]
    true = ["French", "French", "German", "Italian", "Italian"]
    predicted = ["German", "German", "German", "Spanish", "Italian"]
    pairs = metrics.confused_pairs(names, true, predicted, top=5, examples=1)
    assert pairs == [
        {"true": "French", "predicted": "German", "count": 2, "rate": 1.0, "examples": ["Abel"]},
        {"true": "Italian", "predicted": "Spanish", "count": 1, "rate": 0.5, "examples": ["Conti"]},
    ]
    assert metrics.confused_pairs(names, true, true) == []


def test_the_closed_forms_count_the_gates_the_cells_build():
    from rnnbench import cells

    assert metrics.GATES == cells.GATES  # metrics keeps its own copy: counting parameters imports no torch
