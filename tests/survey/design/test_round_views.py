"""Office staff run rounds: create, open, close, issue and download invitations, key in
paper responses, watch the response rate."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from survey import invitations, office_time, responses
from survey.extensions import db
from survey.models import Invitation, Response, Round, utcnow
from tests.survey.respond.test_views import complete_answers

ROUTES = [
    ("GET", "/design/rounds"),
    ("GET", "/design/rounds/new"),
    ("POST", "/design/rounds/new"),
    ("GET", "/design/rounds/{round}"),
    ("POST", "/design/rounds/{round}/open"),
    ("POST", "/design/rounds/{round}/close"),
    ("GET", "/design/rounds/{round}/edit"),
    ("POST", "/design/rounds/{round}/edit"),
    ("GET", "/design/rounds/{round}/delete"),
    ("POST", "/design/rounds/{round}/delete"),
    ("POST", "/design/rounds/{round}/archive"),
    ("POST", "/design/rounds/{round}/unarchive"),
    ("POST", "/design/rounds/{round}/invitations"),
    ("GET", "/design/rounds/{round}/invitations.csv"),
    ("POST", "/design/rounds/{round}/send"),
    ("POST", "/design/invitations/{invitation}/revoke"),
    ("GET", "/design/invitations/{invitation}/key-in/paper"),
    ("GET", "/design/units"),
    ("GET", "/design/units/new"),
    ("GET", "/design/groups/new"),
    ("POST", "/design/units/import"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (None, False),
        ("respondent", False),
        ("quality_lead", False),
        ("designer", True),
        ("admin", True),
    ],
)
def test_only_designers_and_admins_reach_the_design_pages(
    client, auth, make_invitation, method, path, role, allowed
):
    invitation = make_invitation()
    url = path.format(round=invitation.round_id, invitation=invitation.id)
    if role:
        auth.login(role=role)
    response = client.open(url, method=method)
    if role is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif not allowed:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302, 400)


def test_create_a_round_for_two_groups(client, auth, office_version):
    auth.login(role="designer")
    response = client.post(
        "/design/rounds/new",
        data={
            "name": "2005 spring",
            "version_id": office_version.id,
            "opens_at": "2005-03-01",
            "closes_at": "2005-04-01",
            "audience_groups": ["mayors", "cppcc"],
            "anonymity_threshold": "5",
            "rate_threshold": "85",
            "mean_threshold": "3.5",
            "weights": "mayors=40, cppcc=10",
        },
    )
    assert response.status_code == 302, response.text
    round_ = db.session.scalar(select(Round))
    assert (round_.name, round_.status, round_.audience_groups) == (
        "2005 spring",
        "draft",
        ["mayors", "cppcc"],
    )
    assert round_.thresholds == {"rate": 0.85, "mean": 3.5}
    assert round_.weights == {"mayors": 0.8, "cppcc": 0.2}


def test_round_form_errors_are_shown_next_to_the_field(client, auth, office_version):
    auth.login(role="designer")
    response = client.post(
        "/design/rounds/new",
        data={
            "name": "",
            "version_id": office_version.id,
            "opens_at": "2005-04-01",
            "closes_at": "2005-03-31",
            "anonymity_threshold": "1",
            "rate_threshold": "80",
            "mean_threshold": "3.5",
            "weights": "nobody=3",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    for field in ("name", "closes_at", "anonymity_threshold", "weights"):
        assert f'id="{field}-error"' in response.text
    assert db.session.scalar(select(func.count()).select_from(Round)) == 0


def test_issue_open_download_and_watch_the_rate(client, auth, make_round):
    round_ = make_round(status="draft", audience_groups=["mayors", "departments"])
    auth.login(role="designer")
    client.post(f"/design/rounds/{round_.id}/invitations", data={"count": "1", "group": ""})
    assert client.post(f"/design/rounds/{round_.id}/open").status_code == 302
    assert db.session.get(Round, round_.id).status == "open"
    rows = list(
        csv.reader(io.StringIO(client.get(f"/design/rounds/{round_.id}/invitations.csv").text))
    )
    assert len(rows) == 1 + 30 and rows[0][-1] == "link"
    token = rows[1][-1].rsplit("/", 1)[1]
    client.post(
        f"/r/{token}",
        data={**complete_answers("mayors"), "action": "submit", "submission_key": "k"},
    )
    page = client.get(f"/design/rounds/{round_.id}", headers={"Accept-Language": "en"}).text
    assert "1 of 30 invitations answered" in page


def test_revoke_from_the_round_page(client, auth, make_invitation):
    invitation = make_invitation()
    auth.login(role="designer")
    client.post(f"/design/invitations/{invitation.id}/revoke")
    assert db.session.get(Invitation, invitation.id).status == "revoked"
    assert client.get(f"/r/{invitation.token}").status_code == 404


def test_staff_key_in_a_paper_questionnaire(client, auth, make_invitation):
    invitation = make_invitation()
    user = auth.login(role="designer")
    url = f"/design/invitations/{invitation.id}/key-in/paper"
    assert (
        "Keying in a paper questionnaire" in client.get(url, headers={"Accept-Language": "en"}).text
    )
    response = client.post(
        url, data={**complete_answers(), "action": "submit", "submission_key": "paper-1"}
    )
    assert response.status_code == 302
    stored = db.session.scalar(select(Response))
    assert (stored.source, stored.entered_by_id, len(stored.answers)) == ("paper", user.id, 19)
    assert client.get(url).status_code == 404  # answered: nothing more to key in


def test_key_in_refuses_an_unknown_source(client, auth, make_invitation):
    auth.login(role="designer")
    invitation = make_invitation()
    assert client.get(f"/design/invitations/{invitation.id}/key-in/web").status_code == 404


def test_closing_stops_answers(client, auth, make_invitation):
    invitation = make_invitation()
    auth.login(role="designer")
    client.post(f"/design/rounds/{invitation.round_id}/close")
    assert (
        "This survey is not open"
        in client.get(
            f"/r/{invitation.token}", headers={"Accept-Language": "en"}, follow_redirects=True
        ).text
    )


def test_keying_in_for_a_closed_round_warns_first_and_keeps_what_was_typed(
    client, auth, make_invitation
):
    invitation = make_invitation(status="closed")
    auth.login(role="designer")
    url = f"/design/invitations/{invitation.id}/key-in/paper"
    english = {"Accept-Language": "en"}
    assert "not taking answers" in client.get(url, headers=english).text
    typed = {**complete_answers(), "action": "submit", "submission_key": "paper-2"}
    response = client.post(url, data=typed, headers=english)
    assert response.status_code == 409 and "Nothing was stored" in response.text
    # The form comes back with the answers as typed, so nothing has to be keyed in again.
    for name, value in complete_answers().items():
        if isinstance(value, str) and value.isdigit():
            assert re.search(rf'name="{name}"[^>]*value="{value}" checked', response.text), name
    assert db.session.scalar(select(Response)) is None


def test_sending_says_what_was_sent_and_what_could_not_be(client, auth, make_round):
    round_ = make_round()
    invitations.issue_for_round(round_)
    invitations.issue_named(round_, "mayor,王市长,wang@sx.example")
    db.session.commit()
    auth.login(role="designer")
    url = f"/design/rounds/{round_.id}/send"
    english = {"Accept-Language": "en"}
    first = client.post(url, headers=english, follow_redirects=True).text
    assert "1 e-mails queued" in first and "have no e-mail address" in first
    again = client.post(url, headers=english, follow_redirects=True).text
    assert "0 e-mails queued" in again and "1 had been e-mailed before" in again


def test_a_rounds_dates_are_shown_as_the_days_that_were_set(client, auth, office_version):
    auth.login(role="designer")
    response = client.post(
        "/design/rounds/new",
        data={"name": "2026 winter", "version_id": office_version.id,
              "opens_at": "2026-12-01", "closes_at": "2026-12-31", "anonymity_threshold": 5,
              "rate_threshold": 80, "mean_threshold": 3.5},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert response.status_code == 302, response.text
    round_ = db.session.scalar(select(Round).where(Round.name == "2026 winter"))
    page = client.get(f"/design/rounds/{round_.id}", headers={"Accept-Language": "en"}).text
    assert "December 1, 2026" in page and "December 31, 2026" in page
    assert "January 1, 2027" not in page and "November 30, 2026" not in page
    listing = client.get("/design/rounds", headers={"Accept-Language": "en"}).text
    assert "Dec 31, 2026" in listing and "Jan 1, 2027" not in listing


# --- changing, reopening and deleting a round ----------------------------------------------

ENGLISH = {"Accept-Language": "en"}


def _edit_data(round_, **changed) -> dict:
    data = {
        "name": round_.name,
        "version_id": round_.version_id,
        "opens_at": "2026-12-01",
        "closes_at": "2026-12-31",
        "anonymity_threshold": round_.anonymity_threshold,
        "rate_threshold": "80",
        "mean_threshold": "3.5",
    }
    if round_.anonymous:
        data["anonymous"] = "y"
    return data | changed


def test_the_edit_form_shows_the_rounds_settings(client, auth, make_round):
    round_ = make_round(
        status="draft", anonymity_threshold=7, thresholds={"rate": 0.85, "mean": 3.2},
        weights={"departments": 0.75, "mayors": 0.25},
    )  # fmt: skip
    auth.login(role="designer")
    page = client.get(f"/design/rounds/{round_.id}/edit", headers=ENGLISH).text
    assert 'value="2004 autumn"' in page and 'value="7"' in page
    assert 'value="85.0"' in page and 'value="3.20"' in page
    assert "departments=75, mayors=25" in page and "Save changes" in page


def test_a_threshold_with_two_decimals_survives_an_unrelated_edit(client, auth, make_round):
    round_ = make_round(status="draft", thresholds={"rate": 0.8225, "mean": 3.5})
    auth.login(role="designer")
    page = client.get(f"/design/rounds/{round_.id}/edit", headers=ENGLISH).text
    assert 'value="82.25"' in page
    data = _edit_data(round_, name="2004 autumn (renamed)", rate_threshold="82.25")
    assert client.post(f"/design/rounds/{round_.id}/edit", data=data).status_code == 302
    assert round_.thresholds["rate"] == pytest.approx(0.8225)


def test_a_change_is_saved_and_shown_in_the_rounds_history(client, auth, make_round):
    round_ = make_round(status="draft", thresholds={"rate": 0.8, "mean": 3.5})
    auth.login(role="designer")
    response = client.post(
        f"/design/rounds/{round_.id}/edit", data=_edit_data(round_, rate_threshold="90")
    )
    assert response.status_code == 302
    assert round_.thresholds == {"rate": 0.9, "mean": 3.5}
    page = client.get(f"/design/rounds/{round_.id}", headers=ENGLISH).text
    history = page[page.index('id="history"') :]
    assert "Settings changed" in history
    assert "Low-score thresholds" in history
    assert "satisfied 80%, mean 3.5 → satisfied 90%, mean 3.5" in history
    assert "Last day to answer" in history and "December 31, 2026" in history
    assert "{" not in history  # no raw JSON


def test_the_edit_form_validates_as_creation_does(client, auth, make_round):
    round_ = make_round(status="draft")
    auth.login(role="designer")
    response = client.post(
        f"/design/rounds/{round_.id}/edit",
        data=_edit_data(round_, opens_at="2026-12-31", closes_at="2026-12-01", weights="x=1"),
        headers=ENGLISH,
    )
    assert response.status_code == 200
    assert 'id="closes_at-error"' in response.text and 'id="weights-error"' in response.text
    db.session.refresh(round_)
    assert round_.closes_at.year != 2026


def test_an_anonymous_round_with_responses_cannot_be_made_named(client, auth, make_invitation):
    invitation = make_invitation(anonymous=True)
    responses.submit(invitation, {"overall": 4}, {}, "k1", utcnow())
    db.session.commit()
    round_ = invitation.round
    auth.login(role="designer")
    data = _edit_data(round_)
    del data["anonymous"]
    page = client.post(
        f"/design/rounds/{round_.id}/edit", data=data, headers=ENGLISH, follow_redirects=True
    ).text
    assert "it cannot become a named round" in page
    db.session.refresh(round_)
    assert round_.anonymous


def test_a_round_past_its_close_date_is_reopened_after_a_later_date_is_set(
    client, auth, make_round
):
    round_ = make_round(status="closed", closes_at=utcnow() - timedelta(days=2))
    auth.login(role="designer")
    page = client.get(f"/design/rounds/{round_.id}", headers=ENGLISH).text
    assert f'href="/design/rounds/{round_.id}/edit#closes_at"' in page
    refused = client.post(
        f"/design/rounds/{round_.id}/open", headers=ENGLISH, follow_redirects=True
    ).text
    assert "set a later close date first" in refused and round_.status == "closed"
    later = (utcnow() + timedelta(days=10)).date().isoformat()
    client.post(f"/design/rounds/{round_.id}/edit", data=_edit_data(round_, closes_at=later))
    client.post(f"/design/rounds/{round_.id}/open")
    db.session.refresh(round_)
    assert round_.status == "open"
    page = client.get(f"/design/rounds/{round_.id}", headers=ENGLISH).text
    assert "edit#closes_at" not in page
    history = page[page.index('id="history"') :]
    assert history.index("Settings changed") < history.index("Round opened")


def test_a_draft_round_is_deleted_after_confirmation(client, auth, make_invitation):
    invitation = make_invitation(status="draft")
    round_id = invitation.round_id
    auth.login(role="designer")
    confirm = client.get(f"/design/rounds/{round_id}/delete", headers=ENGLISH).text
    assert "1 unused invitations are removed" in confirm
    assert db.session.get(Round, round_id) is not None
    response = client.post(f"/design/rounds/{round_id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/design/rounds")
    db.session.expire_all()
    assert db.session.get(Round, round_id) is None


def test_a_round_that_ran_is_not_deleted_and_the_reason_is_given(client, auth, make_round):
    round_ = make_round(status="closed")
    auth.login(role="designer")
    confirm = client.get(f"/design/rounds/{round_.id}/delete", headers=ENGLISH).text
    assert "Only a draft round can be deleted" in confirm and "button--danger" not in confirm
    page = client.post(
        f"/design/rounds/{round_.id}/delete", headers=ENGLISH, follow_redirects=True
    ).text
    assert "Only a draft round can be deleted" in page
    assert db.session.get(Round, round_.id) is not None


def test_saving_the_form_unchanged_records_no_change(client, auth, make_round):
    round_ = make_round(status="draft", weights={"departments": 2 / 3, "mayors": 1 / 3})
    before = (round_.opens_at, round_.closes_at, round_.weights)
    auth.login(role="designer")
    page = client.get(f"/design/rounds/{round_.id}/edit").text
    data = {
        name: re.search(rf'id="{name}"[^>]*value="([^"]*)"', page).group(1)
        for name in ("name", "opens_at", "closes_at", "anonymity_threshold", "rate_threshold",
                     "mean_threshold", "weights")
    }  # fmt: skip
    data["version_id"] = round_.version_id
    response = client.post(f"/design/rounds/{round_.id}/edit", data=data, headers=ENGLISH)
    assert response.status_code == 302
    assert (round_.opens_at, round_.closes_at, round_.weights) == before
    page = client.get(f"/design/rounds/{round_.id}", headers=ENGLISH).text
    assert "Nothing has changed since the round was made." in page


def test_an_archived_round_leaves_the_lists_and_can_be_found_and_restored(
    client, auth, make_round, answer, make_invitation
):
    round_ = make_round(name="2003 spring")
    answer(round_, "departments", {"overall": 4})
    round_.status = "closed"
    db.session.commit()
    auth.login(role="admin")
    page = client.post(
        f"/design/rounds/{round_.id}/archive", headers=ENGLISH, follow_redirects=True
    ).text
    assert "Archived on" in page and "Edit settings" not in page and "Unarchive" in page
    assert "2003 spring" not in client.get("/design/rounds").text
    assert "2003 spring" in client.get("/design/rounds?archived=1").text
    assert "2003 spring" not in client.get("/review/").text
    assert "2003 spring" in client.get("/review/?archived=1").text
    assert client.get(f"/review/rounds/{round_.id}").status_code == 200  # results are kept
    edit = client.get(f"/design/rounds/{round_.id}/edit", headers=ENGLISH, follow_redirects=True)
    assert "archived and cannot change" in edit.text
    issued = client.post(f"/design/rounds/{round_.id}/invitations", data={"count": "1"})
    assert (
        issued.status_code == 302
        and db.session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.round_id == round_.id)
        )
        == 1
    )  # only the answered one
    kept = make_invitation(group="departments", round_=round_)
    client.post(f"/design/invitations/{kept.id}/revoke")
    assert db.session.get(Invitation, kept.id).status != "revoked"
    client.post(f"/design/rounds/{round_.id}/unarchive")
    assert "2003 spring" in client.get("/design/rounds").text


def test_a_threshold_saved_on_the_edit_page_changes_the_results_at_once(client, auth, known_round):
    auth.login(role="admin")  # designs the round and reads its results
    before = client.get(f"/api/v1/rounds/{known_round.id}/results").json
    data = _edit_data(
        known_round,
        # The days as the form shows them, so that only the thresholds change.
        opens_at=office_time.local_date(known_round.opens_at).isoformat(),
        closes_at=office_time.last_day(known_round.closes_at).isoformat(),
        rate_threshold="10",
        mean_threshold="1",
    )
    assert client.post(f"/design/rounds/{known_round.id}/edit", data=data).status_code == 302
    after = client.get(f"/api/v1/rounds/{known_round.id}/results").json
    assert (before["thresholds"]["rate"], after["thresholds"]["rate"]) == (0.8, 0.1)
    assert len(after["below_threshold"]) < len(before["below_threshold"])
    assert after["data_version"] != before["data_version"]


def test_a_closed_anonymous_round_lists_its_invitations_without_names(client, auth, make_round):
    round_ = make_round(anonymous=True)
    invitations.issue_named(round_, "mayor,王市长,wang@sx.example")
    db.session.commit()
    auth.login(role="designer")
    page = client.get(f"/design/rounds/{round_.id}?lang=en").text
    assert "王市长" in page and "wang@sx.example" in page  # open: it may be reminded
    assert "names, e-mail addresses and saved drafts of invitees are erased" in page
    client.post(f"/design/rounds/{round_.id}/close")
    page = client.get(f"/design/rounds/{round_.id}?lang=en").text
    assert "王市长" not in page and "wang@sx.example" not in page and "Office of the Mayor" in page
    csv_text = client.get(f"/design/rounds/{round_.id}/invitations.csv").text
    assert "王市长" not in csv_text and "wang@sx.example" not in csv_text


def test_closing_a_reopened_round_with_too_few_new_responses_says_its_figures_are_held(
    client, auth, make_round, answer
):
    round_ = make_round(anonymity_threshold=3)
    for group in ("departments", "departments", "departments", "mayors"):
        answer(round_, group, {"doc_timeliness": 4})
    auth.login(role="designer")
    client.post(f"/design/rounds/{round_.id}/close")
    page = client.get(f"/design/rounds/{round_.id}?lang=en").text
    assert "held back" not in page
    # Reopening warns of what a close after too few new answers does.
    assert "sealed again while it is open" in page

    client.post(f"/design/rounds/{round_.id}/open")
    answer(round_, "mayors", {"doc_timeliness": 2})
    closed = client.post(f"/design/rounds/{round_.id}/close?lang=en", follow_redirects=True)

    assert "Its figures are held back" in closed.text
    assert 'id="held"' in closed.text
    assert db.session.get(Round, round_.id).results_held
