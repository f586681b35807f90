"""The staff's public-feedback pages: service points with their poster, the lead's page of
figures, patterns, flagged bursts and cases, and a case worked from contact to closing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from survey import public_ratings, tenancy
from survey.extensions import db
from survey.models import AuditEvent, FeedbackCase, PublicRating, ServicePoint, utcnow
from survey.public_ratings import Answer

EN = {"Accept-Language": "en"}
_seq = iter(range(1, 100_000))


def _rating(point, score=1, minutes=0, address=None, **kw):
    n = next(_seq)
    with tenancy.office(point.office_id):
        return public_ratings.submit(
            point,
            Answer(score=score, **kw),
            nonce=f"view-nonce-{n:012d}",
            device=f"device-{n}",
            address=address or f"198.51.{n % 250}.1",
            now=utcnow() - timedelta(minutes=minutes),
        )


@pytest.fixture
def point(make_point):
    return make_point("hall-1")


def test_a_designer_adds_a_service_point_and_gets_its_poster(client, auth):
    auth.login("designer")
    page = client.post("/feedback/points", headers=EN,
                       data={"code": "Counter-7", "name_zh": "七号窗口", "name_en": "Counter 7",
                             "kind": "counter"})  # fmt: skip
    assert page.status_code == 302
    point = db.session.scalar(select(ServicePoint))
    assert (point.code, point.kind, point.active) == ("counter-7", "counter", True)
    shown = client.get(page.headers["Location"], headers=EN)
    assert f"https://survey.test/s/{point.link_key}" in shown.text
    poster = client.get(f"/feedback/points/{point.id}/poster.pdf")
    assert poster.mimetype == "application/pdf" and poster.data.startswith(b"%PDF")
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "service_point_created")) == "service_point_created"  # fmt: skip


def test_a_duplicate_code_or_a_missing_name_is_refused_with_the_reason(client, auth, point):
    auth.login("designer")
    page = client.post("/feedback/points", headers=EN,
                       data={"code": "hall-1", "name_zh": "大厅", "name_en": "Hall", "kind": "hall"})  # fmt: skip
    assert page.status_code == 400 and "Another service point has the code hall-1" in page.text
    page = client.post("/feedback/points", headers=EN, data={"code": "x", "kind": "hall"})
    assert page.status_code == 400 and 'value="x"' in page.text


def test_a_new_link_retires_the_old_one(client, auth, point):
    auth.login("designer")
    old = point.link_key
    assert client.post(f"/feedback/points/{point.id}/renew").status_code == 302
    db.session.refresh(point)
    assert point.link_key != old
    assert client.get(f"/s/{old}").status_code == 404
    assert client.get(f"/s/{point.link_key}").status_code == 200


def test_a_point_taken_out_of_service_stops_taking_ratings(client, auth, point):
    auth.login("designer")
    client.post(f"/feedback/points/{point.id}", headers=EN,
                data={"code": "hall-1", "name_zh": "大厅", "name_en": "Hall", "kind": "hall"})  # fmt: skip
    db.session.refresh(point)
    assert point.active is False and point.name_en == "Hall"
    assert client.get(f"/s/{point.link_key}").status_code == 404


def test_the_leads_page_shows_rates_from_five_ratings_cases_and_patterns(client, auth, point):
    for score in (5, 5, 4):
        _rating(point, score)
    for _ in range(3):
        _rating(point, 1, reasons=("waiting",), contact="13800000000")
    auth.login("quality_lead")
    page = client.get("/feedback/", headers=EN)
    assert page.status_code == 200
    assert "hall-1 service hall" in page.text
    assert ">50%<" in page.text  # 3 of 6 satisfied
    assert "Repeated complaints" in page.text and "I waited too long" in page.text
    assert page.text.count("/feedback/cases/") >= 3


def test_a_rate_on_fewer_than_five_ratings_is_not_shown(client, auth, point):
    for score in (5, 1):
        _rating(point, score)
    auth.login("quality_lead")
    page = client.get("/feedback/", headers=EN)
    assert "too few" in page.text and ">50%<" not in page.text


def test_a_case_is_contacted_answered_and_closed_from_its_page(client, auth, point):
    case_id = _rating(point, 1, contact="13800000000", comment="Nobody answered").case.id
    lead = auth.login("quality_lead")
    page = client.get(f"/feedback/cases/{case_id}", headers=EN)
    assert "Nobody answered" in page.text and "13800000000" in page.text
    offered = re.findall(r'<option[^>]*value="(\w+)"', page.text)
    assert offered == ["not_reached"]  # until the citizen was contacted
    early = client.post(f"/feedback/cases/{case_id}/close", headers=EN,
                        data={"reply": "Sorry", "outcome": "resolved"})  # fmt: skip
    assert early.status_code == 400 and "Record the contact" in early.text
    assert client.post(f"/feedback/cases/{case_id}/contact",
                       data={"note": "Called back at 14:00"}).status_code == 302  # fmt: skip
    assert client.post(f"/feedback/cases/{case_id}/close", data={
        "reply": "Phone line fixed; apologised", "outcome": "resolved"}).status_code == 302  # fmt: skip
    case = db.session.get(FeedbackCase, case_id)
    assert (case.status, case.outcome, case.handler_id) == ("closed", "resolved", lead.id)
    closed = client.get(f"/feedback/cases/{case_id}", headers=EN)
    assert "Phone line fixed" in closed.text and "closed on time" in closed.text
    assert f'action="/feedback/cases/{case_id}/close"' not in closed.text


def test_a_flagged_rating_set_aside_counts_no_more(client, auth, point):
    for n in range(5):
        _rating(point, 1, comment="bad bad", minutes=n)
    auth.login("quality_lead")
    page = client.get("/feedback/", headers=EN)
    assert "Flagged ratings" in page.text
    rating = db.session.scalar(select(PublicRating).where(PublicRating.flag == "burst"))
    assert client.post(f"/feedback/ratings/{rating.id}/set-aside").status_code == 302
    db.session.refresh(rating)
    assert rating.flag == "set_aside"
    case = db.session.scalar(select(FeedbackCase).where(FeedbackCase.rating_id == rating.id))
    assert (case.status, case.outcome) == ("closed", "set_aside")
    other = db.session.scalar(select(PublicRating).where(PublicRating.flag == "burst"))
    assert client.post(f"/feedback/ratings/{other.id}/keep").status_code == 302
    db.session.refresh(other)
    assert other.flag == "kept"


def test_the_lead_sets_the_deadline(client, auth, point):
    auth.login("quality_lead")
    assert client.post("/feedback/settings", data={"days": "3"}).status_code == 302
    assert _rating(point, 1).case.due_date is not None
    page = client.get("/feedback/", headers=EN)
    assert 'value="3"' in page.text
    client.post("/feedback/settings", data={"days": "99"})
    assert 'value="3"' in client.get("/feedback/", headers=EN).text


def test_a_designer_does_not_see_the_cases(client, auth, point):
    case_id = _rating(point, 1).case.id
    auth.login("designer")
    assert client.get("/feedback/").status_code == 403
    assert client.get(f"/feedback/cases/{case_id}").status_code == 403
    assert client.get("/feedback/points").status_code == 200


def test_the_leads_other_pages_point_to_the_cases_and_the_repeated_complaints(client, auth, point):
    for _ in range(3):
        _rating(point, 2, reasons=("information",))
    auth.login("quality_lead")
    results = client.get("/review/", headers=EN)
    assert "Public feedback" in results.text and "(3)" in results.text
    queue = client.get("/actions/", headers=EN)
    assert "Repeated complaints from the public" in queue.text
    assert "Information unclear or wrong (3)" in queue.text


def test_flagged_ratings_show_their_hour_not_their_minute(client, auth, point):
    for n in range(5):
        _rating(point, 1, comment="bad bad", minutes=n)
    auth.login("quality_lead")
    page = client.get("/feedback/", headers=EN)
    rating = db.session.scalar(select(PublicRating).where(PublicRating.flag == "burst"))
    local = rating.submitted_at + timedelta(hours=8)  # Asia/Shanghai
    assert f"{local:%H}:00–" in page.text
    minute = f"{local:%H:%M}"
    assert minute.endswith(":00") or minute not in page.text
