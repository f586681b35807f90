"""On PostgreSQL, the queries the review pages and the exports run on a round find its
responses, answers and invitations through an index, not by reading the whole tables (issue 20).

A test round has a few rows, and on so few the planner rightly reads whole tables; so the plans
are asked for with ``enable_seqscan`` off. A sequential scan then costs 10^10 and stays in a
plan only where no index can answer the query at all. That alone is not enough: an index walked
from end to end (the primary key scanned backwards and filtered by round, as PostgreSQL finds a
round's highest response id with an index on round_id alone) reads the whole table as surely.
So each scan of response or invitation must be an index scan whose condition names the round
(or the one row asked for by id), and each scan of answer one whose condition names the
responses. Plans only, never times: the figures at a million responses are bench/run.py's.

Runs on a scratch PostgreSQL database of its own, in the SQLite run of the suite too: CI has
the server, so there its absence fails the test; elsewhere it is skipped, saying so
(tests/system.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select, text

from survey import rounds
from survey.extensions import db
from survey.models import Answer, Response
from survey.results import exports, frames, round_results
from survey.results.cache import data_versions
from survey.results.comments import comments_query
from tests.conftest import _migrate, _truncate_all
from tests.ops.runbook import scratch_postgres

# Which column an index condition must name, per table read.
KEYS = {"response": ("round_id", "(id ="), "invitation": ("round_id",), "answer": ("response_id",)}


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    with scratch_postgres("indexes") as url:
        sqlalchemy_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        _migrate(sqlalchemy_url)
        yield sqlalchemy_url


@pytest.fixture
def database_url(postgres_database: str) -> Iterator[str]:
    """The app fixture (tests/conftest.py) on the scratch PostgreSQL database."""
    yield postgres_database
    _truncate_all(postgres_database)


@pytest.fixture
def statements(app, monkeypatch) -> list[tuple[str, object]]:
    """Every SELECT sent while the test runs, with its parameters: through SQLAlchemy, and the
    big reads that survey.results sends on the DBAPI cursor."""
    seen: list[tuple[str, object]] = []

    def note(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    plain_cursor = frames._plain_cursor

    def noted_cursor(query):
        compiled = query.compile(dialect=db.session.connection().dialect)
        seen.append((str(compiled), compiled.params))
        return plain_cursor(query)

    monkeypatch.setattr(frames, "_plain_cursor", noted_cursor)
    event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine, "before_cursor_execute", note)


def plan_of(statement: str, parameters: object) -> dict:
    cursor = db.session.connection().connection.cursor()
    try:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        found = cursor.fetchone()[0]
    finally:
        cursor.close()
    return (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]


def scans(plan: dict) -> Iterator[dict]:
    """The plan's nodes that read a table, each with the index condition that finds its rows
    (a bitmap heap scan's is its bitmap index scan's)."""
    if "Relation Name" in plan:
        condition = plan.get("Index Cond", "")
        for child in plan.get("Plans", []):
            if child["Node Type"] == "Bitmap Index Scan":
                condition += child.get("Index Cond", "")
        yield {**plan, "Condition": condition}
    for child in plan.get("Plans", []):
        yield from scans(child)


def table_reads(found: list[tuple[str, object]]) -> list[tuple[str, dict]]:
    """(statement, scan) of every scan of response, answer or invitation in their plans."""
    reads = []
    for statement, parameters in found:
        for scan in scans(plan_of(statement, parameters)):
            if scan["Relation Name"] in KEYS:
                reads.append((statement, scan))
    return reads


def unindexed(reads: list[tuple[str, dict]]) -> list[str]:
    return [
        f"{scan['Node Type']} on {scan['Relation Name']} ({scan.get('Index Name')}, "
        f"condition {scan['Condition']!r}, filter {scan.get('Filter')!r}) in:\n{statement}"
        for statement, scan in reads
        if not any(key in scan["Condition"] for key in KEYS[scan["Relation Name"]])
    ]


def test_the_dashboard_reads_a_round_through_indexes(two_rounds, statements):
    before, round_ = two_rounds
    round_results(round_)
    rounds.progress_of(round_)
    rounds.progress_by_group(round_)
    last = max(db.session.scalars(select(Response.id).where(Response.round_id == round_.id)))
    frames.answers_frame(round_, after_id=last - 1)  # the delta of new responses
    data_versions([before.id, round_.id])

    reads = table_reads(statements)
    assert {scan["Relation Name"] for _, scan in reads} == set(KEYS)
    assert unindexed(reads) == []
    # A round's count and highest response id come from the (round_id, id) index alone.
    versions = [s for s, scan in reads if "max(response.id)" in s]
    assert versions
    assert all(
        scan["Index Name"] == "ix_response_round_id_id"
        for s, scan in reads
        if "max(response.id)" in s and scan["Relation Name"] == "response"
    )
    # The few answers with text or a comment are read from their partial index.
    texts = [scan for s, scan in reads if "answer.text IS NOT NULL" in s]
    assert texts
    assert {scan["Index Name"] for scan in texts if scan["Relation Name"] == "answer"} == {
        "ix_answer_written"
    }


def test_the_raw_export_and_the_comments_read_a_round_through_indexes(two_rounds, statements):
    _, round_ = two_rounds
    rows = list(exports.raw_rows(round_, exports.raw_layout(round_)))
    comments = db.session.scalars(comments_query(round_).limit(20)).all()
    assert rows and comments

    reads = table_reads(statements)
    assert {"response", "answer"} <= {scan["Relation Name"] for _, scan in reads}
    assert unindexed(reads) == []


def test_comments_are_listed_when_answer_ids_pass_two_hundred_seventy_thousand(
    app, make_round, answer
):
    # Comments were shuffled by (id * 7919) % 10007 (now a keyed permutation in 64-bit integers,
    # survey.results.secret_order): in 32-bit integers (PostgreSQL's integer
    # column) the product overflows from id 271,183 on, and the query failed.
    db.session.execute(text("ALTER SEQUENCE answer_id_seq RESTART WITH 300000"))
    db.session.commit()
    round_ = make_round()
    answer(round_, "departments", {"doc_timeliness": 1}, {"doc_timeliness": "太慢"})
    answer(round_, "departments", {"doc_timeliness": 2}, {"doc_timeliness": "不及时"})

    listed = db.session.scalars(comments_query(round_)).all()

    assert sorted(a.comment for a in listed) == ["不及时", "太慢"]
    assert min(a.id for a in listed) >= 300_000
    assert db.session.scalar(select(Answer.id).order_by(Answer.id.desc())) >= 300_000
