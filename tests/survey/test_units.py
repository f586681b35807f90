"""Importing respondent and served units from CSV."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import RespondentGroup, Unit
from survey.units import UnitImportError, decode_csv, import_units_csv

HEADER = "code,kind,group,name_zh,name_en\n"


@pytest.fixture
def groups(app):
    db.session.add(RespondentGroup(code="mayors", label_zh="市长、副市长", label_en="Mayors"))
    db.session.commit()


def test_import_creates_then_updates_by_code(groups):
    first = import_units_csv(
        HEADER + "mayor,respondent,mayors,市长办公室,Mayor's office\n"
        "documents,served,,文书处理,Document processing\n"
    )
    assert (first.created, first.updated) == (2, 0)
    again = import_units_csv(HEADER + "mayor,respondent,mayors,市长办公室,Office of the Mayor\n")
    assert (again.created, again.updated) == (0, 1)
    mayor = db.session.scalar(select(Unit).where(Unit.code == "mayor"))
    assert mayor.name_en == "Office of the Mayor" and mayor.group.code == "mayors"


@pytest.mark.parametrize(
    ("row", "line", "reason"),
    [
        ("x,respondent,nobody,名,Name", 3, "unknown respondent group"),
        ("x,visitor,mayors,名,Name", 3, "kind must be respondent or served"),
        (",served,,名,Name", 3, "must not be empty"),
    ],
)
def test_a_bad_row_is_refused_with_its_line_and_nothing_is_written(groups, row, line, reason):
    text = HEADER + "ok,served,,文书处理,Docs\n" + row + "\n"
    with pytest.raises(UnitImportError) as error:
        import_units_csv(text)
    assert error.value.line == line and reason in error.value.reason
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_a_missing_column_is_named(groups):
    with pytest.raises(UnitImportError, match="missing column"):
        import_units_csv("code,kind\nx,served\n")


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        ("a,served,,甲,A\na,served,,乙,B\n", 3, "appears twice"),
        ("Bad Code,served,,名,Name\n", 2, "lower-case letters"),
        ("9lives,served,,名,Name\n", 2, "lower-case letters"),
        ("x" * 41 + ",served,,名,Name\n", 2, "at most 40"),
    ],
)
def test_codes_follow_the_unit_forms_rules(groups, rows, line, reason):
    with pytest.raises(UnitImportError) as error:
        import_units_csv(HEADER + rows)
    assert error.value.line == line and reason in error.value.reason


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_a_file_in_the_encodings_excel_saves_is_read(groups, encoding):
    raw = (HEADER + "mayor,respondent,mayors,市长办公室,Mayor's office\n").encode(encoding)
    assert import_units_csv(decode_csv(raw)).created == 1
    assert db.session.scalar(select(Unit.name_zh)) == "市长办公室"


def test_a_file_in_no_known_encoding_says_so(groups):
    with pytest.raises(UnitImportError, match="UTF-8 or GB18030"):
        decode_csv(b"code,kind\n\xff\xfe\xfa\n")
