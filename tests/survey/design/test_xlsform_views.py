"""XLSForm in the questionnaire editor and on the command line: import a workbook, download a
version as one, and refusals that name the sheet and row."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from questionnaires import DEFINITIONS_DIR, load, load_dir, xlsform
from survey.cli.questionnaires import export_xlsform, import_xlsform
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.questionnaire_store import save_version, to_model

DEFINITIONS = load_dir(DEFINITIONS_DIR)


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionnaireVersion))


def with_geopoint(data: bytes) -> bytes:
    """`data` with a GPS question inserted as row 3 of the survey sheet."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["survey"].insert_rows(3)
    book["survey"]["A3"], book["survey"]["B3"] = "geopoint", "where"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda q: q.id)
def test_a_version_downloads_as_an_xlsform_that_imports_back(client, auth, definition):
    auth.login()
    version = save_version(definition)
    db.session.commit()
    page = client.get(f"/design/versions/{version.id}?lang=en").text
    assert f'href="/design/versions/{version.id}/export.xlsx"' in page
    assert "Download as XLSForm" in page
    response = client.get(f"/design/versions/{version.id}/export.xlsx")
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.headers["Content-Disposition"].endswith(f'"{definition.id}-v1.xlsx"')
    assert xlsform.loads(response.data) == definition


def test_an_xlsform_upload_becomes_a_draft_version(client, auth):
    auth.login()
    definition = load(DEFINITIONS_DIR / "city-residents.yaml")
    upload = (io.BytesIO(xlsform.dump(definition)), "residents.xlsx")
    response = client.post("/design/questionnaires/import", data={"file": upload})
    version = db.session.scalar(select(QuestionnaireVersion))
    assert response.location.endswith(f"/design/versions/{version.id}")
    assert version.status == "draft" and to_model(version) == definition


def test_a_refused_workbook_shows_sheet_row_and_reason(client, auth):
    auth.login()
    data = with_geopoint(xlsform.dump(DEFINITIONS[0]))
    upload = (io.BytesIO(data), "residents.xlsx")
    page = client.post("/design/questionnaires/import?lang=en", data={"file": upload}).text
    assert (
        "residents.xlsx, sheet survey, row 3:</strong> type &#39;geopoint&#39; cannot be mapped"
        in page
    )
    assert "Correct the workbook and choose it again." in page and "paste the corrected" not in page
    assert versions() == 0


def test_the_import_page_says_xlsform_is_accepted(client, auth):
    auth.login()
    page = client.get("/design/questionnaires/import?lang=en").text
    assert "XLSForm" in page and "KoboToolbox" in page


def test_cli_import_and_export(runner, app, tmp_path):
    definition = DEFINITIONS[1]
    source = tmp_path / "in.xlsx"
    source.write_bytes(xlsform.dump(definition))
    result = runner.invoke(import_xlsform, [str(source)])
    assert result.exit_code == 0, result.output
    assert f"questionnaire {definition.id} draft version 1" in result.output
    again = runner.invoke(import_xlsform, [str(source)])
    assert "same as version 1, nothing new" in again.output and versions() == 1
    target = tmp_path / "out.xlsx"
    result = runner.invoke(export_xlsform, [definition.id, str(target)])
    assert result.exit_code == 0, result.output
    assert xlsform.load(target) == definition


def test_cli_refusals(runner, app, tmp_path):
    source = tmp_path / "bad.xlsx"
    source.write_bytes(with_geopoint(xlsform.dump(DEFINITIONS[0])))
    result = runner.invoke(import_xlsform, [str(source)])
    assert result.exit_code == 1
    assert f"{source}: sheet 'survey', row 3: type 'geopoint' cannot be mapped" in result.output
    assert versions() == 0
    missing = runner.invoke(export_xlsform, ["nothing", str(tmp_path / "x.xlsx")])
    assert missing.exit_code == 1 and "no questionnaire 'nothing'" in missing.output
