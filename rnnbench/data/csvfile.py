"""A user's CSV of texts: read it, check it, and return its texts and targets, every problem one line naming the file.

Why every column is read as a string: "NA", "null" or "1e3" are texts a user wrote, not missing values or
numbers; only the target column of a regression is converted, and checked, afterwards.
Why line numbers are computed here rather than taken from pandas: pandas counts records, and a quoted field can
span several lines, so its numbers drift from the line an editor shows. Every message names that line.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnbench.data.names import clean
from rnnbench.errors import RnnbenchError

if TYPE_CHECKING:
    import pandas as pd

TARGETS = ("class", "number")


@dataclass(frozen=True)
class Table:
    path: Path
    texts: list[str]  # cleaned with names.clean (NFC, whitespace collapsed), in file order
    targets: list  # target "class": the labels as written, stripped; target "number": floats
    line_numbers: list[int]  # the line of the file where each row starts (the header is line 1)
    sha256: str  # of the file's bytes
    rows: int  # data rows read (blank lines are not rows)


def read_table(path, text_column: str, target_column: str, target: str) -> Table:
    """Read a comma- or tab-separated UTF-8 file with a header line, check it, and return its texts and targets.

    Example: a file 'text,label\\n"Great, loved it",pos\\nMeh,neg\\n' with ('text', 'label', 'class') ->
    texts ['Great, loved it', 'Meh'], targets ['pos', 'neg'], line_numbers [2, 3].
    Lines holding nothing but whitespace are skipped. Any problem raises RnnbenchError with one line naming
    the file and, where there is one, the line and the column.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    path = Path(path)
    data = _read_bytes(path)
    _check_utf8(path, data)
    newline = "\n" if b"\n" in data else "\r"  # a file with old Mac line ends has no "\n" at all
    records = _parse(path, data, _separator(data, newline), newline)
    header = [str(name).strip() for name in records.iloc[0]]
    text_index, target_index = _column_indices(path, header, text_column, target_column)
    starts = _record_lines(records, newline, data)[1:]  # (rows,) the line each data record starts on

    texts = list(map(clean, records.iloc[1:, text_index].tolist()))  # tolist: iterating a pandas column is slow
    raw_targets = [value.strip() for value in records.iloc[1:, target_index].tolist()]
    blank = _blank_lines(data, newline, records, starts, texts, raw_targets)
    if blank:
        keep = [i for i in range(len(texts)) if i not in blank]
        texts, raw_targets = [texts[i] for i in keep], [raw_targets[i] for i in keep]
        starts = starts[np.array(keep, np.int64)]
    if not texts:
        raise RnnbenchError(f"{path}: no data rows, only a header line")
    line_numbers = starts.tolist()

    _check_not_empty(path, texts, line_numbers, text_column, "text")
    _check_not_empty(path, raw_targets, line_numbers, target_column, "target")
    if target == "number":
        targets = _numbers(path, raw_targets, line_numbers, target_column)
    else:
        targets = raw_targets
        classes = set(targets)
        if len(classes) < 2:
            raise RnnbenchError(
                f"{path}: column {target_column!r}: every row has the class {targets[0]!r}; "
                "a classifier needs at least two classes"
            )
    return Table(path, texts, targets, line_numbers, hashlib.sha256(data).hexdigest(), len(texts))


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise RnnbenchError(f"{path}: is a directory, not a CSV file")
    if path.exists() and not path.is_file():  # a device (/dev/zero) or a pipe would be read forever
        raise RnnbenchError(f"{path}: not a regular file (a device or a pipe); give a CSV file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RnnbenchError(f"{path}: no such file") from None
    except OSError as err:
        raise RnnbenchError(f"{path}: cannot read: {err.strerror or err}") from None
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise RnnbenchError(f"{path}: no data rows (the file is empty)")
    return data


def _check_utf8(path: Path, data: bytes) -> None:
    """Decode once here, not in pandas: pandas reports a position inside its read buffer, not in the file."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise RnnbenchError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[err.start]:02x} at byte offset "
            f"{err.start}); save the file as UTF-8"
        ) from None


def _separator(data: bytes, newline: str) -> str:
    """Tab when the header line has a tab and no comma outside quotes, else comma.

    Example: b'text\\tlabel\\n...' -> '\\t'; b'"a\\tb",label\\n' -> ','.
    """
    end = data.find(newline.encode())
    header = data if end < 0 else data[:end]  # slicing, not split(): that would copy the whole file
    unquoted = re.sub(rb'"[^"]*"', b"", header)
    return "\t" if b"\t" in header and b"," not in unquoted else ","


def _parse(path: Path, data: bytes, separator: str, newline: str, rows: int | None = None) -> pd.DataFrame:
    """Every record as strings, the header line as row 0.

    header=None so that the header is an ordinary first record: pandas then requires every later record to have
    at most as many fields, instead of silently turning an extra leading field into an index column.
    Blank lines are kept (skip_blank_lines=False) so that record numbers map to line numbers.
    """
    import pandas as pd  # here, not at the top: `predict` and `--help` need no pandas

    try:
        return pd.read_csv(
            io.BytesIO(data),
            sep=separator,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            engine="c",
            nrows=rows,
        )
    except pd.errors.EmptyDataError:
        raise RnnbenchError(f"{path}: no data rows (the file is empty)") from None
    except pd.errors.ParserError as err:
        message = " ".join(str(err).split())
        name = "a tab" if separator == "\t" else "a comma"
        if found := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
            expected, record, saw = map(int, found.groups())
            line = _line_of_record(path, data, separator, newline, record - 1)
            raise RnnbenchError(
                f"{path}: line {line}: {saw} fields where the header has {expected}; put a text "
                f"that contains {name} in double quotes"
            ) from None
        if found := re.search(r"EOF inside string starting at row (\d+)", message):
            line = _line_of_record(path, data, separator, newline, int(found.group(1)))
            raise RnnbenchError(
                f'{path}: line {line}: a quoted field has no closing double quote (write a " '
                'inside a quoted field as "")'
            ) from None
        raise RnnbenchError(f"{path}: not a readable CSV file: {message}") from None


def _line_of_record(path: Path, data: bytes, separator: str, newline: str, record: int) -> int:
    """The line that record `record` (0-based, the header is 0) starts on, from the records before it."""
    if record == 0:
        return 1
    before = _parse(path, data, separator, newline, rows=record)
    return int(_record_lines(before, newline)[-1] + 1 + _newlines(before, newline)[-1])


def _newlines(records: pd.DataFrame, newline: str) -> np.ndarray:
    """(records,) the line breaks inside each record's quoted fields."""
    counts = np.zeros(len(records), np.int64)
    for column in records.columns:
        counts += np.fromiter((value.count(newline) for value in records[column].tolist()), np.int64, len(records))
    return counts


def _record_lines(records: pd.DataFrame, newline: str, data: bytes | None = None) -> np.ndarray:
    """(records,) the 1-based line each record starts on: one line per record plus its inner line breaks.

    Example: records ['text,label'], ['a\\nb', 'x'], ['c', 'y'] -> [1, 2, 4].
    Given the file's bytes, the count of inner line breaks is skipped when there are none: a file with no more
    line breaks than its records need has none inside a field.
    """
    breaks = None if data is None else data.count(newline.encode()) + (not data.endswith(newline.encode()))
    if breaks == len(records):
        return np.arange(1, len(records) + 1, dtype=np.int64)
    spans = 1 + _newlines(records, newline)
    return np.concatenate(([1], 1 + np.cumsum(spans)[:-1])).astype(np.int64)


def _column_indices(path: Path, header: list[str], text_column: str, target_column: str) -> tuple[int, int]:
    if not any(header):
        raise RnnbenchError(f"{path}: line 1: the header is empty; the first line must name the columns")
    missing = [column for column in dict.fromkeys((text_column, target_column)) if column not in header]
    if missing:
        hint = " (is it separated by commas or tabs?)" if len(header) == 1 else ""
        raise RnnbenchError(
            f"{path}: no column {' or '.join(map(repr, missing))}; the file's columns are "
            f"{', '.join(map(repr, header))}{hint}"
        )
    for column in (text_column, target_column):
        if header.count(column) > 1:
            raise RnnbenchError(f"{path}: line 1: the header names column {column!r} {header.count(column)} times")
    return header.index(text_column), header.index(target_column)


def _blank_lines(
    data: bytes, newline: str, records: pd.DataFrame, starts: np.ndarray, texts: list[str], targets: list[str]
) -> set[int]:
    """The data rows (0-based) that are whitespace-only lines of the file, not records with empty fields."""
    if "" not in texts:
        return set()
    candidates = [i for i, (text, value) in enumerate(zip(texts, targets)) if not text and not value]
    breaks = np.flatnonzero(np.frombuffer(data, np.uint8) == ord(newline))
    blank = set()
    for i in candidates:
        line = int(starts[i])
        begin = int(breaks[line - 2]) + 1
        end = int(breaks[line - 1]) if line - 1 < len(breaks) else len(data)
        if not data[begin:end].strip() and not "".join(records.iloc[i + 1]).strip():
            blank.add(i)
    return blank


def _check_not_empty(path: Path, values: list[str], line_numbers: list[int], column: str, what: str) -> None:
    empty = values.count("")
    if empty:
        more = f" ({empty - 1:,} more like it)" if empty > 1 else ""
        line = line_numbers[values.index("")]
        raise RnnbenchError(f"{path}: line {line}, column {column!r}: the {what} is empty{more}")


def _numbers(path: Path, values: list[str], line_numbers: list[int], column: str) -> list[float]:
    import pandas as pd

    numbers = pd.to_numeric(np.asarray(values, dtype=object), errors="coerce").astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if len(bad):
        value = values[bad[0]]
        try:
            kind = "not a finite number" if not math.isfinite(float(value)) else "not a number"
        except ValueError:
            kind = "not a number"
        more = f" ({len(bad) - 1:,} more like it)" if len(bad) > 1 else ""
        raise RnnbenchError(
            f"{path}: line {line_numbers[bad[0]]}, column {column!r}: {value!r} is {kind} (target: number){more}"
        )
    return numbers.tolist()
