"""Reading ahead (``survey.read_ahead``): the items in order, the thread's errors raised in the
caller, and neither the thread nor its connection left behind whether the caller reads to the
end, stops early or fails; only a session that wrote nothing may use it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from survey import read_ahead
from survey.extensions import db
from survey.models import Unit


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read-ahead"]


def _numbers(upto: int, fail_at: int | None = None):
    """A reader of pages of one number each, read on the connection it is given."""

    def read(connection):
        for n in range(upto):
            if n == fail_at:
                raise ValueError(f"page {n} unreadable")
            cursor = connection.cursor()
            try:
                cursor.execute(f"SELECT {n} + 1")
                yield cursor.fetchone()[0]
            finally:
                cursor.close()

    return read


def test_the_pages_come_in_order_and_the_connection_goes_back(app):
    pool = db.engine.pool
    before = pool.checkedout()
    assert list(read_ahead.pages(db.engine, _numbers(50))) == list(range(1, 51))
    assert pool.checkedout() == before and _threads() == []


def test_an_error_of_the_reader_is_raised_in_the_caller_without_a_hang(app):
    pool = db.engine.pool
    before = pool.checkedout()
    got = []
    with pytest.raises(ValueError, match="page 7 unreadable"):
        got.extend(read_ahead.pages(db.engine, _numbers(50, fail_at=7)))
    assert got == list(range(1, 8))
    assert pool.checkedout() == before and _threads() == []


def test_a_caller_that_stops_early_stops_the_reader(app):
    pool = db.engine.pool
    before = pool.checkedout()
    pages = read_ahead.pages(db.engine, _numbers(1000))
    assert [next(pages), next(pages)] == [1, 2]
    assert pool.checkedout() == before + 1 and len(_threads()) == 1
    pages.close()  # a download cancelled
    assert pool.checkedout() == before and _threads() == []


def test_a_caller_that_fails_between_pages_stops_the_reader(app):
    pool = db.engine.pool
    before = pool.checkedout()

    def fail_at_third():
        for n in read_ahead.pages(db.engine, _numbers(1000)):
            if n == 3:
                raise RuntimeError("the caller's own error")

    with pytest.raises(RuntimeError, match="the caller's own error"):
        fail_at_third()
    assert pool.checkedout() == before and _threads() == []


def test_only_a_session_that_wrote_nothing_reads_on_another_connection_and_never_on_sqlite(app):
    db.session.scalars(select(Unit)).all()
    # SQLite never reads ahead: its file is read on the session's connection.
    assert read_ahead.usable(db.session) == (db.engine.dialect.name == "postgresql")
    db.session.execute(update(Unit).values(name_en="Not committed"))
    assert not read_ahead.usable(db.session)  # another connection would not see it
    db.session.rollback()
