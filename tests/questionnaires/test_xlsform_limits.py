"""A small workbook that would inflate to far more than a questionnaire (a zip bomb) is refused
from the archive's directory, before openpyxl parses anything; a cell longer than any text of
the format is refused with its sheet and row."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest

from questionnaires import xlsform
from questionnaires.xlsform import XLSFormError


def _workbook(label: str = "hello") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["text", "q1", label])
    wb.create_sheet("settings").append(["form_id"])
    wb["settings"].append(["bomb"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _bomb(megabytes: int, padding: bytes = b"a") -> bytes:
    """The workbook with its survey sheet's one label inflated by `megabytes` MB of `padding`,
    written in 1 MB pieces (never whole in memory)."""
    src = zipfile.ZipFile(io.BytesIO(_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"hello")
                with z.open(item.filename, "w", force_zip64=True) as f:
                    f.write(head)
                    piece = (padding * (2**20 // len(padding) + 1))[: 2**20]
                    for _ in range(megabytes):
                        f.write(piece)
                    f.write(tail)
            else:
                z.writestr(item, data)
    return out.getvalue()


def test_an_inflating_sheet_is_refused_quickly():
    data = _bomb(10)
    assert len(data) < 20_000  # far below the 2 MB an upload may be
    started = time.monotonic()
    with pytest.raises(XLSFormError) as caught:
        xlsform.loads(data, filename="bomb.xlsx")
    assert time.monotonic() - started < 1
    error = caught.value
    assert error.filename == "bomb.xlsx" and error.sheet is None
    assert "'xl/worksheets/sheet1.xml'" in str(error) and "times its size" in str(error)


def test_a_workbook_unpacking_beyond_the_limit_is_refused(monkeypatch):
    # The total is checked on its own: a lower limit than the test bomb's 2 MB, ratio ignored.
    monkeypatch.setattr(xlsform, "MAX_UNPACKED_BYTES", 2**20)
    monkeypatch.setattr(xlsform, "MAX_RATIO", 10**9)
    with pytest.raises(XLSFormError, match=r"^big\.xlsx: the workbook unpacks to 2 MB"):
        xlsform.loads(_bomb(2), filename="big.xlsx")


def test_the_limits_leave_room_for_real_workbooks():
    assert xlsform.MAX_UNPACKED_BYTES >= 10 * 2**20 and xlsform.MAX_RATIO >= 100


def test_a_cell_longer_than_any_text_of_the_format_is_refused():
    most = xlsform.MAX_CELL_LENGTH
    with pytest.raises(XLSFormError) as caught:
        xlsform.loads(_workbook("x" * (most + 1)), filename="long.xlsx")
    error = caught.value
    assert (error.sheet, error.row) == ("survey", 2)
    assert f"{most + 1} characters; at most {most}" in str(error)
    # The longest allowed label still loads.
    question = xlsform.loads(_workbook("x" * most), filename="ok.xlsx").sections[0].questions[0]
    assert len(question.text.en or question.text.zh) == most


def test_what_is_not_a_zip_keeps_its_message():
    for data in (b"PK\x03\x04 broken", b"id: x\n", b""):
        with pytest.raises(XLSFormError, match=r"^x\.xlsx: not an \.xlsx workbook"):
            xlsform.loads(data, "x.xlsx")
