"""Downloads of a round's results: raw answers as CSV, summary tables as CSV, everything as an
Excel workbook.

- Raw answers: one row per response and one column per question (the question's code), so a
  round of 100,000 responses fits one sheet; ratings stay numbers, choices are their codes,
  comments sit in ``<code>_comment`` columns; ``source`` says web, paper or meeting. An
  anonymous round has no unit column. The rows are read from the database in chunks of
  ``CHUNK`` responses and streamed, never held all at once.
- Every text cell passes through ``survey.spreadsheets.safe_cell``, so no comment becomes a
  formula in Excel, LibreOffice or Sheets; the workbook also drops the control characters the
  xlsx format cannot hold.
- Summary tables are those of ``survey.results.RoundResults`` with a label column beside each
  code; suppressed group rows keep their codes and ``suppressed`` but no figures.
- The workbook is written in openpyxl's write-only mode to a file in the round's cache folder
  (``survey.chart_cache``), once per data version and language, and sent from there.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from flask import Response as HttpResponse
from flask import abort, stream_with_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from survey import chart_cache, rounds
from survey.extensions import db
from survey.models import Answer, RespondentGroup, Response, Round, Unit, utcnow
from survey.questionnaire_store import to_model
from survey.results import RoundResults, labels_for, plain_rows, round_results
from survey.spreadsheets import safe_cell

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 2000
SOURCES = {"web": _l("web"), "paper": _l("paper"), "meeting": _l("meeting")}
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
    "z": "0.00",
    "p_value": "0.0000",
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
    ``<code>_comment`` for a question that asks for a comment)."""

    with_unit: bool
    questions: tuple[str, ...]
    comments: tuple[str, ...]

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


def raw_layout(round_: Round) -> RawLayout:
    definition = to_model(round_.version)
    questions = definition.questions()
    return RawLayout(
        with_unit=not round_.anonymous,
        questions=tuple(q.code for q in questions),
        comments=tuple(q.code for q in questions if q.follow_up),
    )


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
            when = submitted.date() if round_.anonymous else submitted.replace(microsecond=0)
            facts = [rid, when, source, group] + ([unit] if layout.with_unit else [])
            yield facts + _answer_cells(answers.get(rid, {}), layout)
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


def _answer_cells(answers: dict[str, tuple], layout: RawLayout) -> list[Any]:
    cells: list[Any] = []
    for code in layout.questions:
        value, comment = answers.get(code, (None, None))
        cells.append(value)
        if code in layout.comments:
            cells.append(comment)
    return cells


def answers_csv(round_: Round) -> Iterator[str]:
    """The raw export as CSV text chunks: a UTF-8 byte-order mark (so Excel reads Chinese),
    the header, then a chunk per ``CHUNK`` responses."""
    # A streamed body runs after the view's session has ended: load the round afresh.
    round_ = db.session.get(Round, round_.id)
    layout = raw_layout(round_)
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


def answers_csv_response(round_: Round) -> HttpResponse:
    """The raw export streamed as a download (the first bytes leave at once)."""
    response = HttpResponse(
        stream_with_context(answers_csv(round_)), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = _attachment(round_, "answers", "csv")
    return response


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
        writer.writerow([_csv_cell(_plain(v)) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = _attachment(round_, name, "csv")
    return response


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


# --- the workbook -------------------------------------------------------------------------


def workbook(round_: Round, lang: str) -> tuple[Path, str]:
    """The workbook's path (made once per data version and language) and its download name."""
    results = round_results(round_)
    path = chart_cache.cached_file(
        round_.id,
        results.version_tag,
        f"results-{lang}.xlsx",
        lambda target: write_workbook(round_, results, lang, target),
    )
    return path, download_name(round_, "results", "xlsx")


def write_workbook(round_: Round, results: RoundResults, lang: str, path: Path) -> None:
    """Write the workbook: Summary, one sheet per summary table, Questions, Raw data."""
    book = Workbook(write_only=True)
    with force_locale(lang):
        _summary_sheet(book, round_, results, lang)
        for name, table in summary_tables(results, lang).items():
            _table_sheet(book, SHEET_TITLES.get(name, name), table)
        _questions_sheet(book, round_, lang)
        _raw_sheet(book, round_)
    book.save(path)


SHEET_TITLES = {
    "categories": "Categories", "items": "Items", "below_threshold": "Below threshold",
    "groups": "Groups", "group_categories": "Group x category", "group_items": "Group x item",
    "served_units": "Served units", "scorecards": "Scorecards", "drivers": "Drivers",
    "trend": "Trend", "comparison_categories": "Change by category",
    "comparison_items": "Change by item", "weighted_categories": "Weighted categories",
    "weighted_items": "Weighted items",
}  # fmt: skip


def _excel_text(value: Any) -> Any:
    value = safe_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _cell(sheet, value: Any, number_format: str | None = None, bold: bool = False):
    cell = WriteOnlyCell(sheet, value=_excel_text(_plain(value)))
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)
    return cell


def _header(sheet, titles: list[str]) -> list:
    cells = []
    for title in titles:
        cell = _cell(sheet, title, bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
    return cells


def _format(column: str) -> str | None:
    if column in PERCENT:
        return "0.0%"
    if column in COUNTS:
        return "#,##0"
    return DECIMALS.get(column)


def _widths(sheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _table_sheet(book: Workbook, title: str, table: pd.DataFrame) -> None:
    sheet = book.create_sheet(title[:31])
    columns = list(table.columns)
    _widths(sheet, [36 if c.endswith("_label") else max(10, min(len(c) + 2, 22)) for c in columns])
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet, columns))
    formats = [_format(c) for c in columns]
    for row in table.itertuples(index=False):
        sheet.append([_cell(sheet, v, f) for v, f in zip(row, formats)])


def _summary_sheet(book: Workbook, round_: Round, results: RoundResults, lang: str) -> None:
    sheet = book.create_sheet(_("Summary")[:31])
    _widths(sheet, [40, 24, 14, 14, 14, 14, 14, 14, 16])
    progress = rounds.progress_of(round_)
    summary = results.summary
    title = round_.version.title_zh if lang == "zh" else round_.version.title_en
    sheet.append([_cell(sheet, f"{round_.name} · {title}", bold=True)])
    facts = [
        (_("Round"), round_.name, None), (_("Status"), round_.status, None),
        (_("Opens"), round_.opens_at, "yyyy-mm-dd"), (_("Closes"), round_.closes_at, "yyyy-mm-dd"),
        (_("Invited"), progress.invited, "#,##0"),
        (_("Submitted invitations"), progress.submitted, "#,##0"),
        (_("Response rate"), progress.rate, "0.0%"),
        (_("Responses (all sources)"), results.responses, "#,##0"),
        *[(str(SOURCES.get(s, s)), n, "#,##0") for s, n in sorted(results.sources.items())],
        (_("Anonymous round"), _("yes") if round_.anonymous else _("no"), None),
        (_("Anonymity threshold (respondents)"), results.anonymity_threshold, "0"),
        (_("Satisfaction threshold"), results.threshold, "0%"),
        (_("Satisfied, all ratings"), summary.rate, "0.0%"),
        (_("95% CI, low"), summary.ci_low, "0.0%"),
        (_("95% CI, high"), summary.ci_high, "0.0%"),
        (_("Answered ratings (n)"), summary.n, "#,##0"),
        (_("Generated"), utcnow().replace(microsecond=0), "yyyy-mm-dd hh:mm"),
    ]  # fmt: skip
    for label, value, number_format in facts:
        sheet.append([_cell(sheet, label, bold=True), _cell(sheet, value, number_format)])
    sheet.append([])
    sheet.append([_cell(sheet, _("Satisfaction by category"), bold=True)])
    table = summary_tables(results, lang)["categories"]
    sheet.append(_header(sheet, list(table.columns)))
    formats = [_format(c) for c in table.columns]
    for row in table.itertuples(index=False):
        sheet.append([_cell(sheet, v, f) for v, f in zip(row, formats)])


def _questions_sheet(book: Workbook, round_: Round, lang: str) -> None:
    sheet = book.create_sheet(_("Questions")[:31])
    _widths(sheet, [20, 60, 12, 26, 16, 30])
    sheet.freeze_panes = "A2"
    sheet.append(
        _header(sheet, ["code", _("Question"), "type", "category", "served_unit", _("Scale")])
    )
    labels = labels_for(round_.version, lang)
    for q in to_model(round_.version).questions():
        scale = (
            " / ".join(f"{p.value} {p.label.get(lang)}" for p in q.scale.points)
            if q.scale
            else ", ".join(c.code for c in q.choices)
        )
        sheet.append(
            [
                _cell(sheet, v)
                for v in (
                    q.code,
                    labels.questions.get(q.code),
                    q.type,
                    q.category,
                    q.served_unit,
                    scale,
                )
            ]
        )


def _raw_sheet(book: Workbook, round_: Round) -> None:
    sheet = book.create_sheet(_("Raw data")[:31])
    layout = raw_layout(round_)
    _widths(
        sheet,
        [12, 18, 10, 14] + ([18] if layout.with_unit else []) + [14] * (len(layout.header) - 5),
    )
    sheet.freeze_panes = "B2"
    sheet.append(_header(sheet, layout.header))
    date_format = "yyyy-mm-dd" if round_.anonymous else "yyyy-mm-dd hh:mm:ss"
    for row in raw_rows(round_, layout):
        # Plain values (no style object per cell): two million cells stay fast.
        row[1] = _cell(sheet, row[1], date_format)
        sheet.append([_excel_text(v) if isinstance(v, str) else v for v in row])
