"""The workbook's Raw data sheet written as XML text, a chunk of responses at a time.

A round of 100,000 responses has about five million cells. openpyxl's write-only mode spends
about 5 µs of Python on each (a cell object, then lxml) and xlsxwriter's constant-memory mode
about 3.5 µs (bench figures in the issue note): 15 to 25 seconds. A row of this sheet is
numbers, short texts and one date, so its XML is written here as text, with the cells' values
exactly as the sheet had them, at about 0.4 µs a cell.

The workbook's rows come already written from ``raw_fast.chunk_xml`` (``splice_xml``): the
CSV's numpy grid of tokens rendered as these rows, byte for byte what ``rows_xml`` writes for
the exact path's rows (tests/survey/results/test_raw_fast_sheet.py), without a Python row or
cell per answer (100,000 responses: 1.9 s of CPU for the whole workbook, 3.5-3.8 s before).

The workbook around it is still written by openpyxl (``survey.results.workbook``) with a
placeholder row in its Raw data sheet: ``splice`` copies that file into the final one, writing
this sheet's rows in place of the placeholder, streamed into the zip (no sheet is held whole).
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

# A number no answer holds, in the placeholder row's first cell: it finds the sheet's file.
MARKER = -987654321.25
EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (its 1900 system, as openpyxl writes)
EPOCH_DAY = EPOCH.date()
SECONDS_A_DAY = 86400.0
# Fast enough for zlib to keep up with the rows; level 6 makes files a fifth smaller at
# twice the time (bench).
COMPRESS_LEVEL = 1
ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
PLACEHOLDER = re.compile(rb'<row r="2"[^>]*>.*?</row>', re.S)
DATE_STYLE = re.compile(rb'<c r="B2" s="(\d+)"')


def placeholder(date_cell: Any) -> list[Any]:
    """The placeholder row to append after the header: the marker, then the date cell made
    with the sheet's date format (its style number is read back from the file)."""
    return [MARKER, date_cell]


@functools.lru_cache(maxsize=4096)  # groups, sources, units and choices repeat
def _text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value).translate(ESCAPES)
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<is><t{space}>{value}</t></is>"


def rows_xml(rows: Iterable[list[Any]], first: int, letters: list[str], date_style: str) -> str:
    """The XML of `rows` (cells as ``exports.raw_rows`` makes them: numbers, texts already
    ``safe_text``, None for an empty cell, the date second), the first at row number `first`."""
    # The hot loop of five million cells: each cell's reference is its column's opening
    # (made once) and the row's number as text (made once a row), the likeliest types
    # tested first, and exactly, so that a bool stays text ("True") as openpyxl wrote it.
    # A template a row (str.format or %) was measured too: more instructions, not fewer.
    opens = [f'<c r="{letter}' for letter in letters]
    dated = f'" s="{date_style}"><v>'
    parts: list[str] = []
    append = parts.append
    for number, row in enumerate(rows, start=first):
        at = str(number)
        append(f'<row r="{at}">')
        for column, value in enumerate(row):
            if value is None:
                continue
            kind = type(value)
            if kind is int:
                append(f'{opens[column]}{at}"><v>{value}</v></c>')
            elif kind is str:
                append(f'{opens[column]}{at}" t="inlineStr">{_text(value)}</c>')
            elif kind is float:
                append(f'{opens[column]}{at}"><v>{value!r}</v></c>')
            elif kind is datetime:
                append(f"{opens[column]}{at}{dated}{_datetime_serial(value)!r}</v></c>")
            elif kind is date:
                append(f"{opens[column]}{at}{dated}{_day_serial(value)}</v></c>")
            else:
                append(f'{opens[column]}{at}" t="inlineStr">{_text(str(value))}</c>')
        append("</row>")
    return "".join(parts)


def _datetime_serial(value: datetime) -> float:
    return (value - EPOCH).total_seconds() / SECONDS_A_DAY


def _day_serial(value: date) -> int:
    return (value - EPOCH_DAY).days


def splice(
    source: Path,
    target: Path,
    chunks: Iterable[list[list[Any]]],
    columns: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Copy the workbook `source` to `target`, its Raw data sheet's placeholder row replaced
    by the rows of `chunks`; ``progress(rows)`` after each chunk. Returns the rows written."""

    def render(letters: list[str], date_style: str) -> Iterator[tuple[int, bytes]]:
        written = 0
        for chunk in chunks:
            yield len(chunk), rows_xml(chunk, written + 2, letters, date_style).encode("utf-8")
            written += len(chunk)

    return splice_xml(source, target, render, columns, progress)


def splice_xml(
    source: Path,
    target: Path,
    render: Callable[[list[str], str], Iterable[tuple[int, bytes]]],
    columns: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """``splice`` of rows already written as XML: ``render(letters, date_style)`` yields
    each chunk's row count and its rows' XML (UTF-8), numbered from 2 on (the columns'
    letters and the date cells' style are the sheet's: known once the draft is read)."""
    letters = [get_column_letter(i) for i in range(1, columns + 1)]
    written = 0
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as new,
    ):
        for info in old.infolist():
            data = old.read(info.filename)
            found = PLACEHOLDER.search(data) if info.filename.startswith("xl/worksheets/") else None
            if found is None or str(MARKER).encode() not in found.group():
                new.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            style = DATE_STYLE.search(found.group())
            date_style = style.group(1).decode() if style else "0"
            # force_zip64: the sheet's size is not known before it is written.
            with (
                new.open(info.filename, "w", force_zip64=True) as sheet,
                ThreadPoolExecutor(max_workers=1) as deflating,
            ):
                # zlib lets go of the GIL: a chunk is compressed while the next is read and
                # written out (at most two chunks' XML held).
                pending = deflating.submit(sheet.write, data[: found.start()])
                for count, encoded in render(letters, date_style):
                    pending.result()
                    pending = deflating.submit(sheet.write, encoded)
                    written += count
                    if progress:
                        progress(written)
                pending.result()
                sheet.write(data[found.end() :])
    return written
