"""Issuing invitations, listing them with their links, sending, reminding and revoking."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from survey import mail, office_time, offices
from survey.extensions import db
from survey.messages import N_, TranslatedError, translate
from survey.models import Invitation, RespondentGroup, Round, Unit, utcnow
from survey.rounds import audience_units
from survey.spreadsheets import safe_cell

CSV_HEADER = ("round", "group", "unit_code", "unit", "person", "email", "status", "link")
OPEN = ("sent", "started")
# An invitation's statuses and how pages name them; the CSV keeps the codes.
STATUS_LABELS = {
    "sent": _l("Not opened"),
    "started": _l("Started"),
    "submitted": _l("Submitted"),
    "revoked": _l("Revoked"),
}


class InvitationError(TranslatedError):
    """A refused invitation: the line of the pasted list it is about (or None) and why."""

    def __init__(self, line: int | None, reason: str, **params) -> None:
        super().__init__(reason, **params)
        self.line = line

    @property
    def reason(self) -> str:
        return translate(self.template, self.params)

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return translate(
            N_("line %(line)s: %(reason)s"), {"line": self.line, "reason": self.reason}
        )


def invitation_url(invitation: Invitation) -> str:
    """The personal link, built from the configured BASE_URL and never from the request's Host
    header, so that a forged Host cannot plant a foreign link in an e-mail."""
    return current_app.config["BASE_URL"].rstrip("/") + "/r/" + invitation.token


def issue(
    round_: Round, unit: Unit, person_name: str | None = None, email: str | None = None
) -> Invitation:
    """A new invitation of `unit` (optionally for a named person of it) to `round_`."""
    if unit.kind != "respondent" or unit.group_id is None:
        raise InvitationError(None, N_("unit %(code)s is not a respondent unit"), code=unit.code)
    invitation = Invitation(
        round=round_, unit=unit, group_id=unit.group_id, person_name=person_name, email=email
    )
    db.session.add(invitation)
    return invitation


def issue_per_unit(round_: Round, units: list[Unit]) -> list[Invitation]:
    """One unnamed invitation per unit, skipping units that already have one in the round."""
    have = set(
        db.session.scalars(
            select(Invitation.unit_id).where(
                Invitation.round_id == round_.id, Invitation.person_name.is_(None)
            )
        )
    )
    return [issue(round_, unit) for unit in units if unit.id not in have]


def issue_for_round(round_: Round, count: int = 1, group: str | None = None) -> list[Invitation]:
    """Invitations for the round's audience (optionally one group): with count 1 one per unit
    that has none yet, so issuing twice changes nothing; with count N, N more per unit."""
    units = [u for u in audience_units(round_) if group is None or u.group.code == group]
    if count == 1:
        made = issue_per_unit(round_, units)
    else:
        made = [issue(round_, unit) for unit in units for _ in range(count)]
    db.session.flush()
    return made


def issue_named(round_: Round, text: str) -> list[Invitation]:
    """Invitations for named people, from CSV lines `unit_code,name,email` (email optional).
    Every line is checked before any invitation is made."""
    units = {u.code: u for u in audience_units(round_)}
    rows = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        code, name, email = (list(map(str.strip, row)) + ["", ""])[:3]
        if code not in units:
            raise InvitationError(
                line, N_("unit %(code)s is not in this round's audience"), code=repr(code)
            )
        if not name:
            raise InvitationError(line, N_("a name is needed"))
        if email:
            try:
                email = mail.address(email)
            except ValueError as error:
                raise InvitationError(
                    line,
                    N_("%(email)s is not an e-mail address: %(error)s"),
                    email=repr(email),
                    error=error,
                ) from None
        rows.append((units[code], name, email or None))
    made = [issue(round_, unit, name, email) for unit, name, email in rows]
    db.session.flush()
    return made


def listing(round_: Round, status: str | None = None, group: str | None = None):
    """A Select of the round's invitations, by group and unit, optionally filtered; the caller
    pages or loads it."""
    query = (
        select(Invitation)
        .join(Unit)
        .join(RespondentGroup)
        .options(selectinload(Invitation.unit), selectinload(Invitation.group))
        .where(Invitation.round_id == round_.id)
        .order_by(RespondentGroup.position, Unit.id, Invitation.id)
    )
    if status:
        query = query.where(Invitation.status == status)
    if group:
        query = query.where(RespondentGroup.code == group)
    return query


def of_round(round_: Round) -> list[Invitation]:
    return list(db.session.scalars(listing(round_)))


def csv_lines(round_: Round, invitations: Iterable[Invitation], lang: str = "zh") -> Iterator[str]:
    """The invitations as CSV text, line by line (header first), each with its link; cells
    are neutralised against spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(v) for v in values])
        return buffer.getvalue()

    yield line(CSV_HEADER)
    for inv in invitations:
        yield line(
            (
                round_.name,
                inv.group.code,
                inv.unit.code,
                inv.unit.name(lang),
                inv.person_name or "",
                inv.email or "",
                inv.status,
                invitation_url(inv),
            )
        )


@dataclass(frozen=True)
class Mailing:
    """What one sending did: e-mails queued (a background job sends them; the round page shows
    how each went), and the open invitations it did not e-mail, by reason (no address: the link
    goes out another way; already: e-mailed before)."""

    queued: int
    no_address: int
    already: int


def send(invitations: Iterable[Invitation], reminder: bool = False) -> Mailing:
    """E-mail each open invitation that has an address. An invitation is e-mailed once: it is
    claimed with a conditional UPDATE before its message is queued, so pressing "send" twice,
    or in two browsers at once, queues nothing twice (and the job sends each message once).
    Reminders go to every open invitation with an address, each time.

    An anonymous round's reminder keeps no invitation id, and its address is emptied once it
    is sent: who was still being reminded when would say who answered after it (as
    ``reminded_at``, which such a round does not keep either). Commits."""
    no_address = already = 0
    messages = []
    now = utcnow()
    for inv in invitations:
        if inv.status not in OPEN:
            continue
        if not inv.email:
            no_address += 1
            continue
        if not reminder and not _claim(inv, now):
            already += 1
            continue
        subject, body = _message(inv, reminder)
        hidden = reminder and inv.round.anonymous
        messages.append(
            mail.queue(
                "reminder" if reminder else "invitation",
                inv.email,
                subject,
                body,
                round_id=inv.round_id,
                invitation_id=None if hidden else inv.id,
            )
        )
        if reminder and not hidden:
            # Not in an anonymous round: who was still reminded when says who answered after.
            inv.reminded_at = now
    mail.dispatch(messages)
    return Mailing(len(messages), no_address, already)


def _claim(inv: Invitation, now: datetime) -> bool:
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == inv.id, Invitation.emailed_at.is_(None))
        .values(emailed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        inv.emailed_at = now
    return bool(claimed)


def remind(round_: Round) -> Mailing:
    """A reminder to every invitation of the round that has not submitted (nor been revoked)."""
    return send([i for i in of_round(round_) if i.status in OPEN], reminder=True)


def revoke(invitation: Invitation) -> None:
    """The link stops working at once; a submitted invitation keeps its response."""
    if invitation.status == "submitted":
        raise InvitationError(None, N_("A submitted invitation cannot be revoked."))
    invitation.status, invitation.revoked_at = "revoked", utcnow()


def _message(inv: Invitation, reminder: bool) -> tuple[str, str]:
    round_ = inv.round
    title_zh, title_en = round_.version.title_zh, round_.version.title_en
    deadline = f"{office_time.last_day(round_.closes_at):%Y-%m-%d}" if round_.closes_at else ""
    prefix = "【提醒】" if reminder else ""
    subject = f"{prefix}{title_zh} / {'Reminder: ' if reminder else ''}{title_en}"
    greeting = inv.person_name or inv.unit.name_zh
    body = (
        f"{greeting}：\n\n"
        f"诚邀您参加“{title_zh}”（{round_.name}）。请通过以下专属链接填写问卷"
        + (f"，截止日期 {deadline}" if deadline else "")
        + "：\n\n"
        f"{invitation_url(inv)}\n\n"
        "此链接仅供贵单位使用，请勿转发。填写中途可保存，稍后通过同一链接继续。\n\n"
        f"{offices.name_of(round_.office_id, 'zh')}\n\n---\n\n"
        f"Dear {inv.person_name or inv.unit.name_en},\n\n"
        f"You are invited to the {title_en} ({round_.name}). Please answer through your "
        "personal link" + (f" by {deadline}" if deadline else "") + ":\n\n"
        f"{invitation_url(inv)}\n\n"
        "The link is for your unit only; please do not forward it. You can save your answers "
        "and come back with the same link.\n\n"
        f"{offices.name_of(round_.office_id, 'en')}\n"
    )
    return subject, body
