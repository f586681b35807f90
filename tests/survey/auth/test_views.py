"""Logging in and out, where each role lands, and the role decorator."""

from __future__ import annotations

import pytest
from flask import Blueprint

from survey.auth.views import safe_next
from survey.permissions import role_required
from tests.factories import PASSWORD


def test_login_page_renders(client):
    assert client.get("/login").status_code == 200


def test_login_then_logout(client, make_user):
    user = make_user(role="quality_lead")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    start = client.get("/", follow_redirects=True)
    assert start.status_code == 200 and start.request.path != "/login"
    client.post("/logout")
    assert client.get("/").headers["Location"].endswith("/login")


@pytest.mark.parametrize("email", ["nobody@office.test", "known@office.test"])
def test_wrong_login_says_the_same_for_unknown_and_known_accounts(client, make_user, email):
    make_user(email="known@office.test")
    response = client.post(
        "/login",
        data={"email": email, "password": "wrong password"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 401
    assert "The e-mail or password is not correct." in response.text


@pytest.mark.parametrize("email", ["nobody@office.test", "inactive@office.test"])
def test_a_refused_login_still_checks_a_password_hash(client, make_user, monkeypatch, email):
    """The same work for an unknown account as for a known one: timing tells nothing."""
    import survey.auth.views as views

    make_user(email="inactive@office.test").active = False
    from survey.extensions import db

    db.session.commit()
    checked = []
    monkeypatch.setattr(views, "check_password_hash", lambda h, p: checked.append(h) or False)
    client.post("/login", data={"email": email, "password": "guess"})
    assert checked == [views._DUMMY_HASH]


def test_inactive_account_cannot_log_in(client, make_user):
    user = make_user()
    user.active = False
    from survey.extensions import db

    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/r/abc", True),
        ("/?x=1", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("evil", False),
        ("", False),
        ("/\r\nSet-Cookie:x", False),
        ("/\t/evil.example", False),
    ],
)
def test_next_redirect_stays_on_this_site(target, kept):
    assert (safe_next(target) == target) is kept


def test_login_follows_a_safe_next(client, make_user):
    user = make_user()
    response = client.post("/login?next=/r/xyz", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/r/xyz"


def test_logout_needs_a_post(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405


@pytest.fixture
def guarded_app(app):
    bp = Blueprint("guarded", __name__)

    @bp.get("/guarded")
    @role_required("quality_lead")
    def guarded():
        return "results"

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize(
    ("role", "status"),
    [("respondent", 403), ("designer", 403), ("quality_lead", 200), ("admin", 200)],
)
def test_role_required_lets_only_the_roles_through(guarded_app, client, auth, role, status):
    auth.login(role=role)
    assert client.get("/guarded").status_code == status


def test_role_required_sends_anonymous_users_to_login(guarded_app, client):
    response = client.get("/guarded")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_the_language_chosen_before_login_is_kept_after_it(client, make_user):
    user = make_user(role="designer")
    client.get("/login?lang=en")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=True
    )
    assert response.status_code == 200 and '<html lang="en"' in response.text
    assert "Log out" in response.text
