"""Downloads of a round's results: raw answers as CSV, summary tables as CSV (the workbook:
``survey.results.workbook``).

- Raw answers: one row per response and one column per question (the question's code), so a
  round of 100,000 responses fits one sheet; ratings stay numbers, choices are their codes,
  comments sit in ``<code>_comment`` columns; a question the respondent was not asked (another
  group's item, or hidden by a condition on the answers) holds ``NOT_ASKED``, and one asked but
  left unanswered stays empty (its comment cell is ``NOT_ASKED`` or empty alike), except in the
  rows of "other groups", where the items asked would name the group; ``source`` says web, paper or meeting. The rows
  are read from the database in chunks of ``CHUNK`` responses and streamed, never held all at
  once. A named round's rows carry their unit and time: only the users of
  ``survey.permissions.may_take_identified_answers`` get them. An anonymous round's rows carry
  neither (its responses keep none), only the day, and a respondent group with fewer than
  ``MIN_GROUP_UNITS`` units invited is reported as "other groups" (``merged_groups``).
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
from typing import Any
from urllib.parse import quote

import pandas as pd
from flask import Response as HttpResponse
from flask import abort, stream_with_context
from flask_babel import force_locale
from openpyxl.styles import PatternFill
from sqlalchemy import select

from questionnaires import QUESTION_TYPES, conditions
from questionnaires.model import Questionnaire
from survey import audit
from survey.database import begin_write
from survey.extensions import db
from survey.formatting import plain_value
from survey.models import Answer, RespondentGroup, Response, Round, Unit
from survey.questionnaire_store import to_model
from survey.results.frames import plain_rows
from survey.results.other_groups import OTHER_GROUPS, merged_groups
from survey.results.tables import RoundResults, round_results
from survey.spreadsheets import safe_cell

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
class RawLayout:
    """The columns of the raw export: response facts, then per question its answer (and
    ``<code>_comment`` for a question that asks for a comment). ``merged`` are the group codes
    written as ``other_groups`` (the label in the export's language)."""

    with_unit: bool
    questions: tuple[str, ...]
    comments: tuple[str, ...]
    days_only: bool = False
    merged: frozenset[str] = frozenset()
    other_groups: str = "other groups"
    # The questionnaire, to tell which questions a response was asked (None: all of them).
    definition: Questionnaire | None = field(default=None, compare=False)
    _asked: dict = field(default_factory=dict, compare=False, repr=False)

    def asked(self, group: str, answers: dict[str, tuple]) -> frozenset[str] | None:
        """The codes of the questions a response of `group` with `answers` (as read by
        ``_answers_by_response``) was asked, or None for every question: its group's items,
        less those its answers hid by their conditions (questionnaires.conditions)."""
        if self.definition is None:
            return None
        if group not in self._asked:
            seen = self.definition.for_group(group)
            every = len(seen.questions()) == len(self.definition.questions())
            self._asked[group] = (seen, every and not conditions.has_conditions(seen))
        seen, everything = self._asked[group]
        if everything:
            return None
        values = {}
        for q in seen.questions():
            value = answers.get(q.code, (None, None))[0]
            if value is not None and QUESTION_TYPES[q.type].multiple:
                value = tuple(str(value).split(","))  # stored as "a,b" (survey.responses)
            values[q.code] = value
        return conditions.shown(seen, values)

    @property
    def header(self) -> list[str]:
        facts = ["response_id", "submitted", "source", "group"] + (
            ["unit"] if self.with_unit else []
        )
        answers = []
        for code in self.questions:
            answers.append(code)
            if code in self.comments:
                answers.append(f"{code}_comment")
        return facts + answers


def raw_layout(round_: Round, lang: str = "zh") -> RawLayout:
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
        merged=unnamed_groups(round_) if anonymous else frozenset(),
        other_groups=other,
        definition=definition,
    )


def unnamed_groups(round_: Round) -> frozenset[str]:
    """The groups an anonymous round's raw answers call "other groups": those of a single unit
    (``merged_groups``), and every group its published tables hide (too few respondents, or
    hidden with one that has): the rows of a group the dashboard does not show would show it."""
    return merged_groups(round_) | frozenset(round_results(round_).small_groups())


def raw_rows(round_: Round, layout: RawLayout) -> Iterator[list[Any]]:
    """One list per response, in response id order, matching ``layout.header``; read in chunks
    of ``CHUNK`` responses (keyset paging, so each chunk is one indexed range)."""
    last = 0
    while True:
        responses = db.session.execute(
            select(
                Response.id, Response.submitted_at, Response.source, RespondentGroup.code, Unit.code
            )
            .join(RespondentGroup, Response.group_id == RespondentGroup.id)
            .outerjoin(Unit, Response.unit_id == Unit.id)
            .where(Response.round_id == round_.id, Response.id > last)
            .order_by(Response.id)
            .limit(CHUNK)
        ).all()
        if not responses:
            return
        answers = _answers_by_response(responses[0][0], responses[-1][0], round_.id)
        for rid, submitted, source, group, unit in responses:
            when = submitted.date() if layout.days_only else submitted.replace(microsecond=0)
            given = answers.get(rid, {})
            asked = layout.asked(group, given)
            if group in layout.merged:
                # Which items it was not asked would tell the group "other groups" hides.
                group, asked = layout.other_groups, None
            facts = [rid, when, source, group] + ([unit] if layout.with_unit else [])
            yield facts + _answer_cells(given, layout, asked)
        last = responses[-1][0]


def _answers_by_response(first: int, last: int, round_id: int) -> dict[int, dict[str, tuple]]:
    rows = plain_rows(
        select(Answer.response_id, Answer.question_code, Answer.value, Answer.text, Answer.comment)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.round_id == round_id, Answer.response_id.between(first, last))
    )
    found: dict[int, dict[str, tuple]] = {}
    for rid, code, value, text, comment in rows:
        found.setdefault(rid, {})[code] = (value if value is not None else text, comment)
    return found


def _answer_cells(
    answers: dict[str, tuple], layout: RawLayout, asked: frozenset[str] | None = None
) -> list[Any]:
    cells: list[Any] = []
    for code in layout.questions:
        if asked is not None and code not in asked:
            cells.append(NOT_ASKED)
            if code in layout.comments:
                cells.append(NOT_ASKED)
            continue
        value, comment = answers.get(code, (None, None))
        cells.append(value)
        if code in layout.comments:
            cells.append(comment)
    return cells


def answers_csv(round_: Round, lang: str = "zh") -> Iterator[str]:
    """The raw export as CSV text chunks: a UTF-8 byte-order mark (so Excel reads Chinese),
    the header, then a chunk per ``CHUNK`` responses."""
    # A streamed body runs after the view's session has ended: load the round afresh.
    round_ = db.session.get(Round, round_.id)
    layout = raw_layout(round_, lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(layout.header)
    yield "\ufeff" + _drain(buffer)
    for count, row in enumerate(raw_rows(round_, layout), start=1):
        writer.writerow([_csv_cell(value) for value in row])
        if count % CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


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
