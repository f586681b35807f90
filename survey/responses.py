"""Storing what respondents send: drafts, and the one response each invitation may give."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, insert, null, or_, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from survey.database import autocommits, begin_write, wrote_nothing
from survey.extensions import db
from survey.models import Answer, Invitation, Question, Response, Round, accepts, utcnow

OPEN_STATUSES = ("sent", "started")
# Sent with the round's id (``anonymous``: whether the round is) once a response is stored,
# before its transaction commits, so that what listeners add commits with it (the webhooks).
# A listener marked with ``asks_first`` is told only when its check says the submit concerns it.
response_submitted = Namespace().signal("response-submitted")
_Listener = TypeVar("_Listener", bound=Callable[..., Any])
#: What each source of a response (models.RESPONSE_SOURCES) is called, in the reader's language.
SOURCE_NAMES = {"web": _l("web"), "paper": _l("paper"), "meeting": _l("meeting")}
# Core statements on the tables: nothing here needs ORM objects, and building and tracking them
# was most of a submit's cost (bench/profile_submission.py).
_invitation, _round, _response = Invitation.__table__, Round.__table__, Response.__table__
_ROUND = select(
    _round.c.id,
    _round.c.version_id,
    _round.c.status,
    _round.c.opens_at,
    _round.c.closes_at,
    _round.c.anonymous,
)
# The statements of every respondent's request, built once: only the parameters change, and
# building a statement and its cache key anew cost a quarter of a millisecond per response.
_ROUND_BY_ID = _ROUND.where(_round.c.id == bindparam("round_id"))
# A shared lock on the round: a close committed meanwhile waits for the submit to end
# (PostgreSQL; SQLite's write lock already serialises the two).
_ROUND_SHARED = _ROUND_BY_ID.with_for_update(read=True)
# The statuses as one OR of plain comparisons, not IN: an IN list is an "expanding" parameter,
# rendered into the statement's text again on every execution (0.2 ms of a submit's CPU).
_OPEN_INVITATION = (
    _invitation.c.id == bindparam("invitation_id"),
    or_(*(_invitation.c.status == status for status in OPEN_STATUSES)),
)
# The first opening's time, kept only in a named round: in an anonymous round a named invitee's
# first opening, often the time of the answers too, would pair the invitation with a response.
_NOW = bindparam("now", type_=_invitation.c.opened_at.type)
_OPENED_AT = case(
    (
        select(_round.c.anonymous).where(_round.c.id == _invitation.c.round_id).scalar_subquery(),
        null(),
    ),
    else_=func.coalesce(_invitation.c.opened_at, _NOW),
)
_MARK_OPENED = (
    update(_invitation)
    .where(_invitation.c.id == bindparam("invitation_id"), _invitation.c.status == "sent")
    .values(status="started", opened_at=_OPENED_AT)
)
# Saving also records the first opening when the page's own mark could not be written.
_SAVE_DRAFT = (
    update(_invitation).where(*_OPEN_INVITATION).values(status="started", opened_at=_OPENED_AT)
)
_DRAFT_FOR_UPDATE = (
    select(_invitation.c.draft)
    .where(_invitation.c.id == bindparam("invitation_id"))
    .with_for_update()
)
# In an anonymous round the invitation keeps no time, of its opening (above) or of its
# answers: with them, the order of submissions would pair invitations with responses
# (submitted_at is a parameter, None there).
_SUBMITTED = update(_invitation).where(*_OPEN_INVITATION).values(status="submitted", draft=None)
_INSERT_RESPONSE = insert(_response)
_INSERT_ANSWERS = insert(Answer.__table__)
# PostgreSQL: the three writes of a submit above (the conditional UPDATE, the response and its
# answers) as one statement, one round trip instead of three: data-modifying WITH clauses, the
# response inserted only from the row the UPDATE returns (none when the invitation is no
# longer open: nothing stored, no id back), the answers from arrays, one per column. SQLite
# has no INSERT in a WITH clause, and nothing to gain (no network): it runs the three.
_RESPONSE_COLUMNS = (
    "round_id",
    "invitation_id",
    "unit_id",
    "group_id",
    "submission_key",
    "source",
    "entered_by_id",
    "language",
    "submitted_at",
)
_ANSWER_COLUMNS = ("question_id", "question_code", "value", "text", "comment")
_answer = Answer.__table__
_answer_rows_in = (
    func.unnest(
        *(bindparam(f"answer_{c}", type_=ARRAY(_answer.c[c].type)) for c in _ANSWER_COLUMNS)
    )
    .table_valued(*_ANSWER_COLUMNS)
    .render_derived(name="answers")
)


def _store_statement(switched: Any) -> Any:
    """The response inserted from the row that the UPDATE ``switched`` (the invitation switched
    to submitted, a data-modifying WITH clause) returns, and its answers: one statement."""
    submitted = switched.returning(_invitation.c.id).cte("submitted")
    stored = (
        insert(_response)
        .from_select(
            list(_RESPONSE_COLUMNS),
            select(
                *(bindparam(f"response_{c}", type_=_response.c[c].type) for c in _RESPONSE_COLUMNS)
            ).select_from(submitted),
        )
        .returning(_response.c.id)
        .cte("stored")
    )
    answered = (
        insert(_answer)
        .from_select(
            ["response_id", *_ANSWER_COLUMNS],
            select(stored.c.id, *(_answer_rows_in.c[c] for c in _ANSWER_COLUMNS))
            .select_from(stored)
            .join(_answer_rows_in, true()),
        )
        .cte("answered")
    )
    return select(stored.c.id).add_cte(answered)


_SUBMITTED_AT = bindparam("submitted_at", type_=_invitation.c.submitted_at.type)
_STORE_AT_ONCE = _store_statement(_SUBMITTED.values(submitted_at=_SUBMITTED_AT))
# PostgreSQL, a POST read in autocommit (survey.database.reads_only): the whole submit as one
# statement that commits alone, without BEGIN and COMMIT (three of the submit's five round
# trips). It stores only while the round is as the respondent's request read it: open at
# ``now``, with the same version and anonymity (what the response's columns were computed
# from), under a shared lock on the round's row, so that a close or a change committed
# meanwhile waits for it or, committed first, makes it store nothing. The parameters are not
# named after the invitation's columns (round_id): in an UPDATE, SQLAlchemy takes those as
# values to SET.
_ROUND_AS_READ = (
    select(_round.c.id)
    .where(
        _round.c.id == _invitation.c.round_id,
        # survey.models.accepts, in SQL
        _round.c.status == "open",
        or_(_round.c.opens_at.is_(None), _round.c.opens_at <= _NOW),
        or_(_round.c.closes_at.is_(None), _round.c.closes_at > _NOW),
        _round.c.version_id == bindparam("read_version_id"),
        _round.c.anonymous == bindparam("read_anonymous"),
    )
    .with_for_update(read=True)
    .exists()
)
# One statement per set of listeners' SQL checks (asks_first), built once: the listeners are
# module-level and few.
_ALONE_WITH_CHECKS: dict[tuple[int, ...], Any] = {}


class _Versioned(Protocol):
    @property
    def version_id(self) -> int: ...
    @property
    def anonymous(self) -> bool: ...


class Invited(Protocol):
    """What storing needs of an invitation: an ``Invitation``, or the plain
    ``survey.respond.visit.Visit`` of the respondent's pages."""

    @property
    def id(self) -> int: ...
    @property
    def round_id(self) -> int: ...
    @property
    def unit_id(self) -> int: ...
    @property
    def group_id(self) -> int: ...
    @property
    def round(self) -> _Versioned: ...


class AlreadySubmitted(Exception):
    """The invitation has given its response; nothing more is stored."""


class NotAccepting(Exception):
    """The round is not open (not yet, or no longer); nothing is stored."""


class Conflict(Exception):
    """The response could not be stored for another reason (a reused idempotency key); the
    invitation is still open, so the respondent can send the answers again."""


def mark_opened(invitation_id: int) -> None:
    """Record the first visit of a link ("started" in response tracking) from a GET, once the
    page is read: a short write transaction of its own on SQLite (see begin_write), which
    gives up soon when the lock is taken (the caller serves the page all the same). In an
    anonymous round only the status changes: the time of a named invitee's first opening,
    often that of the answers, is not kept. On PostgreSQL a page read in autocommit
    (survey.database.reads_only) writes it the same way: the one conditional UPDATE is a
    transaction of its own, without a BEGIN and a COMMIT (two of the page's five round trips)."""
    parameters = {"invitation_id": invitation_id, "now": utcnow()}
    if autocommits(db.session):
        db.session.connection().execute(_MARK_OPENED, parameters)
        return
    begin_write(db.session, skippable=True).execute(_MARK_OPENED, parameters)
    db.session.commit()


@dataclass(frozen=True)
class DraftMerge:
    """What saving did to answers saved from elsewhere (another device, another tab) since the
    page was loaded: field names ``kept`` from there, and ``replaced`` by this save."""

    kept: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.kept or self.replaced)


def draft_ref(invitation_id: int, token: str) -> str:
    """What the survey form carries so that answers posted after the session was lost are saved
    to their invitation: keyed by the personal link's secret, not by the site's key (another
    server may have another), and not the secret itself (the page never shows the link's
    token). It can save a draft, never submit or open the survey."""
    mac = hmac.new(token.encode(), f"draft:{invitation_id}".encode(), hashlib.sha256)
    return f"{invitation_id}.{mac.hexdigest()[:32]}"


def draft_ref_matches(ref: str, invitation_id: int, token: str) -> bool:
    return hmac.compare_digest(ref.encode(), draft_ref(invitation_id, token).encode())


def draft_fingerprint(draft: Mapping[str, Any] | None) -> str:
    """Names the saved draft a page was built from, so that a save can tell whether another
    device saved in between."""
    text = json.dumps(dict(draft or {}), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def merge_drafts(
    saved: Mapping[str, Any] | None, posted: Mapping[str, Any], base: str | None
) -> tuple[dict[str, Any], DraftMerge]:
    """The draft to keep. When the page was built from the draft still saved (``base``), the
    posted one replaces it (an answer cleared on the page stays cleared). When another device
    saved in between, both are kept: every answer of the other device, and this device's
    answers on top, its answer winning where both answered the same question."""
    saved = dict(saved or {})
    if base is None or draft_fingerprint(saved) == base:
        return dict(posted), DraftMerge()
    kept = tuple(sorted(name for name in saved if name not in posted))
    replaced = tuple(
        sorted(name for name in saved if name in posted and saved[name] != posted[name])
    )
    return {**saved, **posted}, DraftMerge(kept, replaced)


def save_draft(
    invitation: Invited, draft: Mapping[str, Any], now: datetime, base: str | None = None
) -> DraftMerge:
    """Keep what was typed on the invitation, merged with what another device saved since the
    page was built from the draft ``base`` (see ``merge_drafts``; None: replace it). Refused
    once the invitation is submitted or the round closed."""
    connection = begin_write(db.session)
    _check_open(connection.execute(_ROUND_BY_ID, {"round_id": invitation.round_id}).one(), now)
    saved = connection.execute(_DRAFT_FOR_UPDATE, {"invitation_id": invitation.id}).first()
    merged, merge = merge_drafts(saved.draft if saved else None, draft, base)
    result = connection.execute(
        _SAVE_DRAFT, {"invitation_id": invitation.id, "draft": merged, "now": now}
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadySubmitted
    db.session.commit()
    return merge


def asks_first(
    wanted: Callable[[int], bool] | ColumnElement[bool],
) -> Callable[[_Listener], _Listener]:
    """Mark a listener of ``response_submitted`` with ``wanted(round_id)``, a read that says
    whether a submit in that round concerns it (webhooks: is an endpoint subscribed?). It is
    asked in the submit's write transaction before anything is written; a submit that
    concerns no listener sends nothing, so opens no savepoint and runs none of their
    statements (three of a submit's nine, and a tenth of its CPU on PostgreSQL). A listener
    without the mark is always told.

    ``wanted`` may also be a boolean SQL expression (e.g. an EXISTS) that needs no round id:
    it is then asked in the statement that reads and locks the round (``_round_and_wanted``),
    at the same moment, instead of in a statement of its own (a round trip of every submit on
    PostgreSQL)."""

    def mark(listener: _Listener) -> _Listener:
        listener.wanted = wanted  # type: ignore[attr-defined]
        return listener

    return mark


def _listeners(round_id: int) -> list[Callable[..., Any]]:
    """The listeners of ``response_submitted`` a submit in the round concerns."""
    found = _receivers(round_id)
    if all(not callable(getattr(listener, "wanted", None)) for listener in found):
        return found  # the SQL checks are asked with the round (_round_and_wanted)
    session = db.session()
    on_sqlite = session.get_bind().dialect.name == "sqlite"
    # A failed statement ends a PostgreSQL transaction: the checks run only in one that has
    # written nothing yet (the respondent's), which a rollback then costs nothing. SQLite
    # just fails the statement.
    if not on_sqlite and session.in_transaction() and not wrote_nothing(session):
        return found
    try:
        return [
            listener
            for listener in found
            if not callable(getattr(listener, "wanted", None)) or listener.wanted(round_id)
        ]
    except Exception:
        current_app.logger.exception("a listener's check failed; every listener is told")
        if not on_sqlite:
            session.rollback()
        return found


# The round read under its shared lock with the SQL checks of listeners (asks_first), one
# statement per set of checks, built once: the listeners are module-level and few.
_ROUND_WITH_CHECKS: dict[tuple[int, ...], Any] = {}


def _checked_in_sql(listener: Callable[..., Any]) -> ColumnElement[bool] | None:
    wanted = getattr(listener, "wanted", None)
    return wanted if isinstance(wanted, ColumnElement) else None


def _round_and_wanted(
    connection, round_id: int, listeners: list[Callable[..., Any]]
) -> tuple[Any, Any, list[Callable[..., Any]]]:
    """(connection, the round read under its shared lock, the listeners the submit concerns):
    the listeners whose check is SQL are asked in the round's own statement. If that
    statement fails (a check's table missing), the round is read alone and every listener is
    told, as when a check in Python fails (_listeners); the connection may then be a new one
    (a failed statement ends a PostgreSQL transaction, which had written nothing yet)."""
    checks = [c for c in map(_checked_in_sql, listeners) if c is not None]
    parameters = {"round_id": round_id}
    if not checks:
        return connection, connection.execute(_ROUND_SHARED, parameters).one(), listeners
    key = tuple(map(id, checks))
    statement = _ROUND_WITH_CHECKS.get(key)
    if statement is None:
        statement = _ROUND_WITH_CHECKS[key] = (
            _ROUND.add_columns(*(check.label(f"wanted_{n}") for n, check in enumerate(checks)))
            .where(_round.c.id == bindparam("round_id"))
            .with_for_update(read=True, of=_round)
        )
    try:
        row = connection.execute(statement, parameters).one()
    except SQLAlchemyError:
        current_app.logger.exception("a listener's check failed; every listener is told")
        if connection.dialect.name != "sqlite":
            db.session.rollback()
            connection = begin_write(db.session)
        return connection, connection.execute(_ROUND_SHARED, parameters).one(), listeners
    answers = dict(zip(key, row[len(_ROUND.selected_columns) :], strict=True))
    told = [
        listener
        for listener in listeners
        if (check := _checked_in_sql(listener)) is None or answers[id(check)]
    ]
    return connection, row, told


def _tell_listeners(listeners: list[Callable[..., Any]], round_id: int, anonymous: bool) -> None:
    """Tell ``listeners`` (of ``response_submitted``, see ``_listeners``). What a listener
    writes (a webhook's delivery record) commits with the response, but its failure must never
    lose a respondent's answers: they run in a savepoint of their own, rolled back and logged
    if anything in it fails."""
    if not listeners:
        return
    try:
        with db.session.begin_nested():
            for listener in listeners:
                listener(round_id, anonymous=anonymous)
    except Exception:
        current_app.logger.exception("a listener of response_submitted failed; kept the response")


def submit(
    invitation: Invited,
    answers: Mapping[str, Any],
    comments: Mapping[str, str],
    submission_key: str,
    now: datetime,
    source: str = "web",
    language: str = "zh",
    entered_by: int | None = None,
    question_ids: Mapping[str, int] | None = None,
) -> int:
    """Store one Response with its Answers in one transaction and return its id, or raise
    AlreadySubmitted.

    The write transaction begins here (survey.database.begin_write), which first commits
    whatever the caller has pending: the caller's own work is not undone by a refusal.

    The invitation is switched to submitted by a conditional UPDATE in the same transaction:
    of two simultaneous submits only one finds it still open (the database serialises them),
    and the unique constraints on Response.invitation_id and Response.submission_key stop any
    second insert that slips past. In an anonymous round the response keeps the respondent
    group only (no invitation, no unit) and its time only to the day. `source` is paper or
    meeting, with the staff member in `entered_by`, when the office keys in a response.
    `question_ids` maps the codes of the invitation's questionnaire version to their ids when
    the caller already has them (the respondent's pages keep them with the built version);
    otherwise they are read here.
    """
    invitation_id = invitation.id
    # Prepared before the lock is taken: the less time it is held, the less submits queue.
    version_id = invitation.round.version_id
    rows = _answer_rows(question_ids or question_ids_of(version_id), answers, comments)
    anonymous = bool(invitation.round.anonymous)
    row_values = (submission_key, now, source, language, entered_by)
    submitted, response = _row_values(invitation, anonymous, *row_values)
    if autocommits(db.session):
        response_id = _submit_alone(invitation, submitted, response, rows, now)
        if response_id is not None:
            return response_id
    # The write lock is taken here, not for the whole request: the form was read and checked
    # before, and a rival submit meanwhile is caught by the conditional UPDATE below.
    connection = begin_write(db.session)
    # Asked once the lock is held (and before anything is written): an endpoint subscribed
    # while the respondent's request was reading is told of this response too.
    listeners = _listeners(invitation.round_id)
    if not db.session().in_transaction():  # a failed check ended it (PostgreSQL): begin again
        connection = begin_write(db.session)
    connection, round_, listeners = _round_and_wanted(connection, invitation.round_id, listeners)
    _check_open(round_, now)
    if round_.version_id != version_id:  # never for an open round; cheap to be sure
        rows = _answer_rows(question_ids_of(round_.version_id), answers, comments)
    if bool(round_.anonymous) != anonymous:  # made anonymous since the request read it
        anonymous = bool(round_.anonymous)
        submitted, response = _row_values(invitation, anonymous, *row_values)
    try:
        if connection.dialect.name == "postgresql":
            response_id = _store_at_once(connection, submitted, response, rows)
        else:
            response_id = _store(connection, submitted, response, rows)
        _tell_listeners(listeners, round_.id, anonymous)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if db.session.get(Invitation, invitation_id).status in OPEN_STATUSES:
            raise Conflict from None
        raise AlreadySubmitted from None
    return response_id


def _row_values(
    invitation: Invited,
    anonymous: bool,
    submission_key: str,
    now: datetime,
    source: str,
    language: str,
    entered_by: int | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the invitation's switch to submitted, the response's columns). In an anonymous round
    the invitation keeps no time, and the response the respondent group only (no invitation,
    no unit) and its time only to the day."""
    submitted = {"invitation_id": invitation.id, "submitted_at": None if anonymous else now}
    response = {
        "round_id": invitation.round_id,
        "invitation_id": None if anonymous else invitation.id,
        "unit_id": None if anonymous else invitation.unit_id,
        "group_id": invitation.group_id,
        "submission_key": submission_key,
        "source": source,
        "entered_by_id": entered_by,
        "language": language,
        "submitted_at": now.replace(hour=0, minute=0, second=0, microsecond=0)
        if anonymous
        else now,
    }
    return submitted, response


def _submit_alone(
    invitation: Invited, submitted: dict, response: dict, rows: list[dict[str, Any]], now: datetime
) -> int | None:
    """The submit as one statement that commits alone (PostgreSQL in autocommit, see
    _ROUND_AS_READ): the response's id, or None when it stored nothing, and the caller then
    submits in a transaction as ever, which finds out why (already submitted, the round closed
    or changed) or tells the listeners. A listener is told in the response's own transaction,
    so this stores only when none is to be told: each listener must ask first in SQL
    (asks_first), and its check must say no, in the same statement."""
    checks = [_checked_in_sql(listener) for listener in _receivers(invitation.round_id)]
    if any(check is None for check in checks):
        return None
    key = tuple(map(id, checks))
    statement = _ALONE_WITH_CHECKS.get(key)
    if statement is None:
        switched = _SUBMITTED.where(_ROUND_AS_READ, *(~check for check in checks))
        statement = _ALONE_WITH_CHECKS[key] = _store_statement(
            switched.values(submitted_at=_SUBMITTED_AT)
        )
    parameters = {
        **_store_parameters(submitted, response, rows),
        "now": now,
        "read_version_id": invitation.round.version_id,
        "read_anonymous": bool(invitation.round.anonymous),
    }
    try:
        return db.session.connection().execute(statement, parameters).scalar()
    except DBAPIError as error:
        if error.connection_invalidated:
            raise
        # Nothing was stored (one statement, atomic alone); the transaction finds out why, as
        # it always has. A key used before (a Conflict) is the respondent's; anything else
        # (a listener's check that fails, a timeout) would send every submit the slower way,
        # so it is logged to be seen, with its kind (the parameters hold no token).
        level = logging.INFO if isinstance(error, IntegrityError) else logging.WARNING
        current_app.logger.log(
            level,
            "a submit in one statement failed (%s); submitted in a transaction",
            type(error.orig).__name__,
        )
        return None


def _receivers(round_id: int) -> list[Callable[..., Any]]:
    return list(response_submitted.receivers_for(round_id))


def _store(connection, submitted: dict, response: dict, rows: list[dict[str, Any]]) -> int:
    """The invitation switched to submitted, then the response and its answers: the id of the
    response, or AlreadySubmitted (rolled back) when the invitation is no longer open."""
    if connection.execute(_SUBMITTED, submitted).rowcount != 1:
        db.session.rollback()
        raise AlreadySubmitted
    response_id = connection.execute(_INSERT_RESPONSE, response).inserted_primary_key[0]
    if rows:
        # One executemany on the table, not one INSERT per answer.
        connection.execute(_INSERT_ANSWERS, [{**row, "response_id": response_id} for row in rows])
    return response_id


def _store_at_once(connection, submitted: dict, response: dict, rows: list[dict[str, Any]]) -> int:
    """``_store`` in one statement (PostgreSQL, see _STORE_AT_ONCE)."""
    response_id = connection.execute(
        _STORE_AT_ONCE, _store_parameters(submitted, response, rows)
    ).scalar()
    if response_id is None:
        db.session.rollback()
        raise AlreadySubmitted
    return response_id


def _store_parameters(
    submitted: dict, response: dict, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        **submitted,
        **{f"response_{k}": v for k, v in response.items()},
        **{f"answer_{c}": [row[c] for row in rows] for c in _ANSWER_COLUMNS},
    }


def question_ids_of(version_id: int) -> dict[str, int]:
    """The ids of a questionnaire version's questions by code."""
    return dict(
        db.session.execute(
            select(Question.code, Question.id).where(Question.version_id == version_id)
        ).all()
    )


def _answer_rows(
    ids: Mapping[str, int], answers: Mapping[str, Any], comments: Mapping[str, str]
) -> list[dict[str, Any]]:
    rows = []
    for code, value in answers.items():
        comment = comments.get(code)
        if value is None and comment is None:
            continue
        rows.append(
            {
                "question_id": ids[code],
                "question_code": code,
                "comment": comment,
                "value": None,
                "text": None,
                **_columns(value),
            }
        )
    return rows


def _columns(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):  # never a rating; guard bool being an int
        return {"text": str(value)}
    if isinstance(value, int):
        return {"value": value}
    if isinstance(value, tuple | list):
        return {"text": ",".join(value)}
    return {"text": str(value)}


def _check_open(round_: Any, now: datetime) -> None:
    """Refuse unless the round (a Round or a row of _ROUND) takes answers at `now`."""
    if not accepts(round_, now):
        db.session.rollback()
        raise NotAccepting
