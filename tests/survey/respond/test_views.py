"""The respondent's survey at /r/<token>: what is shown, saved, stored and refused."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update
from werkzeug.datastructures import MultiDict

from questionnaires import DEFINITIONS_DIR, load
from survey import responses
from survey.extensions import db
from survey.models import Answer, Invitation, Response, Round, utcnow
from tests.conftest import TEST_DATABASE_URL
from tests.html import form_values

DEFINITION = load(DEFINITIONS_DIR / "office-services.yaml")


def complete_answers(group: str = "departments", rating: str = "4") -> dict[str, str]:
    """A full, valid submission for a group: every rating `rating`, the first choice."""
    data = {}
    for q in DEFINITION.for_group(group).questions():
        if q.type == "rating":
            data["q_" + q.code] = rating
        elif q.type == "choice":
            data["q_" + q.code] = q.choices[0].code
    return data


def submit(client, invitation, data, action="submit", key="key-1"):
    return client.post(
        f"/r/{invitation.token}", data={**data, "action": action, "submission_key": key}
    )


def response_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_page_shows_only_the_groups_items(client, make_invitation):
    congress = make_invitation(group="congress")
    page = client.get(f"/r/{congress.token}", follow_redirects=True).text
    assert 'name="q_liaison_contact"' in page
    assert 'name="q_mtg_minutes"' not in page
    mayors = make_invitation(group="mayors", round_=congress.round)
    page = client.get(f"/r/{mayors.token}", follow_redirects=True).text
    assert 'name="q_mtg_minutes"' in page
    assert 'name="q_liaison_contact"' not in page


def test_ratings_are_grouped_with_fieldset_and_legend(client, make_invitation):
    page = client.get(f"/r/{make_invitation().token}", follow_redirects=True).text
    assert page.count("<fieldset") == page.count("<legend")
    # 14 ratings and one choice for departments; the other 4 ratings are the rows of the
    # document-processing grid, each a radiogroup named by the grid's text and its own.
    assert page.count("<fieldset") == 15
    assert page.count('role="radiogroup"') == 4


def test_first_visit_marks_the_invitation_started(client, make_invitation):
    invitation = make_invitation()
    client.get(f"/r/{invitation.token}", follow_redirects=True)
    assert invitation.status == "started"
    assert invitation.opened_at is not None


def test_submit_stores_exactly_the_answers_given(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers() | {
        "q_city_environment": "2",
        "q_city_environment__comment": "河道太脏",
        "q_comment": "谢谢",
    }
    response = submit(client, invitation, data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/r/i/{invitation.id}/done")
    stored = db.session.scalar(select(Response))
    answers = {a.question_code: a for a in stored.answers}
    assert len(answers) == 20  # 18 ratings, the choice and the comment
    assert answers["doc_timeliness"].value == 4
    assert (answers["city_environment"].value, answers["city_environment"].comment) == (
        2,
        "河道太脏",
    )
    assert answers["contact_channel"].text == "phone"
    assert answers["comment"].text == "谢谢"
    assert stored.invitation_id == invitation.id and stored.unit_id == invitation.unit_id


def test_confirmation_follows_the_submit(client, make_invitation):
    invitation = make_invitation()
    submit(client, invitation, complete_answers())
    assert (
        "Thank you"
        in client.get(f"/r/i/{invitation.id}/done", headers={"Accept-Language": "en"}).text
    )


def test_double_submit_stores_one_response(client, make_invitation):
    invitation = make_invitation()
    assert submit(client, invitation, complete_answers(), key="a").status_code == 303
    again = submit(client, invitation, complete_answers(rating="1"), key="b")
    assert again.status_code == 200
    assert (
        "Already submitted"
        in client.get(
            f"/r/{invitation.token}", follow_redirects=True, headers={"Accept-Language": "en"}
        ).text
    )
    assert response_count() == 1
    assert db.session.scalar(select(func.max(Answer.value))) == 4


def test_a_reused_submission_key_stores_nothing_and_asks_again(client, make_invitation):
    first = make_invitation()
    second = make_invitation(round_=first.round)
    submit(client, first, complete_answers(), key="same")
    # The key is unique in the database: the second invitation's answers are not stored, and
    # as it has not answered yet, its page comes back with a fresh key and the answers kept.
    again = submit(client, second, complete_answers() | {"q_comment": "再试"}, key="same")
    assert again.status_code == 409
    assert form_values(again.text)["q_comment"] == "再试"
    assert 'value="same"' not in again.text
    assert response_count() == 1
    assert db.session.get(Invitation, second.id).status != "submitted"


def test_missing_required_answer_is_shown_next_to_the_question(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers()
    del data["q_doc_accuracy"]
    response = client.post(
        f"/r/{invitation.token}",
        data={**data, "action": "submit"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert 'id="q_doc_accuracy-error"' in response.text
    assert "Please answer this question." in response.text
    assert response_count() == 0


def test_failed_submit_keeps_what_was_typed(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers() | {"q_comment": "写了一半的意见"}
    del data["q_overall"]
    response = submit(client, invitation, data)
    shown = form_values(response.text)
    assert shown["q_comment"] == "写了一半的意见"
    assert shown["q_doc_timeliness"] == "4"
    assert "q_overall" not in shown
    assert invitation.draft["q_comment"] == "写了一半的意见"


def test_draft_is_saved_and_restored(client, make_invitation):
    invitation = make_invitation()
    response = submit(
        client, invitation, {"q_doc_timeliness": "5", "q_comment": "未完"}, action="save"
    )
    assert response.status_code == 302
    shown = form_values(client.get(f"/r/{invitation.token}", follow_redirects=True).text)
    assert shown == {"q_doc_timeliness": "5", "q_comment": "未完"}
    assert response_count() == 0


def test_saving_a_draft_checks_the_values_given(client, make_invitation):
    invitation = make_invitation()
    response = submit(client, invitation, {"q_doc_timeliness": "9"}, action="save")
    assert response.status_code == 400
    assert invitation.draft is None


@pytest.mark.parametrize(
    "tampered",
    [
        {"q_doc_timeliness": "9"},
        {"q_doc_timeliness": "abc"},
        {"q_contact_channel": "fax"},
        {"q_liaison_contact": "5"},
        {"q_not_a_question": "1"},
    ],
    ids=["rating-9", "rating-text", "choice-not-offered", "other-groups-item", "unknown-code"],
)
def test_tampered_values_are_refused_and_store_nothing(client, make_invitation, tampered):
    invitation = make_invitation()
    response = submit(client, invitation, complete_answers() | tampered)
    assert response.status_code == 400
    assert response_count() == 0
    assert db.session.get(Invitation, invitation.id).status != "submitted"


def test_one_rating_sent_twice_is_refused(client, make_invitation):
    invitation = make_invitation()
    data = MultiDict(complete_answers())
    data.add("q_doc_timeliness", "9")
    data.update({"action": "submit", "submission_key": "k"})
    assert client.post(f"/r/{invitation.token}", data=data).status_code == 400
    assert response_count() == 0


def test_a_damaged_submission_key_is_replaced_not_stored(client, make_invitation):
    invitation = make_invitation()
    response = submit(client, invitation, complete_answers(), key="x" * 65)
    assert response.status_code == 400
    assert 'value="' + "x" * 65 not in response.text
    assert response_count() == 0


def test_nul_in_a_comment_is_dropped(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers() | {"q_overall": "1", "q_overall__comment": "差\x00评"}
    assert submit(client, invitation, data).status_code == 303
    assert (
        db.session.scalar(select(Answer.comment).where(Answer.question_code == "overall")) == "差评"
    )


# The POST reads and checks the form before it takes the write lock; whatever another request
# commits in between (a revoke, a close, a rival submit) must win.
MEANWHILE = {
    "revoked": (
        lambda i: update(Invitation).where(Invitation.id == i.id).values(status="revoked"),
        404,
    ),
    "round closed": (
        lambda i: update(Round).where(Round.id == i.round_id).values(status="closed"),
        409,
    ),
    "submitted by a rival": (
        lambda i: update(Invitation).where(Invitation.id == i.id).values(status="submitted"),
        200,
    ),
}


@pytest.mark.parametrize("change", MEANWHILE, ids=list(MEANWHILE))
def test_a_change_between_checking_and_storing_wins(client, make_invitation, monkeypatch, change):
    invitation = make_invitation()
    statement, status = MEANWHILE[change]
    _another_request_commits_before_the_store(monkeypatch, statement(invitation))
    response = submit(client, invitation, complete_answers())
    assert response.status_code == status
    assert response_count() == 0


def _another_request_commits_before_the_store(monkeypatch, statement) -> None:
    """Let another request commit ``statement`` once the submit has read and checked the form,
    as it prepares its rows, before it stores in any way (in a transaction, or on PostgreSQL
    in one statement that commits alone)."""
    prepare = responses._answer_rows

    def after_another_request(*args):
        with db.engine.begin() as other:  # another request's connection, committed first
            other.execute(statement)
        return prepare(*args)

    monkeypatch.setattr(responses, "_answer_rows", after_another_request)


def test_a_round_made_anonymous_before_the_store_gets_an_anonymous_response(
    client, make_invitation, monkeypatch
):
    # A named round without responses may still become anonymous: the response is stored as
    # the round is when it is stored, not as the form's request read it.
    invitation = make_invitation()
    made_anonymous = update(Round).where(Round.id == invitation.round_id).values(anonymous=True)
    _another_request_commits_before_the_store(monkeypatch, made_anonymous)
    assert submit(client, invitation, complete_answers()).status_code == 303
    stored = db.session.execute(select(Response.invitation_id, Response.unit_id)).all()
    assert stored == [(None, None)]
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).submitted_at is None


def test_unknown_token_is_404(client, make_invitation):
    make_invitation()
    assert client.get("/r/not-a-token").status_code == 404
    assert client.post("/r/not-a-token", data={"action": "submit"}).status_code == 404


def test_revoked_invitation_is_answered_like_an_unknown_one(client, make_invitation):
    invitation = make_invitation()
    invitation.status = "revoked"
    db.session.commit()
    assert client.get(f"/r/{invitation.token}", follow_redirects=True).status_code == 404


@pytest.mark.parametrize("when", ["closed", "not-yet-open", "past-close-date", "draft"])
def test_round_not_open_shows_a_clear_page_and_stores_nothing(client, make_invitation, when):
    now = utcnow()
    settings = {
        "closed": {"status": "closed"},
        "not-yet-open": {"opens_at": now + timedelta(days=2)},
        "past-close-date": {"closes_at": now - timedelta(minutes=1)},
        "draft": {"status": "draft"},
    }[when]
    invitation = make_invitation(**settings)
    page = client.get(
        f"/r/{invitation.token}", follow_redirects=True, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    assert "This survey is not open" in page.text
    db.session.expire_all()  # not marked opened either
    assert db.session.get(Invitation, invitation.id).status == "sent"
    assert submit(client, invitation, complete_answers()).status_code == 409
    assert submit(client, invitation, complete_answers(), action="save").status_code == 409
    assert response_count() == 0
    assert db.session.get(Invitation, invitation.id).draft is None


def test_anonymous_round_keeps_no_link_to_the_invitation(client, make_invitation):
    invitation = make_invitation(anonymous=True)
    submit(client, invitation, complete_answers(), key="anon")
    stored = db.session.scalar(select(Response))
    assert stored.invitation_id is None and stored.unit_id is None
    assert stored.group_id == invitation.group_id
    assert (stored.submitted_at.hour, stored.submitted_at.minute) == (0, 0)
    # No time on the invitation either: the order of submissions pairs nothing.
    assert (invitation.status, invitation.submitted_at) == ("submitted", None)


def test_language_follows_the_browser_then_the_switch(client, make_invitation):
    invitation = make_invitation()
    assert (
        "公文办理的及时性"
        in client.get(
            f"/r/{invitation.token}", follow_redirects=True, headers={"Accept-Language": "zh-CN"}
        ).text
    )
    page = client.get(
        f"/r/{invitation.token}?lang=en",
        follow_redirects=True,
        headers={"Accept-Language": "zh-CN"},
    )
    assert "Timeliness of document handling" in page.text
    again = client.get(
        f"/r/{invitation.token}", follow_redirects=True, headers={"Accept-Language": "zh-CN"}
    )
    assert "Timeliness of document handling" in again.text


def test_switching_language_keeps_what_was_typed(client, make_invitation):
    invitation = make_invitation()
    page = client.get(
        f"/r/{invitation.token}", follow_redirects=True, headers={"Accept-Language": "zh-CN"}
    ).text
    assert 'form="survey-form" name="action" value="switch-en"' in page
    response = submit(
        client, invitation, {"q_doc_timeliness": "2", "q_comment": "半句"}, action="switch-en"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("?lang=en")
    again = client.get(response.headers["Location"], headers={"Accept-Language": "zh-CN"})
    assert "Timeliness of document handling" in again.text
    assert form_values(again.text) == {"q_doc_timeliness": "2", "q_comment": "半句"}


def test_survey_pages_are_not_cached_and_send_no_referrer(client, make_invitation):
    response = client.get(f"/r/{make_invitation().token}", follow_redirects=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_link_is_exchanged_for_a_page_without_the_token(client, make_invitation):
    invitation = make_invitation(anonymous=True)
    response = client.get(f"/r/{invitation.token}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/i/{invitation.id}"
    page = client.get(response.headers["Location"]).text
    assert invitation.token not in page and 'name="q_doc_timeliness"' in page


def test_a_page_is_only_shown_to_the_browser_that_opened_its_link(app, client, make_invitation):
    invitation = make_invitation()
    assert client.get(f"/r/i/{invitation.id}").status_code == 404
    other_browser = app.test_client()
    other_browser.get(f"/r/{invitation.token}")
    assert client.get(f"/r/i/{invitation.id}").status_code == 404
    assert other_browser.get(f"/r/i/{invitation.id}").status_code == 200


def test_two_links_in_one_browser_keep_their_own_pages(client, make_invitation):
    first = make_invitation(group="mayors")
    second = make_invitation(group="congress", round_=first.round)
    client.get(f"/r/{first.token}")
    client.get(f"/r/{second.token}")
    assert 'name="q_mtg_minutes"' in client.get(f"/r/i/{first.id}").text
    assert 'name="q_liaison_contact"' in client.get(f"/r/i/{second.id}").text


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL: SQLite reads as before")
def test_the_personal_link_reads_outside_a_transaction_and_leaves_none_behind(
    app, client, make_invitation
):
    # The link's one read needs no BEGIN and COMMIT; a save after it, on the same pooled
    # connections (three of each, so that the pool hands every connection round), must still
    # run in a transaction (it reads the draft under a row lock, then writes it); a submit is
    # one statement, atomic alone (survey.responses._ROUND_AS_READ).
    links = [f"/r/{make_invitation().token}" for _ in range(3)]
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], conn.connection.dbapi_connection.autocommit))

    event.listen(db.engine, "before_cursor_execute", record)
    for link in links:
        assert client.get(link).status_code == 303
    assert seen == [("SELECT", True)] * 3
    seen.clear()
    for link in links:
        posted = client.post(link, data={"q_overall": "4", "action": "save"})
        assert posted.status_code == 302
    assert seen.count(("UPDATE", False)) == 3
    assert {word for word, autocommit in seen if autocommit} == {"SELECT"}  # reads only
    seen.clear()
    for n, link in enumerate(links):
        posted = client.post(
            link, data={**complete_answers(), "action": "submit", "submission_key": f"k{n}"}
        )
        assert posted.status_code == 303
    # The link's read, the invitation's, the writes (and for the version's first submit its
    # question ids), every one in autocommit.
    assert seen.count(("WITH", True)) == 3
    assert {autocommit for _, autocommit in seen} == {True}
    assert db.session.scalar(select(func.count()).select_from(Response)) == 3


# --- a lost session, two devices, an opening that cannot be written ------------------------


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', html))


def _opened(client, invitation) -> dict[str, object]:
    """Open the personal link in ``client`` and return the survey form's answers and hidden
    fields."""
    html = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    return {**_hidden(html), **form_values(html)}


def test_answers_posted_after_the_session_was_lost_are_saved_and_come_back(
    app, client, make_invitation
):
    invitation = make_invitation()
    fields = _opened(client, invitation)
    restarted = app.test_client()  # the browser was closed: no session cookie any more
    typed = {"q_doc_timeliness": "2", "q_doc_timeliness__comment": "太慢", "q_mtg_notice": "4"}
    posted = {"ref": fields["ref"], "draft_base": fields["draft_base"], **typed}
    response = restarted.post(
        f"/r/i/{invitation.id}",
        data={**posted, "action": "submit"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "Everything you typed is saved" in response.text
    db.session.expire_all()
    stored = db.session.get(Invitation, invitation.id)
    assert stored.status != "submitted" and response_count() == 0  # a reference never submits
    assert {k: str(v) for k, v in stored.draft.items()} == typed
    again = _opened(restarted, invitation)
    assert {k: again[k] for k in typed} == typed


def test_a_wrong_reference_saves_nothing_and_asks_for_the_link(app, client, make_invitation):
    invitation, other = make_invitation(), make_invitation()
    fields = _opened(client, other)  # a real reference, of another invitation
    response = app.test_client().post(
        f"/r/i/{invitation.id}",
        data={"ref": fields["ref"], "q_doc_timeliness": "1", "action": "save"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 404
    assert "open your personal link again" in response.text
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).draft is None


def test_the_page_never_shows_the_links_token(client, make_invitation):
    invitation = make_invitation()
    page = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    assert invitation.token not in page and 'name="ref"' in page


def test_a_bookmarked_page_asks_for_the_personal_link_the_same_for_any_id(
    app, client, make_invitation
):
    invitation = make_invitation()
    browser = app.test_client()
    bookmarked = browser.get(f"/r/i/{invitation.id}", headers={"Accept-Language": "en"})
    unknown = browser.get(f"/r/i/{invitation.id + 1000}", headers={"Accept-Language": "en"})
    assert bookmarked.status_code == unknown.status_code == 404
    assert "Please open your personal link again" in bookmarked.text
    # The same page (but for the language link to itself): whether an id exists is not told.
    assert bookmarked.text.replace(f"/r/i/{invitation.id}?", "/r/i/X?") == unknown.text.replace(
        f"/r/i/{invitation.id + 1000}?", "/r/i/X?"
    )


def _save(client, invitation, fields, answers):
    return client.post(
        f"/r/i/{invitation.id}",
        data={
            "ref": fields["ref"],
            "draft_base": fields["draft_base"],
            "action": "save",
            **answers,
        },
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )


def test_saves_from_two_devices_are_merged_and_the_second_is_told(app, make_invitation):
    invitation = make_invitation()
    phone, desk = app.test_client(), app.test_client()
    on_phone, on_desk = _opened(phone, invitation), _opened(desk, invitation)
    first = _save(phone, invitation, on_phone, {"q_doc_timeliness": "5", "q_doc_accuracy": "4"})
    assert "Your answers are saved" in first.text
    second = _save(desk, invitation, on_desk, {"q_doc_accuracy": "2", "q_mtg_notice": "3"})
    db.session.expire_all()
    draft = db.session.get(Invitation, invitation.id).draft
    assert {k: str(v) for k, v in draft.items()} == {
        "q_doc_timeliness": "5",  # the phone's, kept
        "q_doc_accuracy": "2",  # both answered: the later save wins
        "q_mtg_notice": "3",
    }
    assert "also saved from another device" in second.text
    assert "Accuracy" in second.text.split("answer was kept")[1]
    assert form_values(second.text)["q_doc_timeliness"] == "5"


def test_on_one_device_a_cleared_answer_stays_cleared(client, make_invitation):
    invitation = make_invitation()
    fields = _opened(client, invitation)
    _save(client, invitation, fields, {"q_doc_timeliness": "5", "q_doc_accuracy": "4"})
    fields = _opened(client, invitation)
    again = _save(client, invitation, fields, {"q_doc_accuracy": "4"})
    db.session.expire_all()
    draft = db.session.get(Invitation, invitation.id).draft
    assert {k: str(v) for k, v in draft.items()} == {"q_doc_accuracy": "4"}
    assert "another device" not in again.text


def test_the_survey_is_shown_when_its_opening_cannot_be_written(
    client, make_invitation, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    def locked(invitation_id):
        raise OperationalError("UPDATE invitation", {}, Exception("database is locked"))

    invitation = make_invitation()
    monkeypatch.setattr(responses, "mark_opened", locked)
    page = client.get(f"/r/{invitation.token}", follow_redirects=True)
    assert page.status_code == 200 and 'name="q_doc_timeliness"' in page.text
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == "sent"
    monkeypatch.undo()
    fields = {**_hidden(page.text), **form_values(page.text)}
    _save(client, invitation, fields, {"q_doc_timeliness": "5"})
    db.session.expire_all()
    saved = db.session.get(Invitation, invitation.id)
    assert saved.status == "started" and saved.opened_at is not None


def _post(client, invitation, fields, answers, action):
    data = {"ref": fields["ref"], "draft_base": fields["draft_base"], "action": action, **answers}
    if "csrf_token" in fields:
        data["csrf_token"] = fields["csrf_token"]
    return client.post(f"/r/i/{invitation.id}", data=data, headers={"Accept-Language": "en"})


def test_a_refused_submit_shows_what_another_device_saved_and_keeps_it(app, make_invitation):
    invitation = make_invitation()
    phone, desk = app.test_client(), app.test_client()
    on_phone, on_desk = _opened(phone, invitation), _opened(desk, invitation)
    _save(phone, invitation, on_phone, {"q_doc_timeliness": "5", "q_doc_accuracy": "4"})
    refused = _post(desk, invitation, on_desk, {"q_mtg_notice": "3"}, "submit")
    assert refused.status_code == 400  # required questions are still unanswered
    shown = form_values(refused.text)
    assert (shown["q_doc_timeliness"], shown["q_mtg_notice"]) == ("5", "3")
    assert "also saved from another device" in refused.text
    # Saving what the page now shows never erases the phone's answers.
    _post(desk, invitation, {**on_desk, **_hidden(refused.text)}, shown, "save")
    db.session.expire_all()
    draft = db.session.get(Invitation, invitation.id).draft
    assert {k: str(v) for k, v in draft.items()} == {
        "q_doc_timeliness": "5",
        "q_doc_accuracy": "4",
        "q_mtg_notice": "3",
    }


def test_a_submit_that_would_drop_another_devices_answers_shows_them_first(app, make_invitation):
    invitation = make_invitation()
    phone, desk = app.test_client(), app.test_client()
    on_phone, on_desk = _opened(phone, invitation), _opened(desk, invitation)
    _save(phone, invitation, on_phone, {"q_comment": "请提前发会议材料"})
    held = _post(desk, invitation, on_desk, complete_answers(), "submit")
    assert held.status_code == 409 and response_count() == 0
    assert "also saved from another device" in held.text
    assert form_values(held.text)["q_comment"] == "请提前发会议材料"
    again = _post(
        desk, invitation, {**on_desk, **_hidden(held.text)}, form_values(held.text), "submit"
    )
    assert again.status_code == 303 and response_count() == 1
    comment = db.session.scalar(select(Answer.text).where(Answer.question_code == "comment"))
    assert comment == "请提前发会议材料"


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's one write lock")
def test_the_survey_is_shown_at_once_while_another_writer_holds_the_lock(
    client, make_invitation, database_url
):
    invitation = make_invitation()
    db.session.commit()
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. a backup, or a long import
    try:
        started = time.monotonic()
        page = client.get(f"/r/{invitation.token}", follow_redirects=True)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status_code == 200 and 'name="q_doc_timeliness"' in page.text
    # The "opened" mark may wait a moment for the lock, never SQLite's 5 s busy timeout.
    assert waited < 3.0
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == "sent"  # marked on the first save


def test_a_browser_cannot_reach_another_invitation_that_got_the_id_of_one_it_opened(
    client, make_invitation, make_round
):
    # SQLite gives a deleted row's id to the next row: a deleted draft round's invitation id
    # can come back as another unit's invitation.
    opened = make_invitation(round_=make_round(status="draft"))
    client.get(f"/r/{opened.token}")
    old_id = opened.id
    db.session.delete(opened)
    db.session.commit()
    other = make_invitation(group="mayors")
    db.session.execute(update(Invitation).where(Invitation.id == other.id).values(id=old_id))
    db.session.commit()
    page = client.get(f"/r/i/{old_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "open your personal link again" in page.text
    posted = client.post(f"/r/i/{old_id}", data={"q_overall": "1", "action": "save"})
    assert posted.status_code == 404
    db.session.expire_all()
    assert db.session.get(Invitation, old_id).draft is None


@pytest.mark.parametrize(
    "scale, low_max, chosen",
    [("three_points", 1, "1"), ("odd_values", 3, "1 or 3"), ("seven_points", 3, "1, 2 or 3")],
)
def test_the_follow_up_asks_after_the_scales_dissatisfied_points(
    client, make_invitation, scaled_round, scale, low_max, chosen
):
    round_, _ = scaled_round(scale)
    page = client.get(f"/r/{make_invitation(round_=round_).token}?lang=en", follow_redirects=True)
    box = re.search(r'data-low-max="(\d+)"\s+data-follow-up="q_doc_timeliness__comment"', page.text)
    assert box and box.group(1) == str(low_max)
    assert f"if you chose {chosen}" in page.text


# --- what one submit costs the database ------------------------------------------------------


def _statements_of(call) -> list[str]:
    """The SQL statements (their first words) that `call` runs, transaction control left out."""
    return [" ".join(words[:3]) for words, _autocommit in _recorded(call)]


def _recorded(call) -> list[tuple[list[str], bool]]:
    """(words, whether it ran outside a transaction) of each statement `call` runs,
    transaction control left out."""
    seen: list[tuple[list[str], bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        if words[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            dbapi = conn.connection.dbapi_connection
            seen.append((words, bool(getattr(dbapi, "autocommit", False))))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def _page_and_post(client, invitation) -> tuple[str, dict[str, str]]:
    html = client.get(f"/r/{invitation.token}", follow_redirects=True).text
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    return action, {**_hidden(html), **complete_answers(), "action": "submit"}


# The statements of a submit after the invitation's read: on SQLite the round's read, the
# conditional UPDATE and the two INSERTs; on PostgreSQL all of them in one statement that
# commits alone (survey.responses._ROUND_AS_READ), one round trip instead of five.
def _submit_writes() -> list[str]:
    if db.engine.dialect.name == "postgresql":
        return ["WITH"]
    return ["SELECT", "UPDATE", "INSERT", "INSERT"]


def test_a_submit_from_the_page_runs_few_statements_and_no_savepoint(client, make_invitation):
    # A regression guard that times nothing: the invitation read, the round read under lock
    # with the check whether anyone listens (no webhook here, so no savepoint), then the
    # writes: five statements on SQLite; on PostgreSQL two, the round's read and the check
    # being part of the writes' one statement. (The first submit of a version also reads its
    # question ids.)
    first = make_invitation()
    action, data = _page_and_post(client, first)
    assert client.post(action, data=data).status_code == 303
    action, data = _page_and_post(client, make_invitation(round_=first.round))
    posted: list = []
    seen = _statements_of(lambda: posted.append(client.post(action, data=data)))
    assert posted[0].status_code == 303
    assert [s.split()[0] for s in seen] == ["SELECT", *_submit_writes()], seen
    assert response_count() == 2


def _statements_in_autocommit_of(call) -> list[tuple[str, bool]]:
    """(first word, whether it ran outside a transaction) of each statement `call` runs."""
    return [(words[0].upper(), autocommit) for words, autocommit in _recorded(call)]


def test_a_respondents_whole_visit_runs_few_statements_and_no_needless_transaction(
    client, make_invitation
):
    # The link, the page, the submit and the thank-you page: one statement, two, two (five
    # on SQLite) and one. On PostgreSQL they all run without BEGIN and COMMIT: the page's
    # first-opening mark and the submit's writes are each one statement, atomic alone. What
    # they record is checked too.
    postgres = db.engine.dialect.name == "postgresql"
    first = make_invitation()
    action, data = _page_and_post(client, first)
    assert client.post(action, data=data).status_code == 303  # builds and keeps the version
    invitation = make_invitation(round_=first.round)
    token = invitation.token  # read here: the test's own session is not counted
    answered: list = []
    link = _statements_in_autocommit_of(lambda: answered.append(client.get(f"/r/{token}")))
    page = _statements_in_autocommit_of(
        lambda: answered.append(client.get(answered[0].headers["Location"]))
    )
    db.session.expire_all()
    opened = db.session.get(Invitation, invitation.id)
    assert (opened.status, opened.opened_at is not None) == ("started", True)
    html = answered[1].text
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    data = {**_hidden(html), **complete_answers(), "action": "submit"}
    post = _statements_in_autocommit_of(lambda: answered.append(client.post(action, data=data)))
    done = _statements_in_autocommit_of(
        lambda: answered.append(client.get(answered[2].headers["Location"]))
    )
    assert [r.status_code for r in answered] == [303, 200, 303, 200]
    assert link == [("SELECT", postgres)]
    assert page == [("SELECT", postgres), ("UPDATE", postgres)]
    assert post == [(word, postgres) for word in ["SELECT", *_submit_writes()]]
    assert done == [("SELECT", postgres)]
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == "submitted"
    assert response_count() == 2
    # A page opened again reads only: the mark is not written twice.
    again = _statements_in_autocommit_of(
        lambda: answered.append(client.get(answered[0].headers["Location"]))
    )
    assert again == [("SELECT", postgres)]


def test_the_survey_page_after_the_link_sends_no_new_cookie(client, make_invitation):
    # The link's answer sets everything the page would add to the session (the CSRF secret,
    # Flask-Login's mark): the page, read by every respondent, re-signs no cookie; the form
    # it shows is still accepted.
    invitation = make_invitation()
    link = client.get(f"/r/{invitation.token}?lang=en")  # the language goes on to the page
    assert link.status_code == 303 and "Set-Cookie" in link.headers
    page = client.get(link.headers["Location"])
    assert page.status_code == 200 and "Submit answers" in page.text
    assert "Set-Cookie" not in page.headers
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    data = {**_hidden(page.text), **complete_answers(), "action": "submit"}
    assert client.post(action, data=data).status_code == 303
    assert response_count() == 1


def test_a_page_refused_for_a_foreign_link_mark_marks_nothing(client, make_invitation):
    # The session holds the invitation's id but not the mark of its link (a session from
    # before a restore that gave the id to another invitation): the page asks for the link
    # again, and the invitation is not recorded as opened.
    invitation = make_invitation()
    with client.session_transaction() as browser:
        browser["invitations"] = [invitation.id]
        browser["invitation_refs"] = {str(invitation.id): "0" * 16}
    assert client.get(f"/r/i/{invitation.id}").status_code == 404
    db.session.expire_all()
    seen = db.session.get(Invitation, invitation.id)
    assert (seen.status, seen.opened_at) == ("sent", None)


def test_a_key_used_by_another_response_is_refused_and_the_invitation_stays_open(
    client, app, make_invitation
):
    # On PostgreSQL the submit's one statement fails on the key's unique constraint; the
    # transaction that follows refuses it as before (409, send again), nothing stored.
    first = make_invitation()
    second = make_invitation(round_=first.round)
    assert submit(client, first, complete_answers(), key="same").status_code == 303
    other_browser = app.test_client()
    assert submit(other_browser, second, complete_answers(), key="same").status_code == 409
    assert response_count() == 1
    db.session.expire_all()
    assert db.session.get(Invitation, second.id).status in ("sent", "started")


# --- the unanswered page kept with slots ----------------------------------------------------


def _invitation_of_another_unit(invitation, person_name=None):
    from survey.models import Unit

    unit = db.session.scalar(
        select(Unit)
        .where(Unit.group_id == invitation.group_id, Unit.id != invitation.unit_id)
        .order_by(Unit.id)
    )
    unit.name_zh, unit.name_en = '办公室<i>&"', "Office <i>&'"
    other = Invitation(
        round=invitation.round, unit=unit, group_id=unit.group_id, person_name=person_name
    )
    db.session.add(other)
    db.session.commit()
    return other


def _survey_page(app, invitation, lang: str) -> str:
    browser = app.test_client()
    link = browser.get(f"/r/{invitation.token}?lang={lang}")
    page = browser.get(link.headers["Location"])
    assert page.status_code == 200
    return page.text


def _without_secrets(html: str) -> str:
    """The page with the values that differ at each rendering (the CSRF token, signed with
    the time, and the random submission key) left out."""
    return re.sub(r'(name="(?:csrf_token|submission_key)" type="hidden" value=")[^"]*', r"\1", html)


@pytest.mark.parametrize(
    ("lang", "anonymous", "deadline"),
    [("zh", False, True), ("en", False, True), ("en", True, False)],
    ids=["zh-named", "en-named", "en-anonymous-no-deadline"],
)
def test_the_blank_page_kept_with_slots_is_the_page_rendered_in_full(
    app, make_invitation, make_round, monkeypatch, lang, anonymous, deadline
):
    from survey.respond import views

    round_ = make_round(anonymous=anonymous, **({} if deadline else {"closes_at": None}))
    first = make_invitation(round_=round_)
    first.person_name = "Wang Fang"
    db.session.commit()
    # The second is of another unit and person, and has the same key: its page is filled
    # from the one kept for the first.
    second = _invitation_of_another_unit(first, person_name='Li <b>"Ming"</b> & co')
    unnamed = _invitation_of_another_unit(first)
    kept = [_survey_page(app, i, lang) for i in (first, second, unnamed, first)]
    monkeypatch.setattr(views, "_blank_page", lambda invitation: None)
    full = [_survey_page(app, i, lang) for i in (first, second, unnamed)]
    for from_slots, rendered in zip(kept, [*full, full[0]], strict=True):
        assert _without_secrets(from_slots) == _without_secrets(rendered)
    # Each shows its own invitation, its unit and name escaped, and nobody else's.
    assert f'action="/r/i/{second.id}"' in kept[1] and f"/r/i/{first.id}" not in kept[1]
    assert "Li &lt;b&gt;&#34;Ming&#34;&lt;/b&gt; &amp; co" in kept[1] and "Wang" not in kept[1]
    office = "Office &lt;i&gt;&amp;&#39;" if lang == "en" else "办公室&lt;i&gt;&amp;&#34;"
    assert office in kept[1] and office not in kept[0]
    assert "Ming" not in kept[0] + kept[2] and "Wang" not in kept[2]
    assert "\ue000" not in "".join(kept)
    refs = [_hidden(page)["ref"] for page in kept]
    assert refs[0] == refs[3] and len(set(refs[:3])) == 3
    assert refs[1] == responses.draft_ref(second.id, second.token)
    assert ("This survey is anonymous" in kept[1]) == anonymous


def test_the_blank_page_shows_a_changed_round_at_once(app, make_invitation):
    # Its name, its deadline and its anonymity are in the key of the page kept with slots.
    invitation = make_invitation()
    page = _survey_page(app, invitation, "en")
    assert "2004 autumn ·" in page and "This survey is anonymous" not in page
    deadline = re.search(r"Please reply by ([^<]+)\.", page)[1]
    invitation.round.closes_at += timedelta(days=40)
    db.session.commit()
    page = _survey_page(app, invitation, "en")
    assert re.search(r"Please reply by ([^<]+)\.", page)[1] != deadline
    invitation.round.name = "2004 autumn (extended)"
    db.session.commit()
    assert "2004 autumn (extended) ·" in _survey_page(app, invitation, "en")
    invitation.round.anonymous = True  # no response yet: it may still become anonymous
    db.session.commit()
    assert "This survey is anonymous" in _survey_page(app, invitation, "en")


def test_text_that_looks_like_a_slot_is_shown_as_text(app, make_invitation):
    # A round's name (or a question) typed with the slots' private-use character cannot
    # open a slot: each rendering's slots carry a random nonce.
    invitation = make_invitation()
    invitation.round.name = "Autumn \ue000ref\ue000 \ue000x\ue000"
    db.session.commit()
    page = _survey_page(app, invitation, "en")
    assert "Autumn \ue000ref\ue000 \ue000x\ue000 ·" in page
    assert page.count(responses.draft_ref(invitation.id, invitation.token)) == 1  # the form's


def test_a_staff_member_opening_a_link_sees_the_page_with_their_name(client, auth, make_invitation):
    # The page kept with slots is for respondents; a signed-in user's page is rendered in
    # full, with the header's account links.
    invitation = make_invitation()
    _survey_page(client.application, invitation, "en")  # keeps the respondents' page
    auth.login("designer")
    page = client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True)
    assert page.status_code == 200 and "Log out" in page.text


def test_a_message_for_the_unanswered_page_is_shown_on_it(client, make_invitation):
    # "Saved" with nothing typed yet: the page has no draft to show, but it has a message,
    # so it is rendered in full rather than from the page kept with slots.
    invitation = make_invitation()
    html = client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True).text
    fields = {**_hidden(html), **form_values(html)}  # the English page, now kept with slots
    saved = _post(client, invitation, fields, {}, "save")
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"])
    assert page.status_code == 200
    assert "Your answers are saved" in page.text
