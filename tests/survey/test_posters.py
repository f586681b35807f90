"""A service point's poster: one A4 page, Chinese over English, whose QR code a phone reads
as the point's public link, printed under the code for those who type it."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from survey import pdf_fonts
from survey.models import ServicePoint
from survey.posters import poster_pdf
from tests.system import require

URL = "https://survey.example.gov.cn/s/abc123def456"
OFFICE = ("绍兴市行政审批服务局", "Shaoxing Administrative Approval Bureau")
DPI = 150


def _point(**names) -> ServicePoint:
    names = {
        "name_zh": "行政服务中心一楼大厅",
        "name_en": "Service Centre, ground floor hall",
        **names,
    }
    return ServicePoint(code="hall-1", kind="hall", link_key="abc123def456", **names)


def _poppler(command: str, pdf: bytes, tmp_path, *after: str) -> str:
    """What a poppler-utils command prints about the PDF."""
    require(bool(shutil.which(command)), "poppler-utils")
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [command, str(path), *after], capture_output=True, text=True, check=True
    ).stdout


def _codes(pdf: bytes, tmp_path) -> list[zxingcpp.Barcode]:
    """The QR codes a reader finds on the page printed at 150 dpi."""
    require(bool(shutil.which("pdftoppm")), "poppler-utils")
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
    )
    with Image.open(tmp_path / "page.png") as image:
        return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def _text(pdf: bytes, tmp_path) -> str:
    """The page's text with every run of white space made one space."""
    return " ".join(_poppler("pdftotext", pdf, tmp_path, "-").split())


@pytest.fixture
def cjk():
    require(pdf_fonts.cjk_font() is not None, "a CJK font")


def test_the_qr_code_holds_the_public_link(tmp_path):
    (code,) = _codes(poster_pdf(_point(), URL, *OFFICE), tmp_path)
    assert code.text == URL
    # Level M: a code still read with a scratch or a smudge on up to 15% of it.
    assert code.ec_level == "M"


def test_the_qr_code_is_at_least_9_cm_wide(tmp_path):
    (code,) = _codes(poster_pdf(_point(), URL, *OFFICE), tmp_path)
    width_cm = (code.position.top_right.x - code.position.top_left.x) / DPI * 2.54
    assert width_cm >= 9


def test_the_poster_names_the_office_and_the_point_in_both_languages(cjk, tmp_path):
    text = _text(poster_pdf(_point(), URL, *OFFICE), tmp_path)
    for words in (*OFFICE, "行政服务中心一楼大厅", "Service Centre, ground floor hall"):
        assert words in text
    assert "请为我们的服务评价" in text and "Rate our service" in text


def test_the_poster_prints_the_link_and_what_rating_asks(cjk, tmp_path):
    text = _text(poster_pdf(_point(), URL, *OFFICE), tmp_path)
    assert URL in text
    assert "扫码评价，约1分钟，无需注册" in text
    assert "Scan to rate: about one minute, no account needed" in text
    assert "如需回复，可留下联系方式" in text
    assert "Leave contact details if you would like a reply" in text


def test_chinese_comes_before_english(cjk, tmp_path):
    text = _text(poster_pdf(_point(), URL, *OFFICE), tmp_path)
    assert text.index("请为我们的服务评价") < text.index("Rate our service")
    assert text.index("行政服务中心一楼大厅") < text.index("Service Centre, ground floor hall")


def test_the_poster_is_one_a4_page_titled_with_the_point(tmp_path):
    info = _poppler("pdfinfo", poster_pdf(_point(), URL, *OFFICE), tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert re.search(r"^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)$", info, re.MULTILINE)
    title = re.search(r"^Title:\s+(.*)$", info, re.MULTILINE).group(1)
    assert "行政服务中心一楼大厅" in title and "Service Centre, ground floor hall" in title


def test_long_names_wrap_and_leave_the_code_whole(cjk, tmp_path):
    point = _point(
        name_zh="柯桥区行政服务中心二楼东侧不动产登记、税务、公积金综合受理窗口（第十二至十八号）",
        name_en="Keqiao District Administrative Service Centre, first floor east wing: joint "
        "counter for real estate registration, tax and housing provident fund (windows 12-18)",
    )
    pdf = poster_pdf(point, URL, *OFFICE)
    (code,) = _codes(pdf, tmp_path)
    assert code.text == URL
    assert (code.position.top_right.x - code.position.top_left.x) / DPI * 2.54 >= 9
    text = _text(pdf, tmp_path).replace(" ", "")
    assert point.name_zh in text and point.name_en.replace(" ", "") in text


def test_without_a_cjk_font_the_poster_is_english_only(tmp_path, monkeypatch):
    # Chinese set in a Latin font would print as empty boxes.
    monkeypatch.setattr(pdf_fonts, "cjk_font", lambda: None)
    pdf = poster_pdf(_point(), URL, *OFFICE)
    text = _text(pdf, tmp_path)
    assert "Service Centre, ground floor hall" in text and "Rate our service" in text
    assert not re.search(r"[\u4e00-\u9fff]", text)
    (code,) = _codes(pdf, tmp_path)
    assert code.text == URL
