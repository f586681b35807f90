"""Conditions in the questionnaire editor: the show_if field of questions and sections, checked
by the loader's rules; moves and deletions that would break a condition; the preview."""

from __future__ import annotations

import pytest

from questionnaires import DEFINITIONS_DIR, load
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.questionnaire_store import save_version, to_model
from tests.conditional import CONDITIONAL
from tests.survey.design.test_questionnaire_views import question_form, row


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    version = save_version(load(DEFINITIONS_DIR / "city-residents.yaml"), status="draft")
    db.session.commit()
    return version


def edit(client, draft, code, lang="en", **changes):
    url = f"/design/versions/{draft.id}/questions/{row(draft, code).id}/edit?lang={lang}"
    return client.post(url, data=question_form(draft, code, **changes))


def test_the_question_form_shows_the_condition_field_with_its_syntax(client, auth, draft):
    auth.login()
    page = client.get(
        f"/design/versions/{draft.id}/questions/{row(draft, 'comment').id}/edit?lang=en"
    ).text
    assert "Ask this question only if" in page
    # (a lazy text is not escaped by the form macro: the hint holds no < or &)
    assert "${doc_timeliness} >= 4, selected(${channels}, 'phone')" in page


def test_a_condition_is_saved_with_the_question(client, auth, draft):
    auth.login()
    response = edit(client, draft, "comment", show_if="${overall} <= 2 or ${district} = 'zhuji'")
    assert response.status_code == 302
    db.session.expire_all()
    assert to_model(draft).question("comment").show_if == (
        "${overall} <= 2 or ${district} = 'zhuji'"
    )
    # ... and shown again in the form, and cleared by an empty field
    assert edit(client, draft, "comment", show_if="").status_code == 302
    db.session.expire_all()
    assert to_model(draft).question("comment").show_if is None


@pytest.mark.parametrize(
    ("show_if", "reason"),
    [
        ("${recommend_city} >= 11", "11 is not a point of the scale of question"),
        ("${later} = 'x'", "refers to an unknown question &#39;later&#39;"),
        ("${comment} != ''", "refers to its own question &#39;comment&#39; (a cycle)"),
        ("${overall} <=", "expected a question such as ${code}, or a value"),
    ],
)
def test_a_bad_condition_is_refused_next_to_the_field(client, auth, draft, show_if, reason):
    auth.login()
    page = edit(client, draft, "comment", show_if=show_if).text
    assert 'id="show_if-error">question &#39;comment&#39; show_if: ' in page
    assert reason in page
    assert to_model(draft).question("comment").show_if is None


def test_a_forward_reference_is_refused(client, auth, draft):
    auth.login()
    page = edit(client, draft, "district", show_if="${overall} >= 4").text
    assert "which comes later" in page


def test_a_bad_condition_is_refused_in_chinese(client, auth, draft):
    auth.login()
    page = edit(client, draft, "comment", lang="zh", show_if="${later} = 'x'").text
    assert 'id="show_if-error">' in page


def test_a_section_condition_is_saved_and_checked(client, auth, draft):
    auth.login()
    overall = draft.sections[-1]
    url = f"/design/versions/{draft.id}/sections/{overall.id}/edit?lang=en"
    data = {"code": "overall", "title_zh": "总体", "title_en": "Overall"}
    page = client.post(url, data={**data, "show_if": "${overall} >= 4"}).text
    assert "a section&#39;s condition cannot refer to its own question" in page
    response = client.post(url, data={**data, "show_if": "selected(${main_concerns}, 'noise')"})
    assert response.status_code == 302
    db.session.expire_all()
    assert to_model(draft).sections[-1].show_if == "selected(${main_concerns}, 'noise')"
    page = client.get(url).text
    assert 'value="selected(${main_concerns}, &#39;noise&#39;)"' in page


def test_moves_and_deletions_that_would_break_a_condition_are_refused(client, auth, draft):
    auth.login()
    edit(client, draft, "comment", show_if="${recommend_city} <= 6")
    comment = row(draft, "comment")
    move = f"/design/versions/{draft.id}/questions/{comment.id}/move"
    page = client.post(move, data={"direction": "up"}, follow_redirects=True).text
    assert "which comes later" in page
    db.session.expire_all()
    assert [q.code for q in to_model(draft).sections[-1].questions][-1] == "comment"
    recommend = row(draft, "recommend_city")
    delete = f"/design/versions/{draft.id}/questions/{recommend.id}/delete"
    page = client.post(delete, follow_redirects=True).text
    assert "unknown question" in page
    db.session.expire_all()
    assert row(draft, "recommend_city") is not None
    city = draft.sections[1]
    edit(client, draft, "comment", show_if="selected(${main_concerns}, 'noise')")
    page = client.post(
        f"/design/versions/{draft.id}/sections/{draft.sections[-1].id}/move",
        data={"direction": "up"},
        follow_redirects=True,
    ).text
    assert "which comes later" in page
    db.session.expire_all()
    assert draft.sections[1].id == city.id


@pytest.mark.parametrize("group", ["mayors", "departments"])
def test_the_preview_of_each_group_carries_the_conditions(client, auth, office_version, group):
    version = save_version(CONDITIONAL, status="draft")
    db.session.commit()
    auth.login()
    page = client.get(f"/design/versions/{version.id}/preview?group={group}&lang=en").text
    assert "conditions.js" in page
    assert page.count("data-show-if=") == (3 if group == "mayors" else 2)
    assert "Answer only if you answered &#34;Yes&#34; to question 1." in page


def test_the_form_lists_the_questions_a_condition_can_use(client, auth, draft):
    auth.login()
    url = f"/design/versions/{draft.id}/questions/{row(draft, 'recommend_city').id}/edit?lang=en"
    page = client.get(url).text
    listed = page.split('class="condition-codes"')[1].split("</details>")[0]
    assert "${district}" in listed and "'zhuji'" in listed and "${overall}" in listed
    assert "${recommend_city}" not in listed and "${comment}" not in listed
