"""The workbook's Raw data sheet, written as XML text: the same cells openpyxl wrote before,
whatever the text holds, and its rows read a chunk at a time."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer, Response
from survey.results import exports, raw_fast, raw_sheet, round_results, workbook
from tests.survey.review.data import AUDIENCE, audience_round

AWKWARD = "  <b>R&D</b> \x07bell\x1b and 'quotes' \"too\"  "


def _reference_rows(round_, lang: str) -> list[tuple]:
    """The Raw data sheet as openpyxl's write-only mode wrote it before, read back."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Raw data")
    layout = exports.raw_layout(round_, lang)
    sheet.append(layout.header)
    date_format = "yyyy-mm-dd" if layout.days_only else "yyyy-mm-dd hh:mm:ss"
    for row in exports.raw_rows(round_, layout):
        date = WriteOnlyCell(sheet, value=row[1])
        date.number_format = date_format
        row[1] = date
        sheet.append([workbook._excel_text(v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return list(load_workbook(buffer)["Raw data"].iter_rows(values_only=True))


def _written_rows(app, round_, lang: str, tmp_path) -> list[tuple]:
    path = tmp_path / "book.xlsx"
    with app.test_request_context():
        workbook.write_workbook(round_, round_results(round_), lang, path)
    return list(load_workbook(path)["Raw data"].iter_rows(values_only=True))


@pytest.mark.parametrize("anonymous", [False, True])
def test_the_raw_sheet_holds_the_cells_openpyxl_wrote(
    app, known_round, make_round, tmp_path, anonymous
):
    round_ = (
        audience_round(make_round, audience={**AUDIENCE, "congress": 1}, anonymity_threshold=2)
        if anonymous
        else known_round
    )
    first = db.session.scalar(select(Answer).join(Response).where(Response.round_id == round_.id))
    first.comment = AWKWARD
    db.session.commit()
    with app.test_request_context():
        expected = _reference_rows(round_, "en")
    written = _written_rows(app, round_, "en", tmp_path)
    assert written[1:] == expected[1:] and written[0] == tuple(expected[0])
    assert any("<b>R&D</b>" in str(cell) for row in written for cell in row)


def test_the_rows_are_written_a_chunk_at_a_time_with_their_count(
    app, known_round, tmp_path, monkeypatch
):
    monkeypatch.setattr(raw_fast, "SHEET_CHUNK", 4)  # the sheet is read in chunks of its own
    told = []
    with app.test_request_context():
        workbook.write_workbook(
            known_round, round_results(known_round), "en", tmp_path / "b.xlsx",
            rows=lambda n, total: told.append((n, total)),
        )  # fmt: skip
    assert told == [(4, 10), (8, 10), (10, 10)]
    assert load_workbook(tmp_path / "b.xlsx")["Raw data"].max_row == 11


def test_text_cells_are_escaped_and_keep_their_spaces():
    xml = raw_sheet.rows_xml([[1, " a<b ", None, "x&y"]], 2, ["A", "B", "C", "D"], "1")
    assert xml == (
        '<row r="2"><c r="A2"><v>1</v></c>'
        '<c r="B2" t="inlineStr"><is><t xml:space="preserve"> a&lt;b </t></is></c>'
        '<c r="D2" t="inlineStr"><is><t>x&amp;y</t></is></c></row>'
    )


def _as_before(rows, first, letters, date_style) -> str:
    """The rows' XML as rows_xml wrote it before it was made faster, a cell at a time."""
    parts = []
    for number, row in enumerate(rows, start=first):
        parts.append(f'<row r="{number}">')
        for column, value in enumerate(row):
            if value is None:
                continue
            at = f"{letters[column]}{number}"
            kind = type(value)
            if kind is int or kind is float:
                parts.append(f'<c r="{at}"><v>{value!r}</v></c>')
            elif kind is str:
                parts.append(f'<c r="{at}" t="inlineStr">{raw_sheet._text(value)}</c>')
            elif kind is datetime:
                serial = (value - raw_sheet.EPOCH).total_seconds() / raw_sheet.SECONDS_A_DAY
                parts.append(f'<c r="{at}" s="{date_style}"><v>{serial!r}</v></c>')
            elif kind is date:
                serial = (value - raw_sheet.EPOCH_DAY).days
                parts.append(f'<c r="{at}" s="{date_style}"><v>{serial}</v></c>')
            else:
                parts.append(f'<c r="{at}" t="inlineStr">{raw_sheet._text(str(value))}</c>')
        parts.append("</row>")
    return "".join(parts)


def test_every_kind_of_cell_is_written_as_before():
    """Numbers (a bool is text, as openpyxl wrote it), texts, empty cells, dates with and
    without a time, and any other value as its text, in rows of many shapes."""
    kinds = [
        5, -2, 10**20, 0.1, 1e16, float("nan"), True, None, "{0}", "%s", AWKWARD, "n/a",
        datetime(2004, 10, 1, 9, 30, 15), date(2004, 10, 1), Decimal("1.5"),
    ]  # fmt: skip
    rows = [
        [index, *(kinds[(index * step) % len(kinds)] for step in range(1, 6))]
        for index in range(60)
    ]
    letters = ["A", "B", "C", "D", "E", "F"]
    for first in (2, 99_998):
        written = raw_sheet.rows_xml(rows, first, letters, "7")
        assert written == _as_before(rows, first, letters, "7")
        assert f'<c r="F{first + 59}"' in written or rows[-1][-1] is None
