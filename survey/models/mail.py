"""A record per e-mail message: what was queued, for whom, and how sending went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.text_types import String, Text

MAIL_KINDS = (
    "invitation",
    "reminder",
    "password_reset",
    "account_invitation",
    "action_reminder",
    "case_escalation",
)
# queued -> sending (claimed by one worker) -> sent | failed; a failed message is claimed again
# by the job's retry. A message left "sending" (its worker died in the middle) is not sent
# again by itself: it may have gone out.
MAIL_STATUSES = ("queued", "sending", "sent", "failed")


class MailMessage(OfficeOwned, db.Model):
    """One e-mail to one address. The body is kept until the message is sent (a retry needs
    it), then emptied: it may hold a personal link or a password link."""

    __tablename__ = "mail_message"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status"),
    )
    # A password link belongs to the person, not to an office: it has none.
    office_optional = True
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), index=True)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("survey_round.id"), index=True)
    # None in an anonymous round's reminders (see survey.invitations.remind).
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"), index=True)
    # Emptied once an anonymous round's reminder is sent, like its invitation id.
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    queued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
