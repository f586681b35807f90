"""The report as a document: its context and the PDF its sections (``registry``) make."""

from __future__ import annotations

import gc
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
)
from svglib.svglib import svg2rlg

from survey import memory, offices, rounds
from survey.models import Round, utcnow
from survey.results import charts, file_cache
from survey.results.cache import forget_round
from survey.results.charts import Chart
from survey.results.exports import download_name
from survey.results.report import registry
from survey.results.report.registry import section  # noqa: F401  (the sections' import)
from survey.results.report.styles import (
    ACCENT,
    CHINESE_NUMERALS,
    CJK,
    MARGIN,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    TEXT_WIDTH,
    Styles,
    cjk_font,
)
from survey.results.tables import RoundResults, round_progress, round_results


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
        """A chart of the round (the SVG of the chart cache, the review page's download),
        numbered, with its alt text as the figure's description."""
        self.figures += 1
        caption = _("Figure %(n)s.", n=self.figures)
        chart = Chart(kind, self.lang)
        svg = charts.image(self.results, chart, "svg")
        # A drawn figure is a web of reference cycles, freed only when the cyclic collector
        # next runs: here, not where every chart is drawn, since a collection costs about
        # 0.13 s of CPU in a process holding a large round, which a page's chart need not pay.
        gc.collect()
        drawing = vector(svg)
        shown = min(TEXT_WIDTH, drawing.width * 0.85)
        tallest = PAGE_HEIGHT - 2 * MARGIN - 30 * mm
        fit(drawing, min(shown / drawing.width, tallest / drawing.height))
        text = f"{caption} {charts.alt(self.results, chart)}"  # the alt text describes it
        return [KeepTogether([drawing, self.styles.para(text, self.styles.figure)])]


def vector(svg: bytes) -> Drawing:
    """The chart's SVG as ReportLab's drawing: lines and shapes in the PDF, not pixels, so the
    chart is sharp in print and at any zoom, and costs no picture to draw or embed (a 200-dpi
    picture took 15 MB to draw and as much again to embed). Its words are outlines
    (``analysis.charts.to_svg``): no font needed."""
    drawing = svg2rlg(io.BytesIO(svg))
    if drawing is None:  # svglib gives None for what it cannot read, never for our charts
        raise ValueError("unreadable chart SVG")
    return drawing


def fit(drawing: Drawing, scale: float) -> None:
    """Scale the drawing and its size (its box on the page) alike."""
    drawing.scale(scale, scale)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale


def pdf(round_: Round, lang: str) -> tuple[Path, str]:
    """The report's path (made once per data version, section stamp and language) and its
    download name."""
    results = round_results(round_)
    lang = language(lang)
    path = file_cache.cached_file(
        round_.id,
        results.version_tag,
        file_name(round_, lang),
        lambda target: target.write_bytes(build(round_, lang)),
    )
    for older in path.parent.glob(f"report-{lang}-*.pdf"):
        if older != path:  # made before the last change to the register
            older.unlink(missing_ok=True)
    return path, download_name(round_, "report", "pdf")


def language(lang: str) -> str:
    """The language the report is written in: English when no CJK font is installed."""
    return "en" if lang == "zh" and cjk_font() is None else lang


def file_name(round_: Round, lang: str) -> str:
    """What, besides the round's data version, the report depends on: the language and the
    stamps of the sections that show other data (the action register)."""
    stamps = "".join(f"-{stamp(round_)}" for stamp in registry.STAMPS)
    return f"report-{language(lang)}{stamps}.pdf"


def build(
    round_: Round,
    lang: str,
    progress: Callable[[float], None] | None = None,
    *,
    forget_answers: bool = False,
) -> bytes:
    """The report as PDF bytes (see the module docstring for its contents).

    ``forget_answers``: the process lets the round's answers go once the results are computed,
    before the report is drawn (the background worker's report: no page of its own will ask
    for them, and at a million responses they are 80 MB beside the drawing). The report
    draws only the tables."""
    from survey.results.report import analysis, sections  # noqa: F401  (register the sections)

    results = round_results(round_)
    if forget_answers:
        # Before the fonts load (the CJK font is 22 MB), so that the two never add up.
        results = results.tables_only()
        forget_round(round_.id)
        gc.collect()  # the tally's frames hold reference cycles
        memory.give_back()  # the freed arrays' pages, which glibc may keep in the heap
    cjk = cjk_font()
    lang = lang if lang == "en" or cjk else "en"
    with force_locale(lang):
        context = ReportContext(
            round_, results, lang, Styles(lang, cjk), *round_progress(round_, results)
        )
        story: list[Flowable] = []
        # What exists before the sections is set aside from the collector while they run
        # (gc.freeze), so that each chart's collection (``ReportContext.chart``) scans only
        # what the report made: 0.13 s of CPU a chart otherwise. Not in a process frozen
        # already (gunicorn.conf.py): unfreezing would undo its freeze.
        frozen_here = gc.get_freeze_count() == 0
        if frozen_here:
            gc.freeze()
        try:
            # Sections (with their charts) take most of the time; laying out the pages the rest.
            for number, (_order, function) in enumerate(registry.SECTIONS):
                if progress:
                    progress(0.8 * number / len(registry.SECTIONS))
                story.extend(function(context))
        finally:
            if frozen_here:
                gc.unfreeze()
        if progress:
            progress(0.8)
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
            author=offices.name_of(round_.office_id, context.lang),
            subject=round_.name,
        )
        decorate = _page_decoration(context, title)
        document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _page_decoration(context: ReportContext, title: str) -> Callable:
    office = offices.name_of(context.round.office_id, context.lang)
    generated = _("Generated %(when)s", when=utcnow().strftime("%Y-%m-%d"))
    font = context.styles.body.fontName

    def decorate(canvas, document) -> None:
        canvas.saveState()
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, PAGE_HEIGHT - MARGIN, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN)
        canvas.setFont(font_for(font, office, context), 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, PAGE_HEIGHT - MARGIN + 3, office)
        header = f"{title} · {context.round.name}"
        canvas.setFont(font_for(font, header, context), 7.5)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN + 3, header)
        footer = f"{generated} · ISO 9001 9.1.2 / 9.1.3"
        canvas.setFont(font_for(font, footer, context), 7.5)
        canvas.drawString(MARGIN, MARGIN - 10, footer)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN - 10, str(document.page))
        canvas.restoreState()

    return decorate


def font_for(font: str, text: str, context: ReportContext) -> str:
    return context.styles.cjk if context.styles.cjk and CJK.search(text) else font
