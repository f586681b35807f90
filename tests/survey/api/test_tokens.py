"""API tokens: made and revoked on the account's page, stored hashed, scoped, never beyond the
user's role, audited at every use; a token's POST needs no CSRF token, a session's does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from survey import api_tokens, audit
from survey.extensions import db
from survey.models import ApiToken, utcnow
from tests.survey.api.conftest import bearer


def _events(action: str) -> list:
    return list(db.session.scalars(audit.newest_first(action)))


def test_a_token_made_on_the_page_is_shown_once_and_stored_hashed(client, auth):
    user = auth.login(role="quality_lead")
    page = client.post(
        "/account/tokens?lang=en",
        data={"name": "monthly report", "scopes": ["read_results"]},
    )
    assert page.status_code == 200 and "shown only once" in page.text
    (secret,) = re.findall(r"sxs_[\w-]{43}", page.text)
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name, token.scopes) == (
        user.id,
        "monthly report",
        ["read_results"],
    )
    assert token.secret_hash == api_tokens.digest(secret) and secret not in repr(vars(token))
    assert token.prefix == secret[:12]
    # Shown once: the list shows its beginning only.
    again = client.get("/account/tokens?lang=en").text
    assert secret not in again and token.prefix in again and "never" in again
    (created,) = _events("api_token_created")
    assert created.actor == user.email and created.detail["scopes"] == ["read_results"]


def test_a_token_reads_results_and_each_use_is_audited(client, make_user, make_token, known_round):
    lead = make_user("quality_lead")
    secret = make_token(lead)
    response = client.get(f"/api/v1/rounds/{known_round.id}/results", headers=bearer(secret))
    assert response.status_code == 200 and response.json["round"]["id"] == known_round.id
    # No session is made or kept for a token's request.
    assert "Set-Cookie" not in response.headers
    client.get("/api/v1/rounds", headers=bearer(secret))
    used = _events("api_token_used")
    assert [(e.actor, e.detail["path"], e.detail["method"]) for e in used] == [
        (lead.email, "/api/v1/rounds", "GET"),
        (lead.email, f"/api/v1/rounds/{known_round.id}/results", "GET"),
    ]
    assert used[0].detail["token"] == secret[:12] and secret not in str(used[0].detail)
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_a_token_without_the_scope_is_refused_and_the_refusal_audited(
    client, make_user, make_token, known_round
):
    lead = make_user("quality_lead")
    secret = make_token(lead, scopes=("manage_actions",))
    response = client.get("/api/v1/rounds", headers=bearer(secret))
    assert response.status_code == 403 and "read_results" in response.json["message"]
    (refused,) = _events("api_token_refused")
    assert refused.detail["reason"] == "scope read_results missing"
    assert client.get("/api/v1/actions", headers=bearer(secret)).status_code == 200


def test_a_token_never_exceeds_its_users_role(client, make_user, make_token, known_round):
    designer = make_user("designer")
    # Not offered, and not made when asked for.
    assert api_tokens.scopes_for(designer) == ("manage_actions",)
    with pytest.raises(ValueError):
        api_tokens.create(designer, "x", ["read_results"], utcnow())
    # A lead's token stops reading results when the account becomes a designer's.
    lead = make_user("quality_lead")
    secret = make_token(lead)
    assert client.get("/api/v1/rounds", headers=bearer(secret)).status_code == 200
    lead.role = "designer"
    db.session.commit()
    assert client.get("/api/v1/rounds", headers=bearer(secret)).status_code == 403


def test_the_page_offers_a_designer_no_results_scope(client, auth):
    auth.login(role="designer")
    page = client.get("/account/tokens?lang=en").text
    assert 'value="manage_actions"' in page and 'value="read_results"' not in page
    refused = client.post(
        "/account/tokens?lang=en", data={"name": "sneaky", "scopes": ["read_results"]}
    )
    assert refused.status_code == 200 and db.session.scalar(select(ApiToken)) is None


def test_a_revoked_token_stops_working_and_its_use_is_audited(client, auth, make_token):
    user = auth.login(role="quality_lead")
    secret = make_token(user)
    token = db.session.scalar(select(ApiToken))
    page = client.post(f"/account/tokens/{token.id}/revoke?lang=en", follow_redirects=True)
    assert "revoked" in page.text
    response = client.get("/api/v1/rounds", headers=bearer(secret))
    assert response.status_code == 401 and response.json["message"].endswith("revoked.")
    assert [e.detail["reason"] for e in _events("api_token_refused")] == ["revoked"]
    assert [e.target for e in _events("api_token_revoked")] == [f"api_token:{token.id}"]


def test_nobody_revokes_another_users_token(client, auth, make_user, make_token):
    other = make_token(make_user("quality_lead"))
    auth.login(role="quality_lead")
    token = db.session.scalar(select(ApiToken))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 403
    assert client.get("/api/v1/rounds", headers=bearer(other)).status_code == 200


def test_a_disabled_accounts_tokens_stop_working(client, make_user, make_token):
    lead = make_user("quality_lead")
    secret = make_token(lead)
    lead.active = False
    db.session.commit()
    response = client.get("/api/v1/rounds", headers=bearer(secret))
    assert response.status_code == 401 and response.is_json
    assert [e.detail["reason"] for e in _events("api_token_refused")] == ["account disabled"]


@pytest.mark.parametrize(
    "header", ["Bearer sxs_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "sxs_bare"]
)
def test_an_unknown_or_malformed_token_is_a_json_401(client, header):
    response = client.get("/api/v1/rounds", headers={"Authorization": header})
    assert response.status_code == 401 and response.json["status"] == 401


def test_a_token_wins_over_a_session_and_carries_only_its_own_user(
    client, auth, make_user, make_token
):
    # Logged in as a lead in the browser, a designer's token is the designer.
    auth.login(role="quality_lead")
    secret = make_token(make_user("designer"), scopes=("manage_actions",))
    assert client.get("/api/v1/rounds", headers=bearer(secret)).status_code == 403
    assert client.get("/api/v1/rounds").status_code == 200


@pytest.mark.parametrize("app_config", [{"API_TOKEN_RATE_LIMIT": "3 per minute"}])
def test_guessing_tokens_is_throttled_with_a_json_429(client, app_config):
    statuses = [
        client.get("/api/v1/rounds", headers=bearer(f"sxs_guess{i}")).status_code for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    response = client.get("/api/v1/rounds", headers=bearer("sxs_guess"))
    assert response.json["status"] == 429 and response.json["error"] == "Too Many Requests"


def test_a_tokens_post_needs_no_csrf_token_a_sessions_does(
    app, client, owner, assigned, login_as, make_token
):
    url = f"/api/v1/actions/{assigned.id}/transitions"
    secret = make_token(owner, scopes=("manage_actions",))
    app.config["WTF_CSRF_ENABLED"] = True
    moved = client.post(url, json={"transition": "start_investigation"}, headers=bearer(secret))
    assert moved.status_code == 200 and moved.json["status"] == "investigating"
    assert "X-CSRFToken" not in moved.headers and "Set-Cookie" not in moved.headers
    app.config["WTF_CSRF_ENABLED"] = False
    login_as(owner)  # the login form's own CSRF is not what is tested
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post(url, json={"transition": "cancel", "text": "x"})
    assert refused.status_code == 400 and "CSRF" in refused.json["message"]


def test_the_audit_trail_page_shows_token_uses(client, auth, make_user, make_token):
    secret = make_token(make_user("quality_lead"), name="nightly sync")
    client.get("/api/v1/rounds", headers=bearer(secret))
    auth.login(role="admin")
    page = client.get("/admin/audit?lang=en").text
    assert "API token used" in page and "API token created" in page
    assert "/api/v1/rounds" in page and secret[:12] in page and secret not in page
