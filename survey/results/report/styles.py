"""The report's look: page, colours, fonts (Latin and CJK) and paragraph styles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
)

# The fonts are shared with the posters (survey.pdf_fonts); re-exported (``as``) because
# document.py and the tests take ``cjk_font`` from here.
from survey.pdf_fonts import CJK_FONT_FILES as CJK_FONT_FILES
from survey.pdf_fonts import LATIN_DIR as LATIN_DIR
from survey.pdf_fonts import cjk_font as cjk_font
from survey.pdf_fonts import latin_fonts

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
        regular, bold = latin_fonts()
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
