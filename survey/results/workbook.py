"""Everything of a round's results as one Excel workbook.

The workbook is written in openpyxl's write-only mode, but for the rows of its Raw data sheet,
written as XML text a chunk of responses at a time (``survey.results.raw_sheet``, the rows
assembled by ``raw_fast.chunk_xml`` through ``exports.raw_sheet_chunks``), to a file in the round's cache folder
(``survey.results.file_cache``), once per data version, language and variant (with or without
the raw answers; an anonymous round's groups reported as "other groups"), and sent from there.
Text cells pass through ``survey.spreadsheets.safe_cell`` and lose the control characters the
xlsx format cannot hold.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from survey import rounds
from survey.formatting import plain_value
from survey.models import Round, utcnow
from survey.questionnaire_store import to_model
from survey.responses import SOURCE_NAMES
from survey.results import file_cache, raw_sheet
from survey.results.exports import (
    COUNTS,
    DECIMALS,
    HEADER_FILL,
    PERCENT,
    RawLayout,
    download_name,
    raw_count,
    raw_layout,
    raw_sheet_chunks,
    summary_tables,
    unnamed_groups,
)
from survey.results.labels import labels_for
from survey.results.tables import RoundResults, round_results
from survey.spreadsheets import safe_cell

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(round_: Round, lang: str, raw: bool = True) -> tuple[Path, str]:
    """The workbook's path (made once per data version, language and variant) and its download
    name; without ``raw`` it has no Raw data sheet."""
    results = round_results(round_)
    path = file_cache.cached_file(
        round_.id,
        results.version_tag,
        file_name(round_, lang, raw),
        lambda target: write_workbook(round_, results, lang, target, raw),
    )
    return path, download_name(round_, "results", "xlsx")


def file_name(round_: Round, lang: str, raw: bool = True) -> str:
    """What, besides the round's data version, the workbook depends on: language and variant."""
    return f"results-{lang}{_variant(round_, raw)}.xlsx"


def _variant(round_: Round, raw: bool) -> str:
    """What the file name adds to the data version: no raw sheet, or the groups an anonymous
    round reports as "other groups" (they follow its invitations, which the version does not)."""
    if not raw:
        return "-aggregated"
    if not round_.anonymous:
        return ""
    merged = ",".join(sorted(unnamed_groups(round_)))
    return "-" + hashlib.sha256(merged.encode()).hexdigest()[:8]


def write_workbook(
    round_: Round,
    results: RoundResults,
    lang: str,
    path: Path,
    raw: bool = True,
    progress: Callable[[float], None] | None = None,
    rows: Callable[[int, int], None] | None = None,
) -> None:
    """Write the workbook: Summary, one sheet per summary table, Questions, Raw data (when
    ``raw``). ``progress(share)`` is told the share of the work done so far (0 to 1), and
    ``rows(written, total)`` the raw answers' rows written after each chunk of them."""
    book = Workbook(write_only=True)
    told = progress or (lambda share: None)
    with force_locale(lang):
        tables = summary_tables(results, lang)
        _summary_sheet(book, round_, results, lang, tables["categories"])
        sheets = len(tables) + 2 + (2 if raw else 0)  # the raw answers weigh two sheets
        for number, (name, table) in enumerate(tables.items(), start=2):
            told((number - 1) / sheets)
            _table_sheet(book, SHEET_TITLES.get(name, name), table)
        told((sheets - 2 - (2 if raw else 0)) / sheets)
        _questions_sheet(book, round_, lang)
        layout = _raw_sheet(book, round_, lang) if raw else None
    if layout is None:
        book.save(path)
        told(1.0)
        return
    begun = (sheets - 2) / sheets
    told(begun)
    total = raw_count(round_)

    def written(count: int) -> None:
        if rows:
            rows(count, total)
        told(begun + (1 - begun) * count / max(total, 1))

    # openpyxl writes the workbook with a placeholder row in Raw data; raw_sheet writes the
    # rows in its place (its module says why), a chunk of responses at a time.
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".draft-", suffix=".xlsx")
    os.close(fd)
    try:
        book.save(draft)
        raw_sheet.splice_xml(
            Path(draft),
            path,
            lambda letters, date_style: raw_sheet_chunks(round_, layout, letters, date_style),
            len(layout.header),
            written,
        )
    finally:
        os.unlink(draft)
    told(1.0)


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
    cell = WriteOnlyCell(sheet, value=_excel_text(plain_value(value)))
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


def _summary_sheet(
    book: Workbook, round_: Round, results: RoundResults, lang: str, table: pd.DataFrame
) -> None:
    """The round's facts, then `table` (the categories' summary table, made once with the
    others: making the tables is a tenth of a second)."""
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
        *[(str(SOURCE_NAMES.get(s, s)), n, "#,##0") for s, n in sorted(results.sources.items())],
        (_("Anonymous round"), _("yes") if round_.anonymous else _("no"), None),
        (_("Anonymity threshold (respondents)"), results.anonymity_threshold, "0"),
        (_("Satisfaction threshold"), results.threshold, "0%"),
        (_("Satisfied, all ratings"), summary.rate, "0.0%"),
        (_("95% CI, low"), summary.ci_low, "0.0%"),
        (_("95% CI, high"), summary.ci_high, "0.0%"),
        (_("Answered ratings (n)"), summary.n, "#,##0"),
        (_("Respondents who rated"), summary.rating_respondents, "#,##0"),
        (_("Design effect (respondents as clusters)"), summary.deff, "0.00"),
        (_("Effective n (the interval's n)"), summary.n_eff, "#,##0.0"),
        (_("Generated"), utcnow().replace(microsecond=0), "yyyy-mm-dd hh:mm"),
    ]  # fmt: skip
    for label, value, number_format in facts:
        sheet.append([_cell(sheet, label, bold=True), _cell(sheet, value, number_format)])
    sheet.append([])
    sheet.append([_cell(sheet, _("Satisfaction by category"), bold=True)])
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


def _raw_sheet(book: Workbook, round_: Round, lang: str) -> RawLayout:
    """The Raw data sheet's header and placeholder row (``raw_sheet.splice`` writes the rows)."""
    sheet = book.create_sheet(_("Raw data")[:31])
    layout = raw_layout(round_, lang)
    _widths(
        sheet,
        [12, 18, 10, 14] + ([18] if layout.with_unit else []) + [14] * (len(layout.header) - 5),
    )
    sheet.freeze_panes = "B2"
    sheet.append(_header(sheet, layout.header))
    date_format = "yyyy-mm-dd" if layout.days_only else "yyyy-mm-dd hh:mm:ss"
    sheet.append(raw_sheet.placeholder(_cell(sheet, datetime(2004, 1, 1), date_format)))
    return layout
