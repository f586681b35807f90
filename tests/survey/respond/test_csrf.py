"""CSRF protection stays on for the survey form, and a refused token loses no answer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Invitation, Response
from tests.factories import PASSWORD
from tests.html import form_values
from tests.survey.respond.test_views import complete_answers


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def test_submit_without_csrf_token_is_refused_and_keeps_the_answers(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers() | {"q_comment": "我的意见", "action": "submit"}
    response = client.post(f"/r/{invitation.token}", data=data)
    assert response.status_code == 400
    assert form_values(response.text)["q_comment"] == "我的意见"
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_submit_with_the_pages_token_is_stored(client, make_invitation):
    invitation = make_invitation()
    page = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    data = complete_answers() | {"csrf_token": token, "submission_key": key, "action": "submit"}
    assert client.post(f"/r/{invitation.token}", data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_two_browsers_get_their_own_token_and_key_from_the_kept_page(app, make_invitation):
    """The unanswered page's questions are rendered once and kept: the token and the key,
    which belong to one browser and one page, must never be part of what is kept."""
    found = []
    for invitation in (make_invitation(), make_invitation(), make_invitation()):
        page = app.test_client().get(f"/r/{invitation.token}", follow_redirects=True).text
        tokens = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        keys = re.findall(r'name="submission_key" type="hidden" value="([^"]+)"', page)
        assert len(tokens) == len(keys) == 1
        found.append((tokens[0], keys[0]))
    assert len({t for t, _ in found}) == len({k for _, k in found}) == 3


def test_staff_login_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").headers["Location"].endswith("/login")


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="([\w-]+)"[^>]*type="hidden" value="([^"]*)"', html))


def _page_fields(browser, invitation) -> dict[str, str]:
    page = browser.get(f"/r/{invitation.token}", follow_redirects=True).text
    found = _hidden(page)
    found.update(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', page))
    return found


def test_a_page_of_an_ended_session_saves_its_answers_once_the_link_is_open_again(
    app, make_invitation
):
    """The browser was restarted and the link opened again in a new tab; then the old tab,
    whose CSRF token belongs to the ended session, sends its answers."""
    invitation = make_invitation()
    old_tab = _page_fields(app.test_client(), invitation)
    browser = app.test_client()
    _page_fields(browser, invitation)  # the new session knows the invitation
    data = complete_answers() | {**old_tab, "q_comment": "我的意见", "action": "submit"}
    sent = browser.post(f"/r/i/{invitation.id}", data=data, headers={"Accept-Language": "en"})
    assert sent.status_code == 303  # never accepted as a submission: its token was refused
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    page = browser.get(sent.headers["Location"], headers={"Accept-Language": "en"})
    assert "Everything you typed is saved" in page.text
    assert form_values(page.text)["q_comment"] == "我的意见"


def test_a_refused_token_without_the_pages_reference_saves_nothing(app, make_invitation):
    invitation = make_invitation()
    old_tab = _page_fields(app.test_client(), invitation)
    browser = app.test_client()
    _page_fields(browser, invitation)
    data = complete_answers() | {**old_tab, "ref": "1.forged", "action": "save"}
    sent = browser.post(f"/r/i/{invitation.id}", data=data)
    assert sent.status_code == 400
    assert db.session.get(Invitation, invitation.id).draft is None


def test_a_submit_checks_its_token_once(client, make_invitation, monkeypatch):
    # _token_refused checks it first (a page of an ended session); validate() then trusts that.
    import flask_wtf.csrf

    checked = []
    original = flask_wtf.csrf.validate_csrf

    def counting(*args, **kwargs):
        checked.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(flask_wtf.csrf, "validate_csrf", counting)
    invitation = make_invitation()
    page = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = complete_answers() | {"csrf_token": token, "action": "submit"}
    assert client.post(f"/r/{invitation.token}", data=data).status_code == 303
    assert checked == [token]


def _opened(client, invitation) -> tuple[str, str]:
    """The survey page opened by the invitation's link, and the address its form posts to."""
    page = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    return page, re.search(r'<form method="post" action="([^"]+)"', page).group(1)


def _counting_tokens_made(monkeypatch) -> list[str]:
    import flask_wtf.csrf

    made: list[str] = []
    original = flask_wtf.csrf.generate_csrf

    def counting(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(flask_wtf.csrf, "generate_csrf", counting)
    return made


def test_a_stored_submit_makes_no_token_it_would_not_show(client, make_invitation, monkeypatch):
    page, action = _opened(client, make_invitation())
    data = complete_answers() | {**_hidden(page), "action": "submit"}
    made = _counting_tokens_made(monkeypatch)
    assert client.post(action, data=data).status_code == 303
    assert made == []
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_a_refused_submit_shows_a_token_that_the_next_submit_passes(
    client, make_invitation, monkeypatch
):
    page, action = _opened(client, make_invitation())
    made = _counting_tokens_made(monkeypatch)
    refused = client.post(action, data={**_hidden(page), "action": "submit"})  # unanswered
    assert refused.status_code == 400
    shown = _hidden(refused.text)
    assert made and shown["csrf_token"] == made[-1]
    data = complete_answers() | {**shown, "action": "submit"}
    assert client.post(action, data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def _counting_forms_built(monkeypatch) -> list[type]:
    from survey.questionnaire_form import SurveyForm

    built: list[type] = []
    original = SurveyForm.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(SurveyForm, "__init__", counting)
    return built


def test_a_complete_submit_is_stored_without_building_the_form(
    client, make_invitation, monkeypatch
):
    # survey.questionnaire_form.complete_submit reads it (its equality with the form is held in
    # tests/survey/test_questionnaire_form.py); the form is built for what it must explain.
    page, action = _opened(client, make_invitation())
    built = _counting_forms_built(monkeypatch)
    unanswered = client.post(action, data={**_hidden(page), "action": "submit"})
    assert unanswered.status_code == 400 and built
    built.clear()
    foreign = {**_hidden(unanswered.text), "csrf_token": "forged", "action": "submit"}
    assert client.post(action, data=complete_answers() | foreign).status_code == 400
    assert built
    built.clear()
    data = complete_answers() | {**_hidden(unanswered.text), "action": "submit"}
    assert client.post(action, data=data).status_code == 303
    assert built == []
    stored = db.session.scalars(select(Response)).one()
    assert stored.submission_key == _hidden(unanswered.text)["submission_key"]


def test_the_survey_reads_only_its_form_fields_not_uploads(client, make_invitation):
    # A hand-made multipart post: a file part cannot pass for an answer or the key, whether
    # the submit is complete (read without the form) or not (the form explains what is missing).
    import io

    page, action = _opened(client, make_invitation())
    hidden = _hidden(page)

    def upload():
        return (io.BytesIO(b"not a key"), "key.txt")

    incomplete = {**hidden, "action": "submit", "submission_key": upload()}
    refused = client.post(action, data=incomplete, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    uploads = {"q_comment": upload(), "submission_key": upload()}
    data = complete_answers() | hidden | {"action": "submit"} | uploads
    stored = client.post(action, data=data, content_type="multipart/form-data")
    assert stored.status_code == 303
    response = db.session.scalars(select(Response)).one()
    assert response.submission_key != "not a key"
