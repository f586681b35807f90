"""Which office a request, a job or a command works for, enforced in one place.

Every ORM statement (select, update, delete; ``Session.get`` and relationship loads included)
that touches a table of ``OfficeOwned`` rows gets the criterion "of the current office"
(``with_loader_criteria``), and every flush refuses a row written into another office and
stamps new rows with the current one. Views therefore never filter by office themselves: a
round, an action or a token of another office is simply not found (404).

The current office lives on ``flask.g`` (one per request, job or command):

- a staff request: the office chosen in the session among the user's memberships
  (``survey.offices.request_office``);
- a respondent's or a public link: the office of the invitation or service point, found first
  in an ``unscoped()`` block;
- a job: the office of whoever enqueued it (``survey.jobs``); a periodic job: each office in
  turn;
- anything else (a CLI command, a test's own context): the only office when there is exactly
  one; with several, a command names one (``--office``), and without one it refuses to run.

``NO_OFFICE`` (an anonymous request, a user with no membership) matches no row at all.
Core statements on the tables below the roots (responses, answers, tallies) are not rewritten:
they start from a round id, and the round was found through the ORM, scoped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from flask import g, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import MANYTOONE, ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.base import NO_VALUE

from survey.extensions import db
from survey.models.offices import Office, OfficeOwned

NO_OFFICE: Final = -1  # an office id no row has: the criterion then matches nothing
ALL_OFFICES: Final = "all"  # inside unscoped(): no criterion (the provincial view, lookups)
_ATTR = "_survey_office"


class OfficeNotChosen(RuntimeError):
    """A write or a query with no office to work for, where several exist."""


class CrossOfficeWrite(RuntimeError):
    """A row stamped with another office than the current one, or moved between offices."""


def _restore(before: int | str | None) -> None:
    """Put back the scope saved before a block (none: the request's own is found again)."""
    if before is None:
        g.pop(_ATTR, None)
    else:
        setattr(g, _ATTR, before)


def _only_office() -> int:
    ids = g.get("_survey_office_ids")
    if ids is None:
        # Offices are nobody's rows; the scope is set only so that this query, run while the
        # scope is being found, does not look for it again (no flush, unlike unscoped()).
        before = g.get(_ATTR)
        setattr(g, _ATTR, ALL_OFFICES)
        try:
            found = db.session.execute(select(Office.id).limit(2))
            ids = g._survey_office_ids = found.scalars().all()
        finally:
            _restore(before)
    # With several offices and none chosen, none: reads find nothing, a write fails.
    return ids[0] if len(ids) == 1 else NO_OFFICE


def several_offices() -> bool:
    """Whether the installation serves more than one office (a command must name one)."""
    return len(db.session.execute(select(Office.id).limit(2)).all()) > 1


def _scope() -> int | str:
    if not has_app_context():
        return ALL_OFFICES  # no Flask: a migration or a script's own session
    scope = g.get(_ATTR)
    if scope is None:
        scope = g.setdefault(_ATTR, _only_office())
    return scope


def current_office_id() -> int | None:
    """The office being worked for, or None (no office, or inside ``unscoped()``)."""
    scope = _scope()
    return scope if isinstance(scope, int) and scope != NO_OFFICE else None


def enter(office_id: int | None) -> None:
    """Work for ``office_id`` (None: for no office) until the context ends."""
    setattr(g, _ATTR, NO_OFFICE if office_id is None else office_id)


@contextmanager
def office(office_id: int | None) -> Iterator[None]:
    """Inside the block, work for ``office_id``; the office before it comes back after."""
    before = g.get(_ATTR)
    enter(office_id)
    try:
        yield
    finally:
        _restore(before)


@contextmanager
def unscoped() -> Iterator[None]:
    """Inside the block, queries see every office (revoking a person's tokens in all of
    them, say). A new row still needs an office; what the block changed is flushed at its
    end, and the other offices' rows then leave the session."""
    before = g.get(_ATTR)
    setattr(g, _ATTR, ALL_OFFICES)
    try:
        yield
    except BaseException:
        _restore(before)
        raise
    else:
        db.session.flush()  # what the block changed, while every office may be written
        _restore(before)
        # The rows of other offices it loaded leave the session: Session.get would
        # otherwise return them from the identity map without asking the database.
        forget_other_offices(current_office_id())


def forget_other_offices(office_id: int | None) -> None:
    """Take out of the session every row of an office other than ``office_id`` (None: every
    office's row); what they had pending is lost: flush first."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, OfficeOwned) and (office_id is None or obj.office_id != office_id):
            db.session.expunge(obj)


def _criteria(state: ORMExecuteState) -> None:
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    scope = _scope()
    if scope == ALL_OFFICES:
        return
    state.statement = state.statement.options(
        with_loader_criteria(OfficeOwned, lambda cls: cls.office_id == scope, include_aliases=True)
    )


def _stamp_new(target, _args, kwargs) -> None:
    """A new row of an office belongs to the office being worked for when it is made: a flush
    that happens later (inside ``unscoped()``, say) does not change that."""
    if isinstance(target, OfficeOwned) and kwargs.get("office_id") is None:
        office_id = current_office_id()
        if office_id is not None:
            kwargs["office_id"] = office_id  # the constructor applies it (None included)


def _stamp(session: Session, _context, _instances) -> None:
    scope = None
    for obj in session.new:
        if not isinstance(obj, OfficeOwned):
            continue
        if scope is None:
            scope = _scope()
        if obj.office_id is None:
            if isinstance(scope, int) and scope != NO_OFFICE:
                obj.office_id = scope
            elif not getattr(obj, "office_optional", False):
                raise OfficeNotChosen(f"a new {type(obj).__name__} needs an office")
        elif isinstance(scope, int) and scope != NO_OFFICE and obj.office_id != scope:
            # (With no office, e.g. a login, a row may name its office: the account's.)
            raise CrossOfficeWrite(
                f"a new {type(obj).__name__} of office {obj.office_id} in office {scope}"
            )
    working_for = scope if scope is not None else _scope()
    for obj in session.dirty:
        if not isinstance(obj, OfficeOwned):
            continue
        if inspect(obj).attrs.office_id.history.deleted:
            raise CrossOfficeWrite(f"a {type(obj).__name__} cannot move to another office")
        if isinstance(working_for, int) and obj.office_id != working_for:
            # Changed while working for another office (loaded inside unscoped(), say).
            raise CrossOfficeWrite(
                f"a {type(obj).__name__} of office {obj.office_id} changed in office {working_for}"
            )
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, OfficeOwned) and obj.office_id is not None:
            _refers_within(session, obj)


def _refers_within(session: Session, obj: OfficeOwned) -> None:
    """A row of an office refers to rows of the same office only (a round to its version, an
    invitation to its unit): checked on what it refers to now, loaded or by id."""
    state = inspect(obj)
    new = obj in session.new
    for relation in state.mapper.relationships:
        target = relation.mapper.class_
        if relation.direction is not MANYTOONE or not issubclass(target, OfficeOwned):
            continue
        (column,) = relation.local_columns
        key = state.mapper.get_property_by_column(column).key
        by_object = state.attrs[relation.key].history.has_changes()
        by_id = state.attrs[key].history.has_changes()
        if not (new or by_object or by_id):
            continue
        related = state.attrs[relation.key].loaded_value
        if by_object and related is not None and related is not NO_VALUE:
            office_id = related.office_id
        else:
            # By id: read the row's office alone (a Core read: nothing of another office
            # enters the session), not a relationship loaded before the id changed.
            related_id = getattr(obj, key)
            if related_id is None:
                continue
            table = target.__table__
            office_id = session.execute(
                select(table.c.office_id).where(table.c.id == related_id)
            ).scalar()
        if office_id is not None and office_id != obj.office_id:
            raise CrossOfficeWrite(
                f"a {type(obj).__name__} of office {obj.office_id} refers to a"
                f" {target.__name__} of office {office_id}"
            )


def register() -> None:
    """Listen on every session (once per process)."""
    if not event.contains(Session, "do_orm_execute", _criteria):
        event.listen(Session, "do_orm_execute", _criteria)
        event.listen(Session, "before_flush", _stamp)
        event.listen(db.Model, "init", _stamp_new, propagate=True)
