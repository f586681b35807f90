"""Organisations and people: respondent groups, units (respondent and served) and users."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from survey import tenancy
from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import Membership, OfficeOwned
from survey.text_types import String

# The roles and how pages name them; the stored code never changes.
ROLE_LABELS = {
    "respondent": _l("Respondent account"),
    "designer": _l("Designer"),
    "quality_lead": _l("Quality lead"),
    "admin": _l("Administrator"),
}
ROLES = tuple(ROLE_LABELS)


class RespondentGroup(OfficeOwned, db.Model):
    """A group of respondent units that sees its own set of questions (e.g. the mayors)."""

    __tablename__ = "respondent_group"
    __table_args__ = (UniqueConstraint("office_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    units: Mapped[list[Unit]] = relationship(back_populates="group")

    def label(self, lang: str) -> str:
        return self.label_en if lang.startswith("en") else self.label_zh


class Unit(OfficeOwned, db.Model):
    """An organisation: a respondent unit (in a group) or a served unit of the office."""

    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint("kind IN ('respondent', 'served')", name="kind"),
        UniqueConstraint("office_id", "code"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("respondent_group.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[RespondentGroup | None] = relationship(back_populates="units")

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


class User(UserMixin, db.Model):
    """A person's account: one for all the offices the person works with, a role in each
    (``memberships``); ``role`` is the role in the office being worked for."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Stored in the session at login and compared on every request (survey.auth.views.load_user):
    # bumping it ends every session of the account at once (logout, a new password, disabling,
    # a new role), a copied cookie included.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Set by an administrator: the next login leads to the password form and nowhere else.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    unit: Mapped[Unit | None] = relationship()
    # Few per person, read on every staff request: loaded with the account.
    memberships: Mapped[list[Membership]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Membership.id"
    )

    def membership(self, office_id: int | None) -> Membership | None:
        return next((m for m in self.memberships if m.office_id == office_id), None)

    @property
    def role(self) -> str | None:
        """The role in the office being worked for; None where the user has none."""
        found = self.membership(tenancy.current_office_id())
        return found.role if found else None

    @role.setter
    def role(self, value: str) -> None:
        """Give the role in the office being worked for (a membership if there was none)."""
        office_id = tenancy.current_office_id()
        if office_id is None:
            raise tenancy.OfficeNotChosen("a role is given in an office")
        found = self.membership(office_id)
        if found is None:
            self.memberships.append(Membership(office_id=office_id, role=value))
        else:
            found.role = value

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def end_sessions(self) -> None:
        """Every session of this account stops working at its next request."""
        self.session_version = (self.session_version or 1) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def shown_name(self) -> str:
        """How the user is named on pages and records: the display name, else the e-mail."""
        return self.display_name or self.email

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @classmethod
    def by_email(cls, email: str):
        return select(cls).where(cls.email == email.strip().lower())
