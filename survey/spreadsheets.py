"""Cells for CSV and Excel files that a spreadsheet never runs as a formula."""

from __future__ import annotations

from datetime import date
from numbers import Number

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets
# (OWASP "CSV injection"; ASVS 5.0 1.2.10), the full-width forms included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")
# Each start is one character: a set of them answers for the millions of cells of a raw export.
FIRST_CHARACTERS = frozenset(FORMULA_STARTS)


def safe_cell(value: object) -> object:
    """Numbers and dates stay numbers and dates; text that would start a formula gets a
    leading apostrophe."""
    if value is None or isinstance(value, Number | date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_text(text: str) -> str:
    """``safe_cell`` for a value known to be text (the raw export's hot loop)."""
    return "'" + text if text[:1] in FIRST_CHARACTERS else text
