"""Feedback from the public: service points (a counter, a hall, a web service) with a public
link and QR poster, the ratings citizens leave there without an account, and the follow-up
case a poor rating opens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import User
from survey.text_types import String, Text

POINT_KINDS = ("counter", "hall", "web")
# The short survey's five points: 1 very dissatisfied .. 5 very satisfied.
SCORES = (1, 2, 3, 4, 5)
# At or below this a rating is poor: it opens a follow-up case.
POOR_AT_MOST = 2
# What went wrong, as the citizen may tick it (codes; labels in survey.public_ratings).
REASONS = ("waiting", "attitude", "information", "result", "other")
CASE_STATUSES = ("open", "contacted", "closed")
# How a case ended.
# set_aside: the lead found the rating not genuine (part of a burst), not an outcome to choose.
CASE_OUTCOMES = ("resolved", "explained", "referred", "not_reached", "no_contact", "set_aside")
# Why a rating is flagged for the lead (it still counts until the lead sets it aside), and
# the lead's verdict: set aside (counts nowhere) or kept (genuine).
FLAGS = ("burst", "set_aside", "kept")


def _link_key() -> str:
    import secrets

    # 12 bytes: 96 bits, unguessable; short enough for a QR code a phone reads from a metre.
    return secrets.token_urlsafe(12)


class ServicePoint(OfficeOwned, db.Model):
    """A place or service the public rates: its own public link (``link_key``) and poster."""

    __tablename__ = "service_point"
    __table_args__ = (
        UniqueConstraint("office_id", "code"),
        CheckConstraint("kind IN ('counter', 'hall', 'web')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="counter")
    # The public link's key: /s/<link_key>. A new key (a leaked poster) retires the old link.
    link_key: Mapped[str] = mapped_column(String(32), unique=True, default=_link_key)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


class PublicRating(OfficeOwned, db.Model):
    """One citizen's rating of a service point. ``device_day`` (a keyed hash of the device's
    cookie, the point and the office's date) is unique per point: one rating per device per
    point per day. ``nonce`` comes from the signed form: a form sent twice stores one rating.
    ``network`` is a keyed hash of the sender's network (a /24 or /56), never the address."""

    __tablename__ = "public_rating"
    __table_args__ = (
        UniqueConstraint("service_point_id", "device_day"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    device_day: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(64))
    flag: Mapped[str | None] = mapped_column(String(20))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    service_point: Mapped[ServicePoint] = relationship()


class FeedbackCase(OfficeOwned, db.Model):
    """The follow-up of a poor rating: contact the citizen, record the reply and the outcome,
    close, within ``due_date`` (the office's working days); escalated when overdue."""

    __tablename__ = "feedback_case"
    __table_args__ = (CheckConstraint("status IN ('open', 'contacted', 'closed')", name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("public_rating.id"), unique=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_date: Mapped[date]
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    contacted_at: Mapped[datetime | None] = mapped_column(DateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)

    rating: Mapped[PublicRating] = relationship()
    service_point: Mapped[ServicePoint] = relationship()
    handler: Mapped[User | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        order_by="CaseEvent.id", cascade="all, delete-orphan"
    )


class CaseEvent(db.Model):
    """A case's history, append-only: opened, contacted, answered, closed, escalated."""

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("feedback_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    by: Mapped[User | None] = relationship()


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _history_is_append_only(_mapper, _connection, target: CaseEvent) -> None:
    raise ValueError(f"case event {target.id} is part of the record and cannot be changed")
