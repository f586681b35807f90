"""The printable poster of a service point: one A4 page for a counter or a hall wall, read
from one or two metres, with the QR code of the point's public link and the link in plain
text for those who type it. Chinese first and larger, English under it.

Without a CJK font (see ``survey.pdf_fonts``) the poster is English only: Chinese set in a
Latin font would print as empty boxes."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from survey.models import ServicePoint

TITLE = ("请为我们的服务评价", "Rate our service")
NOTES = (
    ("扫码评价，约1分钟，无需注册", "Scan to rate: about one minute, no account needed"),
    ("如需回复，可留下联系方式", "Leave contact details if you would like a reply"),
)
NO_LINE_START = "，。、；：！？）》」』】,.;:!?)"
# The report's colours: a calm navy for what matters, a grey for what explains.
NAVY = "#1f3a5f"
GREY = "#4f5b69"
INK = "#1a1a1a"
RULE = "#cfd6df"
MM = 72 / 25.4  # points in a millimetre, as reportlab.lib.units.mm
A4 = (210 * MM, 297 * MM)  # portrait, as reportlab.lib.pagesizes.A4
MARGIN = 15 * MM  # inside what office printers can print
LINE_GAP = 1.5 * MM
# The code itself, without its quiet zone: a phone camera finds it from two metres.
QR_CM = 10
# Four modules of white round the code, as the QR standard asks (ISO/IEC 18004).
QUIET_MODULES = 4


def poster_pdf(point: ServicePoint, url: str, office_zh: str, office_en: str) -> bytes:
    """The poster of ``point`` whose QR code holds ``url``, as a one-page PDF."""
    # ReportLab and the fonts load here, when a poster is made: every process imports this
    # module (the poster's view), few make a poster (tests/survey/results/test_lazy_report.py).
    from reportlab.pdfgen.canvas import Canvas

    from survey import pdf_fonts

    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{point.name_zh} / {point.name_en}: {TITLE[0]} / {TITLE[1]}")
    canvas.setSubject(url)
    canvas.setAuthor(f"{office_zh} / {office_en}")
    _Poster(canvas, pdf_fonts).draw(point, url, office_zh, office_en)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Poster:
    """Draws the page top down (office, title, point) and bottom up (notes, link), and puts
    the QR code in the middle of what is left."""

    def __init__(self, canvas: Canvas, fonts) -> None:
        self.canvas = canvas
        self.width, self.height = A4
        self.text_width = self.width - 2 * MARGIN
        self.latin, self.latin_bold = fonts.latin_fonts()
        self.mono = fonts.mono_font()
        self.cjk = fonts.cjk_font()

    def draw(self, point: ServicePoint, url: str, office_zh: str, office_en: str) -> None:
        top = self.height - MARGIN
        top = self._pair(office_zh, office_en, top, 17, 12, GREY)
        top = self._rule(top - 4 * MM) - 6 * MM
        top = self._pair(*TITLE, top, 40, 24, NAVY, bold=True) - 6 * MM
        top = self._pair(point.name_zh, point.name_en, top, 26, 17, INK)

        # The first note, what scanning costs, in black; the second, for the few, in grey.
        bottom = MARGIN
        for (zh, en), colour in zip(reversed(NOTES), (GREY, INK)):
            bottom = self._pair_up(zh, en, bottom, 19, 13, colour) + 4 * MM
        bottom = self._rule(bottom) + 5 * MM
        bottom = self._text_up(url, self.mono, bottom, 13, 9, GREY)
        # The code's quiet zone is white: it may run up to the text above and below.
        self._qr(url, top, bottom)

    def _pair(self, zh, en, top, size, en_size, colour, bold=False) -> float:
        """A Chinese line over its English one, under ``top``; returns the y under them.
        English alone takes the Chinese line's size."""
        latin = self.latin_bold if bold else self.latin
        if not self.cjk:
            return self._text(en, latin, top, size, size * 0.7, colour)
        top = self._text(zh, self.cjk, top, size, size * 0.6, colour, bold) - LINE_GAP
        return self._text(en, latin, top, en_size, en_size * 0.7, colour)

    def _pair_up(self, zh, en, bottom, size, en_size, colour) -> float:
        """The same pair over ``bottom``; returns the y above it."""
        if not self.cjk:
            return self._text_up(en, self.latin, bottom, size, size * 0.7, colour)
        bottom = self._text_up(en, self.latin, bottom, en_size, en_size * 0.7, colour) + LINE_GAP
        return self._text_up(zh, self.cjk, bottom, size, size * 0.6, colour)

    def _text(self, text, font, top, size, floor, colour, bold=False) -> float:
        """Draws ``text`` centred under ``top``; returns the y under it."""
        size, lines = self._fit(text, font, size, floor)
        for line in lines:
            top -= size * 1.3
            self._line(line, font, top + size * 0.3, size, colour, bold)
        return top

    def _text_up(self, text, font, bottom, size, floor, colour) -> float:
        """Draws ``text`` centred over ``bottom``; returns the y above it."""
        size, lines = self._fit(text, font, size, floor)
        for line in reversed(lines):
            self._line(line, font, bottom + size * 0.3, size, colour)
            bottom += size * 1.3
        return bottom

    def _fit(self, text, font, size, floor) -> tuple[float, list[str]]:
        """The largest size down to ``floor`` that keeps ``text`` on one line; else the text
        wrapped at the floor, and smaller still if it needs more than two lines (a name of
        200 characters must not push into the QR code)."""
        lines = self._wrap(text, font, size)
        while size > 5 and (len(lines) > 2 or (len(lines) > 1 and size > floor)):
            size -= 0.5
            lines = self._wrap(text, font, size)
        return size, lines

    def _wrap(self, text, font, size) -> list[str]:
        """English between words; Chinese and links between any two characters, except
        before a closing mark (a line does not start with "，" or "）")."""
        from reportlab.lib.utils import simpleSplit
        from reportlab.pdfbase.pdfmetrics import stringWidth

        if font not in (self.cjk, self.mono):
            return simpleSplit(text, font, size, self.text_width)
        lines = [""]
        for char in text:
            too_wide = stringWidth(lines[-1] + char, font, size) > self.text_width
            if too_wide and lines[-1] and char not in NO_LINE_START:
                lines.append("")
            lines[-1] += char
        return lines

    def _line(self, text, font, baseline, size, colour, bold=False) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        # The CJK font has no bold: a thin outline in the text's colour stands in for it.
        outline = bold and font == self.cjk
        canvas = self.canvas
        canvas.saveState()
        canvas.setFillColor(colour)
        canvas.setStrokeColor(colour)
        canvas.setLineWidth(size / 40)
        line = canvas.beginText((self.width - stringWidth(text, font, size)) / 2, baseline)
        line.setTextRenderMode(2 if outline else 0)
        line.setFont(font, size)
        line.textOut(text)
        canvas.drawText(line)
        canvas.restoreState()

    def _rule(self, y) -> float:
        self.canvas.setStrokeColor(RULE)
        self.canvas.setLineWidth(0.8)
        inset = self.text_width / 4
        self.canvas.line(MARGIN + inset, y, self.width - MARGIN - inset, y)
        return y

    # The code: QR_CM wide unless the page has less room, never under 9 cm.

    def _qr(self, url: str, top: float, bottom: float) -> None:
        from reportlab.graphics import renderPDF
        from reportlab.graphics.barcode.qr import QrCodeWidget
        from reportlab.graphics.shapes import Drawing

        widget = QrCodeWidget(url, barLevel="M", barBorder=QUIET_MODULES)
        widget.qr.make()
        modules = widget.qr.getModuleCount()
        ratio = (modules + 2 * QUIET_MODULES) / modules
        size = min(QR_CM * 10 * MM * ratio, max(top - bottom, 90 * MM * ratio))
        widget.barWidth = widget.barHeight = size
        drawing = Drawing(size, size)
        drawing.add(widget)
        x = (self.width - size) / 2
        y = bottom + (top - bottom - size) / 2
        renderPDF.draw(drawing, self.canvas, x, y)
