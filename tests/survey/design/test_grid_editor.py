"""Grids in the questionnaire editor: added with their rows one per line, edited as a whole or
row by row, moved and deleted as one block, and shown by the preview."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from questionnaires import DEFINITIONS_DIR, load
from survey.extensions import db
from survey.models import Question, QuestionnaireVersion
from survey.questionnaire_store import save_version, to_model


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    """The office survey as a draft: its documents section is the grid doc_aspects."""
    version = save_version(load(DEFINITIONS_DIR / "office-services.yaml"), status="draft")
    db.session.commit()
    return version


def row(version: QuestionnaireVersion, code: str) -> Question:
    return db.session.scalar(
        select(Question).where(Question.version_id == version.id, Question.code == code)
    )


def codes(version: QuestionnaireVersion, section: int = 0) -> list[str]:
    db.session.expire_all()
    return [q.code for q in version.sections[section].questions]


NEW_GRID = {
    "code": "mtg_grid",
    "type": "grid",
    "text_zh": "请评价会务的以下方面",
    "text_en": "Please rate these aspects of meetings",
    "scale": "",
    "served_unit": "meetings",
    "required": "y",
    "follow_up_zh": "请说明原因",
    "rows": "mtg_rooms|会场布置|Rooms\nmtg_food|餐饮|Catering\n",
}


def test_a_grid_is_added_with_its_rows_one_per_line(client, auth, draft):
    auth.login()
    section = draft.sections[1]
    response = client.post(
        f"/design/versions/{draft.id}/questions/new", data={**NEW_GRID, "section": section.id}
    )
    assert response.status_code == 302 and response.location.endswith("#question-mtg_grid")
    definition = to_model(draft)
    rooms, food = definition.question("mtg_rooms"), definition.question("mtg_food")
    assert (rooms.type, rooms.grid.code, rooms.grid.text.en) == (
        "rating",
        "mtg_grid",
        "Please rate these aspects of meetings",
    )
    assert (food.text.zh, food.text.en, food.served_unit) == ("餐饮", "Catering", "meetings")
    assert food.follow_up.zh == "请说明原因" and food.scale.code == "satisfaction5"
    assert codes(draft, 1)[-2:] == ["mtg_rooms", "mtg_food"]


def test_a_grid_with_a_bad_row_is_refused_next_to_the_rows(client, auth, draft):
    auth.login()
    data = {**NEW_GRID, "section": draft.sections[1].id, "rows": "Bad Code|坏|Bad"}
    page = client.post(f"/design/versions/{draft.id}/questions/new?lang=en", data=data).text
    assert 'id="rows-error">' in page and "is not a valid code" in page
    assert row(draft, "mtg_rooms") is None


def test_the_grid_form_shows_the_grid_and_its_rows(client, auth, draft):
    auth.login()
    first = row(draft, "doc_timeliness")
    page = client.get(f"/design/versions/{draft.id}/grids/{first.id}/edit?lang=en").text
    assert '<option selected value="grid">' in page
    assert 'value="doc_aspects"' in page
    assert "doc_timeliness|公文办理的及时性" in page
    assert "Delete grid" in page


def grid_post(draft, **changes) -> dict:
    from survey.design.questionnaire_forms import grid_data

    definition = to_model(draft)
    rows = tuple(q for q in definition.questions() if q.grid and q.grid.code == "doc_aspects")
    data = grid_data(rows, draft.sections[0].id) | changes
    data = {k: v for k, v in data.items() if v not in (None, False)}
    return {k: (v if isinstance(v, list) else str(v)) for k, v in data.items()}


def test_editing_a_grid_keeps_the_ids_and_own_follow_ups_of_its_rows(client, auth, draft):
    auth.login()
    first = row(draft, "doc_timeliness")
    ids = {code: row(draft, code).id for code in codes(draft)}
    lines = grid_post(draft)["rows"].splitlines()
    del lines[2]  # doc_standards
    lines.append("doc_archive|归档|Filing")
    data = grid_post(draft, rows="\n".join(lines), text_en="Rate each aspect")
    response = client.post(f"/design/versions/{draft.id}/grids/{first.id}/edit", data=data)
    assert response.status_code == 302
    assert codes(draft) == ["doc_timeliness", "doc_accuracy", "doc_circulation", "doc_archive"]
    assert row(draft, "doc_accuracy").id == ids["doc_accuracy"]
    definition = to_model(draft)
    assert definition.question("doc_archive").grid.text.en == "Rate each aspect"
    # The rows' own follow-ups differ, so the grid form left them empty and each row kept its own.
    assert definition.question("doc_accuracy").follow_up.en.startswith("Please describe the errors")
    assert definition.question("doc_archive").follow_up is None
    assert definition.question("doc_archive").served_unit == "documents"


def test_a_row_is_edited_on_its_own_and_stays_in_its_grid(client, auth, draft):
    auth.login()
    from survey.design.questionnaire_forms import question_data

    q = row(draft, "doc_accuracy")
    data = question_data(to_model(draft).question("doc_accuracy"), q.section_id)
    data.update(text_en="Accuracy", required="", scale="nps11")
    data = {k: str(v) for k, v in data.items() if v not in (None, False, "", [])}
    response = client.post(f"/design/versions/{draft.id}/questions/{q.id}/edit", data=data)
    assert response.status_code == 302
    saved = to_model(draft).question("doc_accuracy")
    assert saved.text.en == "Accuracy"
    # Scale and required are the grid's: a row's form does not change them.
    assert (saved.scale.code, saved.required, saved.grid.code) == (
        "satisfaction5",
        True,
        "doc_aspects",
    )


def test_a_question_moves_over_a_whole_grid(client, auth, draft):
    auth.login()
    before = row(draft, "doc_aspects") or None
    assert before is None  # the grid itself is no row
    client.post(
        f"/design/versions/{draft.id}/questions/new",
        data={
            "section": draft.sections[0].id,
            "code": "doc_other",
            "type": "text",
            "text_zh": "其他",
            "scale": "",
            "served_unit": "",
        },
    )
    other = row(draft, "doc_other")
    client.post(f"/design/versions/{draft.id}/questions/{other.id}/move", data={"direction": "up"})
    assert codes(draft)[0] == "doc_other"
    # A grid's row moves among its rows only.
    first = row(draft, "doc_timeliness")
    client.post(f"/design/versions/{draft.id}/questions/{first.id}/move", data={"direction": "up"})
    assert codes(draft)[:2] == ["doc_other", "doc_timeliness"]
    client.post(f"/design/versions/{draft.id}/grids/{first.id}/move", data={"direction": "up"})
    assert codes(draft)[-1] == "doc_other"


def test_a_grid_is_deleted_with_its_rows(client, auth, draft):
    auth.login()
    first = row(draft, "doc_accuracy")
    client.post(f"/design/versions/{draft.id}/grids/{first.id}/delete")
    assert codes(draft) == []


def test_the_version_page_and_preview_show_the_grid(client, auth, draft):
    auth.login()
    page = client.get(f"/design/versions/{draft.id}?lang=en").text
    assert 'id="question-doc_aspects"' in page and "Grid:" in page
    first = row(draft, "doc_timeliness")
    assert f"/design/versions/{draft.id}/grids/{first.id}/edit" in page
    preview = client.get(f"/design/versions/{draft.id}/preview?group=mayors&lang=en").text
    assert preview.count('role="radiogroup"') == 4
    assert "Please rate each of these aspects of the office" in preview
