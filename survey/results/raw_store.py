"""Packed raw lines: each response's answer cells of the raw answers CSV kept in one row
(table ``raw_line``), so that the export reads one row per response instead of its ~20 answers.

At a million responses (18 million answers) reading the answers is most of the export's time
whatever assembles them (``raw_fast``: SQLite needs about 3 s to scan them and 6 s to join their
numbers into strings): the packed rows are one read of a million short texts.

A cache, filled the way one is (``fold``): the worker's export of a round first packs the
responses that have no packed row yet, or a stale one, through the exact bytes of ``raw_fast``
(``row_cells``), a chunk at a time in short write transactions; submitting writes nothing more,
so the respondent's submit does not pay for it. The export (``csv_chunks``) uses a packed row
only when its ``stamp`` is the one the response's group has now: a hash of this code (the
sources that make the cells), the questionnaire version (its digest and questions, with their
comment columns) and the group's plan (which cells are ``NOT_ASKED``). Any other row (missing,
stale, of a group an anonymous round merges into "other groups", whose cells differ) is made
from its answers as before, so the bytes are always those of the exact path
(tests/survey/results/test_raw_store.py). A response deleted takes its row with it (ON DELETE
CASCADE); a submission's answers are inserted with their response (``survey.responses``), and
an answer added, changed or deleted through the ORM drops its response's row (``_forget``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite

from questionnaires import QUESTION_TYPES, conditions
from questionnaires import model as qm
from survey import read_ahead, spreadsheets
from survey.database import begin_write
from survey.extensions import db
from survey.models import (
    RESPONSE_SOURCES,
    Answer,
    RawLine,
    RespondentGroup,
    Response,
    Round,
    Unit,
)
from survey.results import exports, raw_fast
from survey.results.frames import plain_rows
from survey.spreadsheets import safe_text

# Responses read a page: about 200 bytes of text each.
PAGE = 20_000


@cache
def code_digest() -> bytes:
    """A hash of the code that decides a packed row's bytes (how the cells are made and
    quoted, which questions a response was asked): a release that changes it makes every row
    stale, rebuilt by the next worker export. Not the rest of ``exports``: a change to the
    summary tables leaves the rows be."""
    digest = hashlib.sha256()
    for source in (
        Path(raw_fast.__file__).read_text(encoding="utf-8"),
        inspect.getsource(exports.RawLayout),
        inspect.getsource(spreadsheets.safe_text),
        repr(sorted(spreadsheets.FIRST_CHARACTERS)),  # a set: its repr varies by process
        Path(conditions.__file__).read_text(encoding="utf-8"),
        # Which questions a group is asked, and which types' answers hold several codes.
        inspect.getsource(qm.Questionnaire.for_group),
        inspect.getsource(qm.Question.shown_to),
        repr(sorted((name, kind.multiple) for name, kind in QUESTION_TYPES.items())),
        Path(__file__).read_text(encoding="utf-8"),
    ):
        digest.update(source.encode())
    return digest.digest()


def packing_layout(layout: exports.RawLayout) -> exports.RawLayout:
    """`layout` with no group merged into "other groups": the cells a packed row holds (a
    merged group's rows are made afresh). Its own caches: a plan depends on ``merged``."""
    return replace(layout, merged=frozenset(), _asked={}, _plans={})


class Stamps:
    """The stamp a packed row of each group of the round must carry to be used."""

    def __init__(self, round_: Round, layout: exports.RawLayout) -> None:
        self.layout = packing_layout(layout)
        self.merged = layout.merged
        version = round_.version
        self.base = [version.id, version.digest, self.layout.questions, self.layout.comments]
        self.by_group: dict[str, int | None] = {}

    def expected(self, group: str) -> int | None:
        """The group's stamp; None for a group whose rows are never read packed (merged)."""
        if group not in self.by_group:
            self.by_group[group] = None if group in self.merged else self.stamp(group)
        return self.by_group[group]

    def stamp(self, group: str) -> int:
        plan = self.layout.plan(group)
        marks = None if plan is None else [c is not None for c in plan.cells]
        text = json.dumps([*self.base, group, marks], ensure_ascii=False)
        digest = hashlib.blake2b(code_digest() + text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)  # a bigint of either database


def _fast(round_: Round, layout: exports.RawLayout) -> raw_fast.FastLayout | None:
    """The layout's token grid, when rows can be packed at all (else the export goes on as it
    did without the store: ``exports._csv_chunks``)."""
    fast = raw_fast.FastLayout(layout, round_)
    return fast if fast.usable and fast.width else None


def _exact(layout: exports.RawLayout, responses: list[tuple]) -> Callable[[list[int]], dict]:
    def cells(ids: list[int]) -> dict[int, str]:
        wanted = set(ids)
        chosen = [r for r in responses if r[0] in wanted]
        return raw_fast.exact_cells(layout, chosen, exports._answers_in(sorted(wanted)))

    return cells


def make_cells(fast: raw_fast.FastLayout, responses: list[tuple]) -> list[str]:
    """The answer cells of `responses` (the facts, in id order) from their answers."""
    answers = raw_fast.read_chunk(fast, [r[0] for r in responses])
    return raw_fast.row_cells(fast, responses, answers, _exact(fast.layout, responses))


def fold(round_: Round, progress: Callable[[int, int], None] | None = None) -> int:
    """Pack the round's responses that have no packed row or a stale one; how many were
    packed. Each chunk is a write transaction of its own (SQLite's lock is held briefly);
    ``progress(packed, to_pack)`` is told after each."""
    layout = exports.raw_layout(round_, merging=False)
    fast = _fast(round_, layout)
    if fast is None:
        return 0
    stamps = Stamps(round_, layout)
    # The database picks the rows to pack: a million checked in Python took a second.
    mark = ":round_id" if db.session.connection().dialect.name == "sqlite" else "%(round_id)s"
    sql = (
        "SELECT r.id FROM response r LEFT JOIN raw_line l ON l.response_id = r.id"
        f" WHERE r.round_id = {mark} AND NOT coalesce(l.stamp = {_stamp_case(stamps)}, FALSE)"
        " ORDER BY r.id"
    )
    missing = _ids(sql, {"round_id": round_.id})
    db.session.commit()  # the reads' transaction ends before the writes
    packed = 0
    for start in range(0, len(missing), raw_fast.CHUNK):
        ids = missing[start : start + raw_fast.CHUNK].tolist()
        responses = plain_rows(exports._facts().where(Response.id.in_(ids)).order_by(Response.id))
        if responses:  # else deleted since
            cells = make_cells(fast, responses)
            rows = [
                {"response_id": r[0], "stamp": stamps.expected(r[3]), "cells": c}
                for r, c in zip(responses, cells, strict=True)
            ]
            connection = begin_write(db.session)
            connection.execute(delete(RawLine).where(RawLine.response_id.in_(ids)))
            connection.execute(_replacing(connection.dialect.name), rows)
            db.session.commit()
            packed += len(rows)
        if progress:
            progress(start + len(ids), len(missing))
    return packed


def _replacing(dialect: str):
    """The insert of packed rows that replaces a row of the same response: another packing of
    the round at once (the worker's other thread) may insert it after this one's delete, on
    PostgreSQL unseen by that delete until it commits (SQLite's write lock orders the two)."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RawLine)
    return statement.on_conflict_do_update(
        index_elements=[RawLine.response_id],
        set_={"stamp": statement.excluded.stamp, "cells": statement.excluded.cells},
    )


def csv_chunks(round_: Round, layout: exports.RawLayout) -> Iterator[tuple[int, str]] | None:
    """The raw CSV's lines after the header a page at a time, with their number, from the
    packed rows (and the answers of the rows without a usable one); None when the layout
    cannot be packed (``_fast``)."""
    fast = _fast(round_, layout)
    if fast is None:
        return None
    return _lines(round_, layout, fast)


def _packed():
    return (
        select(
            Response.id,
            Response.submitted_at,
            Response.source,
            RespondentGroup.code,
            Unit.code,
            RawLine.stamp,
            RawLine.cells,
        )
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .outerjoin(Unit, Response.unit_id == Unit.id)
        .outerjoin(RawLine, RawLine.response_id == Response.id)
    )


def _lines(
    round_: Round, layout: exports.RawLayout, fast: raw_fast.FastLayout
) -> Iterator[tuple[int, str]]:
    stamps = Stamps(round_, layout)
    tails: dict[tuple, str] = {}

    def tail(source: str, group: str, unit: str | None) -> str:
        """The cells between the time and the answers (source, group, unit), as the exact
        path writes them."""
        shown = layout.other_groups if group in layout.merged else group
        cells = [raw_fast.csv_field(safe_text(source)), raw_fast.csv_field(safe_text(shown))]
        if layout.with_unit:
            cells.append("" if unit is None else raw_fast.csv_field(safe_text(unit)))
        return ",".join(cells)

    def made(rows: list[tuple], labels: list[Any]) -> list[str]:
        """The lines of `rows` (``_packed``'s) with their `labels` (ids or numbers): the
        packed cells where their stamp is current, else cells made from the answers."""
        cells = [r[6] for r in rows]
        stale = [i for i, r in enumerate(rows) if r[5] is None or r[5] != stamps.expected(r[3])]
        if stale:
            fresh = make_cells(fast, [rows[i][:5] for i in stale])
            for i, c in zip(stale, fresh, strict=True):
                cells[i] = c
        times = raw_fast._times([r[1] for r in rows], layout.days_only)
        for r in rows:
            if r[2:5] not in tails:
                tails[r[2:5]] = tail(*r[2:5])
        return [
            f"{label},{when},{tails[r[2:5]]},{c}\r\n"
            for label, when, r, c in zip(labels, times, rows, cells, strict=True)
        ]

    def mend(lines: list[str], number_of: dict[int, int] | None = None) -> str:
        """The page's text from the database's lines (``_sql_lines``), the lines it left to
        Python (``STALE`` and the response id: no current packed row, an odd code or time)
        made by ``made``."""
        text = "".join(lines)
        if STALE not in text:
            return text
        at = {int(line[1:]): i for i, line in enumerate(lines) if line[:1] == STALE}
        rows = plain_rows(_packed().where(Response.id.in_(sorted(at))).order_by(Response.id))
        labels = [number_of[r[0]] if number_of else r[0] for r in rows]
        for r, line in zip(rows, made(rows, labels), strict=True):
            lines[at[r[0]]] = line
        return "".join(lines)

    sql = _sql_lines(round_, layout, stamps)
    if layout.shuffled and sql is None:
        secret = exports._shuffled_ids(round_)
        for start in range(0, len(secret), PAGE):
            number_of = {
                rid: n for n, rid in enumerate(secret[start : start + PAGE].tolist(), start + 1)
            }
            rows = plain_rows(
                _packed().where(Response.id.in_(sorted(number_of))).order_by(Response.id)
            )
            numbered = [number_of[r[0]] for r in rows]
            order = np.argsort(numbered, kind="stable").tolist()
            lines = made(rows, numbered)
            if lines:  # else all deleted since the ids were read
                yield len(lines), "".join(lines[i] for i in order)
        return
    if layout.shuffled:
        yield from _in_secret_order(round_, sql, made)
        return
    if sql is not None:
        for lines in _pages(sql):
            yield len(lines), mend(lines)
        return
    last = 0
    while True:
        rows = plain_rows(
            _packed()
            .where(Response.round_id == round_.id, Response.id > last)
            .order_by(Response.id)
            .limit(PAGE)
        )
        if not rows:
            return
        yield len(rows), "".join(made(rows, [r[0] for r in rows]))
        last = rows[-1][0]


def _in_secret_order(
    round_: Round, sql: _Sql, made: Callable[[list[tuple], list[Any]], list[str]]
) -> Iterator[tuple[int, str]]:
    """An anonymous round's lines in the order of ``shuffle_keys``, numbered from 1 by their
    place in it. Read in id order (one range a page, as a named round's: reading them in the
    secret order was a random read per response, 10 to 30 s at a million), each line goes to
    the temporary file of its page of the secret order, with its place and length; each file
    is then read back and its lines put in order. Held: the sorted keys (8 bytes a response),
    each line's place and length (8 bytes) and a page of lines."""
    keys = exports.shuffle_keys(_round_ids(round_), round_.id)
    if not len(keys):
        return
    # A response's place in the secret order (``exports._shuffled_ids``'s) is its key's rank:
    # keys are distinct (the mix is a bijection of ids).
    keys.sort()
    pages = (len(keys) + PAGE - 1) // PAGE
    places: list[list[np.ndarray]] = [[] for _ in range(pages)]
    sizes: list[list[np.ndarray]] = [[] for _ in range(pages)]
    with tempfile.TemporaryDirectory(prefix="raw-order-") as folder:
        files = [
            open(Path(folder) / str(k), "w", encoding="utf-8", newline="")  # noqa: SIM115
            for k in range(pages)
        ]
        try:
            for rows in _pages(sql, columns=2):
                # The id, negative for a line left to Python (``_sql_lines``).
                marked = np.fromiter(map(itemgetter(0), rows), dtype=np.int64, count=len(rows))
                ids = np.abs(marked)
                mine = exports.shuffle_keys(ids, round_.id)
                at = np.minimum(np.searchsorted(keys, mine), len(keys) - 1)
                # Else answered after the order was read: not in this download.
                kept = np.flatnonzero(keys[at] == mine)
                place = at[kept]
                lines = [rows[i][1] for i in kept.tolist()]
                numbers = (place + 1).tolist()
                stale = np.flatnonzero(marked[kept] < 0).tolist()
                if stale:
                    facts = plain_rows(
                        _packed()
                        .where(Response.id.in_(ids[kept[stale]].tolist()))
                        .order_by(Response.id)
                    )
                    for k, line in zip(
                        stale, made(facts, [numbers[k] for k in stale]), strict=True
                    ):
                        lines[k] = line[len(str(numbers[k])) :]  # numbered below
                page = place // PAGE
                by_page = np.argsort(page, kind="stable")
                lines = [f"{numbers[i]}{lines[i]}" for i in by_page.tolist()]
                size = np.fromiter(map(len, lines), dtype=np.int32, count=len(lines))
                bounds = np.searchsorted(page[by_page], np.arange(pages + 1)).tolist()
                for k in range(pages):
                    a, b = bounds[k], bounds[k + 1]
                    if a < b:
                        files[k].write("".join(lines[a:b]))
                        places[k].append((place[by_page[a:b]] - k * PAGE).astype(np.int32))
                        sizes[k].append(size[a:b])
        finally:
            for f in files:
                f.close()
        for k in range(pages):
            if not places[k]:
                continue  # all deleted since the ids were read
            with open(Path(folder) / str(k), encoding="utf-8", newline="") as f:
                text = f.read()  # newline="": its "\r\n" and lone "\r" as written
            size = np.concatenate(sizes[k]).astype(np.int64)
            ends = np.cumsum(size)
            order = np.argsort(np.concatenate(places[k]), kind="stable")
            starts, stops = (ends - size)[order].tolist(), ends[order].tolist()
            yield len(order), "".join([text[a:b] for a, b in zip(starts, stops)])
            places[k] = sizes[k] = []


def _round_ids(round_: Round) -> np.ndarray:
    """The round's response ids in order."""
    mark = ":round_id" if db.session.connection().dialect.name == "sqlite" else "%(round_id)s"
    sql = f"SELECT id FROM response WHERE round_id = {mark} ORDER BY id"
    return _ids(sql, {"round_id": round_.id})


def _ids(sql: str, params: dict[str, Any]) -> np.ndarray:
    """The ids `sql` selects, read through a DBAPI cursor a batch at a time: the ORM's
    buffered rows of a million ids took 1.6 s and 140 MB, a list of them 80 MB."""
    cursor = db.session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        batches = []
        while batch := cursor.fetchmany(100_000):
            batches.append(np.fromiter((i for (i,) in batch), dtype=np.int64, count=len(batch)))
        return np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    finally:
        cursor.close()


def _pages(sql: _Sql, columns: int = 1) -> Iterator[list]:
    """The pages of `sql`'s rows (``_fetch``'s) from the round's first response on. On
    PostgreSQL read a page ahead on a connection of their own (``read_ahead``: the database
    reads the next page while the caller formats this one; at a million responses the
    database's part was 2.8 s of 4.2), unless the session's transaction wrote something that
    connection would not see."""
    if sql.dialect == "postgresql" and read_ahead.usable(db.session):
        yield from read_ahead.pages(db.engine, lambda connection: _paged(sql, columns, connection))
        return
    yield from _paged(sql, columns)


def _paged(sql: _Sql, columns: int, connection: Any = None) -> Iterator[list]:
    last = 0
    while rows := _fetch(sql, sql.params(last=last), columns, connection):
        # The next page's start, read before the caller changes the page (``mend``).
        last = abs(rows[-1][0]) if columns == 2 else int(rows[-1].lstrip(STALE).split(",", 1)[0])
        yield rows


def _fetch(sql: str, params: dict[str, Any], columns: int = 1, connection: Any = None) -> list:
    """The one column of `sql`'s rows (or its rows, of `columns`), through a DBAPI cursor of
    `connection`, else of the session's connection taken afresh (the caller may commit
    between pages, e.g. a worker's progress)."""
    if connection is None:
        connection = db.session.connection().connection
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        if columns == 1:
            return [line for (line,) in cursor.fetchall()]
        return cursor.fetchall()
    finally:
        cursor.close()


# What the database writes in place of a line it leaves to Python, before the response id: a
# line begins with a digit (its id or number).
STALE = "#"


class _Sql(str):
    """A page's query for the DBAPI cursor, with its parameters' spelling for the driver."""

    dialect: str
    page: int
    round_id: int

    def params(self, **given: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"round_id": self.round_id, "page": self.page, **given}
        return values


def _stamp_case(stamps: Stamps) -> str:
    """SQL of the stamp a response's packed row must carry (by its group; NULL: none)."""
    groups = db.session.execute(select(RespondentGroup.id, RespondentGroup.code)).all()
    current = [(g, stamps.expected(code)) for g, code in groups]
    whens = " ".join(f"WHEN {g} THEN {s}" for g, s in current if s is not None)
    return f"CASE r.group_id {whens} END" if whens else "NULL"


def _sql_lines(round_: Round, layout: exports.RawLayout, stamps: Stamps) -> _Sql | None:
    """The query that writes a page's CSV lines in the database, one row each: the label (id,
    or number in the secret order), time, source, group, unit and packed cells joined, for the
    rows whose packed row has its group's current stamp; ``STALE`` and the id for the others.
    None (the lines made in Python from the rows) when a source, group or unit code would not
    be written as it is (quotes, a formula's first character)."""
    dialect = db.session.connection().dialect.name
    codes = db.session.scalars(select(RespondentGroup.code)).all()
    if layout.with_unit:
        codes += db.session.scalars(select(Unit.code)).all()
    plain = all(raw_fast.csv_field(safe_text(c)) == c for c in [*codes, *RESPONSE_SOURCES])
    if not plain or dialect not in ("sqlite", "postgresql"):
        return None
    stamp = f"l.stamp = {_stamp_case(stamps)}"

    def p(name: str) -> str:
        return f":{name}" if dialect == "sqlite" else f"%({name})s"

    if dialect == "sqlite":
        cut = 10 if layout.days_only else 19
        when = f"substr(r.submitted_at, 1, {cut})"
        # Else the exact path's parsing: text SQLAlchemy did not write.
        ok = (
            f"{stamp} AND substr(r.submitted_at, 11, 1) = ' '"
            " AND length(r.submitted_at) >= 19 AND substr(r.submitted_at, 20, 1) IN ('', '.')"
        )
        end, number = "char(13, 10)", "CAST(r.id AS TEXT)"
    else:
        when = "to_char(r.submitted_at, '{}')".format(
            "YYYY-MM-DD" if layout.days_only else "YYYY-MM-DD HH24:MI:SS"
        )
        ok, end, number = stamp, "chr(13) || chr(10)", "r.id::text"
    unit = " || ',' || coalesce(u.code, '')" if layout.with_unit else ""
    joins = (
        " JOIN respondent_group g ON g.id = r.group_id"
        " LEFT JOIN unit u ON u.id = r.unit_id"
        " LEFT JOIN raw_line l ON l.response_id = r.id"
    )
    # The page's packed rows as a range too: PostgreSQL merge-joins them, and without it read
    # the packed rows of every page before from the first (minutes at a million).
    after = f"{joins} AND l.response_id > {p('last')}"

    def line(label: str) -> str:
        return (
            f"CASE WHEN {ok} THEN {label} || ',' || {when} || ',' || r.source || ',' || g.code"
            f"{unit} || ',' || l.cells || {end} ELSE '{STALE}' || {number} END"
        )

    nothing = "''"
    if layout.shuffled:
        # The response id and the line without its number (``_in_secret_order`` adds it).
        sql = (
            f"SELECT CASE WHEN {ok} THEN r.id ELSE -r.id END, {line(nothing)}"
            f" FROM response r{after}"
            f" WHERE r.round_id = {p('round_id')} AND r.id > {p('last')}"
            f" ORDER BY r.id LIMIT {p('page')}"
        )
    else:
        sql = (
            f"SELECT {line(number)} FROM response r{after}"
            f" WHERE r.round_id = {p('round_id')} AND r.id > {p('last')}"
            f" ORDER BY r.id LIMIT {p('page')}"
        )
    query = _Sql(sql)
    query.dialect, query.page, query.round_id = dialect, PAGE, round_.id
    return query


@event.listens_for(Answer, "after_insert")
@event.listens_for(Answer, "after_update")
@event.listens_for(Answer, "after_delete")
def _forget(_mapper: Any, connection: Any, answer: Answer) -> None:
    """An answer added, changed or deleted through the ORM: its response's packed row is
    stale (an answer moved to another response: both responses' rows). A submission's
    answers are inserted through Core (``survey.responses``), with no packed row to drop."""
    moved = sa_inspect(answer).attrs.response_id.history.deleted or ()
    ids = {answer.response_id, *moved} - {None}
    connection.execute(delete(RawLine).where(RawLine.response_id.in_(ids)))
