"""SQLite's write lock: a write transaction asks for it again every millisecond while another
connection holds it, instead of sleeping in SQLite's growing busy-handler steps. PostgreSQL
through psycopg: a request's transaction that wrote nothing ends with COMMIT, which keeps the
connection's prepared statements; one that wrote and did not commit, or failed, is rolled
back."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import DBAPIError, DisconnectionError

from survey import database
from survey.extensions import db
from survey.models import Unit
from tests.conftest import TEST_DATABASE_URL


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={database.BUSY_TIMEOUT_MS}")
    return conn


def busy_timeout(conn) -> int:
    return conn.execute("PRAGMA busy_timeout").fetchone()[0]


def test_a_write_begins_as_soon_as_the_other_writer_commits(tmp_path):
    path = tmp_path / "lock.sqlite"
    holder, waiter = connect(path), connect(path)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    released = threading.Timer(0.05, holder.execute, args=("COMMIT",))
    released.start()
    try:
        assert database._poll_for_write_lock(waiter, "IMMEDIATE") is True
        assert waiter.in_transaction
        assert waiter.execute("SELECT count(*) FROM t").fetchone()[0] == 1  # after the commit
        waiter.execute("COMMIT")
    finally:
        released.join()
    assert busy_timeout(waiter) == database.BUSY_TIMEOUT_MS


def test_a_lock_held_too_long_is_left_to_sqlites_own_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "LOCK_POLL_FOR_SECONDS", 0.02)
    path = tmp_path / "lock.sqlite"
    holder, waiter = connect(path), connect(path)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    assert database._poll_for_write_lock(waiter, "IMMEDIATE") is False
    assert not waiter.in_transaction
    assert busy_timeout(waiter) == database.BUSY_TIMEOUT_MS
    holder.execute("ROLLBACK")


@pytest.fixture
def probed(app, make_round):
    """The app, with a round and its units stored and four probe views, and the list of how
    each transaction ends from then on."""
    make_round()
    db.session.commit()

    def read():
        return str(db.session.scalar(select(func.count()).select_from(Unit)))

    def write_without_commit():
        db.session.execute(update(Unit).values(name_en="Changed and never committed"))
        return "written"

    def fail():
        db.session.scalar(select(func.count()).select_from(Unit))
        raise RuntimeError("the view failed")

    def swallow_an_error():
        # and no rollback: the transaction is left failed
        with contextlib.suppress(DBAPIError):
            db.session.execute(text("SELECT no_such_column FROM unit"))
        return "carried on"

    for view in (read, write_without_commit, fail, swallow_an_error):
        app.add_url_rule(f"/probe/{view.__name__}", view.__name__, view)
    ended: list[str] = []
    event.listen(db.engine, "commit", lambda conn: ended.append("commit"))
    event.listen(db.engine, "rollback", lambda conn: ended.append("rollback"))
    return app, ended


def on_psycopg() -> bool:
    return db.engine.dialect.driver == "psycopg"


def test_a_request_that_only_read_ends_its_transaction_without_undoing_anything(probed):
    app, ended = probed
    assert app.test_client().get("/probe/read").status_code == 200
    assert ended == (["commit"] if on_psycopg() else ["rollback"])


def test_a_write_left_uncommitted_is_rolled_back(probed):
    app, ended = probed
    assert app.test_client().get("/probe/write_without_commit").status_code == 200
    assert ended == ["rollback"]
    names = db.session.scalars(select(Unit.name_en)).all()
    assert names and "Changed and never committed" not in names


def test_a_failed_request_is_rolled_back(probed):
    app, ended = probed
    with pytest.raises(RuntimeError):
        app.test_client().get("/probe/fail")
    assert ended == ["rollback"]


def test_a_request_that_swallowed_a_database_error_is_rolled_back(probed):
    app, ended = probed
    assert app.test_client().get("/probe/swallow_an_error").status_code == 200
    assert ended == ["rollback"]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="psycopg's prepared statements: PostgreSQL")
def test_prepared_statements_survive_read_only_requests(probed):
    app, _ = probed
    client = app.test_client()
    for _ in range(8):  # psycopg prepares a statement on its fifth execution
        client.get("/probe/read")
    with db.engine.connect() as conn:
        # One pooled connection served every request; its prepared statement is still known.
        prepared = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, 'FROM unit') > 0"
        ).scalar()
    assert prepared == 1


@pytest.mark.parametrize("flushed", [False, True], ids=["pending", "flushed"])
def test_begin_write_commits_what_the_caller_changed_before(probed, flushed):
    _, ended = probed
    unit = db.session.scalars(select(Unit)).first()
    unit.name_en = "Renamed before the write"
    if flushed:
        db.session.flush()
    database.begin_write(db.session)
    db.session.rollback()  # a refusal after begin_write does not undo the caller's change
    assert "commit" in ended
    assert db.session.get(Unit, unit.id).name_en == "Renamed before the write"


def test_begin_write_after_reads_only(probed):
    _, ended = probed
    db.session.scalars(select(Unit)).all()
    ended.clear()
    database.begin_write(db.session).execute(update(Unit).values(name_en="Written"))
    # PostgreSQL goes on in the read transaction; SQLite ends it to take the write lock.
    assert ended == ([] if on_psycopg() else ["commit"])
    db.session.commit()
    assert set(db.session.scalars(select(Unit.name_en))) == {"Written"}


def probe(app, view) -> int:
    app.add_url_rule(f"/probe/{view.__name__}", view.__name__, view)
    return app.test_client().get(f"/probe/{view.__name__}").status_code


def test_a_locking_read_counts_as_a_write(probed):
    app, ended = probed

    def lock_units():
        return str(len(db.session.scalars(select(Unit).with_for_update()).all()))

    assert probe(app, lock_units) == 200
    assert ended == ["rollback"]


def test_text_sql_counts_as_a_write(probed):
    app, ended = probed

    def run_text():
        db.session.execute(text("UPDATE unit SET name_en = 'Changed by text SQL'"))
        return "ran"

    assert probe(app, run_text) == 200
    assert ended == ["rollback"]
    assert "Changed by text SQL" not in db.session.scalars(select(Unit.name_en)).all()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="psycopg's transactions: PostgreSQL")
def test_whether_a_transaction_wrote_is_known_without_asking_postgresql(probed):
    db.session.scalars(select(Unit)).all()
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    assert database.wrote_nothing(db.session)
    db.session.execute(update(Unit).values(name_en="Written"))
    assert not database.wrote_nothing(db.session)
    assert sent == [sent[-1]] and sent[-1].startswith("UPDATE unit")
    db.session.rollback()
    db.session.scalars(select(Unit)).all()
    assert database.wrote_nothing(db.session)  # a new transaction starts with nothing written


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="an UPDATE in a WITH clause: PostgreSQL")
def test_a_select_of_an_update_counts_as_a_write(probed):
    app, ended = probed

    def update_in_a_cte():
        changed = update(Unit).values(name_en="Changed in a CTE").returning(Unit.id).cte()
        return str(len(db.session.execute(select(changed.c.id)).all()))

    assert probe(app, update_in_a_cte) == 200
    assert ended == ["rollback"]
    assert "Changed in a CTE" not in db.session.scalars(select(Unit.name_en)).all()


# A pooled connection to a database server is checked at each checkout without a round trip
# (survey.database._check_alive): here on a socket pair standing for the connection's socket.


class FakeConnection:
    """A DBAPI connection reduced to what the check looks at: its socket and a ping."""

    def __init__(self, sock, answers: bool = True) -> None:
        self.sock, self.answers, self.pings = sock, answers, 0

    def fileno(self) -> int:
        return self.sock.fileno()


class FakeDialect:
    def do_ping(self, connection: FakeConnection) -> bool:
        connection.pings += 1
        if not connection.answers:
            raise OSError("no answer")
        return True


class FakeRecord:
    def __init__(self, idle_since: float | None) -> None:
        self.info = {} if idle_since is None else {database.IDLE_SINCE: idle_since}


@pytest.fixture
def socket_pair():
    import socket

    ours, server = socket.socketpair()
    yield ours, server
    ours.close()
    server.close()


def test_a_pooled_connection_used_lately_is_taken_without_a_ping(socket_pair):
    connection = FakeConnection(socket_pair[0])
    database._check_alive(FakeDialect(), connection, FakeRecord(time.monotonic()))
    assert connection.pings == 0


def test_a_connection_the_server_closed_is_thrown_away_before_use(socket_pair):
    ours, server = socket_pair
    server.sendall(b"E terminating connection due to administrator command")
    server.close()
    connection = FakeConnection(ours)
    with pytest.raises(DisconnectionError):
        database._check_alive(FakeDialect(), connection, FakeRecord(time.monotonic()))
    assert connection.pings == 0  # told by the socket: no round trip


def test_a_connection_idle_for_long_is_pinged_and_thrown_away_if_it_does_not_answer(socket_pair):
    long_ago = time.monotonic() - database.PING_IDLE_SECONDS - 1
    answering = FakeConnection(socket_pair[0])
    database._check_alive(FakeDialect(), answering, FakeRecord(long_ago))
    assert answering.pings == 1
    silent = FakeConnection(socket_pair[0], answers=False)
    with pytest.raises(DisconnectionError):
        database._check_alive(FakeDialect(), silent, FakeRecord(long_ago))


def test_a_connection_just_made_is_not_checked(socket_pair):
    ours, server = socket_pair
    server.close()  # even a readable socket: the pool has just connected it
    connection = FakeConnection(ours)
    database._check_alive(FakeDialect(), connection, FakeRecord(None))
    assert connection.pings == 0


def test_a_connection_returned_to_the_pool_is_marked_idle_from_then(app):
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        record = conn.connection._connection_record
    after = record.info.get(database.IDLE_SINCE)
    if db.engine.dialect.name == "sqlite":
        assert after is None  # a SQLite file has no connection to lose: never checked
    else:
        assert after is not None and after <= time.monotonic()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="a server ending a connection: PostgreSQL")
def test_a_request_after_the_server_ended_the_pooled_connections_succeeds(probed):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    app, _ = probed
    client = app.test_client()
    assert client.get("/probe/read").status_code == 200
    with db.engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    # What a restart of PostgreSQL does to every pooled connection: its backend ends and the
    # socket closes while the connection sits in the pool.
    admin = create_engine(db.engine.url, poolclass=NullPool)
    with admin.connect() as conn:
        ended = conn.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).scalar()
        for _ in range(500):  # the backends end a moment after they are told to
            if not conn.exec_driver_sql(
                f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"
            ).first():
                break
            time.sleep(0.01)
    admin.dispose()
    assert ended >= 1
    assert client.get("/probe/read").status_code == 200
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid


def test_a_connection_on_a_descriptor_above_1024_is_checked_like_any_other(socket_pair):
    # select() refuses descriptors from 1024 up; a worker with many files open gets them, and
    # every connection there would have been thrown away at each checkout.
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= 1500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    ours, server = socket_pair
    high = os.dup2(ours.fileno(), 1500)
    try:

        class High:
            def fileno(self) -> int:
                return high

        database._check_alive(FakeDialect(), High(), FakeRecord(time.monotonic()))  # quiet
        server.close()
        with pytest.raises(DisconnectionError):
            database._check_alive(FakeDialect(), High(), FakeRecord(time.monotonic()))
    finally:
        os.close(high)
        if soft <= 1500:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
