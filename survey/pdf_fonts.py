"""The fonts our PDFs are set in, registered with ReportLab once per process: Latin text in
DejaVu Sans (shipped with matplotlib), Chinese in the first CJK TrueType font of
``CJK_FONT_FILES`` found (Debian's fonts-wqy-microhei by default).

Shared by the results report and the service points' posters. Importing it loads ReportLab
and matplotlib's base (about 30 MB), so import it where a PDF is made, not at module level of
code every process loads (tests/survey/results/test_lazy_report.py)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

CJK_FONT_FILES = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", None),
)
LATIN_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


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


def latin_fonts() -> tuple[str, str]:
    """Register DejaVu Sans and its bold as a family; return their names (regular, bold)."""
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


def mono_font() -> str:
    """Register DejaVu Sans Mono and return its name: for text people type from paper, where
    l, I and 1 or O and 0 must not look alike."""
    if "ReportMono" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("ReportMono", str(LATIN_DIR / "DejaVuSansMono.ttf")))
    return "ReportMono"
