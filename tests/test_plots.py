"""What the plots show: learning-curve means only over epochs every seed trained, integer epochs, and a look per
variant that no other variant shares, however many there are."""

import math

from rnnbench import figures


def _history(losses):
    return [{"epoch": i + 1, "train_loss": loss} for i, loss in enumerate(losses)]


def test_the_mean_ends_where_the_first_seed_stops_and_the_others_go_on_alone():
    seeds = [_history([1.0, 0.8, 0.6]), _history([0.9, 0.7, 0.5, 0.4, 0.3]), _history([1.1, 0.9, 0.7, 0.6])]
    epochs, low, mean, high, after = figures._band(seeds, "train_loss")
    assert epochs == [1, 2, 3] and list(low) == [0.9, 0.7, 0.5] and list(high) == [1.1, 0.9, 0.7]
    assert math.isclose(mean[2], 0.6)  # never the mean of the two seeds left at epoch 4 (a rise from 0.6 to 0.5)
    assert after == [([3, 4, 5], [0.5, 0.4, 0.3]), ([3, 4], [0.7, 0.6])]


def test_a_diverged_seed_ends_the_mean_where_it_diverged():
    seeds = [_history([1.0, float("nan")]), _history([0.9, 0.7, 0.5])]
    epochs, _, mean, _, after = figures._band(seeds, "train_loss")
    assert epochs == [1] and math.isclose(mean[0], 0.95) and after == [([1, 2, 3], [0.9, 0.7, 0.5])]


def test_every_variant_keeps_a_look_of_its_own():
    for count in (3, 10, 21, 63):
        styles = figures.variant_styles([f"v{i}" for i in range(count)])
        looks = {(style["color"], style["marker"], style["linestyle"]) for style in styles.values()}
        assert len(looks) == count
    colours = {style["color"] for style in figures.variant_styles([f"v{i}" for i in range(21)]).values()}
    assert len(colours) == 20  # 21 reversal variants: 20 colours (tab20), not 10 reused twice


def test_learning_curves_number_epochs_in_whole_numbers():
    histories = {"a": [_history([1.0, 0.5, 0.4, 0.3, 0.2, 0.1])], "b": [_history([0.9, 0.6])]}
    figure = figures.learning_curves(
        histories, figures.variant_styles(["a", "b"]), title="t", key="train_loss", scale=1
    )
    for axes in figure.axes:
        ticks = [tick for tick in axes.get_xticks() if 1 <= tick <= 6]
        assert ticks and all(float(tick).is_integer() for tick in ticks)
