"""The series task: forecast the next `horizon` values of a time series (a generated sine wave, or a column of the
user's CSV file), scored in the series' units beside the benchmark forecasts forecasters trust.

Data (data/series.py): chronological parts only — training, validation, test, in that order — with the scaler
fitted on the training part alone; windows of `input_length` steps; test forecasts from one or more origins in
the test part (a rolling-origin backtest: the model is fitted once, each origin reads the actual values before
it). Models (forecasters.py): the recurrent encoder of the other tasks over the window, forecasting the horizon
directly (a linear head over the last state) or recursively (one step at a time, fed back). Baselines: naive,
seasonal naive, drift and mean (metrics.baseline_forecast), added to every experiment as variants. Scores: MAE,
RMSE, MAPE, sMAPE and MASE (scaled by the in-sample seasonal naive error), the mean over origins, and MAE per
horizon step. `predict` forecasts the steps after the series' end, or after values given to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from rnnbench import architectures, metrics
from rnnbench.data import series
from rnnbench.errors import RnnbenchError
from rnnbench.fields import (
    BASELINE_FIELDS,
    CLASSIFIER_ONLY,
    Flag,
    Integer,
    ModelSpec,
    Number,
    Size,
    Strict,
    Text,
    is_default,
)
from rnnbench.metrics import Metric
from rnnbench.tasks import forecasting
from rnnbench.views import Table, to_markdown

if TYPE_CHECKING:  # torch and the models are imported where a model is built, trained or read: validating
    import torch  # an experiment file and reading runs' scores need neither

ARCHITECTURES = ("forecaster",)
VALIDATION_FIELD = "validation_length"  # the data field that sizes the validation split (None: the task has none)
MODEL_SIZES = ("features",)  # the data sizes that shape its models (params): the columns read
READ_ON_VALIDATE = True  # `validate` reads the CSV (or draws the sine) and checks the windows fit
INPUT_FIELDS = {  # data fields a variant can set: how much it reads and in what form; the parts stay as they are
    "input_length": lambda length: f"in{length}",
    "transform": lambda kind: "log" if kind == "log" else "levels",
    "difference": lambda on: "diff" if on else "nodiff",
    "scaling": lambda kind: f"scale-{kind}",
}
PREDICT_BY_DEFAULT = False
model_classes = forecasting.model_classes
MODEL_COLUMN = "forecast"
BASELINES = metrics.BASELINE_FORECASTS  # the baseline cells it scores (config refuses another task's)
SCORED_BESIDE = BASELINES  # added to every series experiment as variants, unless it lists them itself
NO_LOSS = BASELINES  # forecasts from the whole history, scored in the series' units: no loss in the scaled space
WATCH = ("validation_loss", "min")  # early stopping keeps the epoch with the lowest validation MSE (scaled)
RANK = ("validation_mase", "min")  # `predict` answers from the run with the lowest validation MASE: in the series'
# units, so runs that read the series otherwise (log, differences) and the baselines are ranked alike
METRICS = {
    "test_mase": Metric("MASE", 1, 3, False),
    "test_smape": Metric("sMAPE %", 1, 2, False, high=200.0),
    "test_mae": Metric("MAE", 1, 3, False),  # the same decimals as regression's (compare reads one per name)
    "test_rmse": Metric("RMSE", 1, 3, False),
    "test_mape": Metric("MAPE %", 1, 2, False),
    "validation_mase": Metric("validation MASE", 1, 3, False),
    "validation_loss": Metric("validation loss", 1, 4, False),
}
COLUMNS = ("test_mase", "test_smape", "test_mae", "test_rmse", "test_mape")
RECORDS = {"test_mase": (int, float, type(None))}
SHOW_SCORES = (
    ("mase", "MASE", 1),
    ("smape", "sMAPE %", 1),
    ("mae", "MAE", 1),
    ("rmse", "RMSE", 1),
    ("mape", "MAPE %", 1),
)
SHOW_SPLITS = ("validation", "test")
# forecasts from each test origin: their scores, what `show` and `report` print, the forecast plot
fingerprint, Prepared, score, show_tables, report_errors, plots = (
    forecasting.fingerprint,
    forecasting.Prepared,
    forecasting.score,
    forecasting.show_tables,
    forecasting.report_errors,
    forecasting.plots,
)


class Data(Strict):
    """A series to forecast: `source: sine` (generated with each run's seed) or a CSV file (`path`, `column`)."""

    dataset: Literal["series"]
    source: Literal["sine", "csv"] = "sine"  # csv when `path` is given
    # sine: y_t = amplitude · sin(2π t / period + phase) + N(0, noise²)
    length: Annotated[Integer, Field(ge=10, le=10_000_000)] = 400
    period: Annotated[Number, Field(gt=0)] = 25.0
    amplitude: Annotated[Number, Field(gt=0)] = 1.0
    phase: Number = 0.0
    noise: Annotated[Number, Field(ge=0)] = 0.1
    # csv: one value column (the target), optional feature columns the model also reads, an optional time column
    path: Text | None = None
    column: Text | None = None
    time_column: Text | None = None
    features: list[Text] = []
    # windows and parts
    input_length: Size = 24
    horizon: Size = 12
    seasonal_period: Size = 1  # m, for the seasonal naive forecast and MASE's scale (12 for monthly data)
    test_length: Size = 24
    validation_length: Annotated[Integer, Field(ge=0)] = 12
    origins: Annotated[Integer, Field(ge=1)] | None = None  # test forecast origins; default test_length // horizon
    transform: Literal["none", "log"] = "none"  # log: the model reads log values (a positive series)
    difference: Flag = False  # the model reads and forecasts changes from step to step
    scaling: Literal["standard", "minmax", "none"] = "standard"

    @model_validator(mode="before")
    @classmethod
    def _a_path_means_csv(cls, value):
        if isinstance(value, dict) and value.get("path") is not None and "source" not in value:
            return {**value, "source": "csv"}
        return value


def canonical(model: ModelSpec) -> ModelSpec:
    """The architecture made explicit; fields a forecaster does not read (the embedding) kept at their defaults."""
    update = {"architecture": ARCHITECTURES[0]} if model.architecture is None else {}
    if model.cell not in BASELINE_FIELDS:
        update["embedding_dim"] = ModelSpec.model_fields["embedding_dim"].default  # it reads values, not ids
    return model.model_copy(update=update) if update else model


def problems(data: Data, variants: dict[str, ModelSpec]) -> list[str]:
    found = series.problems(
        data.length if data.source == "sine" else None,
        data.input_length,
        data.horizon,
        data.test_length,
        data.validation_length,
        data.origins,
        data.difference,
        data.seasonal_period,
    )  # a CSV's length: checked on load
    if data.source == "csv" and (data.path is None or data.column is None):
        found.append("data.path: a csv series needs path and column (the file and its value column)")
    if data.source == "sine" and (data.path or data.column or data.time_column or data.features):
        found.append("data.source: sine is generated; path, column, time_column and features are for source: csv")
    for name, model in variants.items():
        if model.architecture not in (None, "forecaster"):
            found.append(
                f"variant {name}: architecture {model.architecture} is for another task; series needs forecaster"
            )
        found += [
            f"variant {name}: {field} is for text classifiers; a forecaster reads its window's last state"
            for field in CLASSIFIER_ONLY
            if field != "param_budget" and not is_default(model, field)
        ]
        if model.forecast == "recursive" and (data.features or model.bidirectional):
            why = (
                "features (it feeds back the target only)"
                if data.features
                else "bidirectional (a forecast fed back runs forwards)"
            )
            found.append(f"variant {name}: forecast recursive cannot be {why}; use forecast: direct")
    return found


def watch(data: Data) -> tuple[str, str]:
    return WATCH


def show_scores(record) -> tuple[tuple, tuple]:
    return SHOW_SCORES, SHOW_SPLITS


def describe_model(model: ModelSpec) -> tuple[str, str]:
    """(what the model reads, how it forecasts), for `validate`'s table."""
    if model.cell in BASELINES:
        return "history", model.cell.replace("_", " ")
    return "window", model.forecast


# ------------------------------------------------------------------------------------------------- data


def load(data: Data, data_dir: Path | None, on_download=None) -> tuple[series.Series | None, str | None]:
    """A CSV series, read and checked once per experiment; a sine wave is drawn per seed, in prepare()."""
    if data.source == "sine":
        return None, None
    found = series.read_csv(data.path, data.column, data.time_column, data.features)
    short = series.problems(
        len(found.values),
        data.input_length,
        data.horizon,
        data.test_length,
        data.validation_length,
        data.origins,
        data.difference,
        data.seasonal_period,
    )  # refused here, before anything trains
    if short:
        raise RnnbenchError(f"{data.path}: {short[0]}")
    return (
        found,
        f"{data.path}: {len(found.values):,} values of '{data.column}' read and checked (sha256 {found.sha256[:12]})",
    )


def prepare(data: Data, source: series.Series | None, seed: int, device: torch.device | None) -> Prepared:
    """This seed's series (a sine wave drawn with it; a CSV's is the same for every seed), cut and windowed (no
    tensors with `device` None)."""
    if source is None:
        source = series.sine(data.length, data.period, data.amplitude, data.phase, data.noise, seed)
    return Prepared(data, source, seed, device)


def describe(sizes: dict, report: dict) -> str:
    origins = sizes["origins"]
    return (
        f"data: {sizes['length']:,} values ({sizes['features']} column{'s' if sizes['features'] > 1 else ''}); "
        f"windows of {sizes['input_length']} {sizes.get('reads', 'values')} → {sizes['horizon']}: "
        f"{sizes['train_size']:,} training, "
        f"{sizes['validation_size']:,} validation; {len(origins)} test origin{'s' if len(origins) > 1 else ''} "
        f"({', '.join(map(str, origins))}); no step is forecast in two parts (checked: "
        + ", ".join(f"{pair} {count}" for pair, count in report["overlap"].items())
        + f"); the scaler fitted on the training part alone, MASE's scale ({sizes['mase_scale']:.4g}) on the parts "
        "before the test part"
    )


def data_table(report: dict, title: str) -> Table:
    rows = [[row["part"], row["from"], row["to"], f"{row['steps']:,}"] for row in report["parts"]]
    return Table(
        title,
        ["part", "from", "to", "steps"],
        rows,
        right={3},
        notes=["parts in time order: no value of a later part is read to fit, scale or stop an earlier one"],
    )


# ------------------------------------------------------------------------------------ model and scores


def model_sizes(data: Data, source: series.Series | None, seed: int) -> dict:
    """The columns a window reads, the one size the data decides of its models, once the series is checked as
    prepare checks it (its parts, a log of values that are not positive, MASE's scale), without tensors."""
    return {"features": prepare(data, source, seed, None).sizes["features"]}


def build(model: ModelSpec, data: Data, sizes: dict) -> tuple[str, dict]:
    return architectures.forecaster_arguments(model, BASELINES, sizes["features"], data.horizon)


def validator(prepared: Prepared):
    """Each epoch's validation score: (no accuracy, the mean squared error of the scaled forecasts)."""
    from rnnbench.train import loss_only

    return loss_only


def model_info(prepared: Prepared, data: Data) -> dict:
    """What `predict` needs beside the weights: the window, the scaler, what the training part read (its range),
    and what each forecast reads of the whole series: its last window (every column) and the benchmark
    forecasts' summary of the target (length, first value, mean, last season), so that a forecast after the
    series' end reads exactly what the run's scores did, however long the series."""
    found, difference = prepared.series, int(data.difference)
    return {
        "input_length": data.input_length,
        "horizon": data.horizon,
        "seasonal_period": data.seasonal_period,
        "transform": data.transform,
        "difference": data.difference,
        "columns": found.columns,
        "scaler_shift": prepared.scaler.shift.tolist(),
        "scaler_spread": prepared.scaler.spread.tolist(),
        "trained_range": prepared.trained_range,
        "window": found.values[-(data.input_length + difference) :].tolist(),
        "summary": metrics.forecast_summary(found.values[:, 0], data.seasonal_period),
        "last_time": found.times[-1] if found.times else None,
    }


def predictor(state_dict: dict, info: dict, where: Path) -> forecasting.ForecastPredictor:
    return forecasting.ForecastPredictor.from_files(state_dict, info, where)


def candidates(records: list) -> tuple[list, list[str]]:
    return records, [f"{len(records)} series runs"]


def report_data(records: list, load_report) -> list[str]:
    first = records[0]
    report = load_report(first.path)
    data = first.spec.data
    what = (
        f"`{data.path}`, column `{data.column}`"
        if data.source == "csv"
        else f"a sine wave (period {data.period:g}, amplitude {data.amplitude:g}, noise {data.noise:g}) drawn per seed"
    )
    lines = [
        "## Data",
        "",
        f"{what}: windows of {data.input_length} values → the next {data.horizon}; seasonal period "
        f"{data.seasonal_period}; test origins {first.data.get('origins')}.",
        "",
    ]
    return lines + (to_markdown(data_table(report, "")) if report else [])
