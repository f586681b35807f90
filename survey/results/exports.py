"""Downloads of a round's results: raw answers as CSV, summary tables as CSV (the workbook:
``survey.results.workbook``).

- Raw answers: one row per response and one column per question (the question's code), so a
  round of 100,000 responses fits one sheet; ratings stay numbers, choices are their codes,
  comments sit in ``<code>_comment`` columns; a question the respondent was not asked (another
  group's item, or hidden by a condition on the answers) holds ``NOT_ASKED``, and one asked but
  left unanswered stays empty (its comment cell is ``NOT_ASKED`` or empty alike), except in the
  rows of "other groups", where the items asked would name the group; ``source`` says web,
  paper or meeting. A named round's rows carry their unit and time: only the users of
  ``survey.permissions.may_take_identified_answers`` get them. An anonymous round's rows carry
  neither (its responses keep none), only the day, and a respondent group with fewer than
  ``MIN_GROUP_UNITS`` units invited is reported as "other groups" (``merged_groups``). Its
  rows are not in the order the responses came, and carry a row number, not the response id:
  staff see invitations turn "submitted" one after the other, and that order would pair each
  row with its unit (``shuffle_keys``).
- The raw rows are read in chunks (keyset paging by response id; an anonymous round's by the
  ids of each stretch of the secret order) and streamed, never held all at once: memory stays
  flat at any size. The exact path makes a chunk's rows in one pass over its answers
  (``RawLayout.rows``, with a ``RawPlan`` per group of the cells it was not asked; ``raw_rows``
  for the workbook's sheet). The CSV is assembled by ``survey.results.raw_fast`` instead: the
  database joins a chunk's numbers into two strings and its texts into one row per distinct
  text, numpy places them into a grid of tokens and gathers the chunk's bytes at once; the
  rows of a group with conditions (what was asked depends on the answers) are the exact
  path's lines. Both write the same bytes (tests/survey/results/test_raw_fast.py). Before
  either, the export reads each response's cells packed in one row (``raw_store``: the
  database writes the lines, one row per response instead of ~20 answers), which the worker's
  export packs first; a response without a current packed row is made as above. A round of
  more than ``EXPORT_IN_REQUEST_RESPONSES`` responses has its CSV built by the worker
  (``survey.results.export_jobs``), with the rows written shown.
- Every download of results is recorded in the audit log (``record_download``).
- Every text cell passes through ``survey.spreadsheets.safe_cell``, so no comment becomes a
  formula in Excel, LibreOffice or Sheets; the workbook also drops the control characters the
  xlsx format cannot hold.
- Summary tables are those of ``survey.results.RoundResults`` with a label column beside each
  code; suppressed group rows keep their codes and ``suppressed`` but no figures.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from flask import Response as HttpResponse
from flask import abort, stream_with_context
from flask_babel import force_locale
from openpyxl.styles import PatternFill
from sqlalchemy import func, select

from questionnaires import QUESTION_TYPES, conditions
from questionnaires.model import Questionnaire
from survey import audit
from survey.database import begin_write
from survey.extensions import db
from survey.formatting import plain_value
from survey.models import Answer, RespondentGroup, Response, Round, Unit
from survey.questionnaire_store import to_model
from survey.results import raw_fast, raw_sheet, raw_store
from survey.results.frames import plain_rows
from survey.results.other_groups import OTHER_GROUPS, merged_groups
from survey.results.secret_order import round_key
from survey.results.tables import RoundResults, round_results
from survey.spreadsheets import safe_cell, safe_text

CHUNK = 2000
# The raw export's cell of a question the respondent was not asked (audience or condition),
# apart from the empty cell of one skipped; pandas and R read it as missing too.
NOT_ASKED = "n/a"
# Number formats by column: shares as percentages, means with two decimals, counts grouped.
PERCENT = {
    "rate",
    "ci_low",
    "ci_high",
    "dissatisfied_share",
    "weighted_rate",
    "weighted_ci_low",
    "weighted_ci_high",
    "rate_before",
    "rate_after",
    "ci_low_before",
    "ci_high_before",
    "ci_low_after",
    "ci_high_after",
    "difference",
    "gap",
    "threshold",
    "share",
}
DECIMALS = {
    "mean": "0.00",
    "sd": "0.00",
    "importance": "0.00",
    "n_eff": "0.0",
    "deff": "0.00",
    "weighted_n_eff": "0.0",
    "weighted_deff": "0.00",
    "z": "0.00",
    "p_value": "0.0000",
    "p_adjusted": "0.0000",
}
COUNTS = {
    "n",
    "respondents",
    "satisfied",
    "dissatisfied",
    "items",
    "n_before",
    "n_after",
    "satisfied_before",
    "satisfied_after",
    "weighted_n",
    "weighted_respondents",
    "pairs",
    "count",
}
LABELLED = {
    "question": "questions",
    "category": "categories",
    "group": "groups",
    "served_unit": "served_units",
}
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


# --- raw answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class RawPlan:
    """How a response's answers become its cells: the index of each question's cell (and of
    its comment's) among the answer cells, for the questions it was asked, and the cells it
    starts from (``NOT_ASKED`` in those of the questions it was not asked, else empty)."""

    cells: tuple[Any, ...]
    values: dict[str, int]
    comments: dict[str, int]


@dataclass(frozen=True)
class RawLayout:
    """The columns of the raw export: response facts, then per question its answer (and
    ``<code>_comment`` for a question that asks for a comment). ``merged`` are the group codes
    written as ``other_groups`` (the label in the export's language)."""

    with_unit: bool
    questions: tuple[str, ...]
    comments: tuple[str, ...]
    days_only: bool = False
    # An anonymous round's: rows in a secret order, numbered, without their response ids.
    shuffled: bool = False
    merged: frozenset[str] = frozenset()
    other_groups: str = "other groups"
    # The questionnaire, to tell which questions a response was asked (None: all of them).
    definition: Questionnaire | None = field(default=None, compare=False)
    _asked: dict = field(default_factory=dict, compare=False, repr=False)
    _plans: dict = field(default_factory=dict, compare=False, repr=False)

    def asked(self, group: str, answers: dict[str, tuple]) -> frozenset[str] | None:
        """The codes of the questions a response of `group` with `answers` (question code:
        (value or text, comment)) was asked, or None for every question: its group's items,
        less those its answers hid by their conditions (questionnaires.conditions)."""
        if self.definition is None:
            return None
        seen, everything = self._seen(group)
        if everything:
            return None
        values = {}
        for q in seen.questions():
            value = answers.get(q.code, (None, None))[0]
            if value is not None and QUESTION_TYPES[q.type].multiple:
                value = tuple(str(value).split(","))  # stored as "a,b" (survey.responses)
            values[q.code] = value
        return conditions.shown(seen, values)

    def _seen(self, group: str) -> tuple[Questionnaire, bool]:
        if group not in self._asked:
            seen = self.definition.for_group(group)
            every = len(seen.questions()) == len(self.definition.questions())
            self._asked[group] = (seen, every and not conditions.has_conditions(seen))
        return self._asked[group]

    def plan(self, group: str) -> RawPlan | None:
        """The plan of every response of `group` (a merged group's: all questions), or None
        when what a response was asked depends on its answers (conditions): ``plan_for``."""
        if group not in self._plans:
            if group in self.merged or self.definition is None:
                self._plans[group] = self.plan_for(None)
            else:
                seen, everything = self._seen(group)
                if everything:
                    self._plans[group] = self.plan_for(None)
                elif conditions.has_conditions(seen):
                    self._plans[group] = None
                else:  # its audience's items, whatever it answered
                    self._plans[group] = self.plan_for(conditions.shown(seen, {}))
        return self._plans[group]

    def plan_for(self, asked: frozenset[str] | None) -> RawPlan:
        """The plan of a response asked `asked` (None: every question)."""
        key = ("asked", asked)
        if key not in self._plans:
            cells: list[Any] = []
            values, comments = {}, {}
            for code in self.questions:
                mark = NOT_ASKED if asked is not None and code not in asked else None
                if mark is None:
                    values[code] = len(cells)
                cells.append(mark)
                if code in self.comments:
                    if mark is None:
                        comments[code] = len(cells)
                    cells.append(mark)
            self._plans[key] = RawPlan(tuple(cells), values, comments)
        return self._plans[key]

    @property
    def header(self) -> list[str]:
        first = "row" if self.shuffled else "response_id"
        facts = [first, "submitted", "source", "group"] + (["unit"] if self.with_unit else [])
        answers = []
        for code in self.questions:
            answers.append(code)
            if code in self.comments:
                answers.append(f"{code}_comment")
        return facts + answers

    def rows(self, responses: list[tuple], answers: list[tuple]) -> list[list[Any]]:
        """The rows of `responses` (id, submitted, source, group code, unit code; in id order)
        from `answers` (response id, question code, value, text, comment; in response id
        order, as ``_answers_of`` reads them). Text cells are already ``safe_text``: the hot
        loop of exports of millions of answers, so it walks both lists once, side by side."""
        rows = []
        position, count = 0, len(answers)
        for rid, submitted, source, group, unit in responses:
            while position < count and answers[position][0] < rid:
                position += 1
            first = position
            while position < count and answers[position][0] == rid:
                position += 1
            plan = self.plan(group)
            if plan is None:
                given = {
                    a[1]: (a[2] if a[2] is not None else a[3], a[4])
                    for a in answers[first:position]
                }
                plan = self.plan_for(self.asked(group, given))
            cells = list(plan.cells)
            values, comments = plan.values, plan.comments
            for _rid, code, value, text, comment in answers[first:position]:
                index = values.get(code)
                if index is None:
                    continue  # a question it was not asked, or a note
                if value is None and text is not None:
                    value = safe_text(text)
                cells[index] = value
                if comment is not None and code in comments:
                    cells[comments[code]] = safe_text(comment)
            if group in self.merged:
                group = self.other_groups  # the items asked would name it: all are kept
            if isinstance(submitted, str):  # SQLite's text, as plain_rows reads it
                submitted = datetime.fromisoformat(submitted)
            when = submitted.date() if self.days_only else submitted.replace(microsecond=0)
            facts = [rid, when, safe_text(source), safe_text(group)]
            if self.with_unit:
                facts.append(None if unit is None else safe_text(unit))
            facts.extend(cells)
            rows.append(facts)
        return rows


def raw_layout(round_: Round, lang: str = "zh", merging: bool = True) -> RawLayout:
    """The round's raw export layout; without `merging`, no group is "other groups" (the
    packed rows' cells, ``raw_store``: no results computed to tell which are)."""
    definition = to_model(round_.version)
    # A note has no answer, so no column.
    questions = [q for q in definition.questions() if QUESTION_TYPES[q.type].answered]
    anonymous = bool(round_.anonymous)
    with force_locale(lang):
        other = str(OTHER_GROUPS)
    return RawLayout(
        with_unit=not anonymous,
        questions=tuple(q.code for q in questions),
        comments=tuple(q.code for q in questions if q.follow_up),
        days_only=anonymous,
        shuffled=anonymous,
        merged=unnamed_groups(round_) if anonymous and merging else frozenset(),
        other_groups=other,
        definition=definition,
    )


def unnamed_groups(round_: Round) -> frozenset[str]:
    """The groups an anonymous round's raw answers call "other groups": those of a single unit
    (``merged_groups``), and every group its published tables hide (too few respondents, or
    hidden with one that has): the rows of a group the dashboard does not show would show it."""
    return merged_groups(round_) | frozenset(round_results(round_).small_groups())


def _facts():
    return (
        select(Response.id, Response.submitted_at, Response.source, RespondentGroup.code, Unit.code)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .outerjoin(Unit, Response.unit_id == Unit.id)
    )


def raw_chunks(round_: Round, layout: RawLayout) -> Iterator[list[list[Any]]]:
    """The rows of ``raw_rows``, a list per ``CHUNK`` responses: each chunk is two queries
    (keyset paging by response id, so each is one indexed range) made when the chunk is
    asked for, so that no more than one chunk is ever held, whatever the round's size. An
    anonymous round's come in the order of ``shuffle_keys`` (``_shuffled_chunks``)."""
    if layout.shuffled:
        yield from _shuffled_chunks(round_, layout)
        return
    for responses in _pages(round_.id, CHUNK):
        yield layout.rows(responses, _answers_of(responses[0][0], responses[-1][0], round_.id))


def _pages(round_id: int, size: int) -> Iterator[list[tuple]]:
    """The facts (``_facts``) of the round's responses, `size` at a time in id order: keyset
    paging, each page one indexed range read when it is asked for."""
    last = 0
    while True:
        # Plain rows (plain_rows): SQLAlchemy's rows cost more than the rest of the chunk.
        responses = plain_rows(
            _facts()
            .where(Response.round_id == round_id, Response.id > last)
            .order_by(Response.id)
            .limit(size)
        )
        if not responses:
            return
        yield responses
        last = responses[-1][0]


def shuffle_keys(ids: np.ndarray, round_id: int) -> np.ndarray:
    """The sort keys of an anonymous round's raw rows: a keyed 64-bit mix of each response id
    (splitmix64's finaliser over the id xor a key). Response ids follow the order responses
    came in, which staff watching invitations turn "submitted" can pair with units, so the
    rows must not. The key comes from the app's secret: nobody can recompute the order back
    to ids; and from the round: the same at every download, so the CSV and the workbook's
    Raw data sheet list the rows alike."""
    key = round_key("raw-order", round_id)
    mixed = ids.astype(np.uint64) ^ np.uint64(int.from_bytes(key, "big"))
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return mixed ^ (mixed >> np.uint64(31))


def _shuffled_ids(round_: Round) -> np.ndarray:
    """The round's response ids in ``shuffle_keys`` order (8 bytes a response)."""
    ids = np.fromiter(
        db.session.scalars(select(Response.id).where(Response.round_id == round_.id)),
        dtype=np.int64,
    )
    return ids[np.argsort(shuffle_keys(ids, round_.id), kind="stable")]


def _shuffled_chunks(round_: Round, layout: RawLayout) -> Iterator[list[list[Any]]]:
    """An anonymous round's rows in ``shuffle_keys`` order, numbered from 1 in place of their
    response ids. Only the ids are held (8 bytes a response); each chunk reads its responses
    and answers by id (two indexed queries) in id order and is then put in the shuffled one."""
    order = _shuffled_ids(round_)
    for start in range(0, len(order), CHUNK):
        part = order[start : start + CHUNK].tolist()
        wanted = sorted(part)
        responses = plain_rows(_facts().where(Response.id.in_(wanted)).order_by(Response.id))
        answers = plain_rows(
            select(
                Answer.response_id, Answer.question_code, Answer.value, Answer.text, Answer.comment
            )
            .where(Answer.response_id.in_(wanted))
            .order_by(Answer.response_id)
        )
        rows = dict(zip((r[0] for r in responses), layout.rows(responses, answers), strict=True))
        chunk = []
        for number, rid in enumerate(part, start + 1):
            row = rows.get(rid)  # None: deleted since the ids were read
            if row is not None:
                row[0] = number
                chunk.append(row)
        yield chunk


def raw_rows(round_: Round, layout: RawLayout) -> Iterator[list[Any]]:
    """One list per response, in response id order (an anonymous round's: shuffled, see
    ``raw_chunks``), matching ``layout.header``; read in chunks
    of ``CHUNK`` responses (``raw_chunks``). Text cells are ``safe_text`` already."""
    for chunk in raw_chunks(round_, layout):
        yield from chunk


def _answers_of(first: int, last: int, round_id: int) -> list[tuple]:
    """The answers of the round's responses from id `first` to `last`, in response id order
    (the unique index on response and question holds them so: no sort)."""
    return plain_rows(
        select(Answer.response_id, Answer.question_code, Answer.value, Answer.text, Answer.comment)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.round_id == round_id, Answer.response_id.between(first, last))
        # The same order, named by the join's outer side: SQLite walks the responses' index
        # in it and needs no sort; by Answer.response_id it sorted every chunk's answers
        # (a temporary B-tree: 0.7 of 4 seconds for 100,000 responses, bench).
        .order_by(Response.id)
    )


def raw_count(round_: Round) -> int:
    """How many rows the raw export of the round has (its responses)."""
    return db.session.scalar(select(func.count(Response.id)).where(Response.round_id == round_.id))


def answers_csv(
    round_: Round, lang: str = "zh", progress: Callable[[int, int], None] | None = None
) -> Iterator[str]:
    """The raw export as CSV text chunks: a UTF-8 byte-order mark (so Excel reads Chinese),
    the header, then a chunk per ``raw_fast.CHUNK`` responses. ``progress(rows, total)`` is told the
    rows written after each chunk (a background build's progress)."""
    # A streamed body runs after the view's session has ended: load the round afresh.
    round_ = db.session.get(Round, round_.id)
    layout = raw_layout(round_, lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(layout.header)
    yield "\ufeff" + _drain(buffer)
    total = raw_count(round_) if progress else 0
    written = 0
    for rows, text in _csv_chunks(round_, layout):
        yield text
        written += rows
        if progress:
            progress(written, total)


def _csv_chunks(round_: Round, layout: RawLayout) -> Iterator[tuple[int, str]]:
    """The CSV text of the raw rows a chunk at a time, with its number of rows: the numpy
    assembly of ``raw_fast`` (the exact path's bytes, made 10 to 20 times faster), or, for a
    version whose question ids it cannot key, the exact path's rows through csv. The packed
    rows of ``raw_store`` first: one row read per response (the others made as here)."""
    packed = raw_store.csv_chunks(round_, layout)
    if packed is not None:
        yield from packed
        return
    fast = raw_fast.FastLayout(layout, round_)
    if not fast.usable:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        # csv writes None as an empty cell, a datetime as str() does: the cells go as they are.
        for chunk in raw_chunks(round_, layout):
            writer.writerows(chunk)
            yield len(chunk), _drain(buffer)
        return

    def exact(responses: list[tuple]) -> Callable[[list[int]], dict[int, str]]:
        def lines(ids: list[int]) -> dict[int, str]:
            wanted = set(ids)
            chosen = [r for r in responses if r[0] in wanted]
            return raw_fast.exact_lines(layout, chosen, _answers_in(sorted(wanted)))

        return lines

    for responses, numbered, order in _fast_pages(round_, layout, raw_fast.CHUNK):
        answers = raw_fast.read_chunk(fast, [r[0] for r in responses])
        text = raw_fast.chunk_text(fast, responses, answers, exact(responses), numbered, order)
        yield len(responses), text


def _answers_in(ids: list[int]) -> list[tuple]:
    """The answers of the responses `ids` (sorted), in response id order (``RawLayout.rows``)."""
    return plain_rows(
        select(Answer.response_id, Answer.question_code, Answer.value, Answer.text, Answer.comment)
        .where(Answer.response_id.in_(ids))
        .order_by(Answer.response_id)
    )


def raw_sheet_chunks(
    round_: Round, layout: RawLayout, letters: list[str], date_style: str
) -> Iterator[tuple[int, bytes]]:
    """The workbook's Raw data sheet as XML rows a chunk at a time, with each chunk's row
    count: the bytes ``raw_sheet.rows_xml`` writes for ``raw_chunks``' rows, assembled by
    ``raw_fast.chunk_xml`` from the CSV's grid of tokens (the exact path's rows for a version
    whose question ids it cannot key). Rows are numbered from 2 (after the header)."""
    fast = raw_fast.FastLayout(layout, round_)
    written = 0
    if not fast.usable:
        for chunk in raw_chunks(round_, layout):
            yield len(chunk), raw_sheet.rows_xml(chunk, written + 2, letters, date_style).encode()
            written += len(chunk)
        return

    def exact(responses: list[tuple]) -> Callable[[list[int]], dict[int, list]]:
        def rows(ids: list[int]) -> dict[int, list]:
            wanted = set(ids)
            chosen = [r for r in responses if r[0] in wanted]
            return {row[0]: row for row in layout.rows(chosen, _answers_in(sorted(wanted)))}

        return rows

    for responses, numbered, order in _fast_pages(round_, layout, raw_fast.SHEET_CHUNK):
        answers = raw_fast.read_chunk(fast, [r[0] for r in responses])
        yield (
            len(responses),
            raw_fast.chunk_xml(
                fast, responses, answers, exact(responses), written + 2, letters, date_style,
                numbered, order,
            ),
        )  # fmt: skip
        written += len(responses)


def _fast_pages(
    round_: Round, layout: RawLayout, size: int
) -> Iterator[tuple[list[tuple], list[int] | None, np.ndarray | None]]:
    """The round's responses `size` at a time (``_facts``, in id order), each
    with an anonymous round's row numbers and the order its rows go out in (``shuffle_keys``;
    ``_shuffled_chunks`` says why), else None and None."""
    if not layout.shuffled:
        for responses in _pages(round_.id, size):
            yield responses, None, None
        return
    order = _shuffled_ids(round_)
    for start in range(0, len(order), size):
        part = order[start : start + size]
        number_of = {rid: n for n, rid in enumerate(part.tolist(), start + 1)}
        responses = plain_rows(
            _facts().where(Response.id.in_(sorted(number_of))).order_by(Response.id)
        )
        if not responses:  # all deleted since the ids were read
            continue
        numbered = [number_of[r[0]] for r in responses]
        # The rows in the secret order: by their numbers (ids deleted since: no row).
        yield responses, numbered, np.argsort(numbered, kind="stable")


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return safe_cell(value if isinstance(value, int | float) else str(value))


def answers_csv_response(round_: Round, lang: str = "zh") -> HttpResponse:
    """The raw export streamed as a download (the first bytes leave at once)."""
    response = HttpResponse(
        stream_with_context(answers_csv(round_, lang)), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = _attachment(round_, "answers", "csv")
    return response


def identifies_units(round_: Round) -> bool:
    """Whether the round's raw answers name each response's unit (a named round's do)."""
    return not round_.anonymous


def record_download(round_: Round, fmt: str, raw: bool = False, **detail: Any) -> None:
    """Record a download of the round's results in the audit log (who, which round, which
    format, and whether it held the raw answers with unit codes), committed before the file
    leaves, so that a download is never without its record. A download is a GET that began by
    reading: the record gets a write transaction of its own (begin_write), as SQLite cannot turn
    a read into a write once another request has committed since."""
    begin_write(db.session)
    audit.record(
        "raw_answers_downloaded" if raw else "results_downloaded",
        target=f"round:{round_.id}",
        format=fmt,
        **detail,
        **({"unit_codes": identifies_units(round_)} if raw else {}),
    )
    db.session.commit()


def _attachment(round_: Round, what: str, extension: str) -> str:
    """Content-Disposition with an ASCII name and the round's own name (RFC 6266)."""
    name = quote(download_name(round_, what, extension))
    return f"attachment; filename=\"round-{round_.id}-{what}.{extension}\"; filename*=UTF-8''{name}"


def download_name(round_: Round, what: str, extension: str) -> str:
    """A file name of the round's name and the content, e.g. ``2004-autumn-results.xlsx``."""
    return f"{FILENAME_UNSAFE.sub('-', round_.name).strip('-') or round_.id}-{what}.{extension}"


# --- summary tables -----------------------------------------------------------------------


def summary_tables(results: RoundResults, lang: str) -> dict[str, pd.DataFrame]:
    """The round's summary tables by name, each with a ``<code>_label`` column in ``lang``
    before every code column; comparison and weighted tables only when the round has them."""
    tables: dict[str, Callable[[], pd.DataFrame]] = {
        "categories": lambda: results.categories,
        "items": lambda: results.items,
        "below_threshold": lambda: results.below,
        "groups": lambda: results.groups,
        "group_categories": lambda: results.group_categories,
        "group_items": lambda: results.group_items,
        "served_units": lambda: results.served_units,
        "scorecards": lambda: results.scorecards,
        "drivers": lambda: results.drivers,
        "trend": lambda: results.history,
    }
    if results.comparison is not None:
        tables["comparison_categories"] = lambda: results.comparison.categories
        tables["comparison_items"] = lambda: results.comparison.items
    if results.weighted:
        tables["weighted_categories"] = lambda: results.weighted["categories"]
        tables["weighted_items"] = lambda: results.weighted["items"]
    labels = results.labels[lang]
    return {name: _labelled(make(), labels) for name, make in tables.items()}


def _labelled(table: pd.DataFrame, labels) -> pd.DataFrame:
    table = table.drop(
        columns=[c for c in table.columns if c.startswith("count_")]
        if "question" not in table.columns
        else []
    )
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        if column in LABELLED:
            names = getattr(labels, LABELLED[column])
            codes = table[column].astype("object")
            out[f"{column}_label"] = codes.map(
                lambda c, n=names: None if pd.isna(c) else n.get(c, c)
            )
        out[column] = table[column]
    return out.reset_index(drop=True)


def table_csv_response(round_: Round, name: str, lang: str) -> HttpResponse:
    """One summary table as a CSV download; 404 for a table the round does not have."""
    tables = summary_tables(round_results(round_), lang)
    if name not in tables:
        abort(404)
    table = tables[name]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(table.columns))
    for row in table.itertuples(index=False):
        writer.writerow([_csv_cell(plain_value(v)) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = _attachment(round_, name, "csv")
    return response
