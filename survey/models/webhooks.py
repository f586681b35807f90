"""Webhook endpoints (where a round's events are posted) and the log of every delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import User
from survey.text_types import String, Text

# pending (enqueued) -> sending (claimed by one worker) -> delivered | failed; a failed
# delivery is claimed again by its next attempt, or by the redelivery button.
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class WebhookEndpoint(OfficeOwned, db.Model):
    """A URL that receives the events it subscribes to, each signed with its secret (made by
    us, shown to administrators only)."""

    __tablename__ = "webhook_endpoint"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Kept readable: every delivery is signed with it (a hash could not sign).
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[User | None] = relationship()


class WebhookDelivery(OfficeOwned, db.Model):
    """One event for one endpoint: the exact body sent (a redelivery sends it again, signed
    anew), and how the last attempt went."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'delivered', 'failed')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    # The receiver's idempotency key (X-Survey-Delivery), the same on every attempt.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    endpoint: Mapped[WebhookEndpoint] = relationship()
