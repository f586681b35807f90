"""Tables of the report and the formats of their cells."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    Paragraph,
    Table,
    TableStyle,
)

from survey.results.report.document import ReportContext
from survey.results.report.styles import BELOW, BRAND, CJK, HEADER_FILL, LINE, STRIPE, TEXT_WIDTH


def interval(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low * 100:.1f}–{high * 100:.1f}%"


def count(value: float | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def pvalue(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def signed_points(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} " + _("pp")


def status_text(status: str | None) -> str:
    return {
        "below": _("Below threshold"),
        "possibly_below": _("Possibly below"),
        "meets": _("Meets threshold"),
    }.get(status or "", "–")


def table(
    context: ReportContext,
    head: list[str],
    rows: list[list[Any]],
    widths: list[float],
    numeric: set[int],
    marked: set[int] = frozenset(),
) -> Table:
    """A ruled table: bold header, striped rows, figures right-aligned; rows in ``marked``
    are drawn in the warning colour."""
    s = context.styles
    data = [
        [Paragraph(s.text(h), s.head_right if i in numeric else s.head) for i, h in enumerate(head)]
    ]
    for row in rows:
        data.append(
            [
                Paragraph(s.text(v), s.cell_right if i in numeric else s.cell)
                for i, v in enumerate(row)
            ]
        )
    scale = TEXT_WIDTH / sum(widths)
    result = Table(
        data,
        colWidths=_fit_header_words(context, head, [w * scale for w in widths]),
        repeatRows=1,
        hAlign="LEFT",
    )
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, BRAND),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for index in range(2, len(data), 2):
        commands.append(("BACKGROUND", (0, index), (-1, index), STRIPE))
    for index in marked:
        commands.append(("TEXTCOLOR", (0, index + 1), (-1, index + 1), BELOW))
    result.setStyle(TableStyle(commands))
    return result


CELL_PADDING = 12  # ReportLab's default left and right padding of a table cell, together


def _fit_header_words(context: ReportContext, head: list[str], widths: list[float]) -> list[float]:
    """Column widths in which every word of a Latin header fits on a line: ReportLab splits a
    word too long for its column ("Satisfie/d"). The room comes from the widest column."""
    if context.lang == "zh":
        return widths  # Chinese wraps between any two characters anyway
    style = context.styles.head
    # Chinese in an English header (a round's name) wraps between characters: not a word.
    needed = [
        max(
            (
                pdfmetrics.stringWidth(word, style.fontName, style.fontSize)
                for word in str(h).split()
                if not CJK.search(word)
            ),
            default=0,
        )
        + CELL_PADDING
        + 1
        for h in head
    ]
    widths = list(widths)
    for i, need in enumerate(needed):
        widest = max(range(len(widths)), key=widths.__getitem__)
        short = need - widths[i]
        if short > 0 and widest != i:
            take = min(short, widths[widest] - needed[widest])
            if take > 0:
                widths[i] += take
                widths[widest] -= take
    return widths
