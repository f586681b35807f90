"""Reminders: to the owner before the due date, to the quality leads after it, once each."""

from __future__ import annotations

from datetime import date, timedelta

from survey import corrective
from survey.corrective import reminders
from survey.extensions import db
from survey.mail import outbox_dir
from survey.models import utcnow


def office_today() -> date:
    """The date reminders count from: the office's (Asia/Shanghai), not this machine's. From
    16:00 UTC on they differ by a day."""
    return corrective.local_today(utcnow())


def test_the_owner_is_reminded_once_before_the_due_date(assigned, lead):
    corrective.assign(assigned, assigned.owner, office_today() + timedelta(days=2), lead, utcnow())
    assert reminders.send(utcnow()).to_owners == [assigned]
    assert reminders.send(utcnow()).to_owners == []
    (message,) = outbox_dir().iterdir()
    assert assigned.owner.email in message.read_text("utf-8")


def test_the_lead_is_reminded_once_the_due_date_has_passed(assigned, lead):
    assigned.due_date = office_today() - timedelta(days=2)
    sent = reminders.send(utcnow())
    assert (sent.to_owners, sent.to_leads) == ([], [assigned])
    assert lead.email in next(outbox_dir().iterdir()).read_text("utf-8")
    assert reminders.send(utcnow()).to_leads == []


def test_an_action_due_later_or_closed_gets_no_reminder(assigned, lead, force):
    assigned.due_date = office_today() + timedelta(days=reminders.REMIND_DAYS_BEFORE + 1)
    assert reminders.send(utcnow()).to_owners == []
    assigned.due_date = office_today() - timedelta(days=1)
    force(assigned, "cancelled")
    assert reminders.send(utcnow()).to_leads == []


def test_a_new_due_date_is_reminded_again(assigned, lead):
    assigned.due_date = office_today() + timedelta(days=1)
    reminders.send(utcnow())
    corrective.assign(assigned, assigned.owner, office_today() + timedelta(days=2), lead, utcnow())
    assert reminders.send(utcnow()).to_owners == [assigned]
    assert [e.kind for e in assigned.events].count("reminder") == 2


def test_the_workers_daily_job_sends_the_reminders_and_commits(assigned, lead):
    corrective.assign(assigned, assigned.owner, office_today() + timedelta(days=2), lead, utcnow())
    db.session.commit()
    reminders.daily_reminders.call_local()
    db.session.rollback()  # what was committed stays
    assert assigned.owner_reminded_for == office_today() + timedelta(days=2)
    (message,) = outbox_dir().iterdir()
    assert assigned.owner.email in message.read_text("utf-8")
