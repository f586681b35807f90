"""survey.feedback_cases: a poor public rating becomes a case due in the office's working days,
is contacted, answered and closed in that order, is escalated once when overdue, and repeated
complaints at one service point show as a pattern."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from survey import feedback_cases, office_time, public_ratings, tenancy
from survey.extensions import db
from survey.feedback_cases import CaseError
from survey.models import AuditEvent, CaseEvent, MailMessage, Office
from survey.public_ratings import Answer

EN = {"Accept-Language": "en"}
# Wednesday 9 December 2026, 10:00 in Shanghai.
WEDNESDAY = datetime(2026, 12, 9, 2, 0)


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context(headers=EN):
        tenancy.enter(1)
        yield


_seq = iter(range(1, 100_000))


def _poor(point, now=WEDNESDAY, contact="13800000000", reasons=("waiting",), score=1):
    n = next(_seq)
    rated = public_ratings.submit(
        point,
        Answer(score=score, reasons=reasons, contact=contact, comment="slow"),
        nonce=f"nonce-{n:020d}",
        device=f"device-{n}",
        address=f"198.51.{n % 250}.1",
        now=now,
    )
    return rated.case


def test_working_days_skip_weekends_and_holidays_and_count_moved_workdays():
    friday, saturday = date(2026, 12, 11), date(2026, 12, 12)
    assert office_time.working_days_after(date(2026, 12, 9), 5) == date(2026, 12, 16)
    assert office_time.working_days_after(friday, 1) == date(2026, 12, 14)
    # From a Saturday: Monday is the first working day, Friday the fifth.
    assert office_time.working_days_after(saturday, 5) == date(2026, 12, 18)
    # National Day 2026: 1-7 October off, Saturday 10 October worked in their place.
    holidays = {date(2026, 10, d) for d in range(1, 8)}
    worked = {date(2026, 10, 10)}
    assert office_time.working_days_after(date(2026, 9, 30), 5, holidays, worked) == date(
        2026, 10, 13
    )


def test_the_offices_holidays_come_from_the_configuration(make_point, app):
    app.config["OFFICE_HOLIDAYS"] = ["2026-12-10", "2026-12-11"]
    app.config["OFFICE_WORKDAYS"] = "2026-12-12"
    # From Wednesday: Thursday and Friday off, Saturday worked, then Monday to Thursday.
    assert _poor(make_point()).due_date == date(2026, 12, 17)
    app.config["OFFICE_WORKDAYS"] = ""
    assert feedback_cases.due_date_for(WEDNESDAY, 5) == date(2026, 12, 18)


def test_a_case_is_due_the_offices_working_days_later(make_point):
    point = make_point()
    assert _poor(point).due_date == date(2026, 12, 16)
    feedback_cases.set_deadline_days(1, 2)
    db.session.commit()
    assert db.session.get(Office, 1).case_deadline_days == 2
    assert _poor(point).due_date == date(2026, 12, 11)
    # Late on Friday in Shanghai (Friday 23:30 = 15:30 UTC) counts from that Friday.
    assert _poor(point, now=datetime(2026, 12, 11, 15, 30)).due_date == date(2026, 12, 15)
    with pytest.raises(CaseError):
        feedback_cases.set_deadline_days(1, 0)
    assert db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "case_deadline_changed")
    ).all() == ["case_deadline_changed"]


def test_a_case_is_contacted_then_closed_with_its_reply(make_point, lead):
    case = _poor(make_point())
    with pytest.raises(CaseError, match="contact"):
        feedback_cases.close(case, lead, "Sorry", "resolved", WEDNESDAY)
    with pytest.raises(CaseError):
        feedback_cases.record_contact(case, lead, "  ", WEDNESDAY)
    feedback_cases.record_contact(case, lead, "Phoned; waited 40 minutes", WEDNESDAY)
    assert case.status == "contacted" and case.handler_id == lead.id
    with pytest.raises(CaseError):
        feedback_cases.close(case, lead, "", "resolved", WEDNESDAY)
    with pytest.raises(CaseError):
        feedback_cases.close(case, lead, "Extra counter opened", "no_contact", WEDNESDAY)
    later = WEDNESDAY + timedelta(days=2)
    feedback_cases.close(case, lead, "Extra counter opened at peak hours", "resolved", later)
    db.session.commit()
    assert (case.status, case.outcome, case.reply) == (
        "closed", "resolved", "Extra counter opened at peak hours")  # fmt: skip
    assert feedback_cases.on_time(case) is True
    assert [e.kind for e in case.events] == ["opened", "contacted", "closed"]
    with pytest.raises(CaseError, match="closed already"):
        feedback_cases.close(case, lead, "again", "resolved", later)


def test_a_citizen_who_could_not_be_reached_closes_without_contact(make_point, lead):
    case = _poor(make_point())
    feedback_cases.close(case, lead, "Three calls, no answer", "not_reached", WEDNESDAY)
    assert case.status == "closed"


def test_without_contact_details_a_case_is_reviewed_and_closed(make_point, lead):
    case = _poor(make_point(), contact=None)
    with pytest.raises(CaseError, match="no contact"):
        feedback_cases.record_contact(case, lead, "?", WEDNESDAY)
    with pytest.raises(CaseError):
        feedback_cases.close(case, lead, "We told them", "resolved", WEDNESDAY)
    feedback_cases.close(case, lead, "Queue system checked", "no_contact", WEDNESDAY)
    assert case.outcome == "no_contact"


def test_the_history_cannot_be_rewritten(make_point):
    case = _poor(make_point())
    db.session.commit()
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id))
    event.note = "changed"
    with pytest.raises(ValueError, match="part of the record"):
        db.session.flush()
    db.session.rollback()


def test_queues_and_counts(make_point, lead):
    point = make_point()
    late, fresh, done = _poor(point), _poor(point, now=WEDNESDAY + timedelta(days=7)), _poor(point)
    feedback_cases.close(done, lead, "No answer", "not_reached", WEDNESDAY + timedelta(days=1))
    db.session.commit()
    today = date(2026, 12, 17)  # after late's due date (16 Dec), before fresh's
    assert [c.id for c in feedback_cases.queue("active", today)] == [late.id, fresh.id]
    assert [c.id for c in feedback_cases.queue("overdue", today)] == [late.id]
    assert [c.id for c in feedback_cases.queue("closed", today)] == [done.id]
    assert len(feedback_cases.queue("all", today)) == 3
    counts = feedback_cases.counts(today)
    assert (counts.active, counts.overdue, counts.closed, counts.on_time_rate) == (2, 1, 1, 1.0)


def test_an_overdue_case_is_escalated_once_to_the_quality_leads(make_point, lead, quick_user):
    quick_user(role="designer")  # not a lead: no mail
    point = make_point()
    case, closed = _poor(point), _poor(point)
    feedback_cases.close(closed, lead, "No answer", "not_reached", WEDNESDAY)
    db.session.commit()
    assert feedback_cases.escalate(datetime(2026, 12, 16, 5, 0)) == []  # due today: not yet
    escalated = feedback_cases.escalate(datetime(2026, 12, 17, 1, 0))
    db.session.commit()
    assert [c.id for c in escalated] == [case.id]
    assert case.escalated_at is not None and case.events[-1].kind == "escalated"
    mails = db.session.scalars(select(MailMessage).where(MailMessage.kind == "case_escalation"))
    assert [m.recipient for m in mails] == [lead.email]
    assert feedback_cases.escalate(datetime(2026, 12, 18, 1, 0)) == []


def test_without_a_quality_lead_nothing_is_marked_escalated(make_point):
    case = _poor(make_point())
    db.session.commit()
    assert feedback_cases.escalate(datetime(2026, 12, 17, 1, 0)) == []
    assert case.escalated_at is None and [e.kind for e in case.events] == ["opened"]


def test_contact_details_are_erased_90_days_after_the_case_closed(make_point, lead):
    point = make_point()
    closed, open_ = _poor(point), _poor(point)
    feedback_cases.close(closed, lead, "Three calls", "not_reached", WEDNESDAY)
    db.session.commit()
    assert feedback_cases.forget_contacts(WEDNESDAY + timedelta(days=89)) == 0
    assert feedback_cases.forget_contacts(WEDNESDAY + timedelta(days=91)) == 1
    assert (closed.rating.contact, closed.rating.contact_name) == (None, None)
    assert open_.rating.contact == "13800000000"


def test_the_outcomes_offered_follow_the_contact_details_and_the_status(make_point, lead):
    point = make_point()
    with_contact, without = _poor(point), _poor(point, contact=None)
    assert feedback_cases.outcomes_for(with_contact) == ("not_reached",)
    assert feedback_cases.outcomes_for(without) == ("no_contact", "referred")
    feedback_cases.record_contact(with_contact, lead, "Called", WEDNESDAY)
    assert "resolved" in feedback_cases.outcomes_for(with_contact)
    with pytest.raises(CaseError):
        feedback_cases.close(with_contact, lead, "x", "set_aside", WEDNESDAY)


def test_the_same_complaint_three_times_in_30_days_is_a_pattern(make_point):
    hall, counter = make_point("hall-1"), make_point("counter-2")
    for days in (0, 10, 20):
        _poor(hall, now=WEDNESDAY + timedelta(days=days), reasons=("waiting", "attitude"))
    _poor(hall, now=WEDNESDAY, reasons=("information",))
    _poor(counter, now=WEDNESDAY, reasons=("waiting",))
    _poor(counter, now=WEDNESDAY - timedelta(days=40), reasons=("waiting",))  # too old
    _poor(counter, now=WEDNESDAY + timedelta(days=1), reasons=("waiting",), score=3)  # not poor
    found = feedback_cases.repeats(WEDNESDAY + timedelta(days=21))
    assert [(r.point.code, r.reason, r.count) for r in found] == [
        ("hall-1", "attitude", 3),
        ("hall-1", "waiting", 3),
    ]
    assert feedback_cases.repeats(WEDNESDAY + timedelta(days=31)) == []


def test_a_holiday_that_is_no_date_stops_the_app_from_starting(app):
    from survey import create_app

    for bad in ("2026-13-01", ["2026-10-01", "national day"]):
        with pytest.raises(ValueError, match="OFFICE_HOLIDAYS: .*ISO dates"):
            create_app({**app.config, "OFFICE_HOLIDAYS": bad})
    assert office_time.calendar_dates("2026-10-01, 2026-10-02") == {
        date(2026, 10, 1), date(2026, 10, 2)}  # fmt: skip


def test_cases_closed_by_setting_their_rating_aside_are_not_counted_as_answered(make_point, lead):
    point = make_point()
    answered, stuffed = _poor(point), _poor(point)
    feedback_cases.close(answered, lead, "No answer", "not_reached", WEDNESDAY)
    public_ratings.set_aside(stuffed.rating, lead, WEDNESDAY)
    db.session.commit()
    counts = feedback_cases.counts(date(2026, 12, 10))
    assert (counts.active, counts.closed, counts.closed_on_time) == (0, 1, 1)
