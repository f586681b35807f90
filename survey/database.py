"""Connection settings that make SQLite safe for concurrent submissions.

Every SQLite connection runs in WAL mode with full sync, waits up to 5 s for a lock and enforces
foreign keys. pysqlite's own transaction handling is switched off and SQLAlchemy emits BEGIN
itself, as SQLAlchemy's pysqlite documentation shows ("Serializable isolation / Savepoints /
Transactional DDL"): write transactions start with BEGIN IMMEDIATE, so that a submit that reads
the invitation and then writes waits for the write lock up front instead of failing half-way
with "database is locked" when another submit got there first.
"""

from __future__ import annotations

import contextlib
import select
import sqlite3
import time
from functools import wraps

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import scoped_session

BUSY_TIMEOUT_MS = 5000
# While another connection holds the write lock, BEGIN IMMEDIATE asks again every millisecond
# for up to a second, before SQLite's own busy handler takes over for BUSY_TIMEOUT_MS. That
# handler sleeps 1, 2, 5, 10, 15, 20 ms... between tries, so a submit queued behind a
# transaction of one millisecond often slept five or ten more.
LOCK_POLL_SECONDS = 0.001
LOCK_POLL_FOR_SECONDS = 1.0
# A write that may be skipped (the first opening of a personal link: the page needs no write,
# and the next save records it) asks for the lock this long, then gives up rather than keep
# the respondent waiting up to BUSY_TIMEOUT_MS behind a backup or an import.
SKIPPABLE_WAIT_SECONDS = 0.2

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
)

# Requests that only read begin a deferred transaction, so that dashboards read in parallel;
# every other request (a submit, a save) takes the write lock when it begins. Outside a request
# (CLI commands, scripts) transactions are deferred: those run one at a time by an operator, and
# an IMMEDIATE default there would hold the write lock for as long as a script merely reads.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# A pooled connection to a database server is checked each time it is taken from the pool, as
# pool_pre_ping did, but without a round trip: a server that restarted, or ended the backend,
# has closed the socket (or sent its last message before), which the socket then shows as
# readable; an idle connection has nothing else to read (the app never LISTENs). One left idle
# for PING_IDLE_SECONDS is pinged as well (SELECT 1), for what a closed socket does not show,
# such as a firewall that dropped an idle connection without a word. Either failing, the pool
# throws the connection away and takes a new one: a restart still costs no failed request.
# What neither shows, a connection lost silently within seconds of its last use (a failover
# to another address), fails one request per connection, as a break in mid-request does.
# pool_pre_ping's SELECT 1 at every checkout was three of a respondent's fourteen round trips
# and a tenth of the server's CPU per response (bench/profile_submission.py); under load a
# connection is back in use within milliseconds, so the ping stays for quiet times only.
PING_IDLE_SECONDS = 5.0
IDLE_SINCE = "survey.idle_since"


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        # A SQLite file has no connection to lose: nothing to check.
        dialect = engine.dialect

        def check_alive(dbapi_connection, record, _proxy) -> None:
            _check_alive(dialect, dbapi_connection, record)

        event.listen(engine, "checkout", check_alive)
        event.listen(engine, "checkin", _note_idle)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "begin", _forget_writes)
        event.listen(engine, "before_cursor_execute", _note_write)
    if engine.dialect.name != "sqlite":
        return
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)


# Whether the connection's transaction may have written (see wrote_nothing): kept in the pooled
# connection's info, reset when a transaction begins.
MAY_HAVE_WRITTEN = "survey.may_have_written"


def _note_idle(_dbapi_connection, record) -> None:
    if record is not None:
        record.info[IDLE_SINCE] = time.monotonic()


def _check_alive(dialect, dbapi_connection, record) -> None:
    """Raise DisconnectionError (the pool then connects afresh) for a connection the server
    has closed, or that does not answer a ping after a long idle (PING_IDLE_SECONDS)."""
    idle_since = record.info.get(IDLE_SINCE)
    if idle_since is None:
        return  # just connected
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        raise DisconnectionError("the connection was closed")
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:  # a driver without a socket to look at: ping every time
        idle_since = float("-inf")
    else:
        # poll, not select: select() refuses descriptors from 1024 up, which a busy worker
        # with many files open reaches.
        poller = select.poll()
        try:
            poller.register(fileno(), select.POLLIN)
            events = poller.poll(0)
        except (OSError, ValueError) as error:
            raise DisconnectionError("the connection's socket is gone") from error
        if events:  # data to read, or the peer hung up: the server is done with it
            raise DisconnectionError("the server closed the connection")
    if time.monotonic() - idle_since >= PING_IDLE_SECONDS:
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("the connection did not answer a ping") from error


def _forget_writes(conn: Connection) -> None:
    conn.info[MAY_HAVE_WRITTEN] = False


def _note_write(conn: Connection, _cursor, _statement, _parameters, context, _many) -> None:
    if not _surely_reads(context):
        conn.info[MAY_HAVE_WRITTEN] = True


def _surely_reads(context) -> bool:
    """A statement built as a SELECT without FOR UPDATE / FOR SHARE (a row lock is a write to
    PostgreSQL) and without an INSERT, UPDATE or DELETE in a WITH clause. Text, driver SQL and
    everything else count as writes; so a function that writes (nextval, a user function) must
    be called through text(), never select(func...). Statements sent on the raw DBAPI cursor
    (survey.results reads big rounds that way) pass no event: they must only read."""
    compiled = getattr(context, "compiled", None)
    statement = getattr(compiled, "statement", None)
    if not getattr(statement, "is_select", False):
        return False
    if getattr(statement, "_for_update_arg", True) is not None:
        return False
    return not any(getattr(cte.element, "is_dml", True) for cte in compiled.ctes or ())


def _on_connect(dbapi_connection, _record) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _on_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    mode = options.get("sqlite_begin") or default_begin_mode()
    wait = options.get("sqlite_lock_wait")
    dbapi_connection = conn.connection.dbapi_connection
    if mode != "DEFERRED" and _poll_for_write_lock(dbapi_connection, mode, wait):
        return
    if mode != "DEFERRED" and wait is not None:
        # Skippable: one more try without SQLite's busy handler, so that a lock still taken
        # fails now (as SQLAlchemy's OperationalError), not after BUSY_TIMEOUT_MS.
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return
    conn.exec_driver_sql(f"BEGIN {mode}")


def _poll_for_write_lock(dbapi_connection, mode: str, wait: float | None = None) -> bool:
    """BEGIN `mode` on the raw connection, asking every LOCK_POLL_SECONDS while the lock is
    taken; False if it was still taken after `wait` seconds (LOCK_POLL_FOR_SECONDS by default;
    nothing begun)."""
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + (LOCK_POLL_FOR_SECONDS if wait is None else wait)
        while True:
            try:
                dbapi_connection.execute(f"BEGIN {mode}")
                return True
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    return False
            time.sleep(LOCK_POLL_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def default_begin_mode() -> str:
    if not has_request_context() or request.method in READ_ONLY_METHODS:
        return "DEFERRED"
    return g.get("sqlite_begin", "IMMEDIATE")


def write_options() -> dict[str, str]:
    """Execution options that make a transaction take SQLite's write lock when it begins."""
    return {"sqlite_begin": "IMMEDIATE"}


def begin_write(session, skippable: bool = False) -> Connection:
    """End the session's read transaction and begin a write transaction (BEGIN IMMEDIATE on
    SQLite), for a write from a request that began by only reading: a GET that records a first
    visit, or a login that checks a password before anything is written. Pending changes are
    committed first; on PostgreSQL a transaction that has only read goes on instead. Returns
    the session's connection, for Core statements. A ``skippable`` write waits at most
    SKIPPABLE_WAIT_SECONDS for SQLite's lock, then raises OperationalError."""
    if wrote_nothing(session):
        # PostgreSQL: the read transaction simply goes on writing (row locks, not one write
        # lock): a commit, a pool ping and a BEGIN fewer.
        return session.connection()
    session.commit()
    options = write_options()
    if skippable:
        options["sqlite_lock_wait"] = SKIPPABLE_WAIT_SECONDS
    return session.connection(execution_options=options)


def reads_first(view):
    """Mark a POST view whose transaction starts read-only (e.g. login: it checks a password,
    ~0.1 s of scrypt, and must not hold the write lock meanwhile); it calls begin_write()
    before it writes."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.sqlite_begin = "DEFERRED"
        return view(*args, **kwargs)

    return wrapped


def end_read_transaction(sessions: scoped_session, exc: BaseException | None) -> None:
    """At the end of a request (registered before Flask-SQLAlchemy removes the session): on
    PostgreSQL through psycopg, a transaction that wrote nothing ends with COMMIT instead of
    the ROLLBACK of the session's removal.

    psycopg forgets every prepared statement of a connection on ROLLBACK (it cannot tell what
    was undone), so each read-only request (a personal link, a revisited page, a dashboard)
    wiped the statements the respondent's pages had prepared, and PostgreSQL parsed and planned
    them again: in the submission benchmark 2.6 instead of 1.7 ms of its CPU per response.
    A request that wrote and did not commit, or failed, is still rolled back.
    """
    if exc is not None or not sessions.registry.has():
        return
    session = sessions()
    if wrote_nothing(session):
        # The session is removed next: its objects need not be expired for a reload.
        session.expire_on_commit = False
        # e.g. the connection is gone: the session's removal cleans up
        with contextlib.suppress(SQLAlchemyError):
            session.commit()


def wrote_nothing(session) -> bool:
    """True if the session is in a PostgreSQL (psycopg) transaction that has written nothing,
    with no ORM change pending. Always False on SQLite, whose writes need the write lock from
    the start.

    "Written nothing" is known without asking PostgreSQL (which took a round trip per request,
    ``SELECT txid_current_if_assigned()``): every statement the transaction ran was a SELECT
    built with SQLAlchemy, without a row lock (``_note_write``); any other statement, text SQL
    included, counts as a write, so the doubt always ends in a rollback, never in a commit."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction() or session.get_bind().dialect.driver != "psycopg":
        return False
    if session.new or session.dirty or session.deleted:
        return False  # not flushed yet
    from psycopg.pq import TransactionStatus

    try:
        connection = session.connection()
        status = connection.connection.dbapi_connection.info.transaction_status
        if status != TransactionStatus.INTRANS:
            return False  # idle, or failed
        return connection.info.get(MAY_HAVE_WRITTEN) is False
    except SQLAlchemyError:
        return False  # e.g. a failed flush left the session waiting for its rollback


def reads_only(session) -> None:
    """Run the rest of this request's statements without a transaction, on PostgreSQL: for a
    request that reads one thing and writes nothing (the personal link), BEGIN and COMMIT were
    two of its four round trips (with the pool's ping).
    Call it before the request's first statement; the pool restores the isolation level when
    the connection returns. SQLite is left as it is: its reads take no lock worth avoiding."""
    if isinstance(session, scoped_session):
        session = session()
    # A request that has already read something (a logged-in visitor's account, loaded for
    # the session checks) holds its connection in a transaction: its options are set.
    if session.get_bind().dialect.driver == "psycopg" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def autocommits(session) -> bool:
    """True if the session's connection runs each statement in a transaction of its own
    (PostgreSQL after ``reads_only``): a single statement may then write without BEGIN and
    COMMIT, atomically; anything that needs several statements together must not. Read from
    the driver's flag, without asking PostgreSQL. False on SQLite and outside a transaction."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction() or session.get_bind().dialect.driver != "psycopg":
        return False
    try:
        return bool(session.connection().connection.dbapi_connection.autocommit)
    except SQLAlchemyError:
        return False
