"""The only place where database rows become DataFrames for ``analysis``: a round's answer
frame, and the plain satisfaction table of ``flask analyse``."""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, or_, select

import analysis
from analysis.frames import SCALE_COLUMNS
from survey.extensions import db
from survey.models import (
    Answer,
    Question,
    RespondentGroup,
    Response,
    Round,
    Unit,
)
from survey.questionnaire_store import scale_from_json
from survey.results.cache import QUESTIONS


def answers_frame(round_: Round, after_id: int = 0, through_id: int | None = None) -> pd.DataFrame:
    """The tidy answer frame of a round (see analysis.frames): one query for the responses,
    one for the answers' numbers, one for the few answers with text and one for the version's
    questions; never a query per answer.

    ``after_id`` keeps only the responses with a higher id: the responses added since results
    were last computed (``survey.results.tally``), read by the primary key's range;
    ``through_id`` leaves out those with a higher id (that committed after the caller looked).

    Question attributes (code, category, served unit, type, the scale's ends and its
    satisfied and dissatisfied points) come from the round's questionnaire version by question
    id, so renaming nothing in a later version changes what an old round's answers mean.
    """
    bounds = _in_range(after_id, through_id)
    responses = _responses(round_.id, bounds)
    if responses.empty:
        return analysis.empty_frame()
    # The ids of the round's responses lie in this range: said to the database too, so that
    # reading a small round among big ones is a range of the answers' index, not a full scan.
    span = (int(responses.index.min()), int(responses.index.max()))
    response_id, question_id, value = _answer_numbers(round_.id, bounds, span)
    if len(response_id) == 0:
        return analysis.empty_frame()
    questions = _question_table(round_.version_id)
    # Positions instead of ids, so that every per-response or per-question column is a gather.
    row = responses.index.get_indexer(response_id)
    qpos = questions.index.get_indexer(question_id)
    # The columns gathered first and the frame made once: a column set at a time costs a
    # tenth of a millisecond each, which is most of the frame of a few new responses.
    columns: dict[str, Any] = {"round_id": np.full(len(row), round_.id), "response_id": response_id}
    for name in ("group", "unit", "source"):
        columns[name] = responses[name].array.take(row)
    for name in ("question", "category", "served_unit", "type"):
        columns[name] = questions[name].array.take(qpos)
    columns["value"] = value
    for name in SCALE_COLUMNS:
        columns[name] = questions[name].to_numpy(dtype="float64").take(qpos)
    positions = pd.Index(row * len(questions) + qpos)
    text, comment = _answer_texts(
        round_.id, bounds, span, positions, responses.index, questions.index
    )
    columns["text"], columns["comment"] = text.array, comment.array
    return analysis.answer_frame(pd.DataFrame(columns, copy=False))


def _in_range(after_id: int, through_id: int | None) -> tuple:
    """The conditions on Response.id of the responses wanted."""
    low = (Response.id > after_id,) if after_id else ()
    return low if through_id is None else (*low, Response.id <= through_id)


def _responses(round_id: int, ids: tuple) -> pd.DataFrame:
    """The round's responses by id: group and unit codes and source, as categoricals."""
    rows = plain_rows(
        select(Response.id, RespondentGroup.code, Unit.code, Response.source)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .outerjoin(Unit, Response.unit_id == Unit.id)
        .where(Response.round_id == round_id, *ids)
    )
    table = pd.DataFrame.from_records(rows, columns=["id", "group", "unit", "source"])
    for name in ("group", "unit", "source"):
        table[name] = table[name].astype("category")
    return table.set_index("id")


def _answer_numbers(
    round_id: int, bounds: tuple, span: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(response_id, question_id, value) of every answer of the round as numpy arrays."""
    query = (
        select(Answer.response_id, Answer.question_id, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.round_id == round_id, *bounds, Answer.response_id.between(*span))
    )
    array = number_rows(query, 3)
    return array[:, 0].astype("int64"), array[:, 1].astype("int64"), array[:, 2]


# Rows turned into numbers at a time: the tuples of one batch are freed before the next.
NUMBER_BATCH = 500_000


def number_rows(query: Select, columns: int) -> np.ndarray:
    """The rows of ``query``, whose columns are all numbers (NULL as NaN), as a float64 array
    of ``columns`` columns.

    A big round has twenty million answers, and SQLAlchemy's Row objects then cost more than
    the query itself; so the typed select runs on the DBAPI cursor of the session's own
    connection (same transaction), and the plain tuples go into numpy a batch at a time,
    flattened (``np.fromiter``: three times faster than ``np.array`` of the list of tuples,
    and never all the tuples at once). A binary COPY on PostgreSQL measured slower: psycopg
    hands it over a row at a time.
    """
    cursor = _plain_cursor(query)
    batches = []
    try:
        while rows := cursor.fetchmany(NUMBER_BATCH):
            flat = chain.from_iterable(rows)
            batches.append(np.fromiter(flat, dtype="float64", count=columns * len(rows)))
    finally:
        cursor.close()
    if not batches:
        return np.zeros((0, columns))
    return np.concatenate(batches).reshape(-1, columns)


def plain_rows(query: Select) -> list[tuple]:
    """All rows of ``query`` as plain tuples, read through the session's DBAPI connection in
    the session's transaction: for the few queries that return millions of rows, where each
    SQLAlchemy Row costs a microsecond or more (and pandas checks each for namedtuple
    fields)."""
    cursor = _plain_cursor(query)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _plain_cursor(query: Select) -> Any:
    """The DBAPI cursor of ``query`` executed on the session's connection, to read plain
    tuples from (``close`` closes the result). Executed by SQLAlchemy, whose cache of
    compiled statements spares compiling the few statements of a page again each time
    (0.2-0.5 ms each: more than reading a few new responses)."""
    return _RawRows(db.session.connection().execute(query))


class _RawRows:
    """A SQLAlchemy result read from its DBAPI cursor: rows as the driver gives them."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.fetchmany = result.cursor.fetchmany
        self.fetchall = result.cursor.fetchall

    def close(self) -> None:
        self.result.close()


def _answer_texts(
    round_id: int,
    bounds: tuple,
    span: tuple[int, int],
    positions: pd.Index,
    responses: pd.Index,
    questions: pd.Index,
) -> tuple[pd.Series, pd.Series]:
    """Text and comment columns aligned with the answer rows (most answers have neither).

    ``positions`` holds each answer row's response position x number of questions + question
    position; (response, question) is unique per answer, so it locates every text row.
    """
    rows = plain_rows(
        select(Answer.response_id, Answer.question_id, Answer.text, Answer.comment)
        .join(Response, Answer.response_id == Response.id)
        .where(
            Response.round_id == round_id,
            *bounds,
            Answer.response_id.between(*span),
            # The condition of the partial index ix_answer_written, as it is written there.
            or_(Answer.text.is_not(None), Answer.comment.is_not(None)),
        )
    )
    text = np.full(len(positions), None, dtype=object)
    comment = np.full(len(positions), None, dtype=object)
    if rows:
        table = pd.DataFrame.from_records(rows, columns=["response", "question", "text", "comment"])
        keys = responses.get_indexer(table["response"]) * len(questions) + questions.get_indexer(
            table["question"]
        )
        at = positions.get_indexer(keys)
        text[at] = table["text"].to_numpy(dtype=object)
        comment[at] = table["comment"].to_numpy(dtype=object)
    return pd.Series(text, dtype="str"), pd.Series(comment, dtype="str")


def _question_table(version_id: int) -> pd.DataFrame:
    """The version's questions by id (read-only): kept per process, since a round's version is
    frozen once the round is made, and reading it costs more than the answers of a few new
    responses (``cache.clear_cache`` forgets it)."""
    kept = QUESTIONS.get(version_id)
    if kept is None:
        kept = _read_question_table(version_id)
        QUESTIONS.put(version_id, kept)
    return kept


def _read_question_table(version_id: int) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for q in db.session.scalars(select(Question).where(Question.version_id == version_id)):
        scale = scale_from_json(q.scale) if q.scale else None
        records.append(
            {
                "question_id": q.id,
                "question": q.code,
                "category": q.category,
                "served_unit": q.served_unit,
                "type": q.type,
                "scale_min": scale.minimum if scale else None,
                "scale_max": scale.maximum if scale else None,
                # The scale's own top and bottom points: on 1, 3, 5, 7, 9 from 7 and up to 3.
                "satisfied_from": scale.satisfied_from if scale else None,
                "dissatisfied_to": scale.dissatisfied_to if scale else None,
            }
        )
    table = pd.DataFrame.from_records(records).set_index("question_id")
    for name in ("question", "category", "served_unit", "type"):
        table[name] = table[name].astype("category")  # once per version, not per frame
    return table


def lowest_first(table: pd.DataFrame) -> pd.DataFrame:
    """Items ordered by rate, lowest first (ties by question code), items without a rate last:
    the order of ``flask analyse``, the API and the dashboard."""
    return table.sort_values(["rate", "question"], na_position="last").reset_index(drop=True)
