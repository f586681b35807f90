"""Cells for CSV and Excel files that a spreadsheet never runs as a formula."""

from __future__ import annotations

from datetime import date
from numbers import Number

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets
# (OWASP "CSV injection"; ASVS 5.0 1.2.10), the full-width forms included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> object:
    """Numbers and dates stay numbers and dates; text that would start a formula gets a
    leading apostrophe."""
    if value is None or isinstance(value, Number | date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
