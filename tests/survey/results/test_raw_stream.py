"""The raw export at any size: the fast path (``RawLayout.rows``, a chunk of responses at a time)
writes exactly what the straightforward export wrote, cell by cell, and never reads more than
one chunk of responses ahead of what it has handed out."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from survey import responses
from survey.extensions import db
from survey.models import Answer, RespondentGroup, Response, Unit, utcnow
from survey.results import exports, raw_fast, raw_store
from survey.spreadsheets import safe_cell
from tests.conditional import conditional_round, invite
from tests.survey.review.data import AUDIENCE, audience_round, fill


def _reference_csv(round_, lang: str) -> str:
    """The raw export as the release before the fast path wrote it: one response at a time,
    each cell through ``safe_cell`` (an anonymous round's rows put in ``shuffle_keys`` order
    and numbered, as since the review of issue 20)."""
    layout = exports.raw_layout(round_, lang)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(layout.header)
    rows = db.session.execute(
        select(Response.id, Response.submitted_at, Response.source, RespondentGroup.code, Unit.code)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .outerjoin(Unit, Response.unit_id == Unit.id)
        .where(Response.round_id == round_.id)
        .order_by(Response.id)
    ).all()
    if layout.shuffled:  # an anonymous round's: in the secret order, numbered
        keys = exports.shuffle_keys(np.array([r[0] for r in rows], dtype=np.int64), round_.id)
        rows = [rows[i] for i in np.argsort(keys, kind="stable")]
    for number, (rid, submitted, source, group, unit) in enumerate(rows, 1):
        given = {
            a.question_code: (a.value if a.value is not None else a.text, a.comment)
            for a in db.session.scalars(select(Answer).where(Answer.response_id == rid))
        }
        asked = layout.asked(group, given)
        if group in layout.merged:
            group, asked = layout.other_groups, None
        when = submitted.date() if layout.days_only else submitted.replace(microsecond=0)
        first = number if layout.shuffled else rid
        cells: list[Any] = [first, when, source, group] + ([unit] if layout.with_unit else [])
        for code in layout.questions:
            if asked is not None and code not in asked:
                cells += [exports.NOT_ASKED] * (2 if code in layout.comments else 1)
                continue
            value, comment = given.get(code, (None, None))
            cells += [value] + ([comment] if code in layout.comments else [])
        writer.writerow(["" if c is None else safe_cell(c if isinstance(c, int) else str(c))
                         for c in cells])  # fmt: skip
    return "\ufeff" + out.getvalue()


def _conditional(office_version):
    round_ = conditional_round(office_version)
    for group, answers, comments in (
        ("departments", {"used_meetings": "no", "overall": 4, "mtg_rating": 3}, {}),
        ("departments", {"used_meetings": "yes", "mtg_rating": 5, "overall": 5}, {}),
        ("mayors", {"used_meetings": "yes", "mtg_rating": 1, "mtg_rooms": 4},
         {"mtg_rating": "=cmd|' /C calc'!A0"}),
    ):  # fmt: skip
        invitation = invite(round_, group)
        responses.submit(invitation, answers, comments, f"k-{invitation.id}", utcnow())
    return round_


@pytest.fixture(params=["named", "anonymous", "other groups", "conditions"])
def varied_round(request, known_round, make_round, answer, office_version):
    """Rounds that exercise every rule of the raw export: units and formulas (named), days
    only (anonymous), groups merged into "other groups", and questions hidden by answers."""
    if request.param == "named":
        return known_round
    if request.param == "anonymous":
        return fill(make_round(anonymous=True), answer)
    if request.param == "other groups":
        audience = {**AUDIENCE, "congress": 1}
        return audience_round(make_round, audience=audience, anonymity_threshold=2)
    return _conditional(office_version)


@pytest.mark.parametrize("chunk", [1, 2, 1000])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_streamed_export_is_the_one_written_before(app, varied_round, monkeypatch, chunk, lang):
    monkeypatch.setattr(exports, "CHUNK", chunk)
    monkeypatch.setattr(raw_fast, "CHUNK", chunk)
    monkeypatch.setattr(raw_store, "PAGE", chunk)  # the packed rows' pages
    with app.test_request_context():
        expected = _reference_csv(varied_round, lang)
        streamed = "".join(exports.answers_csv(varied_round, lang))
    assert streamed == expected
    assert expected.count("\n") > 2  # a header and rows: the comparison compared something


def test_a_chunk_leaves_before_the_next_is_read(app, known_round, monkeypatch):
    """Bounded memory: each read asks for at most CHUNK responses, and the first rows are
    handed out when one chunk has been read, not after the whole round."""
    monkeypatch.setattr(raw_fast, "CHUNK", 3)
    monkeypatch.setattr(raw_store, "PAGE", 3)  # the packed rows' pages
    reads = []
    real = raw_fast.read_chunk

    def counted(fast, ids):
        reads.append(len(ids))
        return real(fast, ids)

    monkeypatch.setattr(raw_fast, "read_chunk", counted)
    with app.test_request_context():
        stream = exports.answers_csv(known_round, "en")
        next(stream)  # the header
        first = next(stream)
        assert len(reads) == 1 and first.count("\n") == 3
        rest = list(stream)
    assert max(reads) <= 3 and len(reads) == 4 and sum(c.count("\n") for c in rest) == 7


def test_a_response_added_while_streaming_is_in_a_later_chunk(
    app, known_round, answer, monkeypatch
):
    """Keyset paging: later chunks are queried when reached, so they see the round as it is
    then (nothing was read ahead into memory)."""
    monkeypatch.setattr(raw_fast, "CHUNK", 3)
    monkeypatch.setattr(raw_store, "PAGE", 3)  # the packed rows' pages
    with app.test_request_context():
        stream = exports.answers_csv(known_round, "en")
        next(stream), next(stream)
        answer(known_round, "departments", {"doc_timeliness": 2})
        rows = sum(chunk.count("\n") for chunk in stream)
    assert rows == 7 + 1


def test_progress_counts_the_rows_written(app, known_round, monkeypatch):
    monkeypatch.setattr(raw_fast, "CHUNK", 4)
    monkeypatch.setattr(raw_store, "PAGE", 4)  # the packed rows' pages
    told = []
    with app.test_request_context():
        list(
            exports.answers_csv(
                known_round, "en", progress=lambda n, total: told.append((n, total))
            )
        )
    assert told == [(4, 10), (8, 10), (10, 10)]


def test_a_chunk_s_answers_are_read_in_order_without_a_sort(app, known_round, monkeypatch):
    """The answers' query walks the indexes in response order: on SQLite a sort of every
    chunk's answers (a temporary B-tree) cost a fifth of the query's time."""
    queries = []
    real = exports.plain_rows

    def planned(query):
        queries.append(query)
        return real(query)

    monkeypatch.setattr(exports, "plain_rows", planned)
    with app.test_request_context():
        answers = exports._answers_of(0, 10**9, known_round.id)
        if db.engine.dialect.name == "sqlite":
            compiled = queries[0].compile(dialect=db.engine.dialect)
            params = tuple(compiled.params[name] for name in compiled.positiontup)
            plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            steps, sort = [row[-1] for row in plan], "TEMP B-TREE"
        else:  # PostgreSQL: a few rows, so keep it from reading whole tables instead
            compiled = queries[0].compile(
                dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}
            )
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            steps = [row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}"))]
            sort = "Sort  "
    assert answers and [a[0] for a in answers] == sorted(a[0] for a in answers)
    assert not any(sort in step for step in steps), steps
