"""The management-review report of a round as a PDF, made on the server with ReportLab.

Contents (ISO 9001:2015): the method of monitoring (9.1.2: who was asked, how, when, the
response rate), the analysis and evaluation (9.1.3: headline figures per category with n and
95% intervals, the items below the threshold, respondent groups with small groups suppressed,
served units, the change since the previous round with its significance, the drivers of
overall satisfaction) and the charts, for the management review (9.3).

The report is a list of sections: functions registered with ``@section(order)`` that take a
``ReportContext`` and return ReportLab flowables (an empty list leaves the section out). The
corrective-action register is such a section, registered by ``survey.corrective.report_section``.

Fonts: Latin text in DejaVu Sans (shipped with matplotlib), Chinese in the first CJK TrueType
font of ``CJK_FONT_FILES`` found (Debian's fonts-wqy-microhei by default). Without one the
report is written in English and Chinese names from the database are left as they are.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from analysis.drivers import WEAK_CORRELATION, all_weak
from survey import chart_cache, rounds
from survey.models import Round, utcnow
from survey.results import RoundResults, records, round_progress, round_results
from survey.review import charts
from survey.review.charts import Chart
from survey.review.pages import unplaced_note

CJK_FONT_FILES = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", None),
)
LATIN_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
CHART_DPI = 200
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BRAND = colors.HexColor("#1f3a5f")
ACCENT = colors.HexColor("#a61b1b")
MUTED = colors.HexColor("#4f5b69")
LINE = colors.HexColor("#cfd6df")
HEADER_FILL = colors.HexColor("#e8eef5")
STRIPE = colors.HexColor("#f6f8fa")
BELOW = colors.HexColor("#b3261e")
CHINESE_NUMERALS = "〇一二三四五六七八九十"
CJK = re.compile(r"([\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+)")


# --- fonts and styles ---------------------------------------------------------------------


def cjk_font() -> str | None:
    """Register and return the name of the first available CJK TrueType font, or None."""
    if "ReportCJK" in pdfmetrics.getRegisteredFontNames():
        return "ReportCJK"
    for path, index in CJK_FONT_FILES:
        if os.path.exists(path):
            options = {} if index is None else {"subfontIndex": index}
            pdfmetrics.registerFont(TTFont("ReportCJK", path, **options))
            return "ReportCJK"
    return None


def _latin_fonts() -> tuple[str, str]:
    if "ReportLatin" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("ReportLatin", str(LATIN_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("ReportLatinBold", str(LATIN_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(
            "ReportLatin",
            normal="ReportLatin",
            bold="ReportLatinBold",
            italic="ReportLatin",
            boldItalic="ReportLatinBold",
        )
    return "ReportLatin", "ReportLatinBold"


@dataclass
class Styles:
    """Paragraph styles of one report; ``text()`` marks up a string for them."""

    lang: str
    cjk: str | None
    body: ParagraphStyle = field(init=False)
    small: ParagraphStyle = field(init=False)
    cell: ParagraphStyle = field(init=False)
    cell_right: ParagraphStyle = field(init=False)
    head: ParagraphStyle = field(init=False)
    head_right: ParagraphStyle = field(init=False)
    title: ParagraphStyle = field(init=False)
    subtitle: ParagraphStyle = field(init=False)
    h1: ParagraphStyle = field(init=False)
    h2: ParagraphStyle = field(init=False)
    figure: ParagraphStyle = field(init=False)

    def __post_init__(self) -> None:
        regular, bold = _latin_fonts()
        # Chinese text wraps between any two characters; its font carries the Latin too.
        base = self.cjk if self.lang == "zh" and self.cjk else regular
        strong = self.cjk if self.lang == "zh" and self.cjk else bold
        wrap = "CJK" if self.lang == "zh" else None
        self.bold_font = strong

        def style(name, size, leading, font=base, colour=colors.black, **extra):
            return ParagraphStyle(
                name,
                fontName=font,
                fontSize=size,
                leading=leading,
                textColor=colour,
                wordWrap=wrap,
                **extra,
            )

        self.body = style("body", 9.5, 14.5, spaceAfter=5)
        self.small = style("small", 8, 11, colour=MUTED, spaceAfter=4)
        self.cell = style("cell", 8.5, 11)
        self.cell_right = style("cell_right", 8.5, 11, alignment=TA_RIGHT)
        self.head = style("head", 8, 10, font=strong, colour=BRAND)
        self.head_right = style("head_right", 8, 10, font=strong, colour=BRAND, alignment=TA_RIGHT)
        self.title = style("title", 20, 26, font=strong, colour=BRAND, spaceAfter=4)
        self.subtitle = style("subtitle", 11, 16, colour=MUTED, spaceAfter=10)
        # keepWithNext: a heading never ends a page without what it heads.
        self.h1 = style(
            "h1", 14, 19, font=strong, colour=BRAND, spaceBefore=12, spaceAfter=6, keepWithNext=1
        )
        self.h2 = style(
            "h2", 11, 15, font=strong, colour=BRAND, spaceBefore=8, spaceAfter=4, keepWithNext=1
        )
        self.figure = style("figure", 8, 11, colour=MUTED, spaceAfter=8)

    def text(self, value: object) -> str:
        """Escaped text with Chinese runs set in the CJK font when the base font is Latin."""
        text = escape("" if value is None else str(value))
        if self.cjk is None or self.lang == "zh":
            return text
        return CJK.sub(lambda m: f'<font name="{self.cjk}">{m.group(1)}</font>', text)

    def para(self, value: object, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(self.text(value), style or self.body)


# --- the context and the sections ---------------------------------------------------------


@dataclass
class ReportContext:
    """What a section sees: the round, its cached results, the report's language and styles."""

    round: Round
    results: RoundResults
    lang: str
    styles: Styles
    progress: rounds.Progress
    group_progress: list
    figures: int = 0
    chapters: int = 0

    def chapter(self, title: str) -> Paragraph:
        """The next numbered chapter heading: "3. Title" in English, "三、Title" in Chinese.
        Numbered as they come, since a section with nothing to say leaves the report."""
        self.chapters += 1
        number = (
            f"{CHINESE_NUMERALS[self.chapters]}、" if self.lang == "zh" else f"{self.chapters}. "
        )
        return self.styles.para(number + title, self.styles.h1)

    @property
    def labels(self):
        return self.results.labels[self.lang]

    def chart(self, kind: str) -> list[Flowable]:
        """A chart of the round (from the chart cache, at print resolution), numbered, with its
        alt text as the figure's description."""
        self.figures += 1
        caption = _("Figure %(n)s.", n=self.figures)
        chart = Chart(kind, self.lang)
        png = charts.image(self.results, chart, "png", dpi=CHART_DPI)
        width, height = ImageReader(io.BytesIO(png)).getSize()
        shown = min(TEXT_WIDTH, width / CHART_DPI * 72 * 0.85)
        tallest = PAGE_HEIGHT - 2 * MARGIN - 30 * mm
        scale = min(shown / width, tallest / height)
        image = Image(io.BytesIO(png), width=width * scale, height=height * scale)
        text = f"{caption} {charts.alt(self.results, chart)}"  # the alt text describes it
        return [KeepTogether([image, self.styles.para(text, self.styles.figure)])]


Section = Callable[[ReportContext], list[Flowable]]
Stamp = Callable[[Round], str]
SECTIONS: list[tuple[float, Section]] = []
# What a section shows beyond the round's answers (e.g. the state of its corrective actions)
# goes into the cached file's name, so that a change to it makes a new report.
STAMPS: list[Stamp] = []


def section(order: float, stamp: Stamp | None = None) -> Callable[[Section], Section]:
    """Register a report section; sections run in ``order`` (10 title, 20 method, 30
    analysis, 40 trend, 50 drivers, 60 the corrective-action register). ``stamp(round)``,
    for a section that shows data other than the round's answers, returns a short text that
    changes whenever that data does."""

    def register(function: Section) -> Section:
        SECTIONS.append((order, function))
        SECTIONS.sort(key=lambda pair: pair[0])
        if stamp is not None:
            STAMPS.append(stamp)
        return function

    return register


def pdf(round_: Round, lang: str) -> tuple[Path, str]:
    """The report's path (made once per data version, section stamp and language) and its
    download name."""
    results = round_results(round_)
    if lang == "zh" and cjk_font() is None:
        lang = "en"
    stamps = "".join(f"-{stamp(round_)}" for stamp in STAMPS)
    path = chart_cache.cached_file(
        round_.id,
        results.version_tag,
        f"report-{lang}{stamps}.pdf",
        lambda target: target.write_bytes(build(round_, lang)),
    )
    for older in path.parent.glob(f"report-{lang}-*.pdf"):
        if older != path:  # made before the last change to the register
            older.unlink(missing_ok=True)
    from survey.exports import download_name

    return path, download_name(round_, "report", "pdf")


def build(round_: Round, lang: str) -> bytes:
    """The report as PDF bytes (see the module docstring for its contents)."""
    cjk = cjk_font()
    lang = lang if lang == "en" or cjk else "en"
    with force_locale(lang):
        results = round_results(round_)
        context = ReportContext(
            round_, results, lang, Styles(lang, cjk), *round_progress(round_, results)
        )
        story: list[Flowable] = []
        for _order, function in SECTIONS:
            story.extend(function(context))
        buffer = io.BytesIO()
        title = _("Client satisfaction: management review")
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + 4 * mm,
            bottomMargin=MARGIN,
            title=f"{title} · {round_.name}",
            author=_("Shaoxing Municipal Government Office"),
            subject=round_.name,
        )
        decorate = _page_decoration(context, title)
        document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _page_decoration(context: ReportContext, title: str) -> Callable:
    office = _("Shaoxing Municipal Government Office")
    generated = _("Generated %(when)s", when=utcnow().strftime("%Y-%m-%d"))
    font = context.styles.body.fontName

    def decorate(canvas, document) -> None:
        canvas.saveState()
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, PAGE_HEIGHT - MARGIN, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN)
        canvas.setFont(_font_for(font, office, context), 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, PAGE_HEIGHT - MARGIN + 3, office)
        header = f"{title} · {context.round.name}"
        canvas.setFont(_font_for(font, header, context), 7.5)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN + 3, header)
        footer = f"{generated} · ISO 9001 9.1.2 / 9.1.3"
        canvas.setFont(_font_for(font, footer, context), 7.5)
        canvas.drawString(MARGIN, MARGIN - 10, footer)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN - 10, str(document.page))
        canvas.restoreState()

    return decorate


def _font_for(font: str, text: str, context: ReportContext) -> str:
    return context.styles.cjk if context.styles.cjk and CJK.search(text) else font


# --- helpers for tables -------------------------------------------------------------------


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


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


# --- the sections -------------------------------------------------------------------------


@section(10)
def title_block(context: ReportContext) -> list[Flowable]:
    s, r, results = context.styles, context.round, context.results
    questionnaire = r.version.title_zh if context.lang == "zh" else r.version.title_en
    flow: list[Flowable] = [
        s.para(_("Client satisfaction: management review"), s.title),
        s.para(f"{r.name} · {questionnaire} (v{r.version.number})", s.subtitle),
    ]
    if results.empty:
        flow.append(s.para(_("No responses yet: this report has no figures to show.")))
        return flow
    summary = results.summary
    facts = [
        (
            pct(context.progress.rate, 0) if context.progress.rate is not None else "–",
            _(
                "response rate (%(s)s of %(i)s invitations)",
                s=context.progress.submitted,
                i=context.progress.invited,
            ),
        ),
        (
            pct(summary.rate),
            _(
                "of all ratings satisfied (95%% interval %(ci)s, n = %(n)s)",
                ci=interval(summary.ci_low, summary.ci_high),
                n=count(summary.n),
            ),
        ),
        (
            str(len(results.below)),
            ngettext(
                "item below the %(t)s threshold",
                "items below the %(t)s threshold",
                len(results.below),
                t=pct(results.threshold, 0),
            ),
        ),
    ]
    cells = [
        [
            Paragraph(
                s.text(value),
                ParagraphStyle("big", parent=s.title, fontSize=18, leading=22, spaceAfter=0),
            ),
            s.para(what, s.small),
        ]
        for value, what in facts
    ]
    box = Table(
        [[c[0] for c in cells], [c[1] for c in cells]],
        colWidths=[TEXT_WIDTH / 3] * 3,
        hAlign="LEFT",
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), STRIPE),
                ("LINEAFTER", (0, 0), (1, -1), 0.4, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
            ]
        )
    )
    flow += [box, Spacer(1, 4 * mm), *findings(context)]
    return flow


def findings(context: ReportContext) -> list[Flowable]:
    """Plain sentences a reader of the management review needs first."""
    s, results, labels = context.styles, context.results, context.labels
    lines = []
    categories = records(results.categories)
    meets = [r for r in categories if r["status"] == "meets"]
    lines.append(
        _(
            "%(m)s of %(n)s categories meet the satisfaction threshold of %(t)s.",
            m=len(meets),
            n=len(categories),
            t=pct(results.threshold, 0),
        )
    )
    for row in records(results.below)[:3]:
        lines.append(
            _(
                "Lowest: %(item)s, %(rate)s satisfied (95%% interval %(ci)s, n = %(n)s).",
                item=labels.questions.get(row["question"], row["question"]),
                rate=pct(row["rate"]),
                ci=interval(row["ci_low"], row["ci_high"]),
                n=count(row["n"]),
            )
        )
    if results.comparison is not None:
        changes = records(results.comparison.categories)
        down = [r for r in changes if r["significant"] and r["direction"] == "down"]
        up = [r for r in changes if r["significant"] and r["direction"] == "up"]
        lines.append(
            _(
                "Since %(name)s: %(d)s categories fell and %(u)s rose significantly "
                "(two-proportion z-test, p < 0.05).",
                name=results.comparison.name,
                d=len(down),
                u=len(up),
            )
        )
    items = [s.para("• " + line) for line in lines]
    return [s.para(_("Findings"), s.h2), *items]


@section(20)
def method(context: ReportContext) -> list[Flowable]:
    s, r, results, labels = context.styles, context.round, context.results, context.labels
    flow: list[Flowable] = [context.chapter(_("Method of monitoring (ISO 9001, 9.1.2)"))]
    groups = ", ".join(labels.groups.get(g, g) for g, _p in context.group_progress) or "–"
    flow.append(
        s.para(
            _(
                "Who was asked: %(groups)s. %(i)s invitations were issued, one "
                "personal link per respondent unit or named person.",
                groups=groups,
                i=context.progress.invited,
            )
        )
    )
    sources = ", ".join(f"{_source(k)} {v:,}" for k, v in sorted(results.sources.items()))
    flow.append(
        s.para(
            _(
                "How: a web questionnaire opened from the personal invitation link, "
                "on a phone or a desk PC, in Chinese or English; paper questionnaires "
                "and feedback given at meetings were keyed in by the office. "
                "Responses by source: %(sources)s.",
                sources=sources or "–",
            )
        )
    )
    flow.append(
        s.para(
            _(
                "When: the round was open from %(o)s to %(c)s; responses arrived "
                "between %(f)s and %(l)s.",
                o=_date(r.opens_at),
                c=_date(r.closes_at),
                f=_date(results.first_response),
                l=_date(results.last_response),
            )
        )
    )
    flow.append(
        s.para(
            _(
                "What: %(n)s rating items on a five-point scale from very dissatisfied "
                "(1) to very satisfied (5). An answer of 4 or 5 counts as satisfied; "
                "the satisfaction rate of an item or category is the share of its "
                "answered ratings that are satisfied, with a 95%% Wilson interval.",
                n=results.summary.items,
            )
        )
    )
    flow.append(
        s.para(
            _(
                "Anonymity: a respondent group with fewer than %(k)s respondents is "
                "never reported on its own; its answers count in every total.%(a)s",
                k=results.anonymity_threshold,
                a=(
                    " " + _("The round is anonymous: responses keep no unit.")
                    if r.anonymous
                    else ""
                ),
            )
        )
    )
    rows = [
        [
            labels.groups.get(g, g),
            count(p.invited),
            count(p.submitted),
            pct(p.rate, 0) if p.rate is not None else "–",
        ]
        for g, p in context.group_progress
    ]
    rows.append(
        [
            _("All groups"),
            count(context.progress.invited),
            count(context.progress.submitted),
            pct(context.progress.rate, 0) if context.progress.rate is not None else "–",
        ]
    )
    flow.append(s.para(_("Response rate by respondent group"), s.h2))
    flow.append(
        table(
            context,
            [_("Respondent group"), _("Invited"), _("Submitted"), _("Response rate")],
            rows,
            [70, 25, 25, 25],
            {1, 2, 3},
        )
    )
    return flow


def _unit(labels, code: str | None) -> str:
    return labels.served_units.get(code, code) if code else _("No served unit")


def _source(code: str) -> str:
    return {"web": _("web"), "paper": _("paper"), "meeting": _("meeting")}.get(code, code)


def _date(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d")


@section(30)
def analysis_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    if results.empty:
        return []
    flow: list[Flowable] = [
        context.chapter(_("Analysis and evaluation (ISO 9001, 9.1.3)")),
        s.para(_("2.1 Satisfaction by category"), s.h2),
    ]
    weighted = (
        {r["category"]: r for r in records(results.weighted["categories"])}
        if results.weighted
        else {}
    )
    head = [_("Category"), _("Items"), _("n"), _("Satisfied"), _("95% CI"), _("Status")]
    widths = [58, 12, 18, 18, 28, 34]
    if weighted:
        head.insert(5, _("Weighted (n_eff)"))
        widths.insert(5, 28)
    rows, marked = [], set()
    for index, row in enumerate(records(results.categories)):
        line = [
            labels.categories.get(row["category"], row["category"]),
            row["items"],
            count(row["n"]),
            pct(row["rate"]),
            interval(row["ci_low"], row["ci_high"]),
            status_text(row["status"]),
        ]
        if weighted:
            w = weighted.get(row["category"], {})
            line.insert(5, f"{pct(w.get('weighted_rate'))} ({w.get('n_eff') or 0:.0f})")
        rows.append(line)
        if row["status"] == "below":
            marked.add(index)
    flow.append(
        table(context, head, rows, widths, {1, 2, 3, 4} | ({5} if weighted else set()), marked)
    )
    flow.append(
        s.para(
            _(
                "Below threshold: the whole 95%% interval lies below %(t)s; possibly "
                "below: only the rate does.",
                t=pct(results.threshold, 0),
            ),
            s.small,
        )
    )
    # The items below the threshold fill the page under the table; the tall chart follows.
    flow += below_threshold(context)
    flow += context.chart("rates")
    flow += groups_section(context)
    flow += units_section(context)
    return flow


def below_threshold(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    flow: list[Flowable] = [
        s.para(_("2.2 Items below the threshold of %(t)s", t=pct(results.threshold, 0)), s.h2)
    ]
    rows = records(results.below)
    if not rows:
        return flow + [s.para(_("No item is below the threshold."))]
    body = [
        [
            labels.questions.get(r["question"], r["question"]),
            _unit(labels, r["served_unit"]),
            count(r["n"]),
            pct(r["rate"]),
            interval(r["ci_low"], r["ci_high"]),
            _("confirmed") if r["evidence"] == "confirmed" else _("possible"),
        ]
        for r in rows
    ]
    flow.append(
        table(
            context,
            [_("Item"), _("Served unit"), _("n"), _("Satisfied"), _("95% CI"), _("Evidence")],
            body,
            [64, 28, 16, 18, 28, 22],
            {2, 3, 4},
        )
    )
    return flow


def groups_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    k = results.anonymity_threshold
    body = []
    for r in records(results.groups):
        name = labels.groups.get(r["group"], r["group"])
        if r["suppressed"]:
            body.append(
                [name, _("fewer than %(k)s respondents: in the totals only", k=k), "", "", ""]
            )
        else:
            body.append(
                [
                    name,
                    count(r["respondents"]),
                    count(r["n"]),
                    pct(r["rate"]),
                    interval(r["ci_low"], r["ci_high"]),
                ]
            )
    flow: list[Flowable] = [
        s.para(_("2.3 Respondent groups"), s.h2),
        table(
            context,
            [_("Respondent group"), _("Respondents"), _("n"), _("Satisfied"), _("95% CI")],
            body,
            [60, 34, 22, 22, 32],
            {1, 2, 3, 4},
        ),
        Spacer(1, 3 * mm),
    ]
    return flow + context.chart("heatmap")


def units_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    body = [
        [
            _unit(labels, r["served_unit"]),
            count(r["n"]),
            pct(r["rate"]),
            interval(r["ci_low"], r["ci_high"]),
            status_text(r["status"]),
        ]
        for r in records(results.served_units)
    ]
    return [
        s.para(_("2.4 Served units"), s.h2),
        table(
            context,
            [_("Served unit"), _("n"), _("Satisfied"), _("95% CI"), _("Status")],
            body,
            [56, 22, 22, 32, 36],
            {1, 2, 3},
        ),
    ]


@section(40)
def trend_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    if results.empty:
        return []
    flow: list[Flowable] = [context.chapter(_("Trend since the previous round"))]
    if results.comparison is None:
        return flow + [s.para(_("No earlier round of this questionnaire to compare with."))]
    comparison = results.comparison
    flow.append(
        s.para(
            _(
                "Against “%(name)s”. The change of each category is tested with a "
                "pooled two-proportion z-test; it is significant when p < 0.05.",
                name=comparison.name,
            )
        )
    )
    body, marked = [], set()
    for index, r in enumerate(records(comparison.categories)):
        body.append(
            [
                labels.categories.get(r["category"], r["category"]),
                f"{pct(r['rate_before'])} ({count(r['n_before'])})",
                f"{pct(r['rate_after'])} ({count(r['n_after'])})",
                signed_points(r["difference"]),
                pvalue(r["p_value"]),
                _("yes") if r["significant"] else _("no"),
            ]
        )
        if r["significant"] and r["direction"] == "down":
            marked.add(index)
    flow.append(
        table(
            context,
            [
                _("Category"),
                f"{comparison.name} (n)",
                f"{context.round.name} (n)",
                _("Change"),
                _("p-value"),
                _("Significant"),
            ],
            body,
            [50, 30, 30, 22, 18, 24],
            {1, 2, 3, 4},
            marked,
        )
    )
    flow.append(Spacer(1, 3 * mm))
    return flow + context.chart("trend")


@section(50)
def drivers_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    if results.empty or results.drivers["importance"].notna().sum() == 0:
        return []
    flow: list[Flowable] = [
        context.chapter(_("What drives overall satisfaction")),
        s.para(
            _(
                "Importance is the correlation of each item with the overall satisfaction "
                "item; performance is its satisfaction rate. Items of high importance and "
                "low performance are where improvement matters most."
            )
        ),
    ]
    if all_weak(results.drivers):
        flow.append(
            s.para(
                _(
                    "Every correlation is weak (|r| < %(w)s): the ranking of importance "
                    "below is not reliable.",
                    w=WEAK_CORRELATION,
                )
            )
        )
    note = unplaced_note(results)
    if note:
        flow.append(s.para(note))
    rows = records(results.drivers)
    focus = [r for r in rows if r["quadrant"] == "concentrate_here"]
    if focus:
        names = "; ".join(
            f"{labels.questions.get(r['question'], r['question'])} "
            f"({pct(r['rate'], 0)}, r = {r['importance']:.2f})"
            for r in focus
        )
        flow.append(s.para(_("Concentrate here: %(items)s.", items=names)))
    flow += context.chart("quadrant")
    return flow + context.chart("distribution")
