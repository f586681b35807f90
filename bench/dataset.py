"""A large round in a real database, written in bulk (not through the web form).

``build(path, responses, previous)`` makes a SQLite database in ``path`` (or uses
``BENCH_DATABASE_URL``, e.g. a scratch PostgreSQL database) with the demo questionnaire, units
and accounts, a previous round and a current round of the office survey with the given numbers
of responses, every response with its invitation, and about 23 answers each: ratings from a
latent model (so items correlate with the overall item), a choice, an occasional free text, and
comments on a third of the 1s and 2s. Returns the app, the two rounds' ids and the seconds the
build took.

A million responses are 23 million answers, so the rows skip the ORM: they are generated a
chunk at a time with numpy, given their ids here (the tables' next ids), and written as plain
tuples on the DBAPI connection: ``executemany`` in one transaction per chunk on SQLite (with
``synchronous=OFF`` and foreign keys off for the build only: the rows are consistent by
construction), ``COPY ... FROM STDIN`` on PostgreSQL, whose sequences are then moved past the
ids written and whose tables are vacuumed and analysed, as autovacuum would have done on a
server that received them over weeks. The answers of a response are stored together, in
response order, as the web form stores them.
"""

from __future__ import annotations

import os
import runpy
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from survey import create_app
from survey.cli import demo
from survey.extensions import db
from survey.models import (
    Question,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    Round,
    Unit,
    utcnow,
)
from survey.questionnaire_store import to_model

ROOT = Path(__file__).resolve().parents[1]

CHUNK = 20_000
GROUP_SHARE = {"mayors": 0.02, "departments": 0.70, "cppcc": 0.14, "congress": 0.14}
GROUP_SHIFT = {"mayors": 0.3, "departments": 0.0, "cppcc": -0.2, "congress": 0.1}
COMMENTS = (
    "会议纪要下发太慢，影响贯彻落实。",
    "督办事项反馈不及时。",
    "Minutes arrived late",
    '=HYPERLINK("http://example.test","x")',
)
FREE_TEXT = "希望继续保持，进一步提高办文效率。"
PASSWORD = "bench-password-2004"

INVITATION_COLUMNS = (
    "id",
    "token",
    "round_id",
    "unit_id",
    "group_id",
    "status",
    "created_at",
    "submitted_at",
)
RESPONSE_COLUMNS = (
    "id",
    "round_id",
    "invitation_id",
    "submission_key",
    "group_id",
    "unit_id",
    "source",
    "language",
    "submitted_at",
)
ANSWER_COLUMNS = ("id", "response_id", "question_id", "question_code", "value", "text", "comment")


@dataclass
class Dataset:
    app: Flask
    round_id: int
    previous_id: int
    seconds: float


def make_app(path: Path) -> Flask:
    os.environ["SURVEY_INSTANCE_PATH"] = str(path / "instance")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{path / 'bench.sqlite'}"
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
        }
    )


def as_served() -> None:
    """What a worker of the server (``make serve``: gunicorn with the repository's
    gunicorn.conf.py) does once it has loaded the app, before its first request: a process
    timed "as after a restart" must match it, or it pays for what a served one does not (a
    full garbage collection over the app's objects: 0.11-0.15 s at a million responses)."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    settings["post_worker_init"](worker=None)


def reopen(path: Path) -> Dataset:
    """The dataset ``build`` wrote into ``path`` (or into ``BENCH_DATABASE_URL``) before,
    brought to the current schema (migrations added since it was built)."""
    app = make_app(path)
    with app.app_context():
        upgrade()
        current = db.session.scalar(select(Round).where(Round.name == demo.ROUND_NAME))
        old = db.session.scalar(select(Round).where(Round.name == "2003 autumn"))
        ids = (current.id, old.id)
    return Dataset(app, ids[0], ids[1], 0.0)


def build(path: Path, responses: int, previous: int, seed: int = 2004) -> Dataset:
    start = time.perf_counter()
    app = make_app(path)
    with app.app_context():
        upgrade()
        demo.run(responses_wanted=0)
        current = db.session.scalar(select(Round).where(Round.name == demo.ROUND_NAME))
        old = Round(
            name="2003 autumn",
            version_id=current.version_id,
            status="closed",
            created_at=current.created_at - timedelta(days=365),
        )
        db.session.add(old)
        db.session.commit()
        rng = np.random.default_rng(seed)
        with bulk_writer() as writer:
            fill(writer, old, previous, rng, drift=0.15)
            fill(writer, current, responses, rng, drift=0.0)
        ids = (current.id, old.id)
    return Dataset(app, ids[0], ids[1], time.perf_counter() - start)


class Writer:
    """Plain rows into a table on the DBAPI connection, each chunk in its own transaction; it
    hands out the ids too (the next after the table's highest), since the rows are not read
    back."""

    def __init__(self, connection: Any, dialect: Any) -> None:
        self.connection = connection
        self.postgres = dialect.name == "postgresql"
        self.next_id: dict[str, int] = {}
        column_type = Response.__table__.c.submitted_at.type.dialect_impl(dialect)
        process = column_type.bind_processor(dialect)
        self.timestamp = process or (lambda value: value)

    def ids(self, table: str, count: int) -> np.ndarray:
        if table not in self.next_id:
            cursor = self.connection.cursor()
            cursor.execute(f"SELECT max(id) FROM {table}")
            self.next_id[table] = (cursor.fetchone()[0] or 0) + 1
            cursor.close()
        first = self.next_id[table]
        self.next_id[table] += count
        return np.arange(first, first + count)

    def write(self, table: str, columns: Sequence[str], rows: Iterator[tuple] | list[tuple]):
        cursor = self.connection.cursor()
        try:
            if self.postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
        finally:
            cursor.close()

    def commit(self) -> None:
        if self.postgres:
            self.connection.commit()
        else:
            self.connection.execute("COMMIT")
            self.connection.execute("BEGIN")


@contextmanager
def bulk_writer() -> Iterator[Writer]:
    """A Writer on a connection of its own, set up for bulk loading and put back afterwards."""
    db.session.commit()
    raw = db.engine.raw_connection()
    driver = raw.driver_connection
    writer = Writer(driver, db.engine.dialect)
    if writer.postgres:
        driver.execute("SET synchronous_commit = off")
        # No foreign-key triggers (a superuser's switch), the RI checks cost most of the COPY.
        driver.execute("SET session_replication_role = replica")
    else:
        # Both only outside a transaction; put back below (the connection returns to the pool).
        driver.execute("PRAGMA synchronous=OFF")
        driver.execute("PRAGMA foreign_keys=OFF")
        driver.execute("PRAGMA cache_size=-500000")  # KiB: the unique keys are random
        driver.execute("BEGIN")
    try:
        yield writer
        writer.commit()
    finally:
        if writer.postgres:
            driver.rollback()
            driver.execute("RESET synchronous_commit")
            driver.execute("RESET session_replication_role")
            for table in ("invitation", "response", "answer"):
                driver.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            driver.commit()
            autocommit, driver.autocommit = driver.autocommit, True
            driver.execute("VACUUM ANALYZE invitation, response, answer")
            driver.autocommit = autocommit
        else:
            driver.execute("ROLLBACK")
            driver.execute("PRAGMA cache_size=-2000")
            driver.execute("PRAGMA foreign_keys=ON")
            driver.execute("PRAGMA synchronous=FULL")
        raw.close()


def fill(
    writer: Writer, round_: Round, responses: int, rng: np.random.Generator, drift: float
) -> None:
    """Add ``responses`` responses (with invitations and answers) to the round in bulk."""
    round_id = round_.id
    version = db.session.get(QuestionnaireVersion, round_.version_id)
    questionnaire = to_model(version)
    question_ids = {q.code: q.id for q in version_questions(version)}
    groups = {g.code: g.id for g in db.session.scalars(select(RespondentGroup))}
    units = {
        code: [
            u.id
            for u in db.session.scalars(
                select(Unit).where(Unit.group_id == gid, Unit.kind == "respondent")
            )
        ]
        for code, gid in groups.items()
    }
    codes = list(GROUP_SHARE)
    definitions = {code: questionnaire.for_group(code) for code in codes}
    # The session's read transaction ends here: on SQLite an open reader keeps the WAL from
    # being checkpointed, and it would grow by the whole round.
    db.session.commit()
    for start in range(0, responses, CHUNK):
        size = min(CHUNK, responses - start)
        group_of = rng.choice(len(codes), size=size, p=list(GROUP_SHARE.values()))
        for g, code in enumerate(codes):
            members = np.flatnonzero(group_of == g)
            if len(members):
                _fill_group(
                    writer,
                    round_id,
                    definitions[code],
                    question_ids,
                    groups[code],
                    units[code],
                    len(members),
                    rng,
                    drift + GROUP_SHIFT[code],
                )
        writer.commit()


def version_questions(version: QuestionnaireVersion):
    return db.session.scalars(select(Question).where(Question.version_id == version.id))


def _fill_group(
    writer, round_id, questionnaire, question_ids, group_id, unit_ids, size, rng, shift
):
    now = writer.timestamp(utcnow())
    unit_of = np.asarray(unit_ids)[rng.integers(0, len(unit_ids), size)].tolist()
    invitation_ids = writer.ids("invitation", size).tolist()
    writer.write(
        "invitation",
        INVITATION_COLUMNS,
        [
            (i, secrets.token_urlsafe(24), round_id, u, group_id, "submitted", now, now)
            for i, u in zip(invitation_ids, unit_of, strict=True)
        ],
    )
    sources = rng.choice(["web", "paper", "meeting"], size=size, p=[0.8, 0.12, 0.08]).tolist()
    response_ids = writer.ids("response", size)
    writer.write(
        "response",
        RESPONSE_COLUMNS,
        [
            (r, round_id, i, secrets.token_hex(16), group_id, u, s, "zh", now)
            for r, i, u, s in zip(
                response_ids.tolist(), invitation_ids, unit_of, sources, strict=True
            )
        ],
    )
    columns = _answers(questionnaire, question_ids, response_ids, rng, shift)
    columns[0] = writer.ids("answer", len(columns[1])).tolist()
    writer.write("answer", ANSWER_COLUMNS, zip(*columns, strict=True))


def _answers(questionnaire, question_ids, response_ids, rng, shift) -> list[list]:
    """The answers as columns (ANSWER_COLUMNS, the id column left empty), by response."""
    ratings = [q for q in questionnaire.questions() if q.type == "rating"]
    size = len(response_ids)
    mood = rng.normal(0, 0.8, size)
    level = rng.normal(0.9, 0.45, len(ratings)) + shift
    latent = level[None, :] + mood[:, None] + rng.normal(0, 0.9, (size, len(ratings)))
    overall = [i for i, q in enumerate(ratings) if q.code == "overall"]
    if overall:
        latent[:, overall[0]] = 0.7 * mood / 0.8 + 0.6 * latent.mean(axis=1) + 0.5 + shift
    values = np.clip(np.round(latent + 3.4), 1, 5).astype(int)
    commented = (values <= 2) & (rng.random(values.shape) < 0.33)
    comment_pick = rng.integers(0, len(COMMENTS), values.shape)
    comments = np.full(values.shape, None, dtype=object)
    comments[commented] = np.asarray(COMMENTS, dtype=object)[comment_pick[commented]]
    # One block per question: (response ids, question, values, texts, comments).
    blocks = [
        (
            response_ids,
            q,
            values[:, i].astype(object),
            np.full(size, None, dtype=object),
            comments[:, i],
        )
        for i, q in enumerate(ratings)
    ]
    for q in questionnaire.questions():
        if q.type == "choice":
            picks = rng.integers(0, len(q.choices), size)
            texts = np.asarray([c.code for c in q.choices], dtype=object)[picks]
            nothing = np.full(size, None, dtype=object)
            blocks.append((response_ids, q, nothing, texts, nothing))
        elif q.type == "text":
            some = response_ids[::10]
            nothing = np.full(len(some), None, dtype=object)
            blocks.append((some, q, nothing, np.full(len(some), FREE_TEXT, dtype=object), nothing))
    rid = np.concatenate([b[0] for b in blocks])
    qid = np.concatenate([np.full(len(b[0]), question_ids[b[1].code]) for b in blocks])
    code = np.concatenate([np.full(len(b[0]), b[1].code, dtype=object) for b in blocks])
    order = np.argsort(rid, kind="stable")  # a response's answers together, as the form stores
    columns = [rid, qid, code, *(np.concatenate([b[k] for b in blocks]) for k in (2, 3, 4))]
    return [[], *(c[order].tolist() for c in columns)]
