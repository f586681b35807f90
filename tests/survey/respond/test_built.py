"""What the respondent's pages keep from a frozen version: kept only while frozen and fresh, one
store per app, and a page from the kept HTML that is the page the template would render."""

from __future__ import annotations

import re

from flask import render_template

from questionnaires import DEFINITIONS_DIR, load
from survey.i18n import current_language
from survey.respond.built import BuiltVersions, built_versions
from survey.responses import draft_fingerprint, draft_ref
from tests.html import form_values
from tests.survey.respond.test_views import complete_answers, submit

OFFICE = load(DEFINITIONS_DIR / "office-services.yaml")
SURVEY_FORM = re.compile(r'<form method="post"[^>]*id="survey-form".*?</form>', re.S)
PER_REQUEST = re.compile(r'(name="(?:csrf_token|submission_key)"[^>]*value=")[^"]*"')


def survey_form(page: str) -> str:
    """The survey's <form> with the per-request token and key blanked out."""
    found = SURVEY_FORM.search(page)
    assert found, "no survey form on the page"
    return PER_REQUEST.sub(r'\1"', found.group(0))


class Builder:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return OFFICE.for_group("departments")


def test_a_frozen_version_is_built_once_per_group():
    store, build = BuiltVersions(ttl=60), Builder()
    first = store.get(1, "departments", True, build)
    assert store.get(1, "departments", True, build) is first
    assert build.calls == 1
    store.get(1, "mayors", True, build)
    store.get(2, "departments", True, build)
    assert build.calls == 3


def test_a_version_still_being_edited_is_built_every_time():
    store, build = BuiltVersions(ttl=60), Builder()
    store.get(1, "departments", False, build)
    store.get(1, "departments", False, build)
    assert build.calls == 2


def test_an_entry_older_than_the_ttl_is_built_again():
    store, build = BuiltVersions(ttl=0), Builder()
    store.get(1, "departments", True, build)
    store.get(1, "departments", True, build)
    assert build.calls == 2


def test_form_classes_are_kept_per_language_and_strictness():
    built = BuiltVersions().get(1, "departments", True, Builder())
    assert built.form_class("zh") is built.form_class("zh")
    assert built.form_class("zh") is not built.form_class("en")
    assert built.form_class("zh") is not built.form_class("zh", enforce_required=False)


def test_each_app_keeps_its_own(app):
    from survey import create_app

    other = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "other"}
    )
    with app.app_context():
        mine = built_versions()
    with other.app_context():
        assert built_versions() is not mine


def test_the_unanswered_page_is_the_page_the_template_renders(app, client, make_invitation):
    invitation = make_invitation()
    client.get(f"/r/{make_invitation().token}", follow_redirects=True)  # the HTML is kept now
    page = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        lang = current_language()
        built = built_versions().get(invitation.round.version.id, "departments", True, lambda: None)
        assert built.questionnaire is not None, "the page's version was not kept"
        rendered = render_template(
            "respond/page.html",
            invitation=invitation,
            lang=lang,
            questionnaire=built.questionnaire,
            form=built.form_class(lang)(formdata=None),
            draft_ref=draft_ref(invitation.id, invitation.token),  # the page's own fields
            draft_base=draft_fingerprint(None),
        )
    assert survey_form(page) == survey_form(rendered)
    assert 'name="q_doc_timeliness"' in page and 'name="submission_key"' in page


def test_a_draft_is_shown_after_an_unanswered_page_was_kept(client, make_invitation):
    blank, drafted = make_invitation(), make_invitation()
    client.get(f"/r/{blank.token}", follow_redirects=True)
    submit(client, drafted, {"q_doc_timeliness": "5", "q_comment": "未完"}, action="save")
    shown = client.get(f"/r/{drafted.token}", follow_redirects=True).text
    assert form_values(shown) == {"q_doc_timeliness": "5", "q_comment": "未完"}
    assert '<span id="progress-count">2</span>' in shown
    again = client.get(f"/r/{blank.token}", follow_redirects=True).text
    assert form_values(again) == {}
    assert '<span id="progress-count">0</span>' in again


def test_errors_are_shown_after_an_unanswered_page_was_kept(client, make_invitation):
    client.get(f"/r/{make_invitation().token}", follow_redirects=True)
    invitation = make_invitation()
    data = complete_answers()
    del data["q_overall"]
    response = submit(client, invitation, data)
    assert response.status_code == 400
    assert 'href="#question-overall"' in response.text
    assert form_values(response.text)["q_doc_timeliness"] == "4"


def test_each_language_has_its_own_kept_page(client, make_invitation):
    zh = {"Accept-Language": "zh-CN"}
    client.get(f"/r/{make_invitation().token}", follow_redirects=True, headers=zh)
    page = client.get(
        f"/r/{make_invitation().token}?lang=en", follow_redirects=True, headers=zh
    ).text
    assert "Timeliness of document handling" in page
    assert "公文办理的及时性" not in survey_form(page)


def test_the_summary_is_looked_up_once_per_round_even_when_there_is_none():
    built = BuiltVersions().get(1, "departments", True, Builder())
    looked = []

    def find(found):
        looked.append(found)
        return found

    assert built.summary(7, lambda: find(None)) is None
    assert built.summary(7, lambda: find("later")) is None
    assert built.summary(8, lambda: find("shown")) == "shown"
    assert looked == [None, "shown"]


def test_the_page_shows_the_kept_summary(client, make_invitation, monkeypatch):
    from survey.corrective.summaries import Shown
    from survey.respond import views

    monkeypatch.setattr(views, "shown_for", lambda invitation: Shown("2004 spring", "慢", "快"))
    page = client.get(f"/r/{make_invitation().token}", follow_redirects=True).text
    assert "2004 spring" in page and "快" in page


def test_how_long_pages_are_kept_is_a_setting():
    from survey import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "x",
            "RESPONDENT_CACHE_SECONDS": 5,
        }
    )
    with app.app_context():
        assert built_versions().ttl == 5.0


def test_the_question_ids_are_read_once_for_a_kept_version():
    built = BuiltVersions().get(1, "departments", True, Builder())
    reads = []

    def read():
        reads.append(1)
        return {"q_overall": 7}

    assert built.question_ids(read) == {"q_overall": 7}
    assert built.question_ids(read) == {"q_overall": 7}
    assert len(reads) == 1


def test_answers_are_stored_under_the_kept_question_ids(app, client, make_invitation):
    from sqlalchemy import event, select

    from survey.extensions import db
    from survey.models import Answer, Question

    first = make_invitation()
    second = make_invitation(round_=first.round)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert submit(client, first, complete_answers(), key="k-1").status_code == 303
            assert submit(client, second, complete_answers(), key="k-2").status_code == 303
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        stored = db.session.execute(
            select(Answer.question_code, Question.code, Question.version_id).join(
                Question, Answer.question_id == Question.id
            )
        ).all()
    reads = [s for s in statements if s.startswith("SELECT question.code, question.id")]
    assert len(reads) == 1, "the second submit read the question ids again"
    assert len(stored) == 2 * len(complete_answers())
    version_id = first.round.version_id
    assert all(
        answered == question and version == version_id for answered, question, version in stored
    )
