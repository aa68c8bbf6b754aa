"""Tables as data, built once: a title, column headers and rows of text cells; rendered to Markdown here and
to the terminal by the CLI. And strict JSON, which every JSON output goes through. Tasks describe their tables (a
data report, per-class scores, accuracy by length) with these, so that `show`, `run` and `report` print the same
table without building it twice.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    right: set[int] = field(default_factory=set)  # indices of right-aligned (numeric) columns
    bold_last: bool = False  # the last row is a total
    notes: list[str] = field(default_factory=list)  # sentences that go under the table
    narrow_headers: bool = False  # on the terminal, a header wider than its column's cells breaks onto two lines


def count(n: int, noun: str) -> str:
    """Example: (1, 'seed') -> '1 seed'; (1200, 'run') -> '1,200 runs'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def to_markdown(table: Table, heading: str | None = None) -> list[str]:
    """Example: Table('t', ['a', 'b'], [['x', '1']], right={1}) -> ['| a | b |', '|---|---:|', '| x | 1 |', '']."""
    lines = [heading, ""] if heading else []
    lines += [
        "| " + " | ".join(table.headers) + " |",
        "|" + "|".join("---:" if i in table.right else "---" for i in range(len(table.headers))) + "|",
    ]
    for i, row in enumerate(table.rows):
        cells = [f"**{cell}**" if table.bold_last and i == len(table.rows) - 1 and cell else cell for cell in row]
        lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
    return lines + [""] + [part for note in table.notes for part in (note, "")]


def to_json(value, indent: int | None = 2) -> str:
    """Strict JSON (RFC 8259) that any parser accepts: NaN and ±infinity, which Python's json writes as the
    non-standard NaN / Infinity, become null. Example: {'loss': nan} -> '{"loss": null}'."""
    return json.dumps(finite(value), indent=indent, ensure_ascii=False, allow_nan=False)


def finite(value):
    """`value` with every non-finite float (NaN, ±inf), at any depth, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value
