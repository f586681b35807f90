"""The packed raw lines (``survey.results.raw_store``): the export reads them and writes the
exact path's bytes whatever the store holds (all packed, some, none; named, anonymous with
merged groups and its secret order, conditions; other rounds' responses interleaved), a row
that is stale (another code, another plan) or of a merged group is made from the answers,
and a response deleted or an answer corrected leaves no stale row behind."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, insert, select, update

from survey import read_ahead
from survey.extensions import db
from survey.models import Answer, Question, RawLine, RespondentGroup, Response, Round
from survey.results import export_jobs, exports, raw_fast, raw_store
from tests.conditional import conditional_round
from tests.survey.results import test_raw_fast
from tests.survey.results.test_raw_fast import _exact_csv, _generate


@pytest.fixture(params=["named", "anonymous", "conditions"])
def generated_round(request, make_round, office_version, monkeypatch):
    if request.param == "conditions":
        round_ = conditional_round(office_version)
        _generate(round_, make_round(name="other"), 40, 3, anonymous=False)
        return round_
    anonymous = request.param == "anonymous"
    round_ = make_round(anonymous=anonymous, anonymity_threshold=1)
    if anonymous:
        # One group merged into "other groups", the others as they are: both kinds of rows.
        merged = frozenset({db.session.scalars(select(RespondentGroup.code)).first()})
        monkeypatch.setattr(exports, "unnamed_groups", lambda _round: merged)
    _generate(round_, make_round(name="other"), 40, 4 if anonymous else 5, anonymous=anonymous)
    return round_


def _export(round_: Round, lang: str = "en") -> str:
    return "".join(exports.answers_csv(db.session.get(Round, round_.id), lang))


def _packed_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(RawLine))


def _responses(round_: Round) -> int:
    return db.session.scalar(select(func.count(Response.id)).where(Response.round_id == round_.id))


@pytest.mark.parametrize("page", [1, 7, 20_000])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("joined_by", ["database", "python"])
def test_the_packed_rows_give_the_exact_path_s_bytes(
    app, generated_round, monkeypatch, page, lang, joined_by
):
    monkeypatch.setattr(raw_store, "PAGE", page)
    monkeypatch.setattr(raw_fast, "CHUNK", 3)
    if joined_by == "python":  # as for a code the database would not write as it is
        monkeypatch.setattr(raw_store, "_sql_lines", lambda *args: None)
    with app.test_request_context():
        expected = _exact_csv(generated_round, lang)
        assert _export(generated_round, lang) == expected  # nothing packed yet
        assert raw_store.fold(generated_round) == _responses(generated_round) == 40
        assert _packed_rows() == 40 and raw_store.fold(generated_round) == 0
        assert _export(generated_round, lang) == expected
    assert "'=1+1" in expected and expected.count("\n") > 40


@pytest.mark.parametrize("joined_by", ["database", "python"])
def test_a_row_is_read_as_packed_only_with_its_group_s_current_stamp(
    app, generated_round, monkeypatch, joined_by
):
    if joined_by == "python":
        monkeypatch.setattr(raw_store, "_sql_lines", lambda *args: None)
    with app.test_request_context():
        expected = _exact_csv(generated_round, "en")
        raw_store.fold(generated_round)
        layout = exports.raw_layout(db.session.get(Round, generated_round.id), "en")
        first, _group = db.session.execute(
            select(Response.id, RespondentGroup.code)
            .join(RespondentGroup, Response.group_id == RespondentGroup.id)
            .where(
                Response.round_id == generated_round.id, RespondentGroup.code.not_in(layout.merged)
            )
            .order_by(Response.id)
        ).first()
        mark = update(RawLine).where(RawLine.response_id == first)
        db.session.execute(mark.values(cells="PACKED"))
        db.session.commit()
        assert ",PACKED\r\n" in _export(generated_round)  # read from the store, as stored
        db.session.execute(mark.values(stamp=RawLine.stamp + 1))
        db.session.commit()
        assert _export(generated_round) == expected  # stale: made from its answers


@pytest.mark.parametrize("generated_round", ["anonymous"], indirect=True)  # merges groups
def test_a_merged_group_s_rows_are_made_from_their_answers(app, generated_round):
    """Their cells differ from the packed ones (every item asked): never read packed."""
    assert generated_round.anonymous
    with app.test_request_context():
        expected = _exact_csv(generated_round, "en")
        raw_store.fold(generated_round)
        layout = exports.raw_layout(db.session.get(Round, generated_round.id), "en")
        merged = (
            select(Response.id)
            .join(RespondentGroup)
            .where(Response.round_id == generated_round.id, RespondentGroup.code.in_(layout.merged))
        )
        assert db.session.scalars(merged).first() is not None
        db.session.execute(
            update(RawLine).where(RawLine.response_id.in_(merged)).values(cells="PACKED")
        )
        db.session.commit()
        assert _export(generated_round) == expected


def test_responses_since_the_last_packing_are_made_and_packed_next_time(
    app, generated_round, make_round
):
    with app.test_request_context():
        raw_store.fold(generated_round)
        _generate(generated_round, make_round(name="later"), 10, 9, generated_round.anonymous)
        assert _export(generated_round) == _exact_csv(generated_round, "en")
        assert raw_store.fold(generated_round) == 10


def test_a_code_change_makes_every_packed_row_stale(app, generated_round, monkeypatch):
    with app.test_request_context():
        raw_store.fold(generated_round)
        db.session.execute(update(RawLine).values(cells="PACKED"))
        db.session.commit()
        monkeypatch.setattr(raw_store, "code_digest", lambda: b"another release")
        assert _export(generated_round) == _exact_csv(generated_round, "en")
        assert raw_store.fold(generated_round) == 40


def test_a_deleted_response_or_corrected_answer_leaves_no_packed_row(app, generated_round):
    with app.test_request_context():
        raw_store.fold(generated_round)
        gone, corrected = db.session.scalars(
            select(Response.id).where(Response.round_id == generated_round.id).limit(2)
        ).all()
        db.session.delete(db.session.get(Response, gone))
        answer = db.session.scalars(
            select(Answer).where(Answer.response_id == corrected, Answer.value.is_not(None))
        ).first()
        answer.value = 1 if answer.value != 1 else 2
        db.session.commit()
        assert db.session.get(RawLine, gone) is None
        assert db.session.get(RawLine, corrected) is None
        assert _export(generated_round) == _exact_csv(generated_round, "en")
        assert raw_store.fold(generated_round) == 1


def test_the_worker_s_export_packs_the_round_first(app, known_round, make_user):
    lead = make_user(role="quality_lead")
    export, _enqueue = export_jobs.request(
        export_jobs.spec(known_round, "csv", "en", lead), lead, export_jobs.utcnow()
    )
    with app.test_request_context():
        export_jobs.build(export.id)
        assert _packed_rows() == _responses(known_round) > 0
        db.session.refresh(export)
        assert export_jobs.file(export).decode() == _export(known_round)


def test_a_page_reads_the_packed_rows_by_the_index_as_a_range(app, known_round):
    """A named round's page joins the packed rows through their primary key from the page's
    first id: PostgreSQL merge-joined them from the table's first row without the range (each
    page reading all those before it). Each database is asked for its own plan."""
    with app.test_request_context():
        layout = exports.raw_layout(known_round, "en")
        sql = raw_store._sql_lines(known_round, layout, raw_store.Stamps(known_round, layout))
        cursor = db.session.connection().connection.cursor()
        if sql.dialect == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", sql.params(last=1))
            steps = " ".join(row[-1] for row in cursor.fetchall())
            assert "SEARCH l USING INTEGER PRIMARY KEY" in steps, steps
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", sql.params(last=1))
            steps = " ".join(row[0] for row in cursor.fetchall())
            assert "pk_raw_line" in steps and "(response_id > " in steps, steps
        cursor.close()
        db.session.rollback()


def test_the_code_s_hash_is_the_same_in_every_process():
    """Else every worker's export would find every row stale (a set's order, say, varies
    with each process's hash seed)."""
    import os
    import subprocess
    import sys

    script = (
        "from survey import create_app\n"
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'x'})\n"
        "from survey.results import raw_store\n"
        "print(raw_store.code_digest().hex())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_an_answer_added_to_a_packed_response_leaves_no_packed_row(app, generated_round):
    """A correction that fills in a question the respondent skipped inserts an answer through
    the ORM: its response's packed row no longer holds its cells."""
    with app.test_request_context():
        raw_store.fold(generated_round)
        version_questions = select(Question.id, Question.code).where(
            Question.version_id == generated_round.version_id
        )
        questions = dict(db.session.execute(version_questions).all())
        for rid in db.session.scalars(
            select(Response.id).where(Response.round_id == generated_round.id)
        ):
            given = set(
                db.session.scalars(select(Answer.question_id).where(Answer.response_id == rid))
            )
            skipped = [qid for qid in questions if qid not in given]
            if skipped:
                break
        qid = skipped[0]
        db.session.add(
            Answer(response_id=rid, question_id=qid, question_code=questions[qid], text="added")
        )
        db.session.commit()
        assert db.session.get(RawLine, rid) is None
        assert _export(generated_round) == _exact_csv(generated_round, "en")


def test_an_answer_moved_to_another_response_leaves_neither_packed_row(app, generated_round):
    with app.test_request_context():
        raw_store.fold(generated_round)
        ids = db.session.scalars(
            select(Response.id).where(Response.round_id == generated_round.id)
        ).all()
        answers = {
            rid: set(
                db.session.scalars(select(Answer.question_id).where(Answer.response_id == rid))
            )
            for rid in ids
        }
        source, target, qid = next(
            (a, b, q) for a in ids for b in ids for q in sorted(answers[a] - answers[b])
        )
        answer = db.session.scalars(
            select(Answer).where(Answer.response_id == source, Answer.question_id == qid)
        ).one()
        answer.response_id = target
        db.session.commit()
        assert db.session.get(RawLine, source) is None
        assert db.session.get(RawLine, target) is None
        assert _export(generated_round) == _exact_csv(generated_round, "en")


ODDER = (
    "nul\x00inside",
    "\x00=1",
    "emoji \U0001f600 and 𠀀",
    "   ",
    "\r\n",
    "-",
    "@",
    "+",
    "＝SUM(A1)",
    "long, " + 'quoted "x"\n' * 200 + "𝄞" * 1000,
)


@pytest.mark.parametrize("joined_by", ["database", "python"])
def test_odd_texts_give_the_exact_path_s_bytes_packed_or_not(
    app, generated_round, make_round, monkeypatch, joined_by
):
    """NUL (dropped before it is stored), characters beyond the BMP, formulas' first characters
    alone, line breaks alone and a long text with commas, quotes and line breaks."""
    monkeypatch.setattr(test_raw_fast, "TEXTS", test_raw_fast.TEXTS + ODDER)
    if joined_by == "python":
        monkeypatch.setattr(raw_store, "_sql_lines", lambda *args: None)
    with app.test_request_context():
        db.session.execute(delete(Answer))
        db.session.execute(delete(Response))
        db.session.commit()
        other = make_round(name="odd")
        _generate(generated_round, other, 40, 11, generated_round.anonymous)
        expected = _exact_csv(generated_round, "en")
        assert _export(generated_round) == expected
        raw_store.fold(generated_round)
        assert _export(generated_round) == expected
    assert "𝄞" * 1000 in expected


def test_two_packings_of_a_round_at_once_both_succeed(app, known_round, monkeypatch):
    """Two exports of the round (the worker's two threads: the CSV in two languages) pack
    the same rows at once: the second's rows wait for the first's to commit, then replace
    them. On PostgreSQL the second's delete did not see the first's rows, not committed yet,
    and its insert then failed on their keys."""
    other = db.engine.connect()
    ids = db.session.scalars(select(Response.id).where(Response.round_id == known_round.id))
    rows = [{"response_id": rid, "stamp": 0, "cells": "OTHER"} for rid in ids]
    real_begin_write = raw_store.begin_write
    timers = []

    def begin_write(session):
        """The other packing writes its rows just before this one's transaction begins
        and commits them once this one is under way."""
        if not timers:
            other.execute(insert(RawLine), rows)
            timers.append(threading.Timer(0.5, other.commit))
            timers[0].start()
        return real_begin_write(session)

    monkeypatch.setattr(raw_store, "begin_write", begin_write)
    try:
        with app.test_request_context():
            assert raw_store.fold(known_round) == len(rows) > 0
            assert "OTHER" not in _export(known_round)
    finally:
        timers[0].join()
        other.close()


@pytest.mark.parametrize("page", [1, 7])
def test_postgresql_reads_the_lines_a_page_ahead_with_the_same_bytes(
    app, generated_round, monkeypatch, page
):
    """On PostgreSQL the database's pages are read ahead on a connection of their own
    (``read_ahead``), the bytes the same; a session that wrote something first reads on its
    own connection, and sees what it wrote (another connection would not). SQLite never
    reads ahead: the same bytes, from the session's connection."""
    ahead_once = [1] if db.engine.dialect.name == "postgresql" else []
    monkeypatch.setattr(raw_store, "PAGE", page)
    read, ahead = read_ahead.pages, []
    monkeypatch.setattr(
        read_ahead, "pages", lambda *args, **kw: ahead.append(1) or read(*args, **kw)
    )
    with app.test_request_context():
        expected = _exact_csv(generated_round, "en")
        raw_store.fold(generated_round)
        db.session.commit()
        assert _export(generated_round) == expected
        assert ahead == ahead_once
        db.session.execute(update(RawLine).values(cells="CHANGED"))
        # Not committed: only this session's connection sees it.
        assert "CHANGED" in _export(generated_round)
        assert ahead == ahead_once
        db.session.rollback()
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_an_error_reading_ahead_is_the_export_s_error(app, known_round, monkeypatch):
    """A page that fails on the reading thread fails the download (no hang, no thread or
    connection left behind); on SQLite, read on the session's connection, it fails it too."""
    on_postgresql = db.engine.dialect.name == "postgresql"
    monkeypatch.setattr(raw_store, "PAGE", 2)
    fetch, calls = raw_store._fetch, []

    def failing(sql, params, columns=1, connection=None):
        calls.append(connection)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return fetch(sql, params, columns, connection)

    monkeypatch.setattr(raw_store, "_fetch", failing)
    with app.test_request_context():
        raw_store.fold(known_round)
        db.session.commit()
        db.session.get(Round, known_round.id)  # the session's own connection, as the export's
        before = db.engine.pool.checkedout()
        with pytest.raises(RuntimeError, match="connection lost"):
            _export(known_round)
        assert db.engine.pool.checkedout() == before
    # PostgreSQL: read on the thread's connection; SQLite: on the session's (None here).
    assert (calls[0] is not None) == on_postgresql
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_the_code_digest_covers_what_decides_which_questions_a_response_was_asked(monkeypatch):
    from questionnaires import QUESTION_TYPES
    from questionnaires import model as qm

    released = raw_store.code_digest()
    raw_store.code_digest.cache_clear()

    def for_group(self, group):  # another release's rule
        return self

    monkeypatch.setattr(qm.Questionnaire, "for_group", for_group)
    assert raw_store.code_digest() != released
    monkeypatch.undo()
    raw_store.code_digest.cache_clear()
    assert raw_store.code_digest() == released
    raw_store.code_digest.cache_clear()
    monkeypatch.setattr(QUESTION_TYPES["multi"], "multiple", False)
    assert raw_store.code_digest() != released
    monkeypatch.undo()
    raw_store.code_digest.cache_clear()
