"""The action queue and the register's figures: filters, overdue actions, counts by state."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select

from survey import office_time
from survey.converters import parse_id
from survey.corrective.access import is_lead
from survey.corrective.states import ACTIVE, note_key, open_key
from survey.extensions import db
from survey.models import (
    ActionStep,
    CorrectiveAction,
    ItemNote,
    Round,
    User,
)


def local_today(now: datetime) -> date:
    """Today in the office's time zone (due dates are office days), from a naive UTC now."""
    return office_time.local_date(now)


def is_overdue(action: CorrectiveAction, today: date) -> bool:
    return action.status in ACTIVE and action.due_date is not None and action.due_date < today


@dataclass(frozen=True)
class QueueFilter:
    """``status``: one status, ``active`` (default: all but closed and cancelled) or ``all``."""

    status: str = "active"
    owner_id: int | None = None
    served_unit: str | None = None
    category: str | None = None
    round_id: int | None = None
    overdue: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, object], default_status: str = "active") -> QueueFilter:
        """The filters of a query string (the queue page and the API): ``status``, ``owner``,
        ``served_unit``, ``category``, ``round`` and ``overdue`` (any value but "" or "false");
        an id that is not a number is ignored."""
        overdue = args.get("overdue")
        return cls(
            status=str(args.get("status") or default_status),
            owner_id=parse_id(args.get("owner")),
            served_unit=str(args.get("served_unit") or "") or None,
            category=str(args.get("category") or "") or None,
            round_id=parse_id(args.get("round")),
            overdue=bool(overdue) and overdue != "false",
        )


def queue(filters: QueueFilter, viewer: User, today: date) -> Select:
    """Actions the viewer may see, filtered, most severe first (severity: the size of the gap
    times how certain it is, as ``analysis.alerts`` computes it, the same scale for every
    rule)."""
    query = select(CorrectiveAction)
    if not is_lead(viewer):
        mine = select(ActionStep.action_id).where(ActionStep.owner_id == viewer.id)
        query = query.where(
            or_(CorrectiveAction.owner_id == viewer.id, CorrectiveAction.id.in_(mine))
        )
    if filters.status == "active":
        query = query.where(CorrectiveAction.status.in_(ACTIVE))
    elif filters.status != "all":
        query = query.where(CorrectiveAction.status == filters.status)
    for column, value in (
        (CorrectiveAction.owner_id, filters.owner_id),
        (CorrectiveAction.served_unit, filters.served_unit),
        (CorrectiveAction.category, filters.category),
        (CorrectiveAction.round_id, filters.round_id),
    ):
        if value not in (None, ""):
            query = query.where(column == value)
    if filters.overdue:
        query = query.where(CorrectiveAction.status.in_(ACTIVE), CorrectiveAction.due_date < today)
    return query.order_by(CorrectiveAction.severity.desc(), CorrectiveAction.id)


def open_notes() -> Select:
    """The notes on items (a lowest rating with a comment) the lead has not made actions of,
    newest round first, then the most severe (gap x certainty, as actions): the queue lists
    them below the actions."""
    return (
        select(ItemNote)
        .join(ItemNote.round)
        .where(ItemNote.action_id.is_(None))
        .order_by(Round.created_at.desc(), ItemNote.severity.desc(), ItemNote.id)
    )


def open_actions_by_item(notes: Iterable[ItemNote]) -> dict[str, CorrectiveAction]:
    """The open action of each note's item, by ``open_key``: such a note cannot become a
    second action, so the queue links to the open one instead."""
    keys = {open_key(n.question_code, n.served_unit) for n in notes}
    if not keys:
        return {}
    found = db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.open_key.in_(keys)))
    return {a.open_key: a for a in found}


def note_of_item(round_id: int, question: str, served_unit: str | None) -> ItemNote | None:
    """The round's note on an item (a lowest rating with a comment), if the rules made one."""
    key = note_key(round_id, question, served_unit)
    return db.session.scalar(select(ItemNote).where(ItemNote.note_key == key))


def actions_of_item(question: str, served_unit: str | None) -> list[CorrectiveAction]:
    """The corrective actions on an item (question and served unit), active ones first, then
    the newest: what a result page links to."""
    served = CorrectiveAction.served_unit
    query = (
        select(CorrectiveAction)
        .where(
            CorrectiveAction.question_code == question,
            served.is_(None) if served_unit is None else served == served_unit,
        )
        .order_by(CorrectiveAction.status.in_(ACTIVE).desc(), CorrectiveAction.id.desc())
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class RegisterStats:
    open: int
    overdue: int
    closed: int
    cancelled: int
    median_days_to_close: float | None


def register_stats(actions: Iterable[CorrectiveAction], today: date) -> RegisterStats:
    """Counts by state and the median days from opening to closing (closed actions only)."""
    actions = list(actions)
    days = [
        (a.closed_at - a.created_at).total_seconds() / 86400
        for a in actions
        if a.status == "closed" and a.closed_at
    ]
    return RegisterStats(
        open=sum(a.status in ACTIVE for a in actions),
        overdue=sum(is_overdue(a, today) for a in actions),
        closed=sum(a.status == "closed" for a in actions),
        cancelled=sum(a.status == "cancelled" for a in actions),
        median_days_to_close=round(statistics.median(days), 1) if days else None,
    )
