"""The offices a user works for, and which one a request works for.

A staff request works for the office chosen in the session (``choose``), if the user is still
a member of it, else for the user's first office; ``survey.tenancy`` then scopes every query
to it. A user with no membership works for no office: every office's row is out of sight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, request, session
from flask_login import current_user
from sqlalchemy import select

from survey import tenancy
from survey.extensions import db
from survey.models import Membership, Office, User

SESSION_KEY = "office_id"
NAMES_SECONDS = 60.0
# Their requests find their office themselves: a personal link's invitation (respond), a
# service point's public link (public), or
# nothing to find (static files).
_OWN_OFFICE_BLUEPRINTS = frozenset({"respond", "public"})


class OfficeError(ValueError):
    """A change the rules refuse; the message says why."""


def offices_of(user: User) -> list[Office]:
    """The user's offices, in the platform's order."""
    ids = [m.office_id for m in user.memberships]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Office).where(Office.id.in_(ids)).order_by(Office.position, Office.id)
        )
    )


@dataclass(frozen=True, slots=True)
class OfficeSeen:
    """The current office as every page's header and footer show it."""

    id: int
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


def current() -> OfficeSeen | None:
    """The office being worked for, as pages name it. Kept by the app for NAMES_SECONDS: a
    respondent's page then reads nothing more than before offices existed; a renamed office
    shows its new name within a minute on every server."""
    office_id = tenancy.current_office_id()
    if office_id is None:
        return None
    seen = current_app.extensions.setdefault("survey.office_names", {})
    now = time.monotonic()
    kept = seen.get(office_id)
    if kept is not None and now - kept[0] < NAMES_SECONDS:
        return kept[1]
    office = db.session.get(Office, office_id)
    if office is None:
        return None
    shown = OfficeSeen(office.id, office.name_zh, office.name_en)
    seen[office_id] = (now, shown)
    return shown


def request_office() -> None:
    """Before each request: work for the session's office (see the module's docstring)."""
    tenancy.enter(None)
    if request.blueprint in _OWN_OFFICE_BLUEPRINTS or request.endpoint in (None, "static"):
        return
    if not current_user.is_authenticated:
        return
    tenancy.enter(_chosen(current_user, session.get(SESSION_KEY)))


def home(user: User) -> int | None:
    """The user's first office, where a login starts."""
    return user.memberships[0].office_id if user.memberships else None


def office_for(user: User) -> int | None:
    """The office an event about the account belongs to: the one being worked for if the
    account is a member of it, else (a password link, with no one logged in) its home office."""
    here = tenancy.current_office_id()
    return here if user.membership(here) is not None else home(user)


def _chosen(user: User, wanted: int | None) -> int | None:
    # Memberships come in the order they were given: the first is the user's home office.
    ids = [m.office_id for m in user.memberships]
    if wanted in ids:
        return wanted
    return ids[0] if ids else None


def choose(user: User, office_id: int | None) -> int | None:
    """Work for ``office_id`` from the next request on, if the user belongs to it (else for
    the first office); returns the office chosen."""
    chosen = _chosen(user, office_id)
    session[SESSION_KEY] = chosen
    tenancy.enter(chosen)
    return chosen


def name_of(office_id: int, lang: str) -> str:
    """The office's name in ``lang``: what its pages, e-mails and reports are signed with."""
    office = db.session.get(Office, office_id)
    return office.name(lang) if office else ""


def by_code(code: str) -> Office | None:
    return db.session.scalar(select(Office).where(Office.code == code.strip().lower()))


def create(code: str, name_zh: str, name_en: str) -> Office:
    code = code.strip().lower()
    if not code or by_code(code) is not None:
        raise OfficeError(f"an office with the code {code!r} exists already" if code else "a code")
    position = db.session.scalar(select(db.func.coalesce(db.func.max(Office.position), 0)))
    office = Office(code=code, name_zh=name_zh, name_en=name_en, position=position + 1)
    db.session.add(office)
    db.session.flush()
    return office


def members():
    """The users of the current office, by role there: ``select(User)``."""
    return (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.office_id == tenancy.current_office_id())
    )


def is_member(*roles: str):
    """SQL: the user has a membership in the current office (with one of ``roles``, if
    given): ``select(User).where(offices.is_member())``."""
    here = Membership.office_id == tenancy.current_office_id()
    return User.memberships.any(here & Membership.role.in_(roles) if roles else here)


def member(user_id: int) -> User | None:
    """The user, if a member of the current office: another office's account is not found."""
    return db.session.scalar(select(User).where(User.id == user_id, is_member()))


def only_here(user: User) -> bool:
    """Whether the account works for the current office alone: what happens to the account
    itself (disabled, a password reset) then concerns no other office."""
    return all(m.office_id == tenancy.current_office_id() for m in user.memberships)
