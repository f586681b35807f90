"""The Excel workbook of a round's results."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from survey.results import workbook as workbook_module
from tests.survey.review.data import INJECTION


@pytest.fixture
def quality_lead(auth):
    return auth.login(role="quality_lead")


@pytest.fixture
def workbook(client, quality_lead, known_round):
    response = client.get(f"/review/rounds/{known_round.id}/results.xlsx?lang=en")
    assert response.mimetype == workbook_module.XLSX_MIMETYPE
    return load_workbook(io.BytesIO(response.data))


def test_the_workbook_has_a_summary_each_breakdown_and_the_raw_data(workbook):
    assert workbook.sheetnames[:3] == ["Summary", "Categories", "Items"]
    assert {"Groups", "Group x category", "Served units", "Questions", "Raw data"} <= set(
        workbook.sheetnames
    )

    raw = workbook["Raw data"]
    header = [c.value for c in raw[1]]
    assert header[:5] == ["response_id", "submitted", "source", "group", "unit"]
    column = header.index("doc_timeliness") + 1
    assert raw.cell(2, column).value == 5 and raw.max_row == 11


def test_rates_are_numbers_formatted_as_percentages(workbook):
    sheet = workbook["Categories"]
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(2, header.index("rate") + 1)
    assert rate.value == pytest.approx(0.7) and rate.number_format == "0.0%"
    assert sheet.column_dimensions["A"].width > 20


def test_no_cell_of_the_workbook_is_a_formula(workbook):
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                texts.append(cell.value)
    assert "'" + INJECTION in texts


def test_the_workbook_is_made_once_per_data_version(app, known_round, monkeypatch):
    calls = []
    real = workbook_module.write_workbook
    monkeypatch.setattr(workbook_module, "write_workbook", lambda *a: calls.append(1) or real(*a))
    with app.test_request_context():
        first, _ = workbook_module.workbook(known_round, "en")
        second, name = workbook_module.workbook(known_round, "en")
    assert first == second and len(calls) == 1 and name == "2004-autumn-results.xlsx"


def _summary_facts(path) -> dict:
    return {row[0]: row[1] for row in load_workbook(path)["Summary"].iter_rows(values_only=True)}


def test_a_new_close_date_or_status_makes_a_new_workbook_at_once(app, known_round):
    from datetime import timedelta

    from survey import rounds

    with app.test_request_context():
        before, _ = workbook_module.workbook(known_round, "en")
        later = known_round.closes_at + timedelta(days=10)
        rounds.update(
            known_round,
            known_round.name,
            known_round.version,
            closes_at=later,
        )
        rounds.close_round(known_round, later)
        after, _ = workbook_module.workbook(known_round, "en")
    facts = _summary_facts(after)
    assert after != before
    assert str(facts["Closes"]).startswith(later.date().isoformat()) and facts["Status"] == "closed"


def test_an_anonymous_rounds_raw_sheet_names_no_unit_or_person(client, quality_lead, make_round):
    from tests.survey.review.data import AUDIENCE, audience_round, closed, person

    # Threshold 2, so that the groups of three units stay named (see test_exports).
    round_ = audience_round(make_round, audience={**AUDIENCE, "congress": 1}, anonymity_threshold=2)
    closed(round_)
    book = load_workbook(
        io.BytesIO(client.get(f"/review/rounds/{round_.id}/results.xlsx?lang=en").data)
    )
    rows = list(book["Raw data"].iter_rows(values_only=True))
    header, cells = rows[0], {cell for row in rows[1:] for cell in row}
    assert header[:4] == ("row", "submitted", "source", "group") and "unit" not in header
    people = {text for k in range(len(rows) - 1) for text in person(k)}
    units = {"cppcc_office", "congress_office", "mayor", "市政协办公室"}
    assert cells & (people | units) == set()
    assert {row[3] for row in rows[1:]} == {"mayors", "departments", "other groups"}
    # Days only, as dates (not text) without a time of day.
    assert {(row[1].hour, row[1].minute, row[1].second) for row in rows[1:]} == {(0, 0, 0)}
    assert book["Raw data"].cell(2, 2).number_format == "yyyy-mm-dd"


def test_without_the_raw_sheet_the_workbook_is_another_file(app, known_round):
    with app.test_request_context():
        full, _ = workbook_module.workbook(known_round, "en")
        aggregated, _ = workbook_module.workbook(known_round, "en", raw=False)
    assert full != aggregated
    assert "Raw data" in load_workbook(full).sheetnames
    assert "Raw data" not in load_workbook(aggregated).sheetnames
