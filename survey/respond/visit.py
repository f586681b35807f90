"""An invitation as the respondent's pages see it: read in one Core query, kept as plain data.

Every request of a respondent reads the same few columns of the invitation, its round, the
round's version, its group and its unit. As ORM objects (five per request, identity map, change
tracking, the round's and version's JSON settings) loading them was the largest single cost of
a submission left in the profile (bench/profile_submission.py). A visit is built fresh for each
request and never written to: writes go through survey.responses, by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select

from survey.extensions import db
from survey.models import Invitation, QuestionnaireVersion, RespondentGroup, Round, Unit, accepts

_invitation, _round, _version, _group, _unit = (
    Invitation.__table__,
    Round.__table__,
    QuestionnaireVersion.__table__,
    RespondentGroup.__table__,
    Unit.__table__,
)
# Built once: the statement is the same for every request, only the id changes.
_BY_ID = (
    select(
        _invitation.c.id,
        _invitation.c.token,
        _invitation.c.round_id,
        _invitation.c.unit_id,
        _invitation.c.group_id,
        _invitation.c.person_name,
        _invitation.c.status,
        _invitation.c.draft,
        _invitation.c.submitted_at,
        _invitation.c.office_id,
        _round.c.name,
        _round.c.version_id,
        _round.c.status.label("round_status"),
        _round.c.opens_at,
        _round.c.closes_at,
        _round.c.anonymous,
        _version.c.frozen_at,
        _group.c.code.label("group_code"),
        _unit.c.name_zh,
        _unit.c.name_en,
    )
    .join(_round, _round.c.id == _invitation.c.round_id)
    .join(_version, _version.c.id == _round.c.version_id)
    .join(_group, _group.c.id == _invitation.c.group_id)
    .join(_unit, _unit.c.id == _invitation.c.unit_id)
    .where(_invitation.c.id == bindparam("invitation_id"))
)
_BY_TOKEN = select(_invitation.c.id, _invitation.c.status).where(
    _invitation.c.token == bindparam("token")
)


@dataclass(frozen=True, slots=True)
class RoundSeen:
    name: str
    version_id: int
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    anonymous: bool
    frozen: bool

    def accepts_answers(self, now: datetime) -> bool:
        return accepts(self, now)


@dataclass(frozen=True, slots=True)
class UnitSeen:
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


@dataclass(frozen=True, slots=True)
class Visit:
    """What the respondent's pages and templates read of an invitation (the same names as on
    ``Invitation``, so that the templates serve both)."""

    id: int
    # The personal link's secret: the survey form carries it, so that answers posted after the
    # session was lost still reach their invitation (and nobody else's).
    token: str
    round_id: int
    unit_id: int
    group_id: int
    group_code: str
    person_name: str | None
    status: str
    draft: dict[str, Any] | None
    submitted_at: datetime | None
    # The office the rest of the request works for, once the visitor has shown the link.
    office_id: int
    round: RoundSeen
    unit: UnitSeen


def visit(invitation_id: int) -> Visit | None:
    """The invitation with this id as its pages see it, or None if there is none."""
    row = db.session.connection().execute(_BY_ID, {"invitation_id": invitation_id}).first()
    if row is None:
        return None
    return Visit(
        id=row.id,
        token=row.token,
        round_id=row.round_id,
        unit_id=row.unit_id,
        group_id=row.group_id,
        group_code=row.group_code,
        person_name=row.person_name,
        status=row.status,
        draft=row.draft,
        submitted_at=row.submitted_at,
        office_id=row.office_id,
        round=RoundSeen(
            row.name,
            row.version_id,
            row.round_status,
            row.opens_at,
            row.closes_at,
            bool(row.anonymous),
            row.frozen_at is not None,
        ),
        unit=UnitSeen(row.name_zh, row.name_en),
    )


def by_token(token: str) -> Row | None:
    """The ``id`` and ``status`` of the invitation of a personal link, or None."""
    return db.session.connection().execute(_BY_TOKEN, {"token": token}).first()
