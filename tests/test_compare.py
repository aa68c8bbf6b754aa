import math
from pathlib import Path

import pytest

from rnnbench import compare
from rnnbench.errors import RnnbenchError
from rnnbench.rundir import Run


def _run(experiment, variant, key, seed, accuracy, cell="gru", params=100, seconds=1.0):
    config = {"experiment": experiment, "variant": variant, "seed": seed,
              "model": {"cell": cell, "bidirectional": False, "num_layers": 1, "hidden_size": 8}}
    metrics = {"task": "names", "variant_key": key, "parameters": params, "test_accuracy": accuracy, "test_macro_f1": accuracy,
               "validation_accuracy": accuracy, "epochs_run": 3, "train_seconds": seconds, "seconds_per_epoch": seconds / 3}
    return Run(Path(f"/r/{experiment}/{variant}-{key}/seed-{seed}"), config, metrics)


RUNS = [
    _run("e", "gru", "k1", 0, 0.90), _run("e", "gru", "k1", 1, 0.94), _run("e", "gru", "k1", 2, 0.92),
    _run("e", "lstm", "k2", 0, 0.95, cell="lstm", params=200),
    _run("f", "gru", "k3", 0, 0.50),
]


def test_mean_and_sample_std_over_seeds():
    summary = compare.summarize(compare.runs_frame(RUNS))
    gru = summary[(summary.experiment == "e") & (summary.variant == "gru")].iloc[0]
    assert gru.seeds == 3
    assert gru.test_accuracy_mean == pytest.approx(0.92)
    assert gru.test_accuracy_std == pytest.approx(0.02)  # sample std of 0.90, 0.92, 0.94
    lstm = summary[summary.variant == "lstm"].iloc[0]
    assert lstm.seeds == 1 and math.isnan(lstm.test_accuracy_std)
    assert list(summary.variant) == ["lstm", "gru", "gru"]  # by experiment, then best accuracy first


def test_changed_configuration_keeps_separate_rows():
    summary = compare.summarize(compare.runs_frame(RUNS + [_run("e", "gru", "k9", 0, 0.1)]))
    assert sorted(summary[summary.experiment == "e"].variant) == ["gru@k1", "gru@k9", "lstm"]


def test_sort_and_unknown_column():
    summary = compare.summarize(compare.runs_frame(RUNS), sort="params")
    assert list(summary[summary.experiment == "e"].variant) == ["gru", "lstm"]
    with pytest.raises(RnnbenchError, match="--sort: 'speed' is not one of experiment, variant"):
        compare.summarize(compare.runs_frame(RUNS), sort="speed")


def test_formats():
    summary = compare.summarize(compare.runs_frame(RUNS))
    records = compare.to_records(summary)
    assert {"experiment", "variant", "params", "seeds", "test_accuracy_mean", "test_accuracy_std"} <= set(records[0])
    assert records[0]["test_accuracy_std"] is None  # lstm: one seed
    markdown = compare.to_markdown(summary)
    assert "### e" in markdown and "### f" in markdown
    assert "| gru | gru | uni | 1x8 | 100 | 3 | 92.0 ± 2.0 | 92.0 ± 2.0 | 3.0 | 1.00 |" in markdown
    assert compare.to_csv(summary).splitlines()[0].startswith("experiment,variant,variant_key,cell")
