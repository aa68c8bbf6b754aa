"""What every reader of a user's CSV (or tab-separated) file shares: the text decoded, the header and every row read
by one function, and the columns found by name. The series task, the csv task and `predict --file` all read their
files through it, so a file is accepted or refused the same way, in the same words, whichever reads it.

The rules (docs/tasks/csv.md and docs/tasks/series.md, "Accepted files", say the same):
- UTF-8 (a byte order mark is fine); line ends \\n, \\r\\n or \\r.
- The first line is the header and names the columns; a name given twice is refused (which column would it
  mean?). Names are compared with the spaces around them stripped; columns with no name are allowed.
- Comma-separated, or tab-separated when the header line holds a tab and no comma outside double quotes.
- A field may be in double quotes, and then hold the separator, line breaks and "" (one double quote). A quote
  never closed, or text after a closing quote (`"a"b`), is refused with its line.
- Every row has as many fields as the header: more or fewer is refused with the line and both counts, never
  padded or cut (a text holding an unquoted comma would otherwise shift its row's columns without a word).
- A line holding nothing but spaces is skipped (it is no row); a row of empty fields (`,,`) is a row.
Every problem raises RnnbenchError, one line naming the file and, where there is one, the line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from rnnbench.errors import RnnbenchError

TAB = "\t"


def decode(name: str, data: bytes) -> str:
    """The file's bytes as text (a UTF-8 byte order mark dropped), or RnnbenchError naming the line of the first byte
    that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise RnnbenchError(
            f"{name}: line {line}: not UTF-8 text (byte 0x{data[err.start]:02x} at byte offset "
            f"{err.start}); save the file as UTF-8"
        ) from None


def separator(text: str) -> str:
    """Tab when the header line has a tab and no comma outside quotes, else comma.

    Example: 'text\\tlabel\\n...' -> '\\t'; '"a\\tb",label\\n' -> ','.
    """
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    unquoted = re.sub(r'"[^"]*"', "", header)
    return TAB if TAB in header and "," not in unquoted else ","


def read_rows(name: str, text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """(the header's names, stripped; each row as (the line it starts on, its fields as written)) of a CSV text.
    The header is read at once, the rows as they are iterated: a reader keeps only the columns it needs.

    Example: 'a,b\\n1,2\\n\\n"x\\ny",3\\n' -> ['a', 'b'] and rows (2, ['1', '2']), (4, ['x\\ny', '3']).
    Raises RnnbenchError naming `name` and the line for an empty file or header, a name given twice, a row with
    more or fewer fields than the header, and a malformed quote (the rows' problems as they are reached).
    """
    sep = separator(text)
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))  # no field is longer than its file (default 128 KiB)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    first = _next(reader, name, 1, sep)
    if first is None:
        raise RnnbenchError(f"{name}: empty; a CSV file starts with a header line naming its columns")
    header = check_header(name, first)
    return header, _rows(reader, name, len(header), sep)


def _rows(reader, name: str, width: int, sep: str) -> Iterator[tuple[int, list[str]]]:
    end = reader.line_num  # the last line read so far: a record starts on the next
    while (row := _next(reader, name, end + 1, sep)) is not None:
        start, end = end + 1, reader.line_num
        if not row or len(row) == 1 and not row[0].strip() and end == start:
            continue  # a blank line, or one of spaces only
        if len(row) != width:
            raise RnnbenchError(field_count(name, start, len(row), width, sep))
        yield start, row


def _next(reader, name: str, start: int, sep: str) -> list[str] | None:
    """The next record (None at the end), or RnnbenchError for a malformed one, naming the line it starts on."""
    try:
        return next(reader, None)
    except csv.Error as err:
        raise RnnbenchError(f"{name}: line {start}: {_malformed(str(err), sep)}") from None


def check_header(name: str, row: list[str]) -> list[str]:
    """The header's names, stripped; RnnbenchError if it names nothing or names a column twice."""
    header = [field.strip() for field in row]
    if not any(header):
        raise RnnbenchError(f"{name}: line 1: the header is empty; the first line must name the columns")
    for column in header:
        if column and header.count(column) > 1:
            raise RnnbenchError(
                f"{name}: line 1: the header names column {column!r} {header.count(column)} times; "
                "name each column once"
            )
    return header


def field_count(name: str, line: int, fields: int, expected: int, sep: str) -> str:
    """The message for a row of `fields` fields under a header of `expected`.

    Example: ('a.csv', 2, 3, 2, ',') -> "a.csv: line 2: 3 fields where the header has 2; put a field that
    contains a comma in double quotes".
    """
    said = f"{name}: line {line}: {fields} field{'s' if fields != 1 else ''} where the header has {expected}"
    if fields > expected:
        return f"{said}; put a field that contains {'a tab' if sep == TAB else 'a comma'} in double quotes"
    return f"{said}; give every row a field for each column (an empty field is nothing between two separators)"


def columns(name: str, header: list[str], wanted: list[str]) -> list[int]:
    """The index of each wanted column in the header, or RnnbenchError listing those missing and the file's columns.

    Example: (['Date', 'y'], ['y', 'Date']) -> [1, 0].
    """
    missing = [column for column in dict.fromkeys(wanted) if column not in header]
    if missing:
        hint = " (is it separated by commas or tabs?)" if len(header) == 1 else ""
        raise RnnbenchError(
            f"{name}: no column {' or '.join(map(repr, missing))}; the file's columns are "
            f"{', '.join(map(repr, header))}{hint}"
        )
    return [header.index(column) for column in wanted]


def _malformed(reason: str, sep: str) -> str:
    if "unexpected end of data" in reason:
        return 'a quoted field has no closing double quote (write a " inside a quoted field as "")'
    if "expected after" in reason:
        return 'text after a closing double quote; put the whole field in double quotes and write a " inside it as ""'
    return f"not readable as CSV ({reason})"
