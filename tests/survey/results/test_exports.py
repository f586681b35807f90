"""Downloads: raw answers and tables as CSV, the Excel workbook; nothing becomes a formula."""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import pytest
from sqlalchemy import select, update

from survey import invitations
from survey.extensions import db
from survey.models import AuditEvent, Response, Round, Unit
from survey.results import exports, raw_fast, raw_store, round_results
from tests.survey.review.data import AUDIENCE, INJECTION, audience_round, closed, fill, person

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
    round_ = closed(fill(make_round(anonymous=True), answer))
    header = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv").text)[0].keys()
    assert "unit" not in header and "group" in header


def _patterned_round(make_round, answer, count: int = 40) -> tuple[Round, list[tuple]]:
    """A closed anonymous round whose responses each have their own ratings, and those
    patterns in the order the responses came."""
    round_ = make_round(anonymous=True, anonymity_threshold=2)
    patterns = list(itertools.product(range(1, 6), repeat=3))[:count]
    for a, b, c in patterns:
        answer(round_, "departments", {"doc_timeliness": a, "mtg_minutes": b, "overall": c})
    return closed(round_), patterns


def test_an_anonymous_rounds_rows_do_not_follow_the_order_responses_came_in(
    client, quality_lead, make_round, answer
):
    """Staff see invitations turn "submitted" one by one: rows in the order responses came,
    or numbered by their response ids, would pair each row with its unit."""
    round_, patterns = _patterned_round(make_round, answer)
    rows = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text)
    assert "response_id" not in rows[0] and [r["row"] for r in rows] == [
        str(n) for n in range(1, len(patterns) + 1)
    ]
    came = [
        patterns.index((int(r["doc_timeliness"]), int(r["mtg_minutes"]), int(r["overall"])))
        for r in rows
    ]
    assert sorted(came) == list(range(len(patterns)))  # every response, once
    # Not the order they came in, nor near it: few rows keep their place, and the rank
    # correlation between a row's place and its response's is weak.
    assert sum(place == i for place, i in enumerate(came)) < 5
    rho = np.corrcoef(np.arange(len(came)), came)[0, 1]
    assert abs(rho) < 0.5, rho


def test_the_csv_and_the_workbook_list_an_anonymous_rounds_rows_alike(
    client, quality_lead, make_round, answer
):
    from openpyxl import load_workbook

    round_, _ = _patterned_round(make_round, answer, count=12)
    csv_rows = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text)
    again = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text)
    book = client.get(f"/review/rounds/{round_.id}/results.xlsx?lang=en").data
    sheet = list(load_workbook(io.BytesIO(book))["Raw data"].iter_rows(values_only=True))
    header = sheet[0]
    as_text = [
        {h: "" if v is None else str(v) for h, v in zip(header, row, strict=True)}
        for row in sheet[1:]
    ]
    assert csv_rows == again
    key = ("row", "doc_timeliness", "mtg_minutes", "overall")
    assert [tuple(r[k] for k in key) for r in as_text] == [
        tuple(r[k] for k in key) for r in csv_rows
    ]


def test_the_order_of_an_anonymous_rounds_rows_is_keyed_by_the_apps_secret(app):
    ids = np.arange(1, 201, dtype=np.int64)
    with app.test_request_context():
        first = np.argsort(exports.shuffle_keys(ids, 7))
        assert (np.argsort(exports.shuffle_keys(ids, 7)) == first).all()  # every download
        other_round = np.argsort(exports.shuffle_keys(ids, 8))
        app.config["SECRET_KEY"] = "another installation's secret"
        other_secret = np.argsort(exports.shuffle_keys(ids, 7))
    assert (first != np.arange(200)).sum() > 190  # ids 1..200: hardly any row in its place
    assert (first != other_round).sum() > 190 and (first != other_secret).sum() > 190


def test_the_raw_export_streams_in_chunks(app, known_round, monkeypatch):
    monkeypatch.setattr(raw_fast, "CHUNK", 3)
    monkeypatch.setattr(raw_store, "PAGE", 3)  # the packed rows' pages
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


# --- anonymous rounds: nothing in the raw answers names a unit or a person ------------------


def _identifiers(round_: Round) -> set[str]:
    """What would tie a response of the round to a unit or a person: the codes and names of
    its invited units, its invitees' names and addresses, its invitation ids and tokens."""
    found = set()
    for invitation in invitations.of_round(round_):
        unit = invitation.unit
        found |= {unit.code, unit.name_zh, unit.name_en, invitation.token}
    return found | {text for k in range(sum(AUDIENCE.values())) for text in person(k)}


def test_an_anonymous_rounds_raw_answers_name_no_unit_invitation_or_person(
    client, quality_lead, make_round
):
    round_ = closed(audience_round(make_round))
    text = client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text
    rows = _rows(text)
    assert len(rows) == sum(AUDIENCE.values())
    header = set(rows[0])
    assert {"unit", "invitation", "invitation_id", "person", "email"}.isdisjoint(header)
    cells = {cell for row in rows for cell in row.values()}
    assert cells & _identifiers(round_) == set()
    assert [i for i in _identifiers(round_) if len(i) > len("mayors") and i in text] == []
    # The responses keep no invitation either: no id of one could be exported.
    stored = db.session.execute(
        select(Response.invitation_id, Response.unit_id).where(Response.round_id == round_.id)
    ).all()
    assert set(stored) == {(None, None)}
    # Days only: the time of a submission could be matched with who was seen to answer when.
    assert {len(r["submitted"]) for r in rows} == {len("2026-12-06")}


def test_a_group_of_one_unit_is_reported_as_other_groups(client, quality_lead, make_round):
    # The CPPCC office is the only unit of its group: its group would name it. (Threshold 2:
    # at 5 the groups of three would be "other groups" too, as the next test shows.)
    round_ = closed(
        audience_round(make_round, audience={**AUDIENCE, "congress": 1}, anonymity_threshold=2)
    )
    en = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text)
    assert sorted({r["group"] for r in en}) == ["departments", "mayors", "other groups"]
    liaison = [r for r in en if r["liaison_contact"] not in ("", exports.NOT_ASKED)]
    assert len(liaison) == 2 and {r["group"] for r in liaison} == {"other groups"}
    zh = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=zh").text)
    assert {r["group"] for r in zh} == {"departments", "mayors", "其他组别"}


def test_a_group_the_dashboard_hides_is_other_groups_in_the_raw_answers_too(
    client, quality_lead, make_round
):
    # Found by review: three mayors' offices (three units, so not merged for being one unit)
    # are too few for the tables at threshold 5, and their rows would show their answers.
    round_ = closed(audience_round(make_round, audience={**AUDIENCE, "congress": 1}))
    rows = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text)
    assert {r["group"] for r in rows} == {"other groups"}


def test_a_lone_small_group_takes_the_smallest_named_group_with_it(make_round):
    # "Other groups" holding the CPPCC office alone would still be the CPPCC office.
    round_ = audience_round(make_round, audience={"mayors": 2, "departments": 3, "cppcc": 1})
    assert exports.merged_groups(round_) == {"cppcc", "mayors"}


def test_revoked_invitations_do_not_count_as_units_of_a_group(make_round):
    round_ = audience_round(
        make_round, audience={"mayors": 3, "departments": 1, "cppcc": 1, "congress": 1}
    )
    assert exports.merged_groups(round_) == {"departments", "cppcc", "congress"}
    # A second department invited (not answered yet): its group has two units.
    police = db.session.scalar(select(Unit).where(Unit.code == "dept_police"))
    spare = invitations.issue(round_, police)
    db.session.commit()
    assert exports.merged_groups(round_) == {"cppcc", "congress"}
    invitations.revoke(spare)  # it can no longer answer: one department again
    db.session.commit()
    assert exports.merged_groups(round_) == {"departments", "cppcc", "congress"}


def test_a_named_round_keeps_its_groups_and_units(client, quality_lead, make_round):
    round_ = audience_round(make_round, anonymous=False)
    rows = _rows(client.get(f"/review/rounds/{round_.id}/answers.csv?lang=en").text)
    assert {r["group"] for r in rows} == {"mayors", "departments", "cppcc"}
    assert "cppcc_office" in {r["unit"] for r in rows}
    assert all(len(r["submitted"]) == len("2026-12-06 10:00:00") for r in rows)


def test_a_download_is_recorded_after_another_request_wrote_meanwhile(make_round):
    """A download is a GET: its transaction begins by reading. When another request commits a
    write before the record is written, SQLite cannot turn that read into a write (its snapshot
    is stale: SQLITE_BUSY_SNAPSHOT, at once, whatever the busy timeout); the record is written
    in a write transaction of its own instead."""
    round_ = make_round()
    db.session.commit()
    db.session.scalars(select(Unit)).all()  # the request's read transaction has begun
    with db.engine.begin() as other:  # another request's write, committed meanwhile
        other.execute(update(Unit).values(name_en="Renamed meanwhile"))
    exports.record_download(round_, "csv")
    recorded = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "results_downloaded")
    ).all()
    assert [e.target for e in recorded] == [f"round:{round_.id}"]
