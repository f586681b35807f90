"""Follow-up cases: a poor public rating is answered within the office's deadline.

A case opens with the rating (``open``), with a due date ``Office.case_deadline_days`` working
days later. Whoever handles it records the contact with the citizen (``contacted``), then the
reply given and the outcome (``closed``). A case past its due date is escalated once to the
office's quality leads (by e-mail, daily, ``escalate``). When the same complaint repeats at a
service point (``repeats``: ``REPEAT_AT_LEAST`` poor ratings naming the same reason within
``REPEAT_WINDOW``), the lead's queue shows it as a pattern: the case is then a symptom and the
cause is for a corrective action to find.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from survey import audit, jobs, mail, office_time, offices
from survey.extensions import db
from survey.models import (
    CASE_OUTCOMES,
    POOR_AT_MOST,
    REASONS,
    CaseEvent,
    FeedbackCase,
    MailMessage,
    Office,
    PublicRating,
    ServicePoint,
    User,
    utcnow,
)

OUTCOME_LABELS = {
    "resolved": _l("Resolved: the matter was put right"),
    "explained": _l("Explained: the citizen was given the reasons"),
    "referred": _l("Referred to the responsible department"),
    "not_reached": _l("The citizen could not be reached"),
    "no_contact": _l("No contact details: reviewed without a reply"),
    "set_aside": _l("Set aside: the rating was not genuine"),
}
# What a handler may choose when closing (set_aside comes from setting the rating aside).
CHOSEN_OUTCOMES = ("resolved", "explained", "referred", "not_reached", "no_contact")
assert tuple(OUTCOME_LABELS) == CASE_OUTCOMES
STATUS_LABELS = {
    "open": _l("Awaiting a reply"),
    "contacted": _l("Citizen contacted"),
    "closed": _l("Closed"),
}
DEADLINE_DAYS_RANGE = (1, 30)
REPEAT_WINDOW = timedelta(days=30)
REPEAT_AT_LEAST = 3
# How long a citizen's contact details are kept after their case closed.
CONTACT_KEPT = timedelta(days=90)
logger = logging.getLogger(__name__)


class CaseError(ValueError):
    """A change the case's state does not allow; the message says why."""


def deadline_days(office_id: int) -> int:
    office = db.session.get(Office, office_id)
    return office.case_deadline_days if office else 5


def set_deadline_days(office_id: int, days: int) -> None:
    low, high = DEADLINE_DAYS_RANGE
    if not low <= days <= high:
        raise CaseError(_l("The deadline is %(low)s to %(high)s working days.", low=low, high=high))
    office = db.session.get(Office, office_id)
    before = office.case_deadline_days
    office.case_deadline_days = days
    audit.record("case_deadline_changed", f"office:{office_id}", before=before, after=days)


def due_date_for(opened_at: datetime, days: int) -> date:
    """``days`` working days after the office's date of ``opened_at``: Monday to Friday but
    the public holidays (``OFFICE_HOLIDAYS``), and the weekend days worked in their place
    (``OFFICE_WORKDAYS``, China's 调休), both lists of ISO dates in the configuration."""
    config = current_app.config
    return office_time.working_days_after(
        office_time.local_date(opened_at),
        days,
        holidays=office_time.calendar_dates(config.get("OFFICE_HOLIDAYS")),
        workdays=office_time.calendar_dates(config.get("OFFICE_WORKDAYS"), "OFFICE_WORKDAYS"),
    )


def _event(case: FeedbackCase, kind: str, by: User | None, now: datetime, note=None, **data):
    case.events.append(CaseEvent(kind=kind, at=now, by_id=by.id if by else None, note=note,
                                 data=data))  # fmt: skip


def open_for(rating: PublicRating, now: datetime) -> FeedbackCase:
    """The case of a poor rating, due ``case_deadline_days`` working days later. Flushes."""
    days = deadline_days(rating.office_id)
    case = FeedbackCase(
        office_id=rating.office_id,
        rating=rating,
        service_point_id=rating.service_point_id,
        status="open",
        opened_at=now,
        due_date=due_date_for(now, days),
    )
    db.session.add(case)
    _event(case, "opened", None, now, days=days, contact=bool(rating.contact))
    db.session.flush()
    return case


def record_contact(case: FeedbackCase, by: User, note: str, now: datetime) -> None:
    """The citizen was reached (or tried): what was said. Only an open case, with contact
    details, is contacted; the note is required."""
    if case.status != "open":
        raise CaseError(_l("Only an open case can be marked as contacted."))
    if not case.rating.contact:
        raise CaseError(_l("The citizen left no contact details: close the case instead."))
    note = (note or "").strip()
    if not note:
        raise CaseError(_l("Say how the citizen was contacted and what they said."))
    case.status, case.contacted_at, case.handler_id = "contacted", now, by.id
    _event(case, "contacted", by, now, note)
    audit.record("case_contacted", f"case:{case.id}", actor=by)


def close(case: FeedbackCase, by: User, reply: str, outcome: str, now: datetime) -> None:
    """Close with the reply given (or the review made) and its outcome. A case whose citizen
    left contact details is closed as resolved, explained or referred only once contacted;
    "no contact details" is for a rating without them."""
    if case.status == "closed":
        raise CaseError(_l("This case is closed already."))
    if outcome not in CHOSEN_OUTCOMES:
        raise CaseError(_l("Choose how the case ended."))
    reply = (reply or "").strip()
    if not reply:
        raise CaseError(_l("Record the reply given to the citizen, or what the review found."))
    has_contact = bool(case.rating.contact)
    if outcome == "no_contact" and has_contact:
        raise CaseError(_l("The citizen left contact details: contact them first."))
    if has_contact and outcome != "not_reached" and case.status != "contacted":
        raise CaseError(_l("Record the contact with the citizen before closing the case."))
    if not has_contact and outcome not in ("no_contact", "referred"):
        raise CaseError(_l("The citizen left no contact details: they cannot have been told."))
    case.status, case.reply, case.outcome, case.closed_at = "closed", reply, outcome, now
    case.handler_id = case.handler_id or by.id
    _event(case, "closed", by, now, reply, outcome=outcome, on_time=on_time(case))
    audit.record("case_closed", f"case:{case.id}", actor=by, status=outcome)


def outcomes_for(case: FeedbackCase) -> tuple[str, ...]:
    """The outcomes ``close`` accepts for this case now, for the form to offer only those."""
    if not case.rating.contact:
        return ("no_contact", "referred")
    if case.status == "contacted":
        return ("resolved", "explained", "referred", "not_reached")
    return ("not_reached",)


def close_set_aside(case: FeedbackCase, by: User, now: datetime) -> None:
    """Close the case of a rating the lead set aside: there is no one to answer."""
    case.status, case.outcome, case.closed_at = "closed", "set_aside", now
    case.reply = case.reply or ""
    _event(case, "closed", by, now, None, outcome="set_aside", on_time=on_time(case))


def on_time(case: FeedbackCase) -> bool | None:
    """Closed by its due date (the office's calendar); None while it is not closed."""
    if case.closed_at is None:
        return None
    return office_time.local_date(case.closed_at) <= case.due_date


def is_overdue(case: FeedbackCase, today: date) -> bool:
    return case.status != "closed" and case.due_date < today


QUEUES = ("active", "overdue", "closed", "all")


def queue(which: str, today: date, point_id: int | None = None) -> list[FeedbackCase]:
    """The office's cases: ``active`` (not closed; the oldest due first), ``overdue``,
    ``closed`` (newest first) or ``all``."""
    query = select(FeedbackCase)
    if point_id:
        query = query.where(FeedbackCase.service_point_id == point_id)
    if which == "active":
        query = query.where(FeedbackCase.status != "closed")
    elif which == "overdue":
        query = query.where(FeedbackCase.status != "closed", FeedbackCase.due_date < today)
    elif which == "closed":
        query = query.where(FeedbackCase.status == "closed")
    if which == "closed":
        query = query.order_by(FeedbackCase.closed_at.desc(), FeedbackCase.id.desc())
    else:
        query = query.order_by(FeedbackCase.due_date, FeedbackCase.id)
    return list(db.session.scalars(query.limit(500)))


@dataclass(frozen=True)
class Counts:
    active: int
    overdue: int
    closed: int
    closed_on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.closed_on_time / self.closed if self.closed else None


def counts(today: date) -> Counts:
    """The office's cases in one query. Cases closed because their rating was set aside are
    not counted as closed (nor on time): they were never answered."""
    closed = FeedbackCase.status == "closed"
    answered = closed & (FeedbackCase.outcome != "set_aside")
    row = db.session.execute(
        select(
            func.count().filter(~closed),
            func.count().filter(~closed, FeedbackCase.due_date < today),
            func.count().filter(answered),
        )
    ).one()
    return Counts(*(int(v) for v in row), closed_on_time=_closed_on_time(answered))


def _closed_on_time(answered) -> int:
    # On time is judged on the office's calendar date of the closing (on_time), which SQL
    # cannot compute portably: the closed cases' two dates are read, not the cases.
    rows = db.session.execute(select(FeedbackCase.closed_at, FeedbackCase.due_date).where(answered))
    return sum(office_time.local_date(closed_at) <= due for closed_at, due in rows)


@dataclass(frozen=True)
class Repeat:
    """The same complaint, repeated at one service point."""

    point: ServicePoint
    reason: str
    count: int
    first: datetime
    last: datetime


def repeats(now: datetime) -> list[Repeat]:
    """Poor ratings naming the same reason at the same point, ``REPEAT_AT_LEAST`` times within
    ``REPEAT_WINDOW``, most first. Ratings set aside do not count."""
    rows = db.session.execute(
        select(PublicRating.service_point_id, PublicRating.reasons, PublicRating.submitted_at)
        .where(
            PublicRating.submitted_at >= now - REPEAT_WINDOW,
            PublicRating.score <= POOR_AT_MOST,
            (PublicRating.flag.is_(None)) | (PublicRating.flag != "set_aside"),
        )
        .order_by(PublicRating.submitted_at)
    ).all()
    seen: dict[tuple[int, str], list[datetime]] = {}
    for point_id, reasons, at in rows:
        for reason in reasons or ():
            if reason in REASONS:
                seen.setdefault((point_id, reason), []).append(at)
    points = {p.id: p for p in db.session.scalars(select(ServicePoint))}
    found = [
        Repeat(points[point_id], reason, len(times), times[0], times[-1])
        for (point_id, reason), times in seen.items()
        if len(times) >= REPEAT_AT_LEAST and point_id in points
    ]
    return sorted(found, key=lambda r: (-r.count, r.point.code, r.reason))


def escalate(now: datetime) -> list[FeedbackCase]:
    """Cases past their due date and not closed, not escalated yet: each office's quality
    leads get one e-mail listing them; each case records it. Commits nothing."""
    today = office_time.local_date(now)
    overdue = db.session.scalars(
        select(FeedbackCase)
        .where(
            FeedbackCase.status != "closed",
            FeedbackCase.due_date < today,
            FeedbackCase.escalated_at.is_(None),
        )
        .order_by(FeedbackCase.due_date, FeedbackCase.id)
    ).all()
    if not overdue:
        return []
    leads = db.session.scalars(
        select(User).where(offices.is_member("quality_lead"), User.active)
    ).all()
    if not leads:
        # Nobody to tell: nothing is marked, so that the cases are escalated once a lead
        # is appointed.
        logger.warning("%d overdue feedback cases and no active quality lead", len(overdue))
        return []
    for case in overdue:
        case.escalated_at = now
        _event(case, "escalated", None, now, to=[u.email for u in leads])
    mail.dispatch(_mail(overdue, leads))
    return list(overdue)


def _mail(cases: list[FeedbackCase], leads: list[User]) -> list[MailMessage]:
    base = current_app.config["BASE_URL"].rstrip("/")
    lines = [
        f"#{c.id} {c.service_point.name_zh} / {c.service_point.name_en}: "
        f"{c.due_date.isoformat()}  {base}/feedback/cases/{c.id}"
        for c in cases
    ]
    subject = f"{len(cases)} 件群众反馈逾期未办结 / public feedback cases overdue"
    body = (
        "以下群众反馈已超过答复期限：\n"
        "These public feedback cases passed their deadline without being closed:\n\n"
        + "\n".join(lines)
        + "\n"
    )
    return [mail.queue("case_escalation", user.email, subject, body) for user in leads]


def forget_contacts(now: datetime) -> int:
    """Erase the contact details of the ratings whose case closed ``CONTACT_KEPT`` ago: they
    were given for a reply, which was made. Returns how many; commits nothing."""
    closed = select(FeedbackCase.rating_id).where(
        FeedbackCase.status == "closed", FeedbackCase.closed_at < now - CONTACT_KEPT
    )
    ratings = db.session.scalars(
        select(PublicRating).where(
            PublicRating.id.in_(closed),
            (PublicRating.contact.is_not(None)) | (PublicRating.contact_name.is_not(None)),
        )
    ).all()
    for rating in ratings:
        rating.contact, rating.contact_name = None, None
    return len(ratings)


# 00:40 UTC: 08:40 in Shanghai, after the actions' reminders.
@jobs.periodic_task(jobs.crontab(hour="0", minute="40"))
def daily_escalation() -> None:
    """The worker's daily run of ``escalate`` and ``forget_contacts`` in each office."""
    now = utcnow()
    forget_contacts(now)  # first, and committed alone: a failing mail queue does not keep them
    db.session.commit()
    escalate(now)
    db.session.commit()


def poor_share(since: datetime) -> tuple[int, int]:
    """(poor ratings, ratings) counted since ``since``: the headline of the cases page."""
    row = db.session.execute(
        select(
            func.count().filter(PublicRating.score <= POOR_AT_MOST),
            func.count(),
        ).where(
            PublicRating.submitted_at >= since,
            (PublicRating.flag.is_(None)) | (PublicRating.flag != "set_aside"),
        )
    ).one()
    return int(row[0]), int(row[1])
