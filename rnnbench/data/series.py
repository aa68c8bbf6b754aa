"""Time series to forecast: a generated sine wave or columns of a CSV file; chronological parts, forecast origins,
a scaler fitted on the training part alone, and the windows a model reads.

    y_0 … y_{n-1}      the target (column 0 of `values`), features after it (multivariate CSVs)
    ├── training part ──┼── validation part ──┼── test part ──┤
                     train_end           test_start           n

A window is `input_length` steps of every column ending at an origin o (y_{o-L} … y_{o-1}) and the `horizon`
target values after it (y_o … y_{o+H-1}). Training windows have their targets inside the training part,
validation windows inside the validation part; test origins lie in the test part (see `parts`). Inputs
may reach back into earlier parts (the past is known at forecast time), never forward.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnbench.data import delimited
from rnnbench.data.numbers import finite_number
from rnnbench.data.numbers import parse as parse_number
from rnnbench.errors import RnnbenchError

MAX_FILE_BYTES = 200_000_000


@dataclass(frozen=True)
class Series:
    values: np.ndarray  # (n, F) float64: the target first, then the features
    columns: list[str]  # their names
    times: list[str] | None  # the time column as written, if there is one
    sha256: str | None  # of the file read; None for a generated series
    path: str | None = None  # the file read, for messages in its terms; None for a generated series
    lines: list[int] | None = None  # the line of the file each value comes from


def sine(length: int, period: float, amplitude: float, phase: float, noise: float, seed: int) -> Series:
    """y_t = amplitude · sin(2π t / period + phase) + ε_t, ε_t ~ N(0, noise²) drawn with `seed` (numpy PCG64)."""
    steps = np.arange(length, dtype=float)
    values = amplitude * np.sin(2 * np.pi * steps / period + phase)
    if noise:
        values = values + np.random.default_rng(seed).normal(0.0, noise, length)
    return Series(values[:, None], ["sine"], None, None)


def read_csv(path: str, column: str, time_column: str | None = None, features: list[str] = ()) -> Series:
    """The `column` (and `features`) of a CSV file with a header row, rows in time order.

    The file is read as every reader of a user's file reads it (delimited.py: the header, one field per column in
    every row, quotes), its values as numbers.py parses them. Raises RnnbenchError naming the file, and the line and
    column where it applies, for: a missing file or column, a missing or non-numeric value, a time that is not a
    time (empty, nan, inf, or neither a number nor an ISO 8601 date or date-time such as 1949-01 or 1949-01-31),
    and a time column that is not increasing (unsorted or repeated times).
    """
    try:
        with Path(path).open("rb") as file:
            content = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise RnnbenchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RnnbenchError(f"{path}: is a folder; give a CSV file") from None
    except OSError as err:
        raise RnnbenchError(f"{path}: cannot read ({err.strerror or err})") from None
    if len(content) > MAX_FILE_BYTES:
        raise RnnbenchError(f"{path}: over {MAX_FILE_BYTES:,} bytes")
    header, rows = delimited.read_rows(path, delimited.decode(path, content))
    names = [column, *features]
    wanted = names + ([time_column] if time_column else [])
    if len(set(wanted)) < len(wanted):
        raise RnnbenchError(f"{path}: column '{next(n for n in wanted if wanted.count(n) > 1)}' is given twice")
    indices = delimited.columns(path, header, wanted)
    values, times, lines = [], [], []
    for line, row in rows:
        numbers = []
        for name, index in zip(names, indices):
            cell = row[index].strip()
            if not cell:
                raise RnnbenchError(
                    f"{path}: line {line}, column '{name}': missing value; fill or drop the row "
                    "(a forecaster reads every step)"
                )
            numbers.append(finite_number(cell, f"{path}: line {line}, column '{name}'"))
        values.append(numbers)
        lines.append(line)
        if time_column:
            times.append(row[indices[-1]].strip())
    if not values:
        raise RnnbenchError(f"{path}: no rows of data under the header")
    if time_column:
        _check_times(path, time_column, times, lines)
    digest = hashlib.sha256(content).hexdigest()
    return Series(np.array(values, dtype=float), names, times if time_column else None, digest, path, lines)


def _check_times(path: str, column: str, times: list[str], lines: list[int]) -> None:
    """Refuse a time that is not a time, and a time column that is not strictly increasing, naming the first row
    at fault. Each row is compared with the row before, whose time was valid (else it was refused): no time can
    slip past the order check (a nan compares false with everything, so it would have)."""
    last = None  # (key, time, line) of the row before
    for time, line in zip(times, lines):
        where = f"{path}: line {line}, column '{column}'"
        if not time:
            raise RnnbenchError(f"{where}: the time is empty; every row needs its time")
        key = _time_key(time)
        if key is None:
            raise RnnbenchError(
                f"{where}: {time[:40]!r} is not a time (write a number, or a date such as 1949-01 or 1949-01-31)"
            )
        if last is not None:
            before, then, then_line = last
            if type(key) is not type(before):
                raise RnnbenchError(f"{where}: {time!r} mixes numbers and dates ({then!r} on line {then_line})")
            try:
                earlier = key < before
            except TypeError:  # 2000-01-01T00:00 and 2000-01-01T00:00+00:00 cannot be ordered
                raise RnnbenchError(f"{where}: {time!r} mixes times with and without a time zone") from None
            if key == before:
                raise RnnbenchError(f"{where}: time {time!r} repeats line {then_line}; one row per time step")
            if earlier:
                raise RnnbenchError(
                    f"{where}: time {time!r} comes before {then!r} (line {then_line}); sort the rows in time order"
                )
        last = (key, time, line)


def _time_key(text: str):
    """A sortable key for a time as written: a finite number (numbers.parse), or an ISO 8601 date or date-time in
    ASCII (1949-01 counts as 1949-01-01). None if it is neither (nan and inf are not times)."""
    from datetime import datetime

    number = parse_number(text)
    if number is not None:
        return number
    if not text.isascii():
        return None
    try:
        return datetime.fromisoformat(text + "-01" if len(text) == 7 and text[4] == "-" else text)
    except ValueError:
        return None


def locate(found: Series, row: int, column: int) -> str:
    """Where value [row, column] of a series came from, in the file's terms when it was read from one.

    Example: "airline.csv: line 49, column 'Passengers' (time 1952-12)"; a sine: "value 48 of column 'sine'".
    """
    if found.path is None or found.lines is None:
        return f"value {row + 1} of column '{found.columns[column]}'"
    time = f" (time {found.times[row]})" if found.times else ""
    return f"{found.path}: line {found.lines[row]}, column '{found.columns[column]}'{time}"


def check_transform(found: Series, transform: str) -> None:
    """Refuse `transform: log` of a series holding a value that is not positive (every column is logged, the
    features too), naming the first such value where the file holds it."""
    if transform != "log":
        return
    bad = np.argwhere(found.values <= 0)
    if len(bad):
        row, column = bad[0]
        more = f" ({len(bad) - 1:,} more like it)" if len(bad) > 1 else ""
        raise RnnbenchError(
            f"{locate(found, row, column)}: {found.values[row, column]:g} is not positive, and data.transform: log "
            f"needs every value positive (the features are logged too){more}; fix the value, or use transform: none"
        )


# ------------------------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Parts:
    """Where each part starts and ends (indices into the series) and the test forecast origins."""

    n: int
    train_end: int  # the validation part starts here
    test_start: int
    origins: list[int]  # test forecast origins: forecast y_o … y_{o+H-1} from the L values before o


def parts(
    n: int, input_length: int, horizon: int, test_length: int, validation_length: int, origins: int | None
) -> Parts:
    """Cut a series of length n into parts and place the test origins, or raise RnnbenchError with the numbers.

    Test origins: `origins` of them (default: test_length // horizon, forecasts that tile the test part), spread
    evenly from the test part's start to the last origin whose forecast ends at the series' end.
    Example: n 144, test 24, horizon 12, origins 3 -> origins 120, 126, 132.
    """
    found = problems(n, input_length, horizon, test_length, validation_length, origins)
    if found:
        raise RnnbenchError(found[0])
    count = origins or test_length // horizon
    test_start = n - test_length
    last = n - horizon
    places = np.linspace(test_start, last, count) if count > 1 else np.array([test_start])
    return Parts(n, test_start - validation_length, test_start, [int(round(place)) for place in places])


def problems(
    n: int | None,
    input_length: int,
    horizon: int,
    test_length: int,
    validation_length: int,
    origins: int | None,
    difference: bool = False,
    seasonal_period: int = 1,
) -> list[str]:
    """Why these windows and parts do not fit a series of n values (n None: only what holds for any length).
    With `difference`, a window reads one value more (a change needs its predecessor); the seasonal naive
    forecast and MASE's scale need more than `seasonal_period` values before the validation part."""
    found = []
    if test_length < horizon:
        found.append(
            f"data.test_length: {test_length} is shorter than the horizon {horizon}; the test part must hold "
            "one whole forecast"
        )
    if validation_length and validation_length < horizon:
        found.append(
            f"data.validation_length: {validation_length} is shorter than the horizon {horizon}; the "
            "validation part must hold one whole forecast (or set it to 0)"
        )
    count = origins or max(test_length // horizon, 1)
    if test_length >= horizon and count > test_length - horizon + 1:
        found.append(
            f"data.origins: {count} forecast origins do not fit a test part of {test_length} steps with "
            f"horizon {horizon} (at most {test_length - horizon + 1})"
        )
    needed = input_length + horizon + difference  # the shortest training part that holds one window
    train = None if n is None else n - test_length - validation_length
    if train is not None and train < needed:
        plus = " + 1 (difference: a change needs the value before it)" if difference else ""
        found.append(
            f"series too short: {n} values leave {max(train, 0)} for training after test_length "
            f"{test_length} and validation_length {validation_length}, and one window needs input_length "
            f"{input_length} + horizon {horizon}{plus} = {needed}; shorten them or give a series of at "
            f"least {needed + test_length + validation_length} values"
        )
    elif train is not None and seasonal_period >= train:
        found.append(
            f"data.seasonal_period: {seasonal_period} is not shorter than the {train} values before the "
            "validation part; the seasonal naive forecast and MASE's scale need a whole season before "
            "them and more"
        )
    return found


# ------------------------------------------------------------------------------------------------ scaling


def to_model_space(values: np.ndarray, transform: str, difference: bool) -> np.ndarray:
    """What a model reads and forecasts, per column: z = log y (transform log) or y, then, with `difference`,
    the change d_t = z_t − z_{t−1} (row 0, which has no predecessor, is NaN and never read). The Box-Jenkins
    preparation of a series whose level and seasonal swing grow (log), and whose trend the model should not
    have to extrapolate (differences)."""
    z = np.log(values) if transform == "log" else values.astype(float)
    if not difference:
        return z
    return np.vstack([np.full((1, z.shape[1]), np.nan), np.diff(z, axis=0)])


def from_model_space(forecast: np.ndarray, last: np.ndarray, transform: str, difference: bool) -> np.ndarray:
    """Forecasts (W, H) in the model's space back in the series' units, given each origin's last actual target
    value y_{o−1} (W,): z_hat = z_{o−1} + cumulative sum of the forecast changes (with `difference`), then
    exp (transform log)."""
    if difference:
        start = np.log(last) if transform == "log" else last
        forecast = start[:, None] + np.cumsum(forecast, axis=1)
    return np.exp(forecast) if transform == "log" else forecast


@dataclass(frozen=True)
class Scaler:
    """x' = (x − shift) / spread per column, fitted on the training part only: what it learns never includes a
    value of the validation or test part (the classic leak in forecasting pipelines is a scaler fitted on all)."""

    shift: np.ndarray  # (F,)
    spread: np.ndarray  # (F,)

    @classmethod
    def fit(cls, values: np.ndarray, kind: str) -> Scaler:
        """kind: standard (mean, population std), minmax (to [0, 1]) or none. A constant column keeps spread 1."""
        columns = values.shape[1]
        if kind == "standard":
            shift, spread = values.mean(axis=0), values.std(axis=0)
        elif kind == "minmax":
            shift, spread = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
        else:
            shift, spread = np.zeros(columns), np.ones(columns)
        return cls(shift, np.where(spread > 0, spread, 1.0))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.shift) / self.spread

    def target_back(self, values: np.ndarray) -> np.ndarray:
        """Values of the target (column 0) in the scaled space, back in the series' units."""
        return values * self.spread[0] + self.shift[0]


def window_origins(first: int, stop: int, input_length: int, horizon: int, skip: int = 0) -> list[int]:
    """The origins of every window whose forecast y_o … y_{o+H-1} lies in [first, stop) and whose input starts at
    or after `skip` (1 for differences: row 0 has none), in increasing order."""
    return list(range(max(first, input_length + skip), stop - horizon + 1))


def at_origins(
    scaled: np.ndarray, origins: list[int], input_length: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (W, L, F), targets (W, H)) for the given origins (targets cut short past the series' end: NaN)."""
    columns = scaled.shape[1]
    inputs = np.zeros((len(origins), input_length, columns))
    targets = np.full((len(origins), horizon), np.nan)
    for row, origin in enumerate(origins):
        inputs[row] = scaled[origin - input_length : origin]
        ahead = scaled[origin : origin + horizon, 0]
        targets[row, : len(ahead)] = ahead
    return inputs, targets
