import math
from pathlib import Path

import pandas as pd
import pytest

from rnnbench import compare, selection, stats
from rnnbench.config import RunSpec
from rnnbench.errors import RnnbenchError, UsageError
from rnnbench.rundir import RunRecord


def _run(experiment, variant, key, seed, accuracy, cell="gru", params=100, seconds=1.0, validation=None):
    spec = RunSpec(
        experiment=experiment,
        variant=variant,
        seed=seed,
        data={},
        model={"cell": cell, "hidden_size": 8},
        train={},
        device="cpu",
    )
    metrics = {
        "task": "names",
        "variant_key": key,
        "parameters": params,
        "test_accuracy": accuracy,
        "test_macro_f1": accuracy,
        "validation_accuracy": accuracy if validation is None else validation,
        "epochs_run": 3,
        "train_seconds": seconds,
        "seconds_per_epoch": seconds / 3,
        "best_epoch": 3,
        "data": {"labels": ["German", "Italian"]},
        "environment": {},
    }
    return RunRecord.from_files(Path(f"/r/{experiment}/{variant}-{key}/seed-{seed}"), spec, metrics)


RUNS = [
    _run("e", "gru", "k1", 0, 0.90),
    _run("e", "gru", "k1", 1, 0.94),
    _run("e", "gru", "k1", 2, 0.92),
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
    assert {
        "experiment",
        "variant",
        "params",
        "seeds",
        "test_accuracy_mean",
        "test_accuracy_std",
        "test_accuracy_ci_low",
        "test_accuracy_ci_high",
        "p",
        "p_holm",
        "verdict",
    } <= set(records[0])
    assert records[0]["test_accuracy_std"] is None  # lstm: one seed
    markdown = compare.to_markdown(summary)
    assert "### e" in markdown and "### f" in markdown
    # columns no run recorded (balanced and majority accuracy here) are left out, not shown as '-'
    assert (
        "| gru | uni | 1x8 | 100 | 3 | 92.0 ± 2.0 [87.0, 97.0] | -5.0 (untested) | 92.0 ± 2.0 [87.0, 97.0] | 3.0 | 1.00 |"
    ) in markdown and "balanced acc" not in markdown
    assert "untested: fewer than 2 seeds shared with the reference." in markdown  # said once, under the table
    assert compare.to_csv(summary).splitlines()[0].startswith("experiment,variant,variant_key,task,cell")


def test_confidence_interval_over_seeds_known_answer():
    gru = compare.summarize(compare.runs_frame(RUNS)).query("experiment == 'e' and variant == 'gru'").iloc[0]
    half = 4.302653 * 0.02 / 3**0.5  # t(0.975, 2 degrees of freedom) × std / √n
    assert gru.test_accuracy_ci_low == pytest.approx(0.92 - half) and gru.test_accuracy_ci_high == pytest.approx(
        0.92 + half
    )


def test_intervals_are_clipped_to_the_metric_range():
    runs = [_run("e", "gru", "k1", seed, accuracy) for seed, accuracy in enumerate([1.0, 1.0, 0.97])]
    gru = compare.summarize(compare.runs_frame(runs)).iloc[0]
    assert gru.test_accuracy_ci_high == 1.0 and gru.test_accuracy_ci_low < 0.99


PAIRED = (
    [_run("p", "a", "ka", seed, accuracy) for seed, accuracy in enumerate([0.90, 0.91, 0.92])]
    + [_run("p", "b", "kb", seed, accuracy) for seed, accuracy in enumerate([0.85, 0.87, 0.86])]
    + [_run("p", "c", "kc", seed, accuracy) for seed, accuracy in enumerate([0.91, 0.89, 0.90])]
)


def test_paired_comparison_with_the_best_marks_real_differences_and_noise():
    summary = compare.summarize(compare.runs_frame(PAIRED)).set_index("variant")
    assert summary.loc["a", "verdict"] == "reference" and summary.loc["a", "reference"] == "a"
    assert summary.loc["b", "difference"] == pytest.approx(-0.05) and summary.loc["b", "pairs"] == 3
    assert summary.loc["b", "p"] == pytest.approx(0.0131, abs=1e-4)  # paired t on -0.05, -0.04, -0.06
    assert summary.loc["c", "p"] == pytest.approx(0.4226, abs=1e-4)  # -0.01 on average, but 0.01, -0.02, -0.02
    assert summary.loc["b", "p_holm"] == pytest.approx(2 * summary.loc["b", "p"])  # smallest of 2 p-values, × 2
    assert summary.loc["c", "p_holm"] == pytest.approx(summary.loc["c", "p"])
    assert summary.loc["b", "verdict"] == "real" and summary.loc["c", "verdict"] == "noise"
    markdown = compare.to_markdown(compare.summarize(compare.runs_frame(PAIRED)))
    assert "| best |" in markdown and "-5.0 (p=0.026) |" in markdown and "-1.0 (p=0.42) ≈ |" in markdown
    assert "Holm-adjusted over the 2 comparisons" in markdown


def test_compare_with_a_chosen_reference_and_another_metric():
    summary = compare.summarize(compare.runs_frame(PAIRED), reference="c").set_index("variant")
    assert summary.loc["c", "verdict"] == "reference" and summary.loc["a", "difference"] == pytest.approx(0.01)
    assert "| vs c |" in compare.to_markdown(summary.reset_index())
    by_f1 = compare.summarize(compare.runs_frame(PAIRED), metric="test_macro_f1")
    assert set(by_f1.compared_on) == {"test_macro_f1"} and "vs best (macro-F1 %)" in compare.to_markdown(by_f1)
    with pytest.raises(RnnbenchError, match="--vs: no variant 'd' in these runs; variants: a, b, c"):
        compare.summarize(compare.runs_frame(PAIRED), reference="d")
    both = compare.summarize(compare.runs_frame(PAIRED + RUNS), reference="c")  # only p has c: e and f use their best
    assert set(both[both.verdict == "reference"].reference) == {"c", "lstm", "gru"}
    with pytest.raises(RnnbenchError, match="--metric: 'speed' is not one of test_accuracy"):
        compare.summarize(compare.runs_frame(PAIRED), metric="speed")


def test_differences_without_spread_are_untested_and_a_metric_no_run_records_is_refused():
    steady = [_run("s", "a", "ka", seed, 0.90) for seed in range(3)] + [
        _run("s", "b", "kb", seed, 0.85) for seed in range(3)
    ]
    summary = compare.summarize(compare.runs_frame(steady)).set_index("variant")
    assert summary.loc["b", "verdict"] == "untested" and summary.loc["b", "difference"] == pytest.approx(-0.05)
    with pytest.raises(UsageError, match="--metric: no run here records test_mse; these record test_accuracy"):
        compare.summarize(compare.runs_frame(PAIRED), metric="test_mse")  # a names experiment has no MSE


def test_stats_known_answers():
    interval = stats.mean_interval([0.80, 0.82, 0.84, None])
    assert interval["n"] == 3 and interval["min"] == 0.80 and interval["max"] == 0.84
    assert interval["ci_low"] == pytest.approx(0.82 - 4.302653 * 0.02 / 3**0.5)
    assert math.isnan(stats.mean_interval([0.5])["std"]) and stats.mean_interval([])["n"] == 0
    assert stats.paired_test({0: 0.9, 1: 0.91, 2: 0.92}, {0: 0.85, 1: 0.87, 2: 0.86})["p"] == pytest.approx(
        0.01307, abs=1e-5
    )
    assert stats.paired_test({0: 0.9, 1: 0.9}, {0: 0.9, 1: 0.9})["p"] == 1.0
    assert math.isnan(stats.paired_test({0: 0.9}, {0: 0.8, 1: 0.7})["p"])  # one shared seed
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([math.nan, 0.02])[1] == 0.02 and math.isnan(stats.holm([math.nan, 0.02])[0])


def test_a_one_seed_table_says_once_what_every_row_would_repeat():
    runs = [
        _run("o", "gru-uni-1x8", "k1", 0, 0.90),
        _run("o", "lstm-uni-1x8", "k2", 0, 0.95, cell="lstm"),
        _run("o", "gru-bi-1x8", "k3", 0, 0.85),  # its name says bi, its model is uni: the columns stay
    ]
    part = compare.summarize(compare.runs_frame(runs[:2]))
    # the names say cell, direction and size, and every variant has one seed: no column repeats them
    assert compare.headers(part) == ("variant", "params", "test acc %", "vs best", "macro-F1 %", "epochs", "train s")
    assert [row[3] for row in compare.display_rows(part)] == ["best", "-5.0"]  # no '(untested: 1 shared seed)'
    legend = compare.legend(part)
    assert legend.count("one seed cannot test") == 1 and "untested" not in legend
    assert compare.headers(compare.summarize(compare.runs_frame(runs)))[:4] == (
        "variant",
        "dir",
        "params",
        "test acc %",
    )
    more = compare.summarize(compare.runs_frame(runs[:2] + [_run("o", "gru-uni-1x8", "k1", 1, 0.92)]))
    assert "seeds" in compare.headers(more)  # 2 seeds beside 1: the column says which


def test_params_that_differ_by_seed_read_as_a_range_said_once():
    runs = [_run("v", "gru", "k1", seed, 0.9 + seed / 100, params=100 + 32 * seed) for seed in range(3)]
    summary = compare.summarize(compare.runs_frame(runs))
    assert (summary.params_min.iloc[0], summary.params_max.iloc[0]) == (100, 164)
    assert compare.display_rows(summary)[0][compare.headers(summary).index("params")] == "100–\n164"
    markdown = compare.to_markdown(summary)
    assert "| 100–164 |" in markdown
    assert markdown.count("params: lowest–highest over the seeds where they differ") == 1
    steady = compare.summarize(compare.runs_frame(RUNS))
    assert "params:" not in compare.legend(steady[steady.experiment == "e"])


def test_the_run_predict_answers_from_is_marked_with_the_score_it_is_chosen_by():
    # b is best on test accuracy; a has the best validation accuracy, which is what predict ranks runs by
    runs = [
        _run("p", "a", "ka", seed, accuracy, validation=validation)
        for seed, (accuracy, validation) in enumerate([(0.90, 0.95), (0.91, 0.99), (0.92, 0.93)])
    ] + [_run("p", "b", "kb", seed, accuracy, validation=0.94) for seed, accuracy in enumerate([0.95, 0.96, 0.97])]
    summary = compare.summarize(compare.runs_frame(runs)).set_index("variant")
    assert summary.loc["a", "predict_seed"] == 1 and pd.isna(summary.loc["b", "predict_seed"])
    [candidate, *_], key, why = selection.ranked_candidates(runs)  # what predict ranks with
    assert (candidate.spec.variant, candidate.spec.seed) == ("a", 1)
    assert summary.loc["a", "predict_reason"] == selection.reason(candidate, key, why)
    markdown = compare.to_markdown(summary.reset_index())
    assert "| b | " in markdown and "| best |" in markdown and "| a † | " in markdown
    assert (
        "† the run `rnnbench predict --experiment p` answers from: a seed 1, best validation accuracy (99.0%) of 6 "
        "runs with 2 languages."
    ) in markdown
