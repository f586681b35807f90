"""SQLite's write lock: a write transaction asks for it again every millisecond while another
connection holds it, instead of sleeping in SQLite's growing busy-handler steps."""

from __future__ import annotations

import sqlite3
import threading

from survey import database


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
