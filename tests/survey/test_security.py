"""Headers on every page, throttled logins and links, a new session at login."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


@pytest.fixture
def app_config():
    return {"LOGIN_RATE_LIMIT": "3 per minute", "TOKEN_RATE_LIMIT": "4 per minute"}


def test_every_page_sends_the_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_template_needs_inline_script_or_style():
    from pathlib import Path

    for template in Path("templates").rglob("*.html"):
        text = template.read_text("utf-8")
        assert "<script>" not in text and " style=" not in text, template
        assert "onclick=" not in text and "onchange=" not in text, template


def test_failed_logins_are_throttled_per_account(app, client, make_user):
    user = make_user()
    for _ in range(3):
        assert client.post("/login", data={"email": user.email, "password": "x"}).status_code == 401
    blocked = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    other = app.test_client()  # another account from the same address is blocked too
    assert other.post("/login", data={"email": "x@office.test", "password": "x"}).status_code == 429


def test_successful_logins_are_not_counted(client, make_user):
    user = make_user()
    for _ in range(5):
        assert (
            client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        client.post("/logout")


def test_wrong_links_are_throttled_on_their_own_counter(client, make_user, make_invitation):
    invitation = make_invitation()
    for n in range(4):
        assert client.get(f"/r/wrong-token-{n}").status_code == 404
    assert client.get("/r/wrong-token-x").status_code == 429
    assert client.get(f"/r/{invitation.token}").status_code == 429
    user = make_user()  # staff logins from the same address still work
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )


def test_login_starts_a_new_session(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"] == str(user.id)


def test_session_cookie_is_httponly_and_lax(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_current_passwords_are_throttled_per_account(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    wrong = {"current": "guess", "new": "tea kettle under the bridge"}
    wrong["again"] = wrong["new"]
    for _ in range(3):
        assert client.post("/account/password", data=wrong).status_code == 401
    right = {**wrong, "current": PASSWORD}
    assert client.post("/account/password", data=right).status_code == 429
