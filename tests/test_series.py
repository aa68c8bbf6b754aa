"""The series task: chronological parts and windows that never read the future, a scaler fitted on the training
part alone, forecasting metrics and benchmark forecasts by their published definitions, one-line errors for bad
series, direct and recursive forecasters, and predict forecasting after the series."""

import json

import numpy as np
import pytest
import torch
from conftest import REPO, SINE
from test_cli import assert_clean_failure, invoke

from rnnbench import config, metrics, rundir
from rnnbench.data import series
from rnnbench.errors import ConfigError, RnnbenchError
from rnnbench.forecasters import RecurrentForecaster
from rnnbench.tasks import series as task

TINY = {
    "name": "tiny_series",
    "data": SINE,
    "model": {"hidden_size": 8},
    "grid": {"cell": ["gru"]},
    "train": {"max_epochs": 3, "batch_size": 32, "patience": 0},
    "seeds": [0],
    "device": "cpu",
}


def test_parts_and_origins_say_what_does_not_fit():
    found = series.parts(144, 24, 12, 24, 12, 3)
    assert (found.train_end, found.test_start, found.origins) == (108, 120, [120, 126, 132])
    assert series.parts(144, 24, 12, 24, 12, None).origins == [120, 132]  # forecasts that tile the test part
    with pytest.raises(
        RnnbenchError,
        match=r"series too short: 50 values leave 14 for training after test_length 24 "
        r"and validation_length 12, and one window needs input_length 24 \+ horizon "
        r"12 = 36; .* at least 72 values",
    ):
        series.parts(50, 24, 12, 24, 12, None)
    with pytest.raises(RnnbenchError, match="data.test_length: 6 is shorter than the horizon 12"):
        series.parts(144, 24, 12, 6, 12, None)
    with pytest.raises(RnnbenchError, match="data.origins: 20 forecast origins do not fit"):
        series.parts(144, 24, 12, 24, 12, 20)


def test_windows_never_read_forward_and_the_scaler_never_sees_later_parts(tmp_path):
    data = config.validate({**TINY}).data
    prepared = task.prepare(data, None, 0, torch.device("cpu"))
    parts, horizon = prepared.parts, data.horizon
    assert max(prepared.origins["train"]) + horizon <= parts.train_end  # training targets inside the training part
    assert min(prepared.origins["validation"]) >= parts.train_end
    assert max(prepared.origins["validation"]) + horizon <= parts.test_start
    assert prepared.report["overlap"] == {"train ∩ validation": 0, "train ∩ test": 0, "validation ∩ test": 0}
    # the same series with wild values after the training part: the scaler and every training window are unchanged
    changed = series.Series(prepared.series.values.copy(), ["sine"], None, None)
    changed.values[parts.train_end :] *= 1000
    other = task.Prepared(data, changed, 0, torch.device("cpu"))
    assert np.array_equal(other.scaler.shift, prepared.scaler.shift) and np.array_equal(
        other.scaler.spread, prepared.scaler.spread
    )
    assert torch.equal(other.tensors["train"].tokens, prepared.tensors["train"].tokens)
    assert torch.equal(other.tensors["train"].targets, prepared.tensors["train"].targets)


def test_log_and_differences_come_back_to_the_series_units():
    values = np.array([[112.0], [118.0], [132.0], [129.0], [121.0]])
    for transform in ("none", "log"):
        for difference in (False, True):
            modelled = series.to_model_space(values, transform, difference)
            origins = np.array([2, 3])
            truth = np.stack([modelled[o : o + 2, 0] for o in origins])  # a perfect forecast of the model's space
            back = series.from_model_space(truth, values[origins - 1, 0], transform, difference)
            np.testing.assert_allclose(back, np.stack([values[o : o + 2, 0] for o in origins]), rtol=1e-12)


def test_forecast_metrics_and_benchmarks_follow_their_definitions():
    assert metrics.seasonal_naive_scale([1, 2, 4, 7], 1) == 2.0
    assert metrics.seasonal_naive_scale([1, 5, 2, 6, 3, 7], 2) == 1.0
    errors = metrics.forecast_errors([10, 20], [12, 18], 4)
    assert errors["mae"] == 2 and errors["rmse"] == 2 and errors["mase"] == 0.5
    assert errors["mape"] == pytest.approx(15.0) and errors["smape"] == pytest.approx(100 * (4 / 22 + 4 / 38) / 2)
    assert metrics.forecast_errors([0, 1], [0, 1], 1)["mape"] is None  # undefined where an actual value is 0
    assert metrics.forecast_errors([0, 1], [0, 1], 1)["smape"] == 0.0
    history, forecast = [1, 2, 3, 4, 5], metrics.baseline_forecast
    assert forecast("naive", history, 3, 2).tolist() == [5, 5, 5]
    assert forecast("seasonal_naive", history, 3, 2).tolist() == [4, 5, 4]
    assert forecast("drift", history, 2, 1).tolist() == [6, 7]
    assert forecast("mean", history, 2, 1).tolist() == [3, 3]


def test_bad_series_files_are_refused_in_one_line_naming_the_row(tmp_path, write_experiment):
    cases = {
        "Date,Passengers\n1949-01,112\n1949-02,\n": "line 3, column 'Passengers': missing value",
        "Date,Passengers\n1949-01,112\n1949-02,lots\n": "line 3, column 'Passengers': 'lots' is not a number",
        "Date,Passengers\n1949-02,112\n1949-01,118\n": "line 3, column 'Date': time '1949-01' comes before '1949-02' (line 2)",
        "Date,Passengers\n1949-01,112\n1949-01,118\n": "line 3, column 'Date': time '1949-01' repeats line 2",
        "Date,Passengers\n1949-01,112\nsoon,118\n": "line 3, column 'Date': 'soon' is not a time",
        "Date,Count\n1949-01,112\n": "no column 'Passengers'; the file's columns are 'Date', 'Count'",
    }
    for content, message in cases.items():
        path = tmp_path / "bad.csv"
        path.write_text(content, encoding="utf-8")
        experiment = write_experiment(
            {**TINY, "data": {**SINE, "path": str(path), "column": "Passengers", "time_column": "Date"}}
        )
        assert_clean_failure(invoke("validate", experiment), 1, f"{path}: {message}")
    short = write_experiment(
        {
            **TINY,
            "data": {
                **SINE,
                "path": str(REPO / "experiments" / "data" / "airline_passengers.csv"),
                "column": "Passengers",
                "input_length": 200,
            },
        }
    )
    assert_clean_failure(
        invoke("run", short, "--results", tmp_path / "r"),
        1,
        "series too short: 144 values leave 120 "
        "for training after test_length 16 and validation_length 8, and one window needs input_length "
        "200 + horizon 4 = 204",
    )
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("metrics.json"))  # refused before training
    wide = write_experiment({**TINY, "data": {**SINE, "horizon": 12}})
    assert_clean_failure(invoke("validate", wide), 2, "data.validation_length: 8 is shorter than the horizon 12")


def test_settings_that_cannot_forecast_are_refused():
    with pytest.raises(ConfigError) as caught:
        config.validate(
            {
                **TINY,
                "grid": None,
                "variants": [
                    {"cell": "gru", "bidirectional": True, "forecast": "recursive"},
                    {"cell": "majority"},
                    {"cell": "gru", "head": "mean"},
                ],
            }
        )
    assert caught.value.problems == [
        "variant gru-bi-1x8-recursive: forecast recursive cannot be bidirectional (a forecast fed back runs forwards); use forecast: direct",
        "variant gru-uni-1x8-head-mean: head is for text classifiers; a forecaster reads its window's last state",
        "variant majority: cell majority is another task's baseline (series's: naive, seasonal_naive, drift, mean)",
    ]
    with pytest.raises(ConfigError, match="forecast recursive is for a series"):
        config.validate(
            {
                **TINY,
                "data": {"languages": ["German", "Italian"]},
                "grid": None,
                "variants": [{"forecast": "recursive"}],
            }
        )


def test_recursive_forecasts_feed_each_step_back():
    torch.manual_seed(0)
    model = RecurrentForecaster(features=1, horizon=3, cell="gru", hidden_size=4, strategy="recursive")
    window = torch.randn(2, 5, 1)
    forecast, _ = model(window, torch.full((2,), 5))
    # the second step is what the model answers after reading the window and then its own first forecast
    longer = torch.cat([window, forecast[:, :1, None]], dim=1)
    again, _ = model(longer, torch.full((2,), 6))
    torch.testing.assert_close(again[:, 0], forecast[:, 1])
    assert sum(p.numel() for p in model.head.parameters()) == 4 + 1  # one value per step, not the horizon


def test_a_sine_experiment_trains_scores_beside_the_baselines_and_forecasts(tmp_path):
    content = {
        **TINY,
        "grid": {"cell": ["gru"], "forecast": ["direct", "recursive"]},
        "variants": [],
        "model": {"hidden_size": 8, "impl": "scratch"},
    }
    (tmp_path / "e.yaml").write_text(json.dumps(content))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "r")
    assert result.exit_code == 0, result.output
    runs = {run.spec.variant: run for run in rundir.find_runs(tmp_path / "r")[0]}
    assert sorted(runs) == ["drift", "gru-uni-1x8-direct", "gru-uni-1x8-recursive", "mean", "naive", "seasonal_naive"]
    assert runs["gru-uni-1x8-direct"].spec.model.impl == "scratch"  # the cells written from the equations forecast too
    for run in runs.values():
        assert run.scores["test_mase"] is not None and len(run.details["test_mae_by_step"]) == 4
    # the seasonal naive forecast by hand, from the recorded predictions: the value one period earlier
    rows = rundir.load_predictions(runs["seasonal_naive"].path)
    values = np.asarray(rundir.load_data_report(runs["seasonal_naive"].path)["history"])
    assert all(
        float(row["predicted"]) == pytest.approx(values[int(row["origin"]) + int(row["step"]) - 1 - 12]) for row in rows
    )
    table = invoke("compare", "--results", tmp_path / "r")
    assert "MASE" in table.stdout and "seasonal_naive" in table.stdout
    recurrent = next(run for name, run in runs.items() if name.endswith("direct"))
    answer = json.loads(invoke("predict", "--run", recurrent.path, "--json").stdout)[0]
    assert len(answer["forecast"]) == 4 and answer["input"].startswith("the series' end (150 values")
    given = invoke("predict", "--run", recurrent.path, "--json", "--", *map(str, np.sin(np.arange(12) / 2)))  # "-0.3"
    assert len(json.loads(given.stdout)[0]["forecast"]) == 4
    assert_clean_failure(
        invoke("predict", "--run", recurrent.path, "1", "2"), 1, "2 values given; this model reads the last 12"
    )


def test_a_multivariate_csv_reads_its_features_and_its_time_labels(tmp_path):
    rows = ["t,y,x"] + [f"{2000 + i},{np.sin(i / 3) + 5:.4f},{np.cos(i / 3):.4f}" for i in range(80)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = {
        "dataset": "series",
        "path": str(tmp_path / "m.csv"),
        "column": "y",
        "features": ["x"],
        "time_column": "t",
        "input_length": 8,
        "horizon": 4,
        "test_length": 8,
        "validation_length": 4,
        "seasonal_period": 19,
    }
    (tmp_path / "e.yaml").write_text(json.dumps({**TINY, "data": data}))
    result = invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert "80 values (2 columns)" in result.output
    gru = next(run for run in rundir.find_runs(tmp_path / "r")[0] if run.spec.model.cell == "gru")
    assert rundir.load_predictions(gru.path)[0]["time"] == "2072"
    assert_clean_failure(
        invoke("predict", "--run", gru.path, "1 2 3 4 5 6 7 8"), 1, "this model reads 2 columns (y, x)"
    )


@pytest.mark.slow
def test_on_air_passengers_a_recurrent_forecaster_beats_every_benchmark(tmp_path):
    """The shipped AirPassengers experiment, one seed, RNN only: log changes in, MASE below every baseline's."""
    result = invoke(
        "run",
        REPO / "experiments" / "series_airline.yaml",
        "--results",
        tmp_path,
        "--set",
        "seeds=[0]",
        "--set",
        "grid.cell=[rnn]",
        "--set",
        "variants=[]",
    )
    assert result.exit_code == 0, result.output
    mase = {run.spec.variant: run.scores["test_mase"] for run in rundir.find_runs(tmp_path)[0]}
    assert set(mase) == {"rnn-uni-1x32", "naive", "seasonal_naive", "drift", "mean"}
    assert mase["rnn-uni-1x32"] < 0.8 * min(mase[name] for name in ("naive", "seasonal_naive", "drift", "mean"))


def test_walkthrough_faults_are_refused_before_training(tmp_path, write_experiment):
    def problems(data, **more):
        with pytest.raises(ConfigError) as caught:
            config.validate({**TINY, "data": {**SINE, **data}, **more})
        return caught.value.problems

    assert (
        "input_length 12 + horizon 4 + 1 (difference: a change needs the value before it) = 17"
        in problems({"length": 40, "difference": True})[0]
    )  # 16 training values hold a window of levels, not of changes
    assert problems({"seasonal_period": 200})[0].startswith(
        "data.seasonal_period: 200 is not shorter than the 126 values"
    )
    assert problems({"length": 60}, grid={"cell": ["gru"], "data": {"input_length": [12, 40]}})[0].startswith(
        "series too short: 60 values leave 36 for training"
    )  # a variant's own data setting is checked too
    named = config.validate({**TINY, "grid": None, "variants": [{"name": "naive", "cell": "gru"}]}).resolved_variants()
    assert list(named) == ["naive", "seasonal_naive", "drift", "mean"]  # the user's "naive" stays; no clash
    (tmp_path / "tz.csv").write_text("t,y\n2000-01-01T00:00,1\n2000-01-01T01:00+00:00,2\n", encoding="utf-8")
    with pytest.raises(RnnbenchError, match="line 3, column 't': .* mixes times with and without a time zone"):
        series.read_csv(str(tmp_path / "tz.csv"), "y", "t")
    with pytest.raises(RnnbenchError, match="MASE is undefined for this series"):
        task.prepare(config.validate({**TINY, "data": {**SINE, "noise": 0}}).data, None, 0, torch.device("cpu"))


def test_a_benchmark_records_no_network_loss_and_a_long_file_is_one_series(tmp_path):
    (tmp_path / "e.yaml").write_text(json.dumps(TINY))
    assert invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "r").exit_code == 0
    runs = {run.spec.variant: run for run in rundir.find_runs(tmp_path / "r")[0]}
    assert runs["drift"].scores["test_loss"] is None and runs["gru-uni-1x8"].scores["test_loss"] is not None
    (tmp_path / "values.txt").write_text("\n".join(f"{np.sin(i / 2):.4f}" for i in range(5000)) + "\n")
    answers = json.loads(
        invoke("predict", "--run", runs["gru-uni-1x8"].path, "--file", tmp_path / "values.txt", "--json").stdout
    )
    assert len(answers) == 1 and len(answers[0]["forecast"]) == 4  # one forecast after all 5,000 values


def test_predict_forecasts_from_the_whole_series_as_the_run_was_scored(tmp_path):
    """A series longer than the 10,000 values a run directory once kept: the mean and drift forecasts after its end
    read all of it (its count, first value and mean, kept as a summary), and the answer says how long it is. A run
    directory written before the summary forecasts from what it kept, and says so."""
    data = {**SINE, "length": 15_000}
    content = {**TINY, "data": data, "grid": None, "model": {"cell": "mean"}}
    (tmp_path / "e.yaml").write_text(json.dumps(content))
    assert invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "r").exit_code == 0
    runs = {run.spec.variant: run for run in rundir.find_runs(tmp_path / "r")[0]}
    assert sorted(runs) == ["drift", "mean", "naive", "seasonal_naive"]
    values = series.sine(15_000, 12, 1.0, 0.0, 0.1, 0).values[:, 0]

    def forecast(variant: str) -> dict:
        answered = invoke("predict", "--run", runs[variant].path, "--json")
        assert answered.exit_code == 0, answered.output
        return json.loads(answered.stdout)[0]

    mean = forecast("mean")
    assert mean["input"] == "the series' end (15,000 values)"
    assert mean["forecast"] == [values.mean()] * 4 and values.mean() != values[-10_000:].mean()
    slope = (values[-1] - values[0]) / (15_000 - 1)
    assert forecast("drift")["forecast"] == pytest.approx(values[-1] + slope * np.arange(1, 5), rel=1e-12)
    assert forecast("seasonal_naive")["forecast"] == values[-12:-8].tolist()
    assert forecast("naive")["forecast"] == [values[-1]] * 4
    # the same method the scores used: the mean forecast from every value before each test origin
    rows = rundir.load_predictions(runs["mean"].path)
    assert float(rows[0]["predicted"]) == pytest.approx(values[: int(rows[0]["origin"])].mean(), rel=1e-12)
    # a run directory from before: model.json held the series' last 10,000 values and no summary
    info_path = runs["mean"].path / "model.json"
    info = json.loads(info_path.read_text())
    old = {key: value for key, value in info.items() if key not in ("summary", "window", "trained_range")}
    info_path.write_text(json.dumps(old | {"history": values[-10_000:, None].tolist()}))
    older = forecast("mean")
    assert older["input"].startswith("the series' last 10,000 values (all that this run directory")
    assert older["forecast"] == pytest.approx([values[-10_000:].mean()] * 4, rel=1e-12)
    info_path.write_text(json.dumps(old | {"history": values[-150:, None].tolist()}))  # a short series: all of it
    assert forecast("mean")["input"] == "the series' end (150 values)"
    info_path.write_text(json.dumps(old))
    assert_clean_failure(
        invoke("predict", "--run", runs["mean"].path), 1, "model.json: holds nothing of the series to forecast after"
    )


def test_values_too_large_for_a_forecast_are_refused_in_one_line(tmp_path):
    (tmp_path / "e.yaml").write_text(json.dumps(TINY))
    assert invoke("run", tmp_path / "e.yaml", "--results", tmp_path / "r").exit_code == 0
    runs = {run.spec.variant: run for run in rundir.find_runs(tmp_path / "r")[0]}
    huge = ["1e308"] * 12
    assert_clean_failure(invoke("predict", "--run", runs["mean"].path, *huge), 1, "the forecast is not a finite number")
    assert (
        json.loads(invoke("predict", "--run", runs["naive"].path, "--json", *huge).stdout)[0]["forecast"] == [1e308] * 4
    )  # the naive forecast repeats the last value: finite, answered
    assert_clean_failure(
        invoke("predict", "--run", runs["gru-uni-1x8"].path, *huge), 1, "too large for this model", "not finite"
    )
    far = json.loads(invoke("predict", "--run", runs["gru-uni-1x8"].path, "--json", *(["1e6"] * 12)).stdout)[0]
    assert "far outside what it trained on" in far["notes"][0] and all(np.isfinite(far["forecast"]))
