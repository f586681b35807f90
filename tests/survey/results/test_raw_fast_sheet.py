"""The workbook's Raw data sheet assembled from the CSV's grid of tokens
(``raw_fast.chunk_xml``) is byte for byte the XML ``raw_sheet.rows_xml`` writes for the exact
path's rows (``exports.raw_chunks``), on the generated rounds of test_raw_fast: named, anonymous
(merged groups, rows in the keyed order, numbered), with conditions (the exact path's rows among
the fast ones), odd texts (formulas, markup, characters XML cannot hold, edge spaces), numbers
stored as texts and answers to questions a group was not asked; cells keep their types."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from survey.extensions import db
from survey.models import RespondentGroup, Round
from survey.results import exports, raw_fast, raw_sheet, round_results, workbook
from tests.survey.results import test_raw_fast
from tests.survey.results.test_raw_fast import generated_round  # noqa: F401 (a fixture)

ODD = ("  <b>R&D</b> \x07bell\x1b ", "a]]>b", "\u2028 line sep", "'quoted'", "tab\tin")


@pytest.fixture(autouse=True)
def odd_texts(monkeypatch):
    """The generated answers draw from test_raw_fast's texts and these."""
    monkeypatch.setattr(test_raw_fast, "TEXTS", test_raw_fast.TEXTS + ODD)


def _exact_xml(round_: Round, lang: str, date_style: str) -> tuple[bytes, list[str]]:
    round_ = db.session.get(Round, round_.id)
    layout = exports.raw_layout(round_, lang)
    letters = [get_column_letter(i) for i in range(1, len(layout.header) + 1)]
    rows = [row for chunk in exports.raw_chunks(round_, layout) for row in chunk]
    return raw_sheet.rows_xml(rows, 2, letters, date_style).encode(), letters


def _fast_xml(round_: Round, lang: str, letters: list[str], date_style: str) -> list[tuple]:
    round_ = db.session.get(Round, round_.id)
    layout = exports.raw_layout(round_, lang)
    return list(exports.raw_sheet_chunks(round_, layout, letters, date_style))


@pytest.mark.parametrize("chunk", [1, 7, 10_000])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_fast_raw_sheet_is_the_exact_path_s_xml(app, generated_round, monkeypatch, chunk, lang):  # noqa: F811
    monkeypatch.setattr(raw_fast, "SHEET_CHUNK", chunk)
    with app.test_request_context():
        expected, letters = _exact_xml(generated_round, lang, "7")
        chunks = _fast_xml(generated_round, lang, letters, "7")
    assert b"".join(xml for _count, xml in chunks) == expected
    assert sum(count for count, _xml in chunks) == expected.count(b"<row ") == 60
    assert b"&lt;b&gt;R&amp;D" in expected and b"'=1+1" in expected
    assert b"\x07" not in expected


@pytest.mark.parametrize("chunk", [3, 10_000])
def test_exact_rows_among_fast_ones_keep_their_place(app, generated_round, monkeypatch, chunk):  # noqa: F811
    """One group's rows through the exact path (as the grid sends a group with conditions),
    the others' through the grid: each row keeps its number and place (in the keyed order
    too). The conditional round's rows all go the exact path: every group has conditions."""
    monkeypatch.setattr(raw_fast, "SHEET_CHUNK", chunk)
    with app.test_request_context():
        expected, letters = _exact_xml(generated_round, "en", "3")
        forced = db.session.scalars(select(RespondentGroup.code).order_by(RespondentGroup.id))
        forced = forced.first()
        real_group, real_rows = raw_fast.FastLayout.group, exports.RawLayout.rows
        exact_rows = []

        def group(self, code):
            return -1 if code == forced else real_group(self, code)

        def rows(self, responses, answers):
            exact_rows.extend(r[0] for r in responses)
            return real_rows(self, responses, answers)

        monkeypatch.setattr(raw_fast.FastLayout, "group", group)
        monkeypatch.setattr(exports.RawLayout, "rows", rows)
        chunks = _fast_xml(generated_round, "en", letters, "3")
    assert b"".join(xml for _count, xml in chunks) == expected
    assert exact_rows and (len(exact_rows) < 60 or generated_round.name == "conditions")


def test_the_workbook_s_raw_sheet_keeps_the_cells_types(app, make_round, tmp_path):
    """Read back by openpyxl: row numbers and ratings are numbers, the day a date, texts stay
    texts and formulas are not formulas (an anonymous generated round: a named one's odd
    ratings stop its results; test_raw_sheet compares a named round's cells with openpyxl's)."""
    round_ = make_round(anonymous=True, anonymity_threshold=1)
    test_raw_fast._generate(round_, make_round(name="other"), 40, 4, anonymous=True)
    path = tmp_path / "book.xlsx"
    with app.test_request_context():
        round_ = db.session.get(Round, round_.id)
        workbook.write_workbook(round_, round_results(round_), "en", path)
        layout = exports.raw_layout(round_, "en")
    rows = list(load_workbook(path)["Raw data"].iter_rows(values_only=True))
    assert list(rows[0]) == layout.header and len(rows) == 41
    assert [row[0] for row in rows[1:]] == list(range(1, 41))
    assert all(type(row[1]).__name__ == "datetime" for row in rows[1:])
    answers = [cell for row in rows[1:] for cell in row[4:]]
    assert {1, 2, 3, 4, 5} <= {cell for cell in answers if isinstance(cell, int)}
    texts = [cell for cell in answers if isinstance(cell, str)]
    assert "'=1+1" in texts and not any(t.startswith("=") for t in texts)
    assert any(t.startswith("  <b>R&D</b> bell ") for t in texts)  # \x07 and \x1b dropped
