"""The question editor's properties: required, help, number limits and text length; the
integer and note types."""

from __future__ import annotations

import pytest

from questionnaires import DEFINITIONS_DIR, load
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.questionnaire_store import save_version, to_model


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    version = save_version(load(DEFINITIONS_DIR / "city-residents.yaml"), status="draft")
    db.session.commit()
    return version


def post(client, version, qtype, code="extra", **fields):
    data = {
        "section": version.sections[0].id,
        "code": code,
        "type": qtype,
        "text_zh": "题目",
        "text_en": "Question",
        "served_unit": "",
        "scale": "",
        **fields,
    }
    return client.post(f"/design/versions/{version.id}/questions/new?lang=en", data=data)


def saved(version, code="extra"):
    db.session.expire_all()
    return to_model(version).question(code)


def test_an_integer_question_keeps_its_limits_help_and_required(client, auth, draft):
    auth.login()
    response = post(client, draft, "integer", min_value="0", max_value="120", required="y",
                    help_zh="填写整数", help_en="A whole number")  # fmt: skip
    assert response.status_code == 302
    q = saved(draft)
    assert (q.type, q.min_value, q.max_value, q.required) == ("integer", 0, 120, True)
    assert q.help.en == "A whole number"
    page = client.get(f"/design/versions/{draft.id}/questions/{_id(draft)}/edit").text
    assert 'name="min_value" type="number" value="0"' in page
    assert 'name="max_value" type="number" value="120"' in page


def test_limits_the_loader_refuses_are_shown_next_to_their_field(client, auth, draft):
    auth.login()
    page = post(client, draft, "integer", min_value="10", max_value="5").text
    assert (
        'id="max_value-error">question &#39;extra&#39;: min_value 10 is greater than max_value 5'
        in page
    )
    page = post(client, draft, "text", min_value="1").text
    assert "min_value is only for integer questions, not text" in page
    page = post(client, draft, "text", max_length="5000").text
    assert 'id="max_length-error"' in page


def test_a_text_question_keeps_its_max_length(client, auth, draft):
    auth.login()
    assert post(client, draft, "text", max_length="200").status_code == 302
    assert saved(draft).max_length == 200


def test_a_note_is_never_required(client, auth, draft):
    auth.login()
    assert post(client, draft, "note", required="y").status_code == 302
    q = saved(draft)
    assert (q.type, q.required) == ("note", False)


def _id(version):
    from sqlalchemy import select

    from survey.models import Question

    return db.session.scalar(
        select(Question.id).where(Question.version_id == version.id, Question.code == "extra")
    )
