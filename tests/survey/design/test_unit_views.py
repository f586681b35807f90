"""Managing respondent groups and units."""

from __future__ import annotations

import io

from sqlalchemy import select

from survey.extensions import db
from survey.models import RespondentGroup, Unit


def test_add_a_group_and_a_unit(client, auth):
    auth.login(role="designer")
    client.post(
        "/design/groups/new",
        data={"code": "residents", "label_zh": "市民", "label_en": "Residents", "position": "5"},
    )
    group = db.session.scalar(select(RespondentGroup))
    response = client.post(
        "/design/units/new",
        data={
            "code": "street_a",
            "kind": "respondent",
            "group_id": group.id,
            "name_zh": "甲街道",
            "name_en": "Street A",
            "active": "y",
        },
    )
    assert response.status_code == 302
    unit = db.session.scalar(select(Unit))
    assert (unit.code, unit.group_id, unit.active) == ("street_a", group.id, True)


def test_a_respondent_unit_needs_a_group(client, auth):
    auth.login(role="designer")
    response = client.post(
        "/design/units/new",
        data={"code": "x", "kind": "respondent", "group_id": "0", "name_zh": "某", "name_en": "X"},
    )
    assert 'id="group_id-error"' in response.text
    assert db.session.scalar(select(Unit)) is None


def test_a_duplicate_code_is_refused(client, auth, office_version):
    auth.login(role="designer")
    response = client.post(
        "/design/units/new",
        data={
            "code": "mayor",
            "kind": "served",
            "group_id": "0",
            "name_zh": "重",
            "name_en": "Dup",
        },
    )
    assert 'id="code-error"' in response.text


def test_import_units_from_pasted_csv(client, auth, office_version):
    auth.login(role="designer")
    client.post(
        "/design/units/import",
        data={
            "text": "code,kind,group,name_zh,name_en\n"
            "new_dept,respondent,departments,新局,New Bureau\n"
        },
    )
    assert (
        db.session.scalar(select(Unit).where(Unit.code == "new_dept")).group.code == "departments"
    )


def test_a_bad_csv_imports_nothing_and_says_the_line(client, auth, office_version):
    auth.login(role="designer")
    response = client.post(
        "/design/units/import",
        follow_redirects=True,
        data={"text": "code,kind,group,name_zh,name_en\na,served,,甲,A\nb,visitor,,乙,B\n"},
        headers={"Accept-Language": "en"},
    )
    assert "line 3" in response.text
    assert db.session.scalar(select(Unit).where(Unit.code == "a")) is None


def test_a_bad_csv_in_chinese_says_the_line_and_reason_in_chinese(client, auth, office_version):
    auth.login(role="designer")
    response = client.post(
        "/design/units/import",
        follow_redirects=True,
        data={"text": "code,kind,group,name_zh,name_en\na,served,,甲,A\nb,visitor,,乙,B\n"},
        headers={"Accept-Language": "zh"},
    )
    assert "未导入任何内容：第 3 行：kind（类型）必须是 respondent" in response.text
    assert "line 3" not in response.text and "must be respondent" not in response.text


def _upload_gb18030(client, text: str):
    """Upload a units file as Excel on Chinese Windows saves it."""
    return client.post(
        "/design/units/import",
        data={"file": (io.BytesIO(text.encode("gb18030")), "units.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )


def test_an_import_file_with_a_repeated_code_is_refused_with_a_message(
    client, auth, office_version
):
    auth.login(role="designer")
    text = "code,kind,group,name_zh,name_en\nx1,served,,甲,A\nx1,served,,乙,B\n"
    page = _upload_gb18030(client, text)
    assert page.status_code == 200 and "Nothing was imported" in page.text
    assert "appears twice" in page.text


def test_a_units_file_saved_by_excel_on_chinese_windows_is_imported(client, auth, office_version):
    auth.login(role="designer")
    text = "code,kind,group,name_zh,name_en\nx1,served,,新服务,New service\n"
    page = _upload_gb18030(client, text)
    assert "1 units created" in page.text
    assert db.session.scalar(select(Unit.name_zh).where(Unit.code == "x1")) == "新服务"
