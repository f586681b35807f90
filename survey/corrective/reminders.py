"""Reminders of corrective actions: before the due date to the owner, after it to the quality
leads, through the same mail queue as invitations (``survey.mail``). Run daily by the worker
(``daily_reminders``) or by ``flask --app survey send-reminders``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from survey import jobs, mail, offices
from survey.corrective.history import add_event
from survey.corrective.queue import local_today
from survey.corrective.states import ACTIVE
from survey.extensions import db
from survey.models import CorrectiveAction, MailMessage, User, utcnow

REMIND_DAYS_BEFORE = 3


@dataclass
class Reminders:
    to_owners: list[CorrectiveAction] = field(default_factory=list)
    to_leads: list[CorrectiveAction] = field(default_factory=list)


def send(now: datetime) -> Reminders:
    """Owners of active actions due within ``REMIND_DAYS_BEFORE`` days get one e-mail per due
    date; once the date has passed, every active quality lead gets one. A new due date starts
    over. Events record each reminder. The messages go to the mail queue; commits."""
    today, sent = local_today(now), Reminders()
    messages: list[MailMessage] = []
    due = db.session.scalars(
        select(CorrectiveAction).where(
            CorrectiveAction.status.in_(ACTIVE), CorrectiveAction.due_date.is_not(None)
        )
    ).all()
    leads = db.session.scalars(
        select(User).where(offices.is_member("quality_lead"), User.active)
    ).all()
    for action in due:
        soon = today <= action.due_date <= today + timedelta(days=REMIND_DAYS_BEFORE)
        if soon and action.owner and action.owner_reminded_for != action.due_date:
            messages += _mail(action, [action.owner], "owner", now)
            action.owner_reminded_for = action.due_date
            sent.to_owners.append(action)
        if action.due_date < today and leads and action.lead_reminded_for != action.due_date:
            messages += _mail(action, leads, "lead", now)
            action.lead_reminded_for = action.due_date
            sent.to_leads.append(action)
    mail.dispatch(messages)
    return sent


# 00:30 UTC: 08:30 in Shanghai, before the office's day starts.
@jobs.periodic_task(jobs.crontab(hour="0", minute="30"))
def daily_reminders() -> None:
    """The worker's daily run of ``send`` (what ``flask send-reminders`` does by hand)."""
    send(utcnow())
    db.session.commit()


def _mail(action: CorrectiveAction, to: list[User], whom: str, now: datetime) -> list[MailMessage]:
    link = current_app.config["BASE_URL"].rstrip("/") + f"/actions/{action.id}"
    item = f"{action.question_code} / {action.served_unit or '-'}"
    if whom == "owner":
        subject = f"纠正措施 #{action.id} 将于 {action.due_date} 到期 / due {action.due_date}"
        body = (
            f"您负责的纠正措施 #{action.id}（{item}）将于 {action.due_date} 到期。\n"
            f"Corrective action #{action.id} ({item}) that you own is due on "
            f"{action.due_date}.\n\n{link}\n"
        )
    else:
        subject = f"纠正措施 #{action.id} 已逾期 / overdue since {action.due_date}"
        owner = action.owner.display_name if action.owner else "-"
        body = (
            f"纠正措施 #{action.id}（{item}，负责人 {owner}）已于 {action.due_date} 逾期。\n"
            f"Corrective action #{action.id} ({item}, owner {owner}) passed its due date "
            f"{action.due_date}.\n\n{link}\n"
        )
    messages = [mail.queue("action_reminder", user.email, subject, body) for user in to]
    add_event(
        action,
        "reminder",
        None,
        now,
        data={
            "to": whom,
            "due_date": action.due_date.isoformat(),
            "recipients": [u.email for u in to],
        },
    )
    return messages
