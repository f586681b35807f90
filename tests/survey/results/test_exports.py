"""Downloads: raw answers and tables as CSV, the Excel workbook; nothing becomes a formula."""

from __future__ import annotations

import csv
import io

import pytest

from survey.models import Round
from survey.results import exports, round_results
from tests.survey.review.data import INJECTION, fill

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # Excel reads UTF-8 Chinese only with the mark
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def quality_lead(auth):
    return auth.login(role="quality_lead")


def test_raw_answers_have_one_row_per_response_and_column_per_question(
    client, quality_lead, known_round
):
    response = client.get(f"/review/rounds/{known_round.id}/answers.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response.text)
    assert len(rows) == 10
    first = rows[0]
    assert (first["group"], first["doc_timeliness"], first["comment"]) == (
        "departments",
        "5",
        "会议纪要请早些下发",
    )
    assert [r["source"] for r in rows].count("paper") == 1 and first["unit"]


def test_a_formula_in_a_comment_is_neutralised(client, quality_lead, known_round):
    rows = _rows(client.get(f"/review/rounds/{known_round.id}/answers.csv").text)
    (bad,) = [r for r in rows if r["mtg_minutes"] == "1"]
    assert bad["mtg_minutes_comment"] == "'" + INJECTION


def test_an_anonymous_round_exports_no_unit(client, quality_lead, make_round, answer):
    round_ = fill(make_round(anonymous=True), answer)
    header = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv").text)[0].keys()
    assert "unit" not in header and "group" in header


def test_the_raw_export_streams_in_chunks(app, known_round, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    with app.test_request_context():
        chunks = list(exports.answers_csv(known_round))
    assert len(chunks) >= 4 and sum(c.count("\n") for c in chunks) == 11


def test_a_summary_table_has_labels_and_hides_small_groups(client, quality_lead, known_round):
    rows = _rows(client.get(f"/review/rounds/{known_round.id}/tables/groups.csv?lang=en").text)
    mayors = next(r for r in rows if r["group"] == "mayors")
    assert mayors["group_label"] == "Mayors and vice-mayors" and mayors["suppressed"] == "True"
    assert mayors["rate"] == "" and mayors["n"] == ""


def test_summary_tables_follow_the_round(known_round: Round):
    tables = exports.summary_tables(round_results(known_round), "en")
    assert "comparison_categories" not in tables and "weighted_items" not in tables
    assert tables["items"]["question_label"].notna().all()
