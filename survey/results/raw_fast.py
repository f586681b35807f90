"""The raw answers CSV a chunk of responses at a time, assembled by numpy (``chunk_text``).

The exact path (``exports.RawLayout.rows``) reads every answer as a Python tuple and places it
in a Python list: at a million responses (18 million answers) reading the tuples alone takes
half a minute. Here the database hands over a chunk's numbers as two strings (each answer's
key, its response and question, and its value, comma-separated: ``_numbers``), which numpy
parses and places into a grid of cells; the answers that carry text (about one in twelve, read
through the partial index ``ix_answer_written``) come one row per distinct text with the keys
of the answers that hold it (``_texts``). Every cell is then a token of a small vocabulary
(``NOT_ASKED``, the numbers, the texts, each row's first cells) and the chunk's bytes are the
tokens' bytes gathered with one index array (``_gather``).

A row the fast path does not cover goes to the exact path, and its CSV line becomes its only
token: one of a group whose questions depend on the answers (conditions) or with an answer to
a question not of the round's version; a chunk whose numbers do not parse as integers goes to
the exact path whole. The bytes are the exact path's (tests/survey/results/test_raw_fast.py
compares them on generated rounds, on SQLite and PostgreSQL).

At a million responses (bench/export_bench.py, a quiet 2-core machine) the CSV takes 15 s on
SQLite (37 s through the exact path) and 20 s on PostgreSQL (57 s); what is left is mostly the
database's own work: the numbers' query alone is about 6 s of SQLite's 15.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, text

from survey.extensions import db
from survey.models import Question, Round
from survey.results import raw_sheet
from survey.spreadsheets import safe_text

# Responses a chunk: its arrays take about 2 KB a response (tokens and the bytes' indexes).
CHUNK = 5_000
# A key is (response id - the chunk's first) * _ROW + (question id - the version's first) * 2
# + (value is NULL): a version's question ids span far less than _ROW / 2.
_ROW = 8192

# Tokens every chunk has: the empty cell, NOT_ASKED.
_EMPTY, _NOT_ASKED = 0, 1
_FIXED = ("", "n/a")  # exports.NOT_ASKED (which imports this module)


# Only the version's questions: a key's question part never reaches its response part.
# "+ 0": not through the index on question_id (SQLite took it, reading every answer to the
# version's questions for each chunk: minutes at a million), the responses' index it is.
_QUESTIONS = " AND question_id + 0 BETWEEN :base AND :top"


def _numbers_sql(dialect: str, where: str) -> str:
    """Every answer of the chunk's responses (`where`) as its key and its value (0 for NULL),
    in two comma-separated lists in the same order (one pass feeds both aggregates)."""
    key = "(response_id - :first) * {row} + (question_id - :base) * 2 + {null}"
    if dialect == "postgresql":
        key = key.format(row=f"{_ROW}::bigint", null="(value IS NULL)::int")
        return (
            f"SELECT string_agg(({key})::text, ','), string_agg(coalesce(value, 0)::text, ',') "
            f"FROM answer WHERE {where}"
        )
    key = key.format(row=_ROW, null="(value IS NULL)")
    return f"SELECT group_concat({key}), group_concat(ifnull(value, 0)) FROM answer WHERE {where}"


def _texts_sql(dialect: str, where: str, column: str) -> str:
    """One row per distinct text (`column`: text or comment) of the chunk's answers, with the
    keys (response and question, as in ``_numbers_sql`` without the NULL bit) holding it."""
    key = "(response_id - :first) * {row} + (question_id - :base) * 2"
    # The partial index ix_answer_written: its condition, word for word.
    written = "(text IS NOT NULL OR comment IS NOT NULL)"
    also = "value IS NULL AND text IS NOT NULL" if column == "text" else "comment IS NOT NULL"
    if dialect == "postgresql":
        keys = f"string_agg(({key.format(row=f'{_ROW}::bigint')})::text, ',')"
    else:
        keys = f"group_concat({key.format(row=_ROW)})"
    return (
        f"SELECT {column}, {keys} FROM answer WHERE {where} AND {written} AND {also} "
        f"GROUP BY {column}"
    )


def csv_field(value: str) -> str:
    """`value` as csv.writer writes a field (quoted when it holds a comma, a quote or a line
    break)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _parse(joined: str | None) -> np.ndarray | None:
    """The integers of a comma-separated list; None when one is not an integer (numpy 2
    raises where numpy 1 warned and stopped)."""
    try:
        return np.fromstring(joined or "", dtype=np.int64, sep=",")  # C: no object per number
    except ValueError:
        return None


class FastLayout:
    """The layout's cells as tokens: per group a template row (``NOT_ASKED`` or empty) and per
    question of the round's version the cell of its value and of its comment (-1: none)."""

    def __init__(self, layout: Any, round_: Round) -> None:
        self.layout = layout
        questions = db.session.execute(
            select(Question.id, Question.code).where(Question.version_id == round_.version_id)
        ).all()
        self.base = min((q[0] for q in questions), default=0)
        span = max((q[0] for q in questions), default=0) - self.base + 1
        # Else the exact path: keys would not tell questions apart.
        self.usable = span < _ROW // 2
        self.top = self.base + span - 1
        index: dict[tuple[str, str], int] = {}
        for code in layout.questions:
            index[(code, "value")] = len(index)
            if code in layout.comments:
                index[(code, "comment")] = len(index)
        self.width = len(index)
        slots = max(span, 1) if self.usable else 1
        self.value_cell = np.full(slots, -1, dtype=np.int64)
        self.comment_cell = np.full(slots, -1, dtype=np.int64)
        self.known = np.zeros(slots, dtype=bool)
        if self.usable:
            for qid, code in questions:
                self.known[qid - self.base] = True
                self.value_cell[qid - self.base] = index.get((code, "value"), -1)
                self.comment_cell[qid - self.base] = index.get((code, "comment"), -1)
        self.groups: dict[str, int] = {}
        self.templates: list[np.ndarray] = []
        self.group_cells: list[str] = []

    def group(self, code: str) -> int:
        """The group's template index (made when first seen); -1: what its responses were
        asked depends on their answers (the exact path)."""
        found = self.groups.get(code)
        if found is None:
            plan = self.layout.plan(code)
            if plan is None:
                found = -1
            else:
                found = len(self.templates)
                marks = [_NOT_ASKED if c is not None else _EMPTY for c in plan.cells]
                self.templates.append(np.array(marks, dtype=np.int64))
                shown = self.layout.other_groups if code in self.layout.merged else code
                self.group_cells.append(csv_field(safe_text(shown)))
            self.groups[code] = found
        return found


def _when(submitted: Any, days_only: bool) -> str:
    """The time cell as the exact path writes it (csv writes str() of a date or datetime)."""
    if isinstance(submitted, str):  # SQLite's text, as plain_rows reads it
        submitted = datetime.fromisoformat(submitted)
    return str(submitted.date() if days_only else submitted.replace(microsecond=0))


def read_chunk(fast: FastLayout, ids: Sequence[int]) -> tuple[tuple | None, list, list]:
    """The chunk's answers for ``chunk_text``: the numbers' two strings and the texts' and
    comments' rows. `ids` in order; a range of ids (keyset paging) is read as a range, which
    also reads other rounds' responses between them (dropped in ``chunk_text``)."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    first, last = ids[0], ids[-1]
    params: dict[str, Any] = {"first": first, "base": fast.base, "top": fast.top}
    if len(ids) > 1 and (last - first) // (len(ids) - 1) < 4:  # dense: a range
        where, params["last"] = "response_id BETWEEN :first AND :last", last
    else:
        where, params["ids"] = "response_id IN :ids", list(ids)
    where += _QUESTIONS

    def run(sql: str):
        query = text(sql)
        if "ids" in params:
            query = query.bindparams(bindparam("ids", expanding=True))
        return connection.execute(query, params)

    numbers = run(_numbers_sql(dialect, where)).one()
    texts = run(_texts_sql(dialect, where, "text")).all()
    comments = run(_texts_sql(dialect, where, "comment")).all()
    return tuple(numbers), texts, comments


def _grid(
    fast: FastLayout,
    responses: list[tuple],
    answers: tuple[tuple | None, list, list],
    text_token: Callable[[str], str] = csv_field,
    number_token: Callable[[int], str] = str,
) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """The ids of `responses`, the vocabulary of their answer cells' tokens, the grid of those
    tokens (a row per response) and which rows the exact path makes (``slow``). A token is
    the cell as the output writes it: `text_token` of a text as stored (a CSV field by
    default), `number_token` of a number; 0 is the empty cell, 1 ``NOT_ASKED``."""
    n = len(responses)
    ids = np.fromiter((r[0] for r in responses), dtype=np.int64, count=n)
    first = int(ids[0])
    group_of = np.fromiter((fast.group(r[3]) for r in responses), dtype=np.int64, count=n)
    slow = group_of < 0
    templates = np.stack(fast.templates) if fast.templates else np.zeros((1, fast.width), int)
    grid = templates[np.maximum(group_of, 0)]  # a copy: the rows' cells
    asked = grid != _NOT_ASKED
    vocabulary: list[str] = ["", text_token(_FIXED[_NOT_ASKED])]

    def place(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each key's row, question slot and whether it is the chunk's (other rounds'
        responses between the chunk's ids are not)."""
        rid = first + keys // _ROW
        rows = np.minimum(np.searchsorted(ids, rid), n - 1)
        mine = ids[rows] == rid
        slot = (keys % _ROW) // 2
        known = np.zeros(len(keys), dtype=bool)
        inside = slot < len(fast.known)
        known[inside] = fast.known[slot[inside]]
        slow[rows[mine & ~known]] = True  # an answer to a question not of the version
        return rows, np.where(known, slot, 0), mine & known

    pairs, texts, comments = answers
    keys, values = (_parse(pairs[0]), _parse(pairs[1])) if pairs else (np.zeros(0, int),) * 2
    if keys is None or values is None or len(keys) != len(values):  # not integers: exact path
        slow[:] = True
        keys = values = np.zeros(0, dtype=np.int64)
    rows, slot, keep = place(keys)
    cell = fast.value_cell[slot]
    keep &= (keys % 2 == 0) & (cell >= 0)  # a number, of a question with a cell
    rows, cell, values = rows[keep], cell[keep], values[keep]
    keep = asked[rows, cell]  # what the row's group was not asked stays NOT_ASKED
    distinct, inverse = np.unique(values[keep], return_inverse=True)
    grid[rows[keep], cell[keep]] = inverse + len(vocabulary)
    vocabulary.extend(number_token(v) for v in distinct.tolist())

    for found, cells in ((texts, fast.value_cell), (comments, fast.comment_cell)):
        for value, joined in found:
            keys = _parse(joined)
            rows, slot, keep = place(keys)
            cell = cells[slot]
            keep &= cell >= 0
            rows, cell = rows[keep], cell[keep]
            keep = asked[rows, cell]
            if keep.any():
                grid[rows[keep], cell[keep]] = len(vocabulary)
                vocabulary.append(text_token(safe_text(value)))
    return ids, vocabulary, grid, slow


def row_cells(
    fast: FastLayout,
    responses: list[tuple],
    answers: tuple[tuple | None, list, list],
    exact: Callable[[list[int]], dict[int, str]],
) -> list[str]:
    """The answer cells of each of `responses` (as ``chunk_text``'s), each row's as the text
    its CSV line has after the response's facts and their comma, without the line's end
    (``raw_store``); `exact(ids)` gives the exact path's cells of the rows it is handed."""
    n, width = len(responses), fast.width
    if not width:
        return [""] * n
    ids, vocabulary, grid, slow = _grid(fast, responses, answers)
    size = len(vocabulary)
    sequence = np.empty((n, width), dtype=np.int64)
    sequence[:, : width - 1] = grid[:, : width - 1] + size
    sequence[:, width - 1] = grid[:, width - 1] + 2 * size  # ends "\r\n": dropped below
    lines: list[str] = []
    if slow.any():
        slow_rows = np.flatnonzero(slow)
        found = exact(ids[slow_rows].tolist())
        sequence[slow_rows] = _EMPTY
        sequence[slow_rows, 0] = np.arange(3 * size, 3 * size + len(slow_rows))
        lines = [found[int(ids[row])] + "\r\n" for row in slow_rows.tolist()]
    data, ends = _gather_bytes(vocabulary, sequence, lines)
    stops = ends[width - 1 :: width].tolist()
    starts = [0, *stops[:-1]]
    return [data[a : b - 2].decode() for a, b in zip(starts, stops, strict=True)]


def chunk_text(
    fast: FastLayout,
    responses: list[tuple],
    answers: tuple[tuple | None, list, list],
    exact: Callable[[list[int]], dict[int, str]],
    numbered: Sequence[int] | None = None,
    order: np.ndarray | None = None,
) -> str:
    """The CSV lines of `responses` (id, submitted, source, group, unit; in id order) from
    their `answers` (``read_chunk``); `exact(ids)` gives the exact path's lines of the rows it
    is handed, by id. An anonymous round's: `numbered` replaces each row's id, and the lines
    go out in `order` (row indexes)."""
    layout = fast.layout
    n = len(responses)
    ids, vocabulary, grid, slow = _grid(fast, responses, answers)

    # Each row's first cells (id or number, time, source, group, unit) as one token.
    heads = len(vocabulary)
    tails: dict[tuple, str] = {}
    for _rid, _submitted, source, group, unit in responses:
        if (source, group, unit) not in tails:
            index = fast.groups[group]
            tail = csv_field(safe_text(source)) + ","
            tail += fast.group_cells[index] if index >= 0 else ""
            if layout.with_unit:
                tail += "," + ("" if unit is None else csv_field(safe_text(unit)))
            tails[(source, group, unit)] = tail
    labels = numbered if numbered is not None else ids.tolist()
    times = _times([r[1] for r in responses], layout.days_only)
    vocabulary.extend(
        f"{label},{when},{tails[r[2:5]]}" for label, when, r in zip(labels, times, responses)
    )

    # Every line's tokens: its first cells, then its cells, each token followed by a comma
    # (the last by the line's end): the vocabulary is gathered thrice (``_gather``).
    size, width = len(vocabulary), fast.width
    sequence = np.empty((n, width + 1), dtype=np.int64)
    sequence[:, 0] = np.arange(heads, heads + n) + (size if width else 2 * size)
    if width:
        sequence[:, 1:width] = grid[:, : width - 1] + size
        sequence[:, width] = grid[:, width - 1] + 2 * size
    exact_rows: list[str] = []
    if slow.any():
        slow_rows = np.flatnonzero(slow)
        lines = exact(ids[slow_rows].tolist())
        sequence[slow_rows] = _EMPTY  # bare: nothing, not even a comma
        sequence[slow_rows, 0] = np.arange(3 * size, 3 * size + len(slow_rows))
        for row in slow_rows.tolist():
            line = lines[int(ids[row])]
            if numbered is not None:  # the exact path numbers nothing: its first cell is the id
                line = f"{numbered[row]}{line[line.index(',') :]}"
            exact_rows.append(line)
    if order is not None:
        sequence = sequence[order]
    return _gather(vocabulary, sequence, exact_rows)


def _times(values: list[Any], days_only: bool) -> list[str]:
    """The time cells as the exact path writes them (csv writes str() of a date or a
    datetime): SQLite's text "YYYY-MM-DD HH:MM:SS.ffffff" cut short, else through datetime."""
    cut = 10 if days_only else 19
    if all(
        isinstance(v, str) and v[10:11] == " " and len(v) >= 19 and v[19:20] in "." for v in values
    ):
        return [v[:cut] for v in values]
    return [_when(v, days_only) for v in values]


def _gather(vocabulary: list[str], sequence: np.ndarray, lines: list[str]) -> str:
    """The text of the tokens of `sequence`, row after row: for V tokens in the vocabulary,
    token t < V is its t-th followed by nothing, V + t by a comma, 2 V + t by a line's end,
    and 3 V + k the k-th of the whole `lines`."""
    return _gather_bytes(vocabulary, sequence, lines)[0].decode()


def _gather_bytes(
    vocabulary: list[str], sequence: np.ndarray, lines: list[str]
) -> tuple[bytes, np.ndarray]:
    """``_gather``'s UTF-8 bytes, and where each token of `sequence` ends in them."""
    bare = [t.encode() for t in vocabulary]
    pool = _Pool(
        [
            *bare,
            *(t + b"," for t in bare),
            *(t + b"\r\n" for t in bare),
            *(t.encode() for t in lines),
        ]
    )
    return pool.take(sequence.ravel())


class _Pool:
    """Tokens' bytes side by side, and how to gather a sequence of them at once."""

    def __init__(self, encoded: list[bytes]) -> None:
        self.lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        self.starts = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum(self.lengths[:-1], out=self.starts[1:])
        self.bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)

    def take(self, tokens: np.ndarray) -> tuple[bytes, np.ndarray]:
        """The bytes of `tokens` one after the other, and where each token ends in them."""
        sizes = self.lengths[tokens].astype(np.int32)
        ends = np.cumsum(sizes, dtype=np.int32)
        index = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int32)
        # Each output byte's place in the pool: its token's start plus its place in the token
        # (the pool of a chunk's distinct texts stays far below 2 GB).
        index += np.repeat((self.starts[tokens] - (ends - sizes)).astype(np.int32), sizes)
        return self.bytes[index].tobytes(), ends


def exact_lines(layout: Any, responses: list[tuple], answers: list[tuple]) -> dict[int, str]:
    """The exact path's CSV lines (``RawLayout.rows`` through csv.writer) by response id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    lines = {}
    for row in layout.rows(responses, answers):
        writer.writerow(row)
        lines[row[0]] = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    return lines


def exact_cells(layout: Any, responses: list[tuple], answers: list[tuple]) -> dict[int, str]:
    """The exact path's answer cells (``row_cells``) by response id: its rows' cells after
    the response's facts through csv.writer, without the line's end. A lone empty cell is
    empty: csv.writer quotes a row of one empty field (``""``), not a field of the line."""
    facts = 5 if layout.with_unit else 4
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    cells = {}
    for row in layout.rows(responses, answers):
        writer.writerow(row[facts:])
        lone_empty = len(row) == facts + 1 and row[facts] in (None, "")
        cells[row[0]] = "" if lone_empty else buffer.getvalue()[:-2]
        buffer.seek(0)
        buffer.truncate()
    return cells


# --- the workbook's Raw data sheet: the same grid, rendered as the sheet's XML rows ---------
#
# What ``raw_sheet.rows_xml`` writes for the exact path's rows, byte for byte, from the grid
# of tokens the CSV uses: a cell is three tokens, its column's opening (``<c r="F``), its
# row's number and its value's rest (``"><v>3</v></c>`` or an inline string), all three
# empty for an empty cell (rows_xml writes nothing for None). Each row begins with a token of
# its own (the row's opening, its id or number and its date) and ends with ``</row>``; a row
# of the exact path is one token, its whole XML.

# Responses a chunk of the sheet: its XML is five times the CSV's, and what a chunk holds
# grows with it (at 5,000 the workbook's process peaked 50 MB over its base, at 2,000 25 MB).
SHEET_CHUNK = 2_000


def _xml_text(value: str) -> str:
    """A text cell's XML after its reference (``raw_sheet.rows_xml``'s)."""
    return f'" t="inlineStr">{raw_sheet._text(value)}</c>'


def _xml_number(value: int) -> str:
    return f'"><v>{value}</v></c>'


def _xml_when(submitted: Any, days_only: bool, date_style: str) -> str:
    """The date cell's XML after its reference, as rows_xml writes the exact path's."""
    if isinstance(submitted, str):  # SQLite's text, as plain_rows reads it
        submitted = datetime.fromisoformat(submitted)
    if days_only:
        return f'" s="{date_style}"><v>{raw_sheet._day_serial(submitted.date())}</v></c>'
    serial = raw_sheet._datetime_serial(submitted.replace(microsecond=0))
    return f'" s="{date_style}"><v>{serial!r}</v></c>'


def chunk_xml(
    fast: FastLayout,
    responses: list[tuple],
    answers: tuple[tuple | None, list, list],
    exact: Callable[[list[int]], dict[int, list]],
    first_row: int,
    letters: Sequence[str],
    date_style: str,
    numbered: Sequence[int] | None = None,
    order: np.ndarray | None = None,
) -> bytes:
    """The Raw data sheet's XML rows of `responses` (as ``chunk_text`` takes them), the first
    written numbered `first_row`: the bytes ``raw_sheet.rows_xml`` writes for the exact
    path's rows. `exact(ids)` gives the exact path's rows (``RawLayout.rows``) by id; an
    anonymous round's rows carry `numbered` in place of their ids and go out in `order`."""
    layout = fast.layout
    n = len(responses)
    ids, vocabulary, grid, slow = _grid(fast, responses, answers, _xml_text, _xml_number)
    # The facts after the date (source, group, unit) are cells of the grid too.
    facts: dict[Any, int] = {}

    def fact(value: Any) -> int:
        found = facts.get(value)
        if found is None:
            found = facts[value] = len(vocabulary) if value is not None else 0
            if value is not None:
                vocabulary.append(_xml_text(safe_text(value)))
        return found

    shown = [
        (layout.other_groups if r[3] in layout.merged else r[3]) for r in responses
    ]  # the group's name
    fact_cells = [
        np.fromiter((fact(r[2]) for r in responses), dtype=np.int64, count=n),
        np.fromiter((fact(g) for g in shown), dtype=np.int64, count=n),
    ]
    if layout.with_unit:
        fact_cells.append(np.fromiter((fact(r[4]) for r in responses), dtype=np.int64, count=n))
    cells = np.concatenate([np.stack(fact_cells, axis=1), grid], axis=1)
    columns = cells.shape[1]
    # Each row's number: its place in the chunk's output order.
    place = np.arange(n) if order is None else np.argsort(order, kind="stable")
    numbers = (place + first_row).tolist()
    labels = numbered if numbered is not None else ids.tolist()
    rows_at = len(vocabulary)
    vocabulary.extend(str(number) for number in numbers)
    opens_at = len(vocabulary)
    vocabulary.extend(f'<c r="{letter}' for letter in letters[2 : 2 + columns])
    heads_at = len(vocabulary)
    a, b = letters[0], letters[1]
    vocabulary.extend(
        f'<row r="{at}"><c r="{a}{at}"><v>{label}</v></c><c r="{b}{at}'
        f"{_xml_when(r[1], layout.days_only, date_style)}"
        for at, label, r in zip(numbers, labels, responses)
    )
    end = len(vocabulary)
    vocabulary.append("</row>")

    # Filled in place, in 4 bytes a token: the chunk's arrays are most of the sheet's memory.
    empty = cells == 0
    sequence = np.empty((n, 3 * columns + 2), dtype=np.int32)
    sequence[:, 0] = heads_at + np.arange(n)
    opens = sequence[:, 1:-1:3]
    opens[...] = opens_at + np.arange(columns)
    opens[empty] = 0
    numbers_of = sequence[:, 2:-1:3]
    numbers_of[...] = (rows_at + np.arange(n))[:, None]
    numbers_of[empty] = 0
    sequence[:, 3:-1:3] = cells
    sequence[:, -1] = end
    if slow.any():
        slow_rows = np.flatnonzero(slow)
        rows = exact(ids[slow_rows].tolist())
        sequence[slow_rows] = 0
        for row in slow_rows.tolist():
            cells_of = rows[int(ids[row])]
            if numbered is not None:  # the exact path numbers nothing: its first cell is the id
                cells_of = [numbered[row], *cells_of[1:]]
            sequence[row, 0] = len(vocabulary)
            vocabulary.append(raw_sheet.rows_xml([cells_of], numbers[row], letters, date_style))
    if order is not None:
        sequence = sequence[order]
    return _gather_blocks(vocabulary, sequence)


# Rows gathered at once by ``_gather_blocks``: the index of every output byte is 4 bytes, so
# a block's index stays a few MB (a whole chunk's was a hundred MB at the peak, bench).
GATHER_ROWS = 500


def _gather_blocks(vocabulary: list[str], sequence: np.ndarray) -> bytes:
    """The UTF-8 bytes of the tokens of `sequence` (indexes into `vocabulary`), row after row,
    gathered ``GATHER_ROWS`` rows at a time."""
    pool = _Pool([t.encode() for t in vocabulary])
    blocks = []
    for first in range(0, len(sequence), GATHER_ROWS):
        tokens = sequence[first : first + GATHER_ROWS].ravel()
        tokens = tokens[pool.lengths[tokens] > 0]  # empty cells: most of a sparse row's tokens
        blocks.append(pool.take(tokens)[0])
    return b"".join(blocks)
