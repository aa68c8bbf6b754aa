"""The one parser for numbers read from a user's file (a series' values and times, a regression's targets) or typed
for `predict`: what it accepts is written here once, and docs/tasks/series.md and docs/tasks/csv.md ("Accepted
files") say the same.

Accepted, after stripping spaces around it: an optional sign (+ or -), ASCII digits with at most one decimal point
(1, 1.5, .5 and 1. all count), and an optional exponent (e or E, an optional sign, ASCII digits: 1e3, 2.5E-4).
Refused: an empty cell; nan, inf and infinity, and a number too large for a float (1e999), which are not finite;
and anything else — underscores (1_000), thousands separators (1,234 or 1 234), a decimal comma (1,5), digits of
other scripts (١٢٣, full-width １２), hexadecimal (0x10), a unit or a percent sign (12kg, 5%).

Why not Python's float(): it also takes '1_000', '١٢٣', 'nan' and 'infinity', so a cell a spreadsheet would show
as text was read as a number without a word.
"""

from __future__ import annotations

import math
import re

from rnnbench.errors import RnnbenchError

PLAIN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse(text: str) -> float | None:
    """The finite number `text` writes, or None if it writes none (see the module docstring for the forms).

    Example: ' -1.5e3 ' -> -1500.0; '.5' -> 0.5; '1_000', '١٢٣', 'nan', '1e999', '' -> None.
    """
    text = text.strip()
    if not PLAIN.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None  # 1e999 overflows to inf


def why_not(text: str) -> str:
    """Why `text` is not a number parse() accepts, in a few words, for a message.

    Example: 'nan' -> 'is not a finite number'; '1,234' -> "is not a number (no thousands separators or decimal
    commas: write 1234.5)"; 'lots' -> 'is not a number'.
    """
    text = text.strip()
    if not text:
        return "is empty"
    if PLAIN.fullmatch(text) or text.lstrip("+-").lower() in ("nan", "inf", "infinity"):
        return "is not a finite number"
    if "," in text or "_" in text or re.search(r"\d\s+\d", text):
        return "is not a number (no thousands separators or decimal commas: write 1234.5)"
    if any(char.isdigit() and not char.isascii() for char in text):
        return "is not a number (write its digits as ASCII 0-9)"
    return "is not a number"


def finite_number(text: str, where: str) -> float:
    """`text` as a finite float, or RnnbenchError naming `where`. Example: '1e3' -> 1000.0; 'lots', 'inf' refused."""
    number = parse(text)
    if number is None:
        raise RnnbenchError(f"{where}: {text.strip()[:40]!r} {why_not(text)}")
    return number
