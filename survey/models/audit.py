"""The audit log: who did what, when; append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.text_types import String


class AuditEvent(OfficeOwned, db.Model):
    """One security-relevant event (login, role change, publishing, round state, export, ...):
    who, when, what, from where. Written by survey.audit.record; nothing edits or deletes it."""

    __tablename__ = "audit_event"
    # Events outside any office (a login, a failed login) have none; an office's audit page
    # shows its own events only.
    office_optional = True
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"), index=True)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The account's e-mail (or "cli", "anonymous") as it was: kept even if the account changes.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, target: AuditEvent) -> None:
    raise ValueError(f"audit event {target.id} is part of the record and cannot be changed")
