"""The numpy assembly of the raw CSV (``survey.results.raw_fast``) writes the exact path's bytes
(``RawLayout.rows`` through csv.writer, as the export wrote before it) on generated rounds:
numbers, choices, free texts and comments with formulas, quotes, commas and line breaks,
skipped questions, answers to questions a group was not asked, responses of another round
between the round's own, named and anonymous rounds, merged groups and conditions."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from survey.extensions import db
from survey.models import Answer, Question, RespondentGroup, Response, Round, Unit, utcnow
from survey.results import exports, raw_fast
from tests.conditional import conditional_round

TEXTS = (
    "=1+1",
    "+86 575",
    "-3",
    "@SUM(A1)",
    "＝1",
    '=HYPERLINK("http://evil.test","click")',
    "a, b",
    'say "hi"',
    "line\nbreak",
    "cr\rhere",
    "\tindented",
    "会议纪要下发太慢，影响贯彻落实。",
    "",
    "plain",
)


def _exact_csv(round_: Round, lang: str) -> str:
    """The export as the exact path writes it: ``raw_chunks`` through csv.writer."""
    round_ = db.session.get(Round, round_.id)
    layout = exports.raw_layout(round_, lang)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(layout.header)
    for chunk in exports.raw_chunks(round_, layout):
        writer.writerows(chunk)
    return "\ufeff" + out.getvalue()


def _generate(round_: Round, other: Round, count: int, seed: int, anonymous: bool) -> None:
    """`count` responses of random groups with random answers to every question of the
    version (some skipped, some to questions the group is not asked), and a response of
    `other` after every third one, so that the round's ids have gaps."""
    rng = random.Random(seed)
    questions = db.session.execute(
        select(Question.id, Question.code, Question.type).where(
            Question.version_id == round_.version_id
        )
    ).all()
    groups = db.session.scalars(select(RespondentGroup)).all()
    units = {g.id: db.session.scalars(select(Unit.id).where(Unit.group_id == g.id)).all()
             for g in groups}  # fmt: skip
    now = utcnow()
    for k in range(count):
        for target in (round_, other) if k % 3 == 0 else (round_,):
            group = rng.choice(groups)
            unit = None if anonymous or not units[group.id] else rng.choice(units[group.id])
            response = Response(
                round_id=target.id,
                submission_key=f"g-{seed}-{k}-{target.id}",
                group_id=group.id,
                unit_id=unit if target is round_ else None,
                source=rng.choice(["web", "paper", "meeting"]),
                submitted_at=now - timedelta(seconds=rng.randrange(10**6), microseconds=k),
            )
            db.session.add(response)
            db.session.flush()
            for qid, code, kind in questions:
                if rng.random() < 0.15:
                    continue  # skipped
                value = text = comment = None
                if kind in ("rating", "nps", "number"):
                    # An anonymous round's results are computed (its small groups): in scale.
                    odd = [] if anonymous else [0, 40000, 123456, -7, None]
                    value = rng.choice([1, 2, 3, 4, 5, *odd])
                    if value is None:
                        text = rng.choice(TEXTS)  # stored oddly: a text where a number goes
                elif kind in ("choice", "multi", "text"):
                    text = rng.choice(TEXTS + ("yes", "no", "a,b"))
                if rng.random() < 0.3:
                    comment = rng.choice(TEXTS)
                db.session.add(
                    Answer(
                        response_id=response.id,
                        question_id=qid,
                        question_code=code,
                        value=value,
                        text=text,
                        comment=comment,
                    )
                )
    db.session.commit()


@pytest.fixture(params=["named", "anonymous", "conditions"])
def generated_round(request, make_round, office_version):
    if request.param == "conditions":
        round_ = conditional_round(office_version)
        other = make_round(name="other")
        _generate(round_, other, 60, 3, anonymous=False)
        return round_
    anonymous = request.param == "anonymous"
    # An anonymous round without invitations: every group is merged ("other groups").
    round_ = make_round(anonymous=anonymous, anonymity_threshold=1)
    other = make_round(name="other")
    _generate(round_, other, 60, 1 if anonymous else 2, anonymous=anonymous)
    return round_


@pytest.mark.parametrize("chunk", [1, 7, 10_000])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_fast_export_writes_the_exact_path_s_bytes(
    app, generated_round, monkeypatch, chunk, lang
):
    monkeypatch.setattr(raw_fast, "CHUNK", chunk)
    with app.test_request_context():
        expected = _exact_csv(generated_round, lang)
        fast = "".join(exports.answers_csv(generated_round, lang))
    assert fast == expected
    assert expected.count("\n") > 60  # the rows were there to compare
    assert "'=1+1" in expected
    assert "n/a" in expected or generated_round.anonymous  # merged rows: every item asked


def test_merged_groups_and_formulas_are_in_the_generated_anonymous_round(app, make_round):
    """The generated anonymous round exercises what it should: merged groups, row numbers."""
    round_ = make_round(anonymous=True, anonymity_threshold=1)
    _generate(round_, make_round(name="other"), 30, 5, anonymous=True)
    with app.test_request_context():
        layout = exports.raw_layout(round_, "en")
        text = "".join(exports.answers_csv(round_, "en"))
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert layout.merged and rows[0][0] == "row"
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, 31)]
    assert {r[3] for r in rows[1:]} == {layout.other_groups}


def test_a_chunk_s_answers_are_read_through_the_responses_index(app, known_round):
    """The chunk's queries range over response ids: with the index on question_id at hand,
    SQLite read every answer to the version's questions for each chunk instead (a million
    responses: minutes, not seconds). Each database is asked for its own plan."""
    dialect = db.engine.dialect.name
    where = "response_id BETWEEN :first AND :last" + raw_fast._QUESTIONS
    params = {"first": 1, "last": 10, "base": 1, "top": 50}
    for sql in (
        raw_fast._numbers_sql(dialect, where),
        raw_fast._texts_sql(dialect, where, "text"),
        raw_fast._texts_sql(dialect, where, "comment"),
    ):
        if dialect == "sqlite":
            # sqlite3 takes the :name parameters as they are.
            plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            steps = " ".join(row[-1] for row in plan)
            assert "response_id>" in steps and "question_id" not in steps, steps
        else:
            # A tiny table is scanned whatever its indexes: which index would serve is asked
            # with sequential scans off.
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = db.session.execute(text(f"EXPLAIN {sql}"), params)
            steps = " ".join(row[0] for row in plan)
            assert "response_id >=" in steps and "ix_answer_question_id" not in steps, steps
        db.session.rollback()


@pytest.mark.parametrize("with_unit", [False, True])
@pytest.mark.parametrize("given", [None, "", "x"])
def test_exact_cells_are_the_exact_line_s_after_its_facts(with_unit, given):
    """The packed cells of a row the exact path makes (``raw_store``) follow the facts the
    export writes: csv.writer quotes a row of one empty field (``""``), which a line of one
    question left empty does not hold after its facts."""
    layout = exports.RawLayout(with_unit=with_unit, questions=("q1",), comments=())
    when = utcnow()
    responses = [(7, when, "web", "g", "u" if with_unit else None)]
    answers = [] if given is None else [(7, "q1", None, given, None)]
    line = raw_fast.exact_lines(layout, responses, answers)[7]
    facts = 5 if with_unit else 4
    head = line.split(",")[:facts]
    cells = raw_fast.exact_cells(layout, responses, answers)[7]
    assert f"{','.join(head)},{cells}\r\n" == line


@pytest.mark.parametrize("days_only", [False, True])
def test_time_cells_are_the_exact_path_s_for_any_stored_text(days_only):
    """SQLite's text as stored by another writer than SQLAlchemy (no seconds, a "T", an
    offset, no fraction) reads as the exact path writes it: str() of the parsed time."""
    stored = [
        "2026-12-01 10:00:00.123456",
        "2026-12-01 10:00:00",
        "2026-12-01 10:00",
        "2026-12-01T10:00:00",
        "2026-12-01 10:00:00+08:00",
    ]
    for value in stored:
        assert raw_fast._times([value], days_only) == [raw_fast._when(value, days_only)], value
    assert raw_fast._times(stored, days_only) == [raw_fast._when(v, days_only) for v in stored]


@pytest.mark.parametrize("stored", ["2.5", "'7 points'"])
def test_a_value_that_is_not_an_integer_sends_its_chunk_to_the_exact_path(app, make_round, stored):
    """SQLite keeps a REAL or a text in the INTEGER column as given (data written by another
    hand than the app's): numpy cannot parse the chunk's numbers, and the chunk's lines are
    the exact path's, not an error. PostgreSQL refuses such a value or rounds it: its export
    is the exact path's all the same."""
    assert raw_fast._parse(f"1,{stored},3") is None and list(raw_fast._parse("1,2,3")) == [1, 2, 3]
    round_ = make_round()
    _generate(round_, make_round(name="other"), 12, 4, anonymous=False)
    with app.test_request_context():
        last = db.session.scalar(
            select(Answer.id)
            .join(Response)
            .where(Response.round_id == round_.id, Answer.value.is_not(None))
            .order_by(Answer.id.desc())
        )
        try:
            db.session.execute(text(f"UPDATE answer SET value = {stored} WHERE id = {last}"))
            db.session.commit()
        except DBAPIError:
            assert db.engine.dialect.name == "postgresql"  # SQLite keeps whatever it is given
            db.session.rollback()
        if db.engine.dialect.name == "postgresql":  # refused, or rounded to an integer
            assert isinstance(db.session.get(Answer, last).value, int)
        expected = _exact_csv(round_, "en")
        assert "".join(exports.answers_csv(round_, "en")) == expected
