"""Offices (the platform's tenants) and who belongs to which, with what role.

One installation serves several government offices. Every row an office owns carries its
``office_id`` (the ``OfficeOwned`` mixin); ``survey.tenancy`` adds "of the current office" to
every ORM query of such a row and refuses a write into another office, so that no view has to
remember it. A user is a person: one account, a ``Membership`` with a role in each office.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.base import utcnow
from survey.text_types import String


class Office(db.Model):
    """A government office using the platform (e.g. Shaoxing's municipal office)."""

    __tablename__ = "office"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Short and stable: shown in the office switcher's addresses and the CLI's --office.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Working days (Monday to Friday) the office gives itself to answer a poor public rating.
    case_deadline_days: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


class OfficeOwned:
    """Mixin of the tables whose rows belong to one office: the roots that pages, the API and
    jobs reach by id (rows below them, such as responses and answers, are reached through
    them)."""

    # active_history: a move to another office is seen even when the old value was not loaded
    # (survey.tenancy refuses it).
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True, active_history=True)


class Membership(db.Model):
    """A user's role in one office."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "office_id"),
        CheckConstraint("role IN ('respondent', 'designer', 'quality_lead', 'admin')", name="role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
