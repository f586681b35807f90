"""The corrective-action pages: who may open what, the queue, the action page, the loop through
the forms, the register export and "you said, we did"."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from babel.dates import format_datetime
from sqlalchemy import select

from survey import corrective, rounds
from survey.extensions import db
from survey.models import CorrectiveAction, Invitation, Round, utcnow
from tests.factories import mark_implemented

# The fixtures of the corrective-action tests (rounds with chosen ratings, owners, actions).

# (method, path, who besides the lead and admin may use it)
ROUTES = [
    ("GET", "/actions/", {"owner", "step_owner"}),
    ("POST", "/actions/run-rules", set()),
    ("GET", "/actions/register.csv", set()),
    ("GET", "/actions/register.xlsx", set()),
    ("GET", "/actions/{a}", {"owner", "step_owner"}),
    ("GET", "/actions/{a}/chart.png", {"owner", "step_owner"}),
    ("POST", "/actions/{a}/assign", set()),
    ("POST", "/actions/{a}/investigation", {"owner"}),
    ("POST", "/actions/{a}/steps", {"owner"}),
    ("POST", "/actions/{a}/steps/{own_step}", {"owner"}),
    ("POST", "/actions/{a}/steps/{helper_step}", {"owner", "step_owner"}),
    ("POST", "/actions/{a}/action-taken", {"owner"}),
    ("POST", "/actions/{a}/move", {"owner", "step_owner"}),
    ("POST", "/actions/{a}/attachments", {"owner", "step_owner"}),
    ("GET", "/actions/summaries", set()),
    ("GET", "/actions/summaries/{round}", set()),
    ("POST", "/actions/summaries/{round}/departments", set()),
]


@pytest.mark.parametrize(
    "who", [None, "respondent", "designer", "step_owner", "owner", "quality_lead", "admin"]
)
def test_permission_matrix_of_every_route(client, world, who, login_as):
    subject, people = world
    if who:
        login_as(people[who])
    ids = {
        "a": subject.id,
        "round": subject.round_id,
        "own_step": subject.steps[0].id,
        "helper_step": subject.steps[1].id,
    }
    wrong = []
    for method, path, users in ROUTES:
        status = client.open(path.format(**ids), method=method).status_code
        allowed = who in ("quality_lead", "admin") or who in users
        expected = {302} if who is None else ({200, 302, 400} if allowed else {403})
        if status not in expected:
            wrong.append((method, path, status))
    assert wrong == []


def test_anonymous_users_are_sent_to_the_login(client, action):
    response = client.get(f"/actions/{action.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_no_route_edits_or_deletes_the_history(app):
    rules = [r for r in app.url_map.iter_rules() if "action" in r.rule]
    assert not [r for r in rules if {"PUT", "PATCH", "DELETE"} & r.methods]
    assert not [r for r in rules if "event" in r.rule or "history" in r.rule]


def test_the_queue_lists_the_most_severe_first(client, lead, make_round, rate, login_as):
    round_ = rate(make_round(), 7, 10)
    rate(round_, 1, 10, question="mtg_minutes")
    corrective.run_rules(round_, utcnow())
    db.session.commit()
    login_as(lead)
    page = client.get("/actions/", headers={"Accept-Language": "en"}).text
    assert page.index("minutes") < page.index("Timeliness of document handling")


def test_the_queue_filters_by_served_unit_and_overdue(
    client, lead, assigned, make_round, rate, login_as
):
    corrective.run_rules(rate(make_round(name="other"), 1, 10, question="mtg_minutes"), utcnow())
    assigned.due_date = date.today() - timedelta(days=1)
    db.session.commit()
    login_as(lead)
    meetings = client.get("/actions/?served_unit=meetings").text
    overdue = client.get("/actions/?overdue=y").text
    assert "mtg_minutes" not in overdue and f'/actions/{assigned.id}"' in overdue
    assert f'/actions/{assigned.id}"' not in meetings and "row--overdue" in overdue


def test_an_owner_sees_only_their_actions(client, assigned, make_round, rate, owner, login_as):
    corrective.run_rules(rate(make_round(name="other"), 1, 10, question="mtg_minutes"), utcnow())
    db.session.commit()
    login_as(owner)
    page = client.get("/actions/").text
    assert re.findall(r'href="/actions/(\d+)"', page) == [str(assigned.id)]


def test_the_lead_runs_the_rules_from_the_queue(client, lead, low_round, login_as):
    low_round.status = "closed"  # by hand, on closed rounds only (the next test)
    db.session.commit()
    login_as(lead)
    client.post("/actions/run-rules", data={"round_id": low_round.id})
    assert db.session.scalar(select(CorrectiveAction.question_code)) == "doc_timeliness"


def test_rules_are_not_run_by_hand_on_an_open_round(client, lead, low_round, login_as):
    """An action shows its figures to its owner: runs at two moments of an open round would
    show, by difference, the answers given in between (survey.results.sealing)."""
    login_as(lead)
    queue = client.get("/actions/?lang=en").text
    assert f'<option value="{low_round.id}"' not in queue
    answer = client.post("/actions/run-rules?lang=en", data={"round_id": low_round.id})
    assert answer.status_code == 302
    assert db.session.scalar(select(CorrectiveAction.id)) is None
    assert "Choose a round to run the rules on." in client.get("/actions/?lang=en").text


def test_the_action_page_shows_evidence_and_history(client, lead, make_round, rate, login_as):
    round_ = rate(make_round(), 6, 10, low=2, comments=("会议纪要太慢",))
    (made,) = corrective.run_rules(round_, utcnow()).created
    db.session.commit()
    login_as(lead)
    page = client.get(f"/actions/{made.id}", headers={"Accept-Language": "en"}).text
    for text in (
        "60.0% satisfied (n=10), threshold 80%",
        "会议纪要太慢",
        "possible",
        "Opened by the low-score rules",
        f"/actions/{made.id}/chart.png",
    ):
        assert text in page
    chart = client.get(f"/actions/{made.id}/chart.png")
    assert chart.mimetype == "image/png" and chart.data.startswith(b"\x89PNG")


def test_the_whole_loop_through_the_pages(client, lead, owner, action, next_round, login_as):
    login_as(lead)
    due = (date.today() + timedelta(days=20)).isoformat()
    client.post(f"/actions/{action.id}/assign", data={"owner_id": owner.id, "due_date": due})
    client.post("/logout")
    login_as(owner)
    steps = [
        ("move", {"transition": "start_investigation"}),
        (
            "investigation",
            {
                "containment": "Called the units",
                "cause_method": "five_whys",
                "root_cause": "Why? No tracking.",
            },
        ),
        (
            "steps",
            {
                "kind": "corrective",
                "description": "Weekly list",
                "owner_id": owner.id,
                "due_date": due,
            },
        ),
        ("move", {"transition": "plan"}),
    ]
    for path, data in steps:
        assert client.post(f"/actions/{action.id}/{path}", data=data).status_code == 302
    step_id = db.session.get(CorrectiveAction, action.id).steps[0].id
    client.post(f"/actions/{action.id}/steps/{step_id}", data={"done": "y", "outcome": "ok"})
    client.post(f"/actions/{action.id}/action-taken", data={"action_taken": "Weekly list"})
    for name in ("implement", "request_verification"):
        client.post(f"/actions/{action.id}/move", data={"transition": name})
    next_round(9)
    client.post("/logout")
    login_as(lead)
    client.post(f"/actions/{action.id}/move", data={"transition": "close"})
    done = db.session.get(CorrectiveAction, action.id)
    assert (done.status, done.result, len(done.events)) == ("closed", "effective", 11)


def test_an_illegal_move_is_refused_with_a_message(client, lead, action, login_as):
    login_as(lead)
    response = client.post(
        f"/actions/{action.id}/move",
        data={"transition": "close"},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "not possible while the action is Open" in response.text
    assert db.session.get(CorrectiveAction, action.id).status == "open"


def test_an_owner_cannot_assign(client, assigned, owner, login_as):
    login_as(owner)
    response = client.post(
        f"/actions/{assigned.id}/assign", data={"owner_id": owner.id, "due_date": "2030-01-01"}
    )
    assert response.status_code == 403


def test_the_register_exports_csv_and_excel(client, lead, make_round, rate, login_as):
    round_ = rate(make_round(), 6, 10, low=2, comments=("=HYPERLINK(1)",))
    corrective.run_rules(round_, utcnow())
    db.session.commit()
    login_as(lead)
    text = client.get("/actions/register.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "status", "round"] and rows[1][1] == "open"
    assert ["open", "1"] in rows and ["closed", "0"] in rows
    book = openpyxl.load_workbook(io.BytesIO(client.get("/actions/register.xlsx").data))
    assert book.sheetnames == ["Register", "History", "Summary"]
    assert not any(
        str(c.value).startswith("=")
        for row in book["Register"].iter_rows()
        for c in row
        if c.value is not None
    )


def test_the_lead_publishes_you_said_we_did_for_the_next_invitation(
    client, lead, ready, make_invitation, force, login_as
):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    db.session.commit()
    login_as(lead)
    client.post(
        f"/actions/summaries/{ready.round_id}/departments",
        data={"you_said": "公文办理慢", "we_did": "每周通报办理进度"},
    )
    # The summary is shown on the invitations of the following round once it takes answers.
    later = rounds.next_round(db.session.get(CorrectiveAction, ready.id).round)
    later.status = "open"
    db.session.commit()
    token = make_invitation(group="departments", round_=later).token
    assert "每周通报办理进度" in client.get(f"/r/{token}", follow_redirects=True).text
    other = make_invitation(group="mayors", round_=later).token
    assert "每周通报办理进度" not in client.get(f"/r/{other}", follow_redirects=True).text


def test_an_owner_sees_my_actions_after_login(client, assigned, owner, login_as):
    login_as(owner)
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert "My actions" in page and f"/actions/{assigned.id}" in page


def test_unused_invitation_is_unaffected_without_a_summary(client, make_invitation):
    invitation = db.session.get(Invitation, make_invitation().id)
    assert "You said" not in client.get(f"/r/{invitation.token}", follow_redirects=True).text


@pytest.mark.parametrize(("answer", "stored"), [("yes", True), ("no", False)])
def test_the_same_problem_elsewhere_answer_is_shown_again_and_kept(
    client, lead, assigned, login_as, answer, stored
):
    login_as(lead)
    data = {"root_cause": "No tracking.", "elsewhere": answer, "elsewhere_note": "Checked"}
    assert client.post(f"/actions/{assigned.id}/investigation", data=data).status_code == 302
    page = client.get(f"/actions/{assigned.id}").text
    assert re.search(rf'<option selected value="{answer}">|<option value="{answer}" selected', page)
    # Saving the form as shown keeps the answer.
    data = {"root_cause": "No tracking.", "elsewhere": answer, "elsewhere_note": "Checked"}
    client.post(f"/actions/{assigned.id}/investigation", data=data)
    db.session.refresh(assigned)
    assert assigned.elsewhere is stored


def test_the_lead_verifies_against_the_later_round_chosen_on_the_page(
    client, ready, lead, make_round, rate, force, login_as
):
    spring = db.session.scalar(select(Round).where(Round.name == "2005 spring"))
    still_open = rate(
        make_round(name="2006 spring", opens_at=utcnow()), 9, 10, at=utcnow() + timedelta(days=1)
    )
    force(ready, "verification")
    login_as(lead)
    page = client.get(f"/actions/{ready.id}", headers={"Accept-Language": "en"}).text
    # The earliest closed round is the default; an open round is listed with why it cannot serve.
    assert f'name="against" value="{spring.id}"' in page and "90.0%" in page
    assert "Verify against" in page and "2006 spring (still open)" in page
    assert "it can serve once it is closed" in page
    refused = client.post(
        f"/actions/{ready.id}/move", data={"transition": "close", "against": still_open.id}
    )
    assert refused.status_code == 302
    assert db.session.get(CorrectiveAction, ready.id).status == "verification"
    response = client.post(
        f"/actions/{ready.id}/move", data={"transition": "close", "against": spring.id}
    )
    assert response.status_code == 302
    done = db.session.get(CorrectiveAction, ready.id)
    assert (done.status, done.verification_round_id, done.rate_after) == (
        "closed",
        spring.id,
        0.9,
    )
    history = client.get(f"/actions/{ready.id}", headers={"Accept-Language": "en"}).text
    assert "verified against 2005 spring" in history and "90.0% (n=10)" in history


def test_a_verdict_naming_a_round_that_no_longer_exists_is_refused(
    client, ready, lead, force, login_as
):
    # A form naming an unknown round (altered, or from a database restored since): the verdict
    # must not silently fall back to another round's figures.
    force(ready, "verification")
    login_as(lead)
    response = client.post(
        f"/actions/{ready.id}/move",
        data={"transition": "close", "against": "987654"},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "The round to verify against no longer exists" in response.text
    kept = db.session.get(CorrectiveAction, ready.id)
    assert (kept.status, kept.verification_round_id, kept.result) == ("verification", None, None)


def test_the_history_gives_a_verdicts_cut_off_at_the_office_like_every_other_time(
    client, ready, lead, make_round, rate, force, login_as
):
    # 20:00 UTC is 04:00 the next day in Shaoxing: the cut-off's day is the office's.
    since = (utcnow() - timedelta(days=1)).replace(hour=20, minute=0, second=0, microsecond=0)
    mark_implemented(ready, since)
    force(ready, "verification")
    later = rate(
        make_round(name="2006 spring", status="closed", opens_at=utcnow()),
        9,
        10,
        at=utcnow() + timedelta(days=1),
    )
    login_as(lead)
    client.post(f"/actions/{ready.id}/move", data={"transition": "close", "against": later.id})
    history = client.get(f"/actions/{ready.id}", headers={"Accept-Language": "en"}).text
    office = format_datetime(
        since.replace(tzinfo=UTC), "short", tzinfo=ZoneInfo("Asia/Shanghai"), locale="en"
    )
    expected = " ".join(f"verified against 2006 spring, answers after {office}".split())
    assert expected in " ".join(history.split())


def test_a_62_percent_item_ranks_above_a_93_percent_item_with_one_angry_comment(
    client, lead, make_round, rate, login_as
):
    round_ = rate(make_round(), 62, 100)
    rate(round_, 93, 100, question="mtg_minutes", low=1, comments=("态度恶劣",))
    run = corrective.run_rules(round_, utcnow())
    db.session.commit()
    assert [a.question_code for a in run.created] == ["doc_timeliness"]
    login_as(lead)
    page = client.get("/actions/", headers={"Accept-Language": "en"}).text
    notes = page.split('id="notes"')[1]
    assert "态度恶劣" in notes and "Make it a corrective action" in notes
    assert "minutes" not in page.split('id="notes"')[0].split("action-table")[1]
    assert "“Confirmed”" in page  # what the evidence classes mean, beside them
    (note,) = run.notes
    response = client.post(f"/actions/notes/{note.id}/action")
    made = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.id != run.created[0].id)
    )
    assert response.headers["Location"].endswith(f"/actions/{made.id}")
    assert (made.question_code, made.evidence) == ("mtg_minutes", "possible")
    queue = client.get("/actions/", headers={"Accept-Language": "en"}).text
    assert queue.index("Timeliness of document handling") < queue.index("minutes")
    assert 'id="notes"' in queue and "态度恶劣" not in queue.split('id="notes"')[1]


def test_only_the_lead_turns_a_note_into_an_action(client, make_round, rate, owner, login_as):
    round_ = rate(make_round(), 9, 10, low=1, comments=("slow",))
    (note,) = corrective.run_rules(round_, utcnow()).notes
    db.session.commit()
    login_as(owner)  # a user of the item's served unit
    assert client.post(f"/actions/notes/{note.id}/action").status_code == 403
    assert db.session.scalars(select(CorrectiveAction)).all() == []


def test_a_drop_shows_its_test_and_adjusted_p_value(client, lead, make_round, rate, login_as):
    spring = rate(make_round(name="2004 spring", opens_at=utcnow() - timedelta(days=200)), 40, 40)
    spring.status = "closed"  # the drop rule compares with a closed round only
    after = rate(make_round(thresholds={"rules": ["significant_drop"]}), 28, 40)
    (made,) = corrective.run_rules(after, utcnow()).created
    db.session.commit()
    login_as(lead)
    page = client.get(f"/actions/{made.id}", headers={"Accept-Language": "en"}).text
    for text in ("two-proportion z-test", "Adjusted p-value", "interval of the change"):
        assert text in page
