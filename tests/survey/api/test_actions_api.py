"""GET /api/v1/actions, GET /api/v1/actions/<id> and POST .../transitions: the same permission
rules as the pages, JSON errors, CSRF through the X-CSRFToken header."""

from __future__ import annotations

import pytest

from survey.extensions import db
from survey.models import CorrectiveAction

# The fixtures of the corrective-action tests (rounds with chosen ratings, owners, actions).


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (None, (401, 401, 401)),
        ("respondent", (403, 403, 403)),
        ("designer", (403, 403, 403)),
        ("step_owner", (200, 200, 403)),
        ("owner", (200, 200, 200)),
        ("quality_lead", (200, 200, 200)),
        ("admin", (200, 200, 200)),
    ],
)
def test_permission_matrix(client, world, who, expected, login_as):
    subject, people = world
    if who:
        login_as(people[who])
    statuses = (
        client.get("/api/v1/actions").status_code,
        client.get(f"/api/v1/actions/{subject.id}").status_code,
        client.post(
            f"/api/v1/actions/{subject.id}/transitions", json={"transition": "start_investigation"}
        ).status_code,
    )
    assert statuses == expected


def test_the_list_has_the_figures_and_takes_the_queue_filters(client, lead, action, login_as):
    login_as(lead)
    (item,) = client.get("/api/v1/actions?served_unit=documents").json["actions"]
    assert {
        k: item[k]
        for k in ("id", "status", "question_code", "served_unit", "rate", "n", "threshold")
    } == {
        "id": action.id,
        "status": "open",
        "question_code": "doc_timeliness",
        "served_unit": "documents",
        "rate": 0.6,
        "n": 10,
        "threshold": 0.8,
    }
    assert client.get("/api/v1/actions?served_unit=meetings").json["count"] == 0


def test_one_action_comes_with_its_history(client, lead, assigned, login_as):
    login_as(lead)
    body = client.get(f"/api/v1/actions/{assigned.id}").json
    assert [e["kind"] for e in body["history"]] == ["created", "assigned"]
    assert body["transitions"] == ["start_investigation", "cancel"]


def test_a_transition_moves_the_action_and_an_illegal_one_says_why(
    client, owner, assigned, login_as
):
    login_as(owner)
    url = f"/api/v1/actions/{assigned.id}/transitions"
    assert client.post(url, json={"transition": "start_investigation"}).json["status"] == (
        "investigating"
    )
    refused = client.post(url, json={"transition": "implement"}, headers={"Accept-Language": "en"})
    assert refused.status_code == 409 and "not possible while" in refused.json["message"]
    assert client.post(url, json={"transition": "approve"}).status_code == 400
    assert db.session.get(CorrectiveAction, assigned.id).status == "investigating"


def test_a_post_needs_the_sessions_csrf_token(app, client, owner, assigned, login_as):
    login_as(owner)
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/api/v1/actions/{assigned.id}/transitions"
    assert client.post(url, json={"transition": "start_investigation"}).status_code == 400
    token = client.get(f"/api/v1/actions/{assigned.id}").headers["X-CSRFToken"]
    moved = client.post(
        url, json={"transition": "start_investigation"}, headers={"X-CSRFToken": token}
    )
    assert moved.status_code == 200 and moved.json["status"] == "investigating"


def test_a_verdict_names_its_round_and_a_missing_round_is_a_json_404(
    client, ready, lead, force, login_as
):
    force(ready, "verification")
    login_as(lead)
    url = f"/api/v1/actions/{ready.id}/transitions"
    body = client.get(f"/api/v1/actions/{ready.id}").json
    (later,) = body["verification_rounds"]
    assert later["usable"] and later["responses_after"] == 10 and body["implemented_at"]
    missing = client.post(url, json={"transition": "close", "round": 10**6})
    assert missing.status_code == 404 and missing.is_json
    own = client.post(
        url,
        json={"transition": "close", "round": ready.round_id},
        headers={"Accept-Language": "en"},
    )
    assert own.status_code == 409 and "later round" in own.json["message"]
    closed = client.post(url, json={"transition": "close", "round": later["round_id"]})
    assert closed.json["status"] == "closed"
    assert closed.json["verification_round_id"] == later["round_id"]
