"""A user's CSV of texts: read it, check it, and return its texts and targets, every problem one line naming the file.

Reading the rows is delimited.py's job (the same for every reader of a user's file: the header, the field counts,
the quotes, the line each row starts on); this module checks what a text task needs of them.
Why every column is read as a string: "NA", "null" or "1e3" are texts a user wrote, not missing values or
numbers; only the target column of a regression is converted, and checked, afterwards (numbers.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rnnbench.data import delimited, numbers
from rnnbench.data.names import clean
from rnnbench.errors import RnnbenchError

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
    header, rows = delimited.read_rows(str(path), delimited.decode(str(path), data))
    text_index, target_index = delimited.columns(str(path), header, [text_column, target_column])
    line_numbers, texts, raw_targets = [], [], []
    for line, row in rows:
        line_numbers.append(line)
        texts.append(clean(row[text_index]))
        raw_targets.append(row[target_index].strip())
    if not texts:
        raise RnnbenchError(f"{path}: no data rows, only a header line")

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


def _check_not_empty(path: Path, values: list[str], line_numbers: list[int], column: str, what: str) -> None:
    empty = values.count("")
    if empty:
        more = f" ({empty - 1:,} more like it)" if empty > 1 else ""
        line = line_numbers[values.index("")]
        raise RnnbenchError(f"{path}: line {line}, column {column!r}: the {what} is empty{more}")


def _numbers(path: Path, values: list[str], line_numbers: list[int], column: str) -> list[float]:
    parsed = [numbers.parse(value) for value in values]
    bad = [i for i, number in enumerate(parsed) if number is None]
    if bad:
        value = values[bad[0]]
        more = f" ({len(bad) - 1:,} more like it)" if len(bad) > 1 else ""
        raise RnnbenchError(
            f"{path}: line {line_numbers[bad[0]]}, column {column!r}: {value[:40]!r} {numbers.why_not(value)} "
            f"(target: number){more}"
        )
    return parsed
