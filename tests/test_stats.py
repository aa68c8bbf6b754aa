"""Statistics over trials: the expected best validation score after n trials (Dodge et al., 2019), against values
computed by hand and against drawing trials many times over."""

import numpy as np
import pytest

from rnnbench import stats


def test_expected_best_of_n_trials_by_hand_and_by_drawing():
    assert stats.expected_best([0.2, 0.4, 0.6]) == pytest.approx(
        [0.4, 0.2 / 9 + 0.4 * 3 / 9 + 0.6 * 5 / 9, 14.4 / 27], abs=1e-4
    )
    assert stats.expected_best([3.0]) == [3.0]
    losses = [0.9, 0.5, 0.7, 0.6]
    lowest = stats.expected_best(losses, "min")
    assert lowest[0] == pytest.approx(sum(losses) / 4) and lowest == sorted(lowest, reverse=True)
    rng = np.random.default_rng(0)
    values = rng.normal(size=7)
    drawn = rng.choice(values, size=(200_000, 7), replace=True)  # n draws with replacement, many times over
    for n, expected in enumerate(stats.expected_best(values), start=1):
        assert drawn[:, :n].max(axis=1).mean() == pytest.approx(expected, abs=0.01)
