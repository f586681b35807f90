"""Sending e-mail: a record per message, sent by a background job through Flask-Mailman.

``queue`` adds a message to the session as a ``MailMessage`` (status "queued"); ``dispatch``
commits and enqueues one job per batch; the job (``deliver``) claims each message with a
conditional UPDATE, so that no message is ever sent twice, sends the batch through one SMTP
connection and marks each sent or failed with the reason. Huey retries the job for the messages
that failed (an SMTP server that is down answers no page with an error: the records say it).

With MAIL_SERVER configured the messages go out through SMTP (MAIL_PORT, MAIL_USE_TLS for
STARTTLS, MAIL_USE_SSL for SMTPS, MAIL_USERNAME, MAIL_PASSWORD, MAIL_DEFAULT_SENDER; the older
MAIL_SENDER still names the sender). Without it every message is written to instance/outbox/ as
an .eml file, so that in development each can be read and nothing leaves the machine."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMessage, Mail
from flask_mailman.backends.base import BaseEmailBackend
from sqlalchemy import func, select, update

from survey import jobs, tenancy
from survey.database import begin_write
from survey.extensions import db
from survey.models import MAIL_STATUSES, MailMessage, utcnow

mail = Mail()
OUTBOX_BACKEND = "survey.mail.OutboxEmailBackend"
# Messages per job, so one connection: a round's invitations go out in a few jobs.
BATCH = 200
RETRIES, RETRY_DELAY = 3, 60
# A message still queued this long after it was queued has lost its job: the worker takes a
# job within seconds, and Huey's retries keep a message "failed", not "queued".
LOST_AFTER = timedelta(minutes=15)
SENDABLE = ("queued", "failed")
# How pages name a message's status and kind.
STATUS_LABELS = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
KIND_LABELS = {
    "invitation": _l("Invitation"),
    "reminder": _l("Reminder"),
    "password_reset": _l("Password link"),
    "account_invitation": _l("New account"),
    "action_reminder": _l("Action reminder"),
}


def address(text: str) -> str:
    """One e-mail address as typed, normalised (the domain in lower case); raises ValueError
    saying why it is not one. A comma, a second address or a line break is refused: each
    would send a personal link to someone else, or break the message's headers."""
    try:
        # No DNS look-up (the server may have no resolver for the office's mail); the tests'
        # addresses use the reserved .test domain, which email-validator accepts only so.
        found = validate_email(
            text.strip(), check_deliverability=False, test_environment=current_app.testing
        )
        return found.normalized
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def queue(
    kind: str,
    to: str,
    subject: str,
    body: str,
    round_id: int | None = None,
    invitation_id: int | None = None,
    office_id: int | None = None,
) -> MailMessage:
    """A message added to the session, to be sent once ``dispatch`` has committed it; in the
    office being worked for, or in ``office_id`` where there is none (a password link)."""
    message = MailMessage(
        kind=kind,
        recipient=to,
        subject=subject[:300],
        body=body,
        round_id=round_id,
        invitation_id=invitation_id,
        office_id=office_id,
        status="queued",
        attempts=0,
        queued_at=utcnow(),
    )
    db.session.add(message)
    return message


def dispatch(messages: Iterable[MailMessage]) -> None:
    """Commit the session (the worker reads the messages from the database) and enqueue one
    job per batch. In immediate mode (tests) the jobs run here and now."""
    db.session.commit()
    by_office: dict[int | None, list[int]] = {}
    for message in messages:
        by_office.setdefault(message.office_id, []).append(message.id)
    for office_id, ids in by_office.items():
        # Each job works for its messages' office (a password link's: the account's, from a
        # request that works for none).
        with tenancy.office(office_id):
            for start in range(0, len(ids), BATCH):
                deliver(ids[start : start + BATCH])


def send(kind: str, to: str, subject: str, body: str, **where) -> MailMessage:
    """One message: queued, committed and enqueued."""
    message = queue(kind, to, subject, body, **where)
    dispatch([message])
    return message


@jobs.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def deliver(ids: list[int]) -> int:
    """Send the messages of ``ids`` that are still to send, through one connection; raises
    (so that Huey retries the job) when some failed. Returns how many were sent."""
    messages = list(
        db.session.scalars(
            select(MailMessage)
            .where(MailMessage.id.in_(ids), MailMessage.status.in_(SENDABLE))
            .order_by(MailMessage.id)
        )
    )
    db.session.commit()  # ends the read: each claim below is a write of its own
    if not messages:
        return 0
    sent, failed = send_batch(messages)
    if failed:
        raise DeliveryFailed(f"{failed} of {sent + failed} messages not sent")
    return sent


class DeliveryFailed(Exception):
    """Some messages of a batch were not sent: their records say why; the job is retried."""


def _claim(message: MailMessage) -> bool:
    """Take ``message`` for sending (queued or failed -> sending), committed, just before it
    goes out: a worker stopped in the middle of a batch leaves only the message in flight
    "sending", the rest still to send; another worker that took it first keeps it."""
    # A write transaction from the start (SQLite: BEGIN IMMEDIATE), so two workers claiming the
    # same message wait for each other instead of failing to upgrade a read.
    claimed = (
        begin_write(db.session)
        .execute(
            update(MailMessage)
            .where(MailMessage.id == message.id, MailMessage.status.in_(SENDABLE))
            .values(status="sending", attempts=MailMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    db.session.commit()
    if claimed:
        db.session.refresh(message)
    return bool(claimed)


def send_batch(messages: list[MailMessage]) -> tuple[int, int]:
    """Send the messages through one connection, claiming each just before it goes out and
    committing its outcome as it comes; returns how many were sent and how many failed."""
    sent = failed = 0
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception as error:  # any fault is the reason of every message
        for message in messages:
            if _claim(message):
                begin_write(db.session)
                _failed(message, error)
                db.session.commit()
                failed += 1
        return sent, failed
    try:
        for message in messages:
            if not _claim(message):
                continue
            email = _email(message)
            db.session.commit()  # no transaction held while the SMTP server answers
            try:
                connection.send_messages([email])
            except Exception as error:  # recorded, and the job retried
                begin_write(db.session)
                _failed(message, error)
                failed += 1
            else:
                begin_write(db.session)
                _sent(message)
                sent += 1
            db.session.commit()
    finally:
        try:
            connection.close()
        except Exception:  # the messages went out: a failed QUIT changes nothing
            current_app.logger.warning("mail: closing the SMTP connection failed", exc_info=True)
    return sent, failed


def _email(message: MailMessage) -> EmailMessage:
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[message.recipient],
    )


def _sent(message: MailMessage) -> None:
    message.status, message.sent_at, message.last_error = "sent", utcnow(), None
    message.body = ""
    if message.kind == "reminder" and message.invitation_id is None:
        # An anonymous round's reminder: once sent, nothing says whom it reached.
        message.recipient = ""


def _failed(message: MailMessage, error: Exception) -> None:
    message.status = "failed"
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    current_app.logger.warning("mail %s not sent: %s", message.id, message.last_error)


def outbox_dir() -> Path:
    return Path(current_app.instance_path) / "outbox"


class OutboxEmailBackend(BaseEmailBackend):
    """Flask-Mailman's backend for development: each message its own .eml file in
    instance/outbox/, in 8-bit UTF-8 so that a developer reads the Chinese as it is."""

    def send_messages(self, email_messages) -> int:
        folder = outbox_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for email in email_messages:
            name = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
            # Owner only: a message holds a personal or a password link.
            fd = os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(email.message().as_bytes())
        return len(email_messages)


def init_app(app: Flask) -> None:
    """Flask-Mailman on the app's settings: SMTP when MAIL_SERVER is set, else the outbox."""
    config = app.config
    config.setdefault("MAIL_DEFAULT_SENDER", config.get("MAIL_SENDER") or "survey@localhost")
    # Without a timeout a silent SMTP server would hold a worker thread for ever.
    config.setdefault("MAIL_TIMEOUT", 30)
    if not config.get("MAIL_BACKEND"):
        config["MAIL_BACKEND"] = "smtp" if config.get("MAIL_SERVER") else OUTBOX_BACKEND
    mail.init_app(app)


@dataclass(frozen=True)
class RoundMail:
    """The round page's view of its messages: how many in each status, the latest failures."""

    counts: dict[str, int]
    failed: list[MailMessage]
    retryable: int  # what "send again" would take (failed, or queued and lost)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def of_round(round_id: int, limit: int = 50) -> RoundMail:
    rows = db.session.execute(
        select(MailMessage.status, func.count())
        .where(MailMessage.round_id == round_id)
        .group_by(MailMessage.status)
    )
    counts = {status: 0 for status in MAIL_STATUSES} | {status: count for status, count in rows}
    failed = db.session.scalars(
        select(MailMessage)
        .where(MailMessage.round_id == round_id, MailMessage.status == "failed")
        .order_by(MailMessage.id.desc())
        .limit(limit)
    )
    retryable = db.session.scalar(select(func.count()).where(*_retryable(round_id)))
    return RoundMail(counts, list(failed), retryable)


def _retryable(round_id: int) -> list:
    """The round's messages a press of "send again" takes: the failed ones (once Huey's own
    retries are spent), and those queued more than ``LOST_AFTER`` ago, whose job the queue lost
    (a Redis restarted without persistence, a queue file removed); never the ones an anonymous
    round erased when it closed."""
    lost = utcnow() - LOST_AFTER
    return [
        MailMessage.round_id == round_id,
        MailMessage.recipient != "",
        (MailMessage.status == "failed")
        | ((MailMessage.status == "queued") & (MailMessage.queued_at < lost)),
    ]


def retry_failed(round_id: int) -> int:
    """Enqueue the round's retryable messages again (``_retryable``); returns how many. A job
    still to come finds them claimed and sends nothing twice. Commits."""
    failed = list(db.session.scalars(select(MailMessage).where(*_retryable(round_id))))
    dispatch(failed)
    return len(failed)
