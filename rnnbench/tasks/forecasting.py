"""What forecasting tasks share: forecasts from each origin (a network's, or a benchmark forecast's from all the
history before it), their scores in the series' units, the predictor that forecasts after a series, and what
`show`, `report` and the plots draw of a run's forecasts.

Prepared reads the task's `data:` section by its field names (input_length, horizon, test_length,
validation_length, origins, seasonal_period, transform, difference, scaling).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnbench import metrics
from rnnbench.data import series
from rnnbench.data.batches import TensorSplit
from rnnbench.errors import RnnbenchError, describing_weights, load_weights
from rnnbench.views import Table, to_markdown

if TYPE_CHECKING:  # torch, the models and training are imported where a model is built, trained or read:
    import torch  # reading an experiment's `data:` section or its runs' scores needs none of them

BASELINES = metrics.BASELINE_FORECASTS  # forecasts from the history alone, with no network
SCORES = ("mase", "smape", "mae", "rmse", "mape")
MAX_HISTORY = 10_000  # values of the series' end kept in data.json for plots (with the index of the first)
OLD_HISTORY = 10_000  # the most values model.json held before it kept a summary of the whole series
FAR_OUTSIDE = 0.5  # predict notes a window reaching beyond the training range by more than this share of its
# width: a little beyond is what any new stretch of a series shows; this far, the model never came near it


def model_classes() -> dict[str, type]:
    """Class name (as build returns it and model.json records it) -> model class."""
    from rnnbench import forecasters

    return forecasters.ARCHITECTURES


def fingerprint(data, source) -> dict:
    """A CSV's sha256, or how a sine wave is drawn (numpy's PCG64 normal draws, seeded by the run)."""
    return {"sha256": source.sha256} if source is not None else {"generator": "numpy-pcg64-normal-v1"}


class Prepared:
    """One seed's series, its parts, its scaler and its windows as tensors (no tensors with `device` None: every
    check and size of the data without torch, as `validate` and `params` read it)."""

    def __init__(self, data, found: series.Series, seed: int, device: torch.device | None):
        self.data, self.series = data, found
        values = found.values
        self.parts = series.parts(
            len(values), data.input_length, data.horizon, data.test_length, data.validation_length, data.origins
        )
        series.check_transform(found, data.transform)
        modelled = series.to_model_space(values, data.transform, data.difference)
        skip = 1 if data.difference else 0  # a difference has no value at step 0
        self.scaler = series.Scaler.fit(modelled[skip : self.parts.train_end], data.scaling)
        # what the training part read, per column as the model reads it (log, changes): predict notes a window
        # far outside it
        trained = modelled[skip : self.parts.train_end]
        self.trained_range = [trained.min(axis=0).tolist(), trained.max(axis=0).tolist()]
        scaled = self.scaler.transform(modelled)
        L, H = data.input_length, data.horizon
        self.origins = {
            "train": series.window_origins(0, self.parts.train_end, L, H, skip),
            "validation": series.window_origins(self.parts.train_end, self.parts.test_start, L, H, skip),
            "test": self.parts.origins,
        }
        self.tensors = (
            None
            if device is None
            else {
                name: _tensors(*series.at_origins(scaled, origins, L, H), device)
                for name, origins in self.origins.items()
            }
        )
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
            "train_size": len(self.origins["train"]),  # one window per origin
            "validation_size": len(self.origins["validation"]),
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
    import torch

    lengths = torch.full((len(inputs),), inputs.shape[1], dtype=torch.long)
    return TensorSplit(
        torch.tensor(inputs, dtype=torch.float32), lengths, torch.tensor(targets, dtype=torch.float32)
    ).to(device)


def _parts_rows(parts: series.Parts, found: series.Series, data) -> list[dict]:
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
    from rnnbench.train import outputs

    scaled, _ = outputs(model, prepared.tensors[split])
    last = prepared.series.values[np.array(origins) - 1, 0]  # y_{o−1}, what a forecast of changes starts from
    return series.from_model_space(
        prepared.scaler.target_back(scaled.double().numpy()), last, data.transform, data.difference
    )


def score(model: torch.nn.Module, prepared: Prepared, spec) -> tuple[dict, dict]:
    """Validation and test MAE, RMSE, MAPE, sMAPE, MASE (the mean over forecast origins, in the series' units);
    the test MAE per horizon step (`test_mae_by_step`); one predictions row per test origin and step."""
    from rnnbench.train import outputs

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
            model = model_classes()[info["architecture"]](**info["arguments"])
            load_weights(model, state_dict, where)
            baseline = info["arguments"]["kind"] if info["architecture"] == "BaselineForecaster" else None
        if not ({"summary", "window"} <= set(info) or "history" in info):  # before summaries: its last values
            raise RnnbenchError(f"{where}: holds nothing of the series to forecast after; run the experiment again")
        return cls(model, info, baseline)

    def predict(self, texts: list[str], top_k: int = 1, where: list[str] | None = None) -> list[dict]:
        """Example: [] ->
        [{'input': "the series' end (144 values, to 1960-12)", 'output': '449.3 427.1 ...', 'forecast': [...]}];
        a window far outside what the model trained on adds 'notes' (a sentence each)."""
        length, horizon, period = self.info["input_length"], self.info["horizon"], self.info["seasonal_period"]
        transform, difference = self.info.get("transform", "none"), int(bool(self.info.get("difference")))
        if texts:
            window = self._values(texts, where or [f"value {i}" for i in range(1, len(texts) + 1)])
            summary, described = metrics.forecast_summary(window[:, 0], period), " ".join(texts)
        else:
            window, summary, described = self._series_end()
        needed = 2 if self.baseline == "drift" else period if self.baseline == "seasonal_naive" else 1
        needed = needed if self.baseline else length + difference
        if summary["count"] < needed:
            raise RnnbenchError(f"{summary['count']} values given; this model reads the last {needed}")
        notes = []
        if self.baseline:
            forecast = metrics.summary_forecast(self.baseline, summary, horizon, period)
        else:
            if transform == "log" and (window <= 0).any():
                raise RnnbenchError("this model reads log values: every value given must be positive")
            import torch

            with np.errstate(over="ignore", invalid="ignore"):  # too large: refused below, in the reader's terms
                modelled = series.to_model_space(window[-(length + difference) :], transform, difference)[difference:]
                scaled = torch.tensor(self.scaler.transform(modelled), dtype=torch.float32)  # (L, F), as trained
            if not torch.isfinite(scaled).all():
                raise RnnbenchError(
                    f"the values given are too large for this model: read as {self._reads()} and scaled as in "
                    "training, they are not finite numbers"
                )
            notes += self._outside_training(modelled)
            with torch.no_grad():
                output = self.model(scaled[None], torch.tensor([length]))[0]
            with np.errstate(over="ignore", invalid="ignore"):
                back = self.scaler.target_back(output.double().numpy())
                forecast = series.from_model_space(back, window[-1:, 0], transform, difference)[0]
        if not np.isfinite(forecast).all():
            raise RnnbenchError(
                "the forecast is not a finite number: the values given are too far from anything this model "
                "can forecast from"
            )
        shown = " ".join(f"{value:.4g}" for value in forecast)
        answer = {"input": described, "output": shown, "forecast": [float(value) for value in forecast]}
        return [answer | ({"notes": notes} if notes else {})]

    def _series_end(self) -> tuple[np.ndarray, dict, str]:
        """(the series' last window, the benchmark forecasts' summary of it, how the answer names it). A run
        directory written before runs kept the summary holds the series' last 10,000 values at most: a longer
        series is forecast from those, and the answer says so."""
        period, time = self.info["seasonal_period"], self.info.get("last_time")
        to = f", to {time}" if time else ""
        if "summary" in self.info:
            window, summary = np.array(self.info["window"], dtype=float), self.info["summary"]
            return window, summary, f"the series' end ({summary['count']:,} values{to})"
        kept = np.array(self.info["history"], dtype=float)
        summary = metrics.forecast_summary(kept[:, 0], period)
        if len(kept) < OLD_HISTORY:
            return kept, summary, f"the series' end ({len(kept):,} values{to})"
        described = (
            f"the series' last {len(kept):,} values{to} (all that this run directory, written by an older "
            "rnnbench, kept of it: a mean or drift forecast reads only these; run the experiment again to forecast "
            "from the whole series)"
        )
        return kept, summary, described

    def _reads(self) -> str:
        """Example: 'log changes' (transform log, difference), 'values'."""
        log = "log " if self.info.get("transform") == "log" else ""
        return log + ("changes" if self.info.get("difference") else "values")

    def _outside_training(self, modelled: np.ndarray) -> list[str]:
        """A sentence per column whose window, as the model reads it, reaches far beyond the training part's range
        (FAR_OUTSIDE); none for a run directory that recorded no range (written by an older rnnbench)."""
        if "trained_range" not in self.info:
            return []
        notes = []
        lows, highs = (np.asarray(bound, dtype=float) for bound in self.info["trained_range"])
        for column, (name, low, high) in enumerate(zip(self.info["columns"], lows, highs)):
            read = modelled[:, column]
            margin = FAR_OUTSIDE * (high - low)
            furthest = read[np.argmax(np.maximum(low - read, read - high))]
            if furthest < low - margin or furthest > high + margin:
                which = f"column '{name}' of the window" if len(self.info["columns"]) > 1 else "the window"
                notes.append(
                    f"{which} it reads (as {self._reads()}) reaches {furthest:.4g}, far outside what it trained on "
                    f"({low:.4g} to {high:.4g}): the forecast says less"
                )
        return notes

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


def plots(
    experiment: str,
    best_variant: str,
    best_records: list,
    stem: str,
    records_of: dict,
    styles: dict,
    load_report,
    load_predictions,
) -> list:
    """The best variant's test forecasts over the series, first seed."""
    from rnnbench.figures import forecast_plot

    record = best_records[0]
    report, predictions = load_report(record.path), load_predictions(record.path)
    if not report or not predictions:
        return []
    figure = forecast_plot(report, predictions, record.data, f"{experiment}: {best_variant}, seed {record.spec.seed}")
    return [(figure, f"{stem}-forecast-{best_variant}.png")]
