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
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from rnnbench import forecasters, metrics
from rnnbench.data import series
from rnnbench.data.batches import TensorSplit
from rnnbench.errors import RnnbenchError, describing_weights, load_weights
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
from rnnbench.train import outputs
from rnnbench.views import Table, to_markdown

ARCHITECTURES = ("forecaster",)
VALIDATION_FIELD = "validation_length"  # the data field that sizes the validation split (None: the task has none)
READ_ON_VALIDATE = True  # `validate` reads the CSV (or draws the sine) and checks the windows fit
INPUT_FIELDS = {  # data fields a variant can set: how much it reads and in what form; the parts stay as they are
    "input_length": lambda length: f"in{length}",
    "transform": lambda kind: "log" if kind == "log" else "levels",
    "difference": lambda on: "diff" if on else "nodiff",
    "scaling": lambda kind: f"scale-{kind}",
}
PREDICT_BY_DEFAULT = False
MODELS = forecasters.ARCHITECTURES
MODEL_COLUMN = "forecast"
BASELINES = metrics.BASELINE_FORECASTS  # the baseline cells it scores (config refuses another task's)
SCORED_BESIDE = BASELINES  # added to every series experiment as variants, unless it lists them itself
WATCH = ("validation_loss", "min")  # early stopping keeps the epoch with the lowest validation MSE (scaled)
RANK = ("validation_mase", "min")  # `predict` answers from the run with the lowest validation MASE: in the series'
# units, so runs that read the series otherwise (log, differences) and the baselines are ranked alike
SCORES = ("mase", "smape", "mae", "rmse", "mape")
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
MAX_HISTORY = 10_000  # values of the series kept in a run directory, for `predict` and plots


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


def fingerprint(data: Data, source) -> dict:
    """A CSV's sha256, or how a sine wave is drawn (numpy's PCG64 normal draws, seeded by the run)."""
    return {"sha256": source.sha256} if source is not None else {"generator": "numpy-pcg64-normal-v1"}


class Prepared:
    """One seed's series, its parts, its scaler and its windows as tensors."""

    def __init__(self, data: Data, found: series.Series, seed: int, device: torch.device):
        self.data, self.series = data, found
        values = found.values
        self.parts = series.parts(
            len(values), data.input_length, data.horizon, data.test_length, data.validation_length, data.origins
        )
        if data.transform == "log" and (values <= 0).any():
            row, column = np.argwhere(values <= 0)[0]
            raise RnnbenchError(
                f"data.transform: log needs positive values; column '{found.columns[column]}' has "
                f"{values[row, column]:g} as its value number {row + 1} (the features are logged "
                "too)"
            )
        modelled = series.to_model_space(values, data.transform, data.difference)
        skip = 1 if data.difference else 0  # a difference has no value at step 0
        self.scaler = series.Scaler.fit(modelled[skip : self.parts.train_end], data.scaling)
        scaled = self.scaler.transform(modelled)
        L, H = data.input_length, data.horizon
        self.origins = {
            "train": series.window_origins(0, self.parts.train_end, L, H, skip),
            "validation": series.window_origins(self.parts.train_end, self.parts.test_start, L, H, skip),
            "test": self.parts.origins,
        }
        self.tensors = {
            name: _tensors(*series.at_origins(scaled, origins, L, H), device) for name, origins in self.origins.items()
        }
        self.validation_origins = self.origins["validation"]
        self.scale = metrics.seasonal_naive_scale(values[: self.parts.test_start, 0], data.seasonal_period)
        if self.scale <= 1e-9 * max(float(np.abs(values[: self.parts.test_start, 0]).mean()), 1e-300):
            raise RnnbenchError(
                f"MASE is undefined for this series: the seasonal naive forecast (seasonal_period "
                f"{data.seasonal_period}) is exact before the test part, so its error, MASE's "
                "denominator, is 0; give a series that varies otherwise (or noise > 0)"
            )
        self.sizes = {
            "length": len(values),
            "features": values.shape[1],
            "input_length": data.input_length,
            "horizon": data.horizon,
            "reads": ("log " if data.transform == "log" else "") + ("changes" if data.difference else "values"),
            "train_size": len(self.tensors["train"]),
            "validation_size": len(self.tensors["validation"]),
            "test_size": len(self.parts.origins),
            "train_end": self.parts.train_end,
            "test_start": self.parts.test_start,
            "origins": self.parts.origins,
            "mase_scale": self.scale,
            "scaler_shift": self.scaler.shift.tolist(),
            "scaler_spread": self.scaler.spread.tolist(),
            **fingerprint(data, found if found.sha256 else None),
        }
        targets = {
            name: {o + h for o in origins for h in range(data.horizon)} for name, origins in self.origins.items()
        }
        self.report = {
            "sizes": {row["part"]: row["steps"] for row in _parts_rows(self.parts, found, data)},
            "overlap": {
                f"{a} ∩ {b}": len(targets[a] & targets[b])
                for a, b in (("train", "validation"), ("train", "test"), ("validation", "test"))
            },
            "parts": _parts_rows(self.parts, found, data),
            "columns": found.columns,
            "history": found.values[-MAX_HISTORY:, 0].tolist(),
            "times": (found.times or [])[-MAX_HISTORY:],
            "first_index": max(0, len(values) - MAX_HISTORY),
            "scale": self.scale,
        }


def _tensors(inputs: np.ndarray, targets: np.ndarray, device: torch.device) -> TensorSplit:
    lengths = torch.full((len(inputs),), inputs.shape[1], dtype=torch.long)
    return TensorSplit(
        torch.tensor(inputs, dtype=torch.float32), lengths, torch.tensor(targets, dtype=torch.float32)
    ).to(device)


def _parts_rows(parts: series.Parts, found: series.Series, data: Data) -> list[dict]:
    def at(index: int) -> str:
        return found.times[index] if found.times else str(index)

    spans = (
        ("training", 0, parts.train_end),
        ("validation", parts.train_end, parts.test_start),
        ("test", parts.test_start, parts.n),
    )
    return [
        {
            "part": name,
            "from": at(start) if stop > start else "-",
            "to": at(stop - 1) if stop > start else "-",
            "steps": stop - start,
        }
        for name, start, stop in spans
    ]


def prepare(data: Data, source: series.Series | None, seed: int, device: torch.device) -> Prepared:
    """This seed's series (a sine wave drawn with it; a CSV's is the same for every seed), cut and windowed."""
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


def build(model: ModelSpec, prepared: Prepared) -> tuple[str, dict]:
    data = prepared.data
    if model.cell in BASELINES:
        return "BaselineForecaster", {"kind": model.cell, "horizon": data.horizon}
    arguments = {
        "features": prepared.sizes["features"],
        "horizon": data.horizon,
        "cell": model.cell,
        "hidden_size": model.hidden_size,
        "num_layers": model.num_layers,
        "bidirectional": model.bidirectional,
        "dropout": model.dropout,
        "impl": model.impl,
        "bias": model.bias,
        "activation": model.activation,
        "init": model.init,
        "strategy": model.forecast,
    }
    if model.param_budget:
        arguments["hidden_size"] = _size_for_budget(arguments, model.param_budget)
    return "RecurrentForecaster", arguments


def _size_for_budget(arguments: dict, budget: int) -> int:
    from rnnbench.models import closest_size

    def total(hidden: int) -> int:
        with torch.device("meta"):
            model = forecasters.RecurrentForecaster(**{**arguments, "hidden_size": hidden})
        return sum(p.numel() for p in model.parameters())

    return closest_size(total, budget)


def validator(prepared: Prepared):
    """Each epoch's validation score: (no accuracy, the mean squared error of the scaled forecasts)."""

    def loss(model, split):
        return None, outputs(model, split)[1]

    return loss


def forecasts(model: torch.nn.Module, prepared: Prepared, spec, origins: list[int], split: str) -> np.ndarray:
    """(origins, H) forecasts in the series' units: the model's, or a baseline's from all history before each
    origin."""
    data = prepared.data
    if spec.model.cell in BASELINES:
        history = prepared.series.values[:, 0]
        return np.array(
            [
                metrics.baseline_forecast(spec.model.cell, history[:o], data.horizon, data.seasonal_period)
                for o in origins
            ]
        )
    scaled, _ = outputs(model, prepared.tensors[split])
    last = prepared.series.values[np.array(origins) - 1, 0]  # y_{o−1}, what a forecast of changes starts from
    return series.from_model_space(
        prepared.scaler.target_back(scaled.double().numpy()), last, data.transform, data.difference
    )


def score(model: torch.nn.Module, prepared: Prepared, spec) -> tuple[dict, dict]:
    """Validation and test MAE, RMSE, MAPE, sMAPE, MASE (the mean over forecast origins, in the series' units);
    the test MAE per horizon step (`test_mae_by_step`); one predictions row per test origin and step."""
    data, values = prepared.data, prepared.series.values[:, 0]
    scores, rows = {}, []
    for split, origins in (("validation", prepared.validation_origins), ("test", prepared.parts.origins)):
        if not origins:
            scores |= {f"{split}_{name}": None for name in (*SCORES, "loss")}
            continue
        forecast = forecasts(model, prepared, spec, origins, split)
        actual = np.array([values[o : o + data.horizon] for o in origins])
        per_origin = [metrics.forecast_errors(a, f, prepared.scale) for a, f in zip(actual, forecast)]
        for name in SCORES:
            found = [errors[name] for errors in per_origin]
            scores[f"{split}_{name}"] = None if None in found else float(np.mean(found))
        # a benchmark forecast is no network: it has no loss in the scaled space the networks train in
        scores[f"{split}_loss"] = None if spec.model.cell in BASELINES else outputs(model, prepared.tensors[split])[1]
        if split == "test":
            scores["test_mae_by_step"] = np.abs(actual - forecast).mean(axis=0).tolist()
            times = prepared.series.times
            rows = [
                {
                    "origin": o,
                    "step": h + 1,
                    "time": times[o + h] if times else o + h,
                    "actual": float(actual[i, h]),
                    "predicted": float(forecast[i, h]),
                }
                for i, o in enumerate(origins)
                for h in range(data.horizon)
            ]
    return scores, {"predictions": rows}


def model_info(prepared: Prepared, data: Data) -> dict:
    """What `predict` needs beside the weights: the window, the scaler, and the series' last values."""
    found = prepared.series
    return {
        "input_length": data.input_length,
        "horizon": data.horizon,
        "seasonal_period": data.seasonal_period,
        "transform": data.transform,
        "difference": data.difference,
        "columns": found.columns,
        "scaler_shift": prepared.scaler.shift.tolist(),
        "scaler_spread": prepared.scaler.spread.tolist(),
        "history": found.values[-MAX_HISTORY:].tolist(),
        "last_time": found.times[-1] if found.times else None,
    }


def predictor(state_dict: dict, info: dict, where: Path) -> ForecastPredictor:
    return ForecastPredictor.from_files(state_dict, info, where)


def candidates(records: list) -> tuple[list, list[str]]:
    return records, [f"{len(records)} series runs"]


class ForecastPredictor:
    """Forecasts the `horizon` steps after the series a run trained on, or after values given to it (numbers
    separated by spaces or commas; at least `input_length` of them), in the series' units."""

    one_series = True  # its inputs are one series, answered together (none: forecast after the series' end)

    def __init__(self, model: torch.nn.Module, info: dict, baseline: str | None):
        self.model, self.info, self.baseline = model.eval(), info, baseline
        self.scaler = series.Scaler(np.array(info["scaler_shift"]), np.array(info["scaler_spread"]))

    @classmethod
    def from_files(cls, state_dict: dict, info: dict, where: Path) -> ForecastPredictor:
        with describing_weights(where):
            model = MODELS[info["architecture"]](**info["arguments"])
            load_weights(model, state_dict, where)
            baseline = info["arguments"]["kind"] if info["architecture"] == "BaselineForecaster" else None
            return cls(model, info, baseline)

    @torch.no_grad()
    def predict(self, texts: list[str], top_k: int = 1, where: list[str] | None = None) -> list[dict]:
        """Example: [] ->
        [{'input': "the series' end (144 values)", 'output': '449.3 427.1 ...', 'forecast': [...]}]."""
        length, horizon = self.info["input_length"], self.info["horizon"]
        if texts:
            history = self._values(texts, where or [f"value {i}" for i in range(1, len(texts) + 1)])
            described = " ".join(texts)
        else:
            history = np.array(self.info["history"], dtype=float)
            described = f"the series' end ({len(history):,} values" + (
                f", to {self.info['last_time']})" if self.info.get("last_time") else ")"
            )
        needed = (
            2 if self.baseline == "drift" else self.info["seasonal_period"] if self.baseline == "seasonal_naive" else 1
        )
        transform, difference = self.info.get("transform", "none"), bool(self.info.get("difference"))
        needed = needed if self.baseline else length + difference
        if len(history) < needed:
            raise RnnbenchError(f"{len(history)} values given; this model reads the last {needed}")
        if self.baseline:
            forecast = metrics.baseline_forecast(self.baseline, history[:, 0], horizon, self.info["seasonal_period"])
        else:
            if transform == "log" and (history <= 0).any():
                raise RnnbenchError("this model reads log values: every value given must be positive")
            modelled = series.to_model_space(history[-(length + difference) :], transform, difference)[difference:]
            window = torch.tensor(self.scaler.transform(modelled), dtype=torch.float32)[None]
            scaled = self.model(window, torch.tensor([length]))[0].double().numpy()
            forecast = series.from_model_space(self.scaler.target_back(scaled), history[-1:, 0], transform, difference)[
                0
            ]
        shown = " ".join(f"{value:.4g}" for value in forecast)
        return [{"input": described, "output": shown, "forecast": [float(value) for value in forecast]}]

    def _values(self, texts: list[str], where: list[str]) -> np.ndarray:
        if len(self.info["columns"]) > 1:
            raise RnnbenchError(
                f"this model reads {len(self.info['columns'])} columns ({', '.join(self.info['columns'])}); "
                "give no values to forecast after the series it trained on"
            )
        values = []
        for text, name in zip(texts, where):
            if not text.replace(",", " ").split():
                raise RnnbenchError(f"{name} ({text!r}): empty; give numbers such as '1.5 2 3.25'")
            values += [series.finite_number(part, name) for part in text.replace(",", " ").split()]
        return np.array(values, dtype=float)[:, None]


# ------------------------------------------------------------------------------------ what a run shows


def by_step_table(record) -> Table:
    steps = record.scores.get("test_mae_by_step") or record.details.get("test_mae_by_step") or []
    return Table(
        "test MAE by horizon step (mean over origins)",
        ["step", "MAE"],
        [[str(h), f"{value:.4g}"] for h, value in enumerate(steps, start=1)],
        right={0, 1},
    )


def show_tables(record, predictions: list[dict] | None, top: int) -> list[Table]:
    tables = [by_step_table(record)]
    if predictions:
        rows = [
            [
                str(row["time"]),
                str(row["origin"]),
                str(row["step"]),
                f"{float(row['actual']):.4g}",
                f"{float(row['predicted']):.4g}",
            ]
            for row in predictions
        ]
        tables.append(
            Table("test forecasts", ["time", "origin", "step", "actual", "predicted"], rows, right={1, 2, 3, 4})
        )
    return tables


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


def report_errors(best_variant: str, best_records: list, records: list, load_predictions) -> list[str]:
    steps = np.array(
        [r.scores.get("test_mae_by_step") or r.details.get("test_mae_by_step") for r in best_records], dtype=float
    )
    table = Table(
        "",
        ["step", "MAE (mean over seeds)"],
        [[str(h), f"{v:.4g}"] for h, v in enumerate(steps.mean(axis=0), 1)],
        right={0, 1},
    )
    return [
        "## Error by horizon step",
        "",
        f"{best_variant}: test MAE per step ahead, mean over origins and seeds.",
        "",
    ] + to_markdown(table)


def plots(experiment: str, best_variant: str, best_records: list, stem: str, records_of: dict, styles: dict) -> list:
    """The best variant's test forecasts over the series, first seed."""
    from rnnbench.plots import forecast_plot
    from rnnbench.rundir import load_data_report, load_predictions

    record = best_records[0]
    report, predictions = load_data_report(record.path), load_predictions(record.path)
    if not report or not predictions:
        return []
    figure = forecast_plot(report, predictions, record.data, f"{experiment}: {best_variant}, seed {record.spec.seed}")
    return [(figure, f"{stem}-forecast-{best_variant}.png")]
