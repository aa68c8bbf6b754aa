"""`rnnbench tune`: the `tune:` section's checks, and real tiny studies on the generated reversal data (2 variants ×
4 trials × 2 epochs): the budget per variant is exact, a killed `tune` resumes without counting a trial twice,
`--jobs 2` trains every trial once and tries the trials one worker tries, a pruned trial is never the best, and the
evaluation runs are on seeds the tuning never saw."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import REPO, SINE
from test_cli import assert_clean_failure, invoke

from rnnbench import config, rundir, studies
from rnnbench.errors import ConfigError

optuna = pytest.importorskip("optuna")  # the `tune` extra, which `make test` installs (dev)

TINY_TUNE = {
    "name": "tiny_tune",
    "data": {
        "dataset": "reversal",
        "samples": 80,
        "long_samples": 10,
        "max_length": 3,
        "long_min_length": 4,
        "long_max_length": 4,
    },
    "model": {"hidden_size": 8, "embedding_dim": 4},
    "grid": {"cell": ["gru", "rnn"]},
    "train": {"max_epochs": 2, "batch_size": 16, "patience": 0},
    "seeds": [0],
    "device": "cpu",
    "tune": {
        "trials": 4,
        "sampler": "random",
        "seeds": [0],
        "evaluation_seeds": [1, 2],
        "space": {
            "hidden_size": {"low": 4, "high": 12, "step": 4},
            "train": {"learning_rate": {"low": 1e-3, "high": 3e-2, "log": True}},
        },
    },
}


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as found:
        config.validate(raw)
    return found.value.problems


def with_tune(**fields) -> dict:
    return {**TINY_TUNE, "tune": {**TINY_TUNE["tune"], **fields}}


@pytest.mark.parametrize(
    "tune, expected",
    [
        ({"space": {"dropot": {"low": 0, "high": 0.5}}}, "tune.space.dropot: unknown field; did you mean dropout?"),
        ({"space": {"dropout": {"low": 0.5, "high": 0.5}}}, "an empty range: low 0.5 is not below high 0.5"),
        ({"space": {"dropout": {"low": 0.0, "high": 1.0}}}, "tune.space.dropout.high"),
        ({"space": {"cell": {"choices": ["gru", "lstm"]}}}, "tune.space.cell: unknown field"),
        ({"space": {"train": {"learning_rate": {"low": 0, "high": 0.1, "log": True}}}}, "log: true needs low above 0"),
        ({"space": {"hidden_size": {"low": 4, "high": 14, "step": 2.5}}}, "hidden_size takes whole numbers"),
        ({"space": {"hidden_size": {"low": 16, "high": 48, "step": 12}}}, "step 12 does not divide the range 16 to 48"),
        (
            {"space": {"train": {"batch_size": {"choices": [16, 0]}}}},
            "tune.space.train.batch_size.choices[1]: input should be greater than or equal to 1",
        ),
        ({"space": {}}, "an empty search space"),
        ({"evaluation_seeds": [0, 1]}, "seed 0 both tunes and evaluates"),
    ],
    ids=lambda value: None if isinstance(value, dict) else value[:40],
)
def test_the_tune_section_is_checked_like_every_other(tune, expected):
    said = problems(with_tune(**tune))
    assert any(expected in problem for problem in said), said


def test_a_field_the_grid_varies_or_a_budget_decides_is_not_tuned():
    raw = with_tune(space={"hidden_size": {"low": 4, "high": 8}})
    assert any(
        "the grid already varies model.hidden_size" in p for p in problems({**raw, "grid": {"hidden_size": [4, 8]}})
    )
    budget = {**raw, "data": {"dataset": "series"}, "grid": None, "model": {"param_budget": 500}}
    assert any("a param_budget decides the hidden size" in p for p in problems(budget))


def test_the_space_becomes_optunas_distributions_and_a_trials_values_a_setting():
    experiment = config.validate(TINY_TUNE)
    found = studies.distributions(experiment.tune)
    assert found["hidden_size"] == optuna.distributions.IntDistribution(4, 12, step=4)
    assert found["train.learning_rate"] == optuna.distributions.FloatDistribution(1e-3, 3e-2, log=True)
    model, train = studies.with_params(
        experiment.model, experiment.train, {"hidden_size": 12, "train.learning_rate": 0.01}
    )
    assert model.hidden_size == 12 and train.learning_rate == 0.01 and train.max_epochs == 2


def tune_study(results, name: str = "tiny_tune"):
    """{variant: its Optuna study} of a finished tune."""
    storage = studies.storage(results, name)
    return {
        summary.study_name.rsplit("-", 1)[0]: optuna.load_study(study_name=summary.study_name, storage=storage)
        for summary in optuna.get_all_study_summaries(storage)
    }


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tune")
    experiment = folder / "tiny.yaml"
    experiment.write_text(json.dumps(TINY_TUNE))
    result = invoke("tune", experiment, "--results", folder / "results", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return folder, experiment, result


def test_every_variant_gets_exactly_its_budget_and_the_best_is_retrained_on_other_seeds(tuned):
    folder, _, result = tuned
    results = folder / "results"
    found = tune_study(results)
    assert set(found) == {"gru-uni-1x8", "rnn-uni-1x8"}
    for study in found.values():
        assert len(study.trials) == 4 and all(trial.state.is_finished() for trial in study.trials)
        assert study.best_trial.state.name == "COMPLETE"
    runs, _ = rundir.find_runs(results, "tiny_tune")
    trials = [run for run in runs if run.tuning_trial]
    assert len(trials) == 8 and {run.spec.seed for run in trials} == {0}
    tuned_runs = [run for run in runs if run.spec.trial is not None and run.spec.trial.kind == "tuned"]
    assert {(run.spec.variant, run.spec.seed) for run in tuned_runs} == {
        (f"{cell}-uni-1x8-tuned", seed) for cell in ("gru", "rnn") for seed in (1, 2)
    }
    for run in tuned_runs:  # the best trial's setting
        best = found[run.spec.variant.removesuffix("-tuned")].best_trial
        assert run.spec.trial.number == best.number and run.spec.model.hidden_size == best.params["hidden_size"]
    untuned = {(run.spec.variant, run.spec.seed) for run in runs if run.spec.trial is None}
    assert untuned == {(f"{cell}-uni-1x8", seed) for cell in ("gru", "rnn") for seed in (1, 2)}
    assert "tiny_tune: tuning" in result.stdout and "studies.journal" in result.stderr


def test_compare_leaves_the_trials_out_unless_asked_and_predict_never_answers_from_one(tuned):
    folder, _, _ = tuned
    shown = invoke("compare", "--results", folder / "results", "--format", "json")
    variants = {row["variant"] for row in json.loads(shown.stdout)}
    assert variants == {"gru-uni-1x8-tuned", "rnn-uni-1x8-tuned", "gru-uni-1x8", "rnn-uni-1x8"}
    every = invoke("compare", "--results", folder / "results", "--format", "json", "--trials")
    assert len({row["variant"] for row in json.loads(every.stdout)}) > len(variants)
    answer = invoke("predict", "1 2 3", "--results", folder / "results", "--experiment", "tiny_tune")
    assert answer.exit_code == 0, answer.output
    assert "-trial" not in answer.stderr and "tuning trial(s) passed over" in answer.stderr


def test_tune_again_trains_nothing_and_tells_no_trial_twice(tuned):
    folder, experiment, _ = tuned
    before = sorted((folder / "results").glob("*/*/seed-*"))
    again = invoke("tune", experiment, "--results", folder / "results", "--jobs", "1", "--json")
    assert again.exit_code == 0, again.output
    assert ": trial " not in again.stderr and sorted((folder / "results").glob("*/*/seed-*")) == before
    mattered = [study["importances"] for study in json.loads(again.stdout)["studies"]]  # fANOVA: shares of 1
    assert any(mattered) and all(set(shares) <= {"hidden_size", "train.learning_rate"} for shares in mattered)
    assert all(sum(shares.values()) == pytest.approx(1) for shares in mattered if shares)
    assert all(len(study.trials) == 4 for study in tune_study(folder / "results").values())


def test_a_tune_killed_mid_study_resumes_and_counts_each_trial_once(tmp_path):
    experiment = tmp_path / "tiny.yaml"
    experiment.write_text(json.dumps({**TINY_TUNE, "train": {**TINY_TUNE["train"], "max_epochs": 6}}))
    results = tmp_path / "results"
    process = subprocess.Popen(
        [sys.executable, "-m", "rnnbench", "tune", str(experiment), "--results", str(results), "--jobs", "1"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill -9 once a trial is told and the next one trains
        time.sleep(0.2)
        if studies.journal_path(results, "tiny_tune").is_file():
            told = sum(trial.state.is_finished() for study in tune_study(results).values() for trial in study.trials)
            if told >= 2:
                break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = {name: [t.number for t in study.trials] for name, study in tune_study(results).items()}
    assert any(len(numbers) < 4 for numbers in before.values())  # stopped mid-way
    resumed = invoke("tune", experiment, "--results", results, "--jobs", "1")
    assert resumed.exit_code == 0, resumed.output
    for study in tune_study(results).values():
        assert [trial.number for trial in study.trials] == [0, 1, 2, 3]
        assert all(trial.state.is_finished() for trial in study.trials)
    # a restarted sampler draws no finished trial's setting again; the trials told before the kill are an
    # uninterrupted tune's first ones, and (random sampler) so is each trial asked after it
    whole = invoke("tune", experiment, "--results", tmp_path / "whole", "--jobs", "1")
    assert whole.exit_code == 0, whole.output
    uninterrupted = {name: [t.params for t in study.trials] for name, study in tune_study(tmp_path / "whole").items()}
    for name, study in tune_study(results).items():
        assert len({json.dumps(trial.params, sort_keys=True) for trial in study.trials}) == 4
        for trial in study.trials:
            if trial.number not in before[name] or trial.number < len(before[name]) - 1:  # not the one cut short
                assert trial.params == uninterrupted[name][trial.number]


def test_jobs_2_trains_every_trial_once_and_tries_what_one_worker_tries(tuned, tmp_path):
    folder, experiment, _ = tuned
    result = subprocess.run(
        [sys.executable, "-m", "rnnbench", "tune", str(experiment), "--results", str(tmp_path), "--jobs", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    one, two = tune_study(folder / "results"), tune_study(tmp_path)
    for name in one:
        assert [t.params for t in one[name].trials] == [t.params for t in two[name].trials]
        assert [t.value for t in one[name].trials] == pytest.approx([t.value for t in two[name].trials])
    trials = [run for run in rundir.find_runs(tmp_path, "tiny_tune")[0] if run.tuning_trial]
    assert len(trials) == 8 == len({run.path for run in trials})


def test_a_pruned_trial_is_never_the_best(tmp_path, write_experiment):
    """On a sine series (a validation loss that varies continuously, where the reversal's exact accuracy ties at 0),
    with learning rates from hopeless to good, the median pruner stops some trials; none of them is the best."""
    raw = {
        **TINY_TUNE,
        "name": "tiny_prune",
        "data": SINE,
        "model": {"hidden_size": 8},
        "grid": {"cell": ["gru"]},
        "train": {"max_epochs": 4, "batch_size": 16, "patience": 0},
        "tune": {
            **TINY_TUNE["tune"],
            "trials": 6,
            "startup_trials": 1,
            "warmup_epochs": 0,
            "space": {"train": {"learning_rate": {"low": 1e-6, "high": 0.05, "log": True}}},
        },
    }
    result = invoke("tune", write_experiment(raw), "--results", tmp_path, "--jobs", "1")
    assert result.exit_code == 0, result.output
    (study,) = tune_study(tmp_path, "tiny_prune").values()
    pruned = [trial for trial in study.trials if trial.state.name == "PRUNED"]
    assert pruned and study.best_trial.state.name == "COMPLETE"
    assert study.best_trial.number not in {trial.number for trial in pruned}
    for trial in pruned:  # its run stopped where the pruner said, and says so
        (path,) = (tmp_path / "tiny_prune").glob(f"gru-uni-1x8-trial{trial.number}-*/seed-0")
        record = rundir.load_run(path)
        assert record.metrics["pruned_after_epoch"] == max(trial.intermediate_values) == record.epochs_run < 4
    assert "pruned" in result.stderr


def test_tune_without_a_tune_section_says_so(tmp_path, write_experiment):
    raw = {key: value for key, value in TINY_TUNE.items() if key != "tune"}
    assert_clean_failure(invoke("tune", write_experiment(raw), "--results", tmp_path), 1, "no tune: section")


def test_validate_says_what_tune_will_do(write_experiment):
    shown = invoke("validate", write_experiment(TINY_TUNE))
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stdout.split())
    assert "tune: 4 trials per variant (random sampler, median pruner) over hidden_size, train.learning_rate" in said
    assert json.loads(invoke("validate", write_experiment(TINY_TUNE), "--json").stdout)["tune"]["trials"] == 4


def test_tuning_curves_by_hand():
    from rnnbench.compare import curves

    assert curves.curve([0.2, 0.6, 0.4], "random", "max") == pytest.approx([0.4, 4.4 / 9, 14.4 / 27])
    assert curves.curve([0.2, 0.6, 0.4], "tpe", "max") == [0.2, 0.6, 0.6]  # the best so far, in trial order
    assert curves.curve([3.0, 1.0, 2.0], "tpe", "min") == [3.0, 1.0, 1.0]
    ahead = curves.leaders({"gru": [0.5, 0.6, 0.7], "lstm": [0.55, 0.6, 0.65]}, "max")
    assert ahead == [(1, 1, "lstm"), (2, 3, "gru")]  # a tie (n = 2) goes to the first listed
    assert curves.leaders({"a": [2.0, 1.0], "b": [1.5, 1.2]}, "min") == [(1, 1, "b"), (2, 2, "a")]
    assert curves.marks(12) == [1, 2, 5, 10, 12] and curves.marks(1) == [1]


def test_compare_tuning_draws_each_variants_curve_from_its_trials(tuned):
    folder, _, _ = tuned
    shown = invoke("compare", "--results", folder / "results", "--tuning")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "tiny_tune: tuning curves" in text and "ahead: n 1" in text
    found = json.loads(invoke("compare", "--results", folder / "results", "--tuning", "--json").stdout)["tuning"]
    variants = found["tiny_tune"]["variants"]
    assert set(variants) == {"gru-uni-1x8", "rnn-uni-1x8"}
    studies = tune_study(folder / "results")
    for name, variant in variants.items():
        assert variant["sampler"] == "random" and len(variant["curve"]) == 4
        told = [trial.value for trial in studies[name].trials]  # each trial's score is what its study was told
        assert variant["scores"] == pytest.approx(told)
        assert variant["curve"][0] == pytest.approx(sum(told) / 4) and variant["curve"][-1] <= max(told)
    markdown = invoke("compare", "--results", folder / "results", "--tuning", "--format", "markdown")
    assert markdown.exit_code == 0 and "### tiny_tune: tuning curves" in markdown.stdout, markdown.output
    assert_clean_failure(
        invoke("compare", "--results", folder / "results", "--tuning", "--format", "csv"), 2, "--tuning"
    )


def test_report_of_a_tuned_experiment_draws_its_curves_and_keeps_the_trials_out_of_the_comparison(tuned, tmp_path):
    folder, _, _ = tuned
    shown = invoke("report", "tiny_tune", "--results", folder / "results", "--out", tmp_path / "report")
    assert shown.exit_code == 0, shown.output
    text = (tmp_path / "report" / "report.md").read_text()
    tuning = text[text.index("## Tuning") : text.index("## Plots")]
    assert (
        "### tiny_tune: tuning curves" in tuning
        and "gru-uni-1x8 4 trials (0 pruned)" in tuning
        and "8 runs" in tuning
        and "ahead: n 1" in tuning
    )
    assert "-trial" not in text[: text.index("## Tuning")]  # the comparison: evaluation runs only
    assert (tmp_path / "report" / "tiny_tune-tuning-curves.png").stat().st_size > 10_000
    assert "![tiny_tune-tuning-curves](tiny_tune-tuning-curves.png)" in text
    rows = json.loads(invoke("compare", "--results", folder / "results", "--format", "json").stdout)
    tuned_rates = [row["settings"] for row in rows if row["variant"].endswith("-tuned")]
    for setting in tuned_rates:  # the tuned learning rate, to 3 significant digits
        rate = setting.split("learning_rate ")[1].split(",")[0]
        assert len(rate.lstrip("0.").replace(".", "")) <= 3, setting


def test_the_settings_column_says_what_each_tuned_variant_chose_and_no_more():
    from rnnbench.compare import summary as summaries

    own = {"model.dropout": 0.1, "model.architecture": "tagger", "train.learning_rate": 0.003}
    rows = {
        "gru": own,
        "gru-tuned": {**own, "model.dropout": 0.3193411, "train.learning_rate": 0.001893185850545726},
        "gru-encdec": {**own, "model.architecture": "encoder_decoder"},  # a grid's field: the name says it
    }
    frame = pd.DataFrame({"experiment": "e", "variant": list(rows), "cell": "gru", "settings": list(rows.values())})
    assert summaries._settings(frame) == [
        "dropout 0.1, learning_rate 0.003",
        "dropout 0.319, learning_rate 0.00189",
        "dropout 0.1, learning_rate 0.003",
    ]


def test_one_tune_at_a_time_and_a_budget_spent_cannot_shrink(tuned):
    folder, experiment, _ = tuned
    with rundir.claim_tuning(folder / "results", "tiny_tune") as mine:
        assert mine
        assert_clean_failure(
            invoke("tune", experiment, "--results", folder / "results"), 1, "another `rnnbench tune` of experiment"
        )
    smaller = invoke("tune", experiment, "--results", folder / "results", "--set", "tune.trials=3")
    assert_clean_failure(smaller, 1, "holds 4 trials, more than tune.trials 3")


def test_trials_that_draw_one_setting_are_two_trials_and_the_tuned_row_is_its_own(tmp_path):
    """Two trials of one setting are two runs of the budget (each its curve point), and a best setting that is
    the variant's own still gets its `-tuned` row: a trial's key holds its study, number and kind."""
    one = {**TINY_TUNE, "grid": {"cell": ["gru"]}, "tune": {**TINY_TUNE["tune"], "trials": 2}}
    one["tune"]["space"] = {"train": {"batch_size": {"choices": [16]}}}  # the experiment's own batch size
    (tmp_path / "one.yaml").write_text(json.dumps(one))
    result = invoke("tune", tmp_path / "one.yaml", "--results", tmp_path / "results", "--jobs", "1")
    assert result.exit_code == 0, result.output
    runs = rundir.find_runs(tmp_path / "results")[0]
    assert sorted(run.spec.variant for run in runs if run.tuning_trial) == ["gru-uni-1x8-trial0", "gru-uni-1x8-trial1"]
    assert {run.spec.variant for run in runs if not run.tuning_trial} == {"gru-uni-1x8", "gru-uni-1x8-tuned"}
    found = json.loads(invoke("compare", "--results", tmp_path / "results", "--tuning", "--json").stdout)
    assert len(found["tuning"]["tiny_tune"]["variants"]["gru-uni-1x8"]["curve"]) == 2


def test_clean_keeps_what_tune_resumes(tuned, tmp_path):
    from rnnbench import tune

    folder, experiment, _ = tuned
    results = tmp_path / "results"
    shutil.copytree(folder / "results", results)
    study = tune_study(results)["gru-uni-1x8"]
    study.ask(studies.distributions(config.load(experiment).tune))  # a trial left running, as by a kill
    running = [s for s in tune.runs_to_keep(config.load(experiment), results) if s.trial and s.trial.kind == "trial"]
    assert [spec.trial.number for spec in running] == [4]
    incomplete = results / "tiny_tune" / ".incomplete"
    assert not incomplete.exists()  # a finished tune leaves none
    incomplete.mkdir()
    kept = incomplete / f"{running[0].variant_key()}-seed-0.checkpoint.pt"
    gone = incomplete / "0badc0de-seed-0.checkpoint.pt"  # a run no setting of the file has
    kept.write_bytes(b"state"), gone.write_bytes(b"state")
    cleaned = invoke("clean", experiment, "--results", results)
    assert cleaned.exit_code == 0, cleaned.output
    assert kept.is_file() and not gone.exists()
