"""Sessions carry the account's session version: logging out, a new password, disabling and a
new role end every session of the account at once, a copied cookie's too."""

from __future__ import annotations

import pytest

from survey import accounts
from survey.extensions import db
from survey.models import User
from tests.factories import PASSWORD

STAFF_PAGE = "/design/rounds"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(client, cookie: str):
    client.set_cookie("session", cookie)
    return client.get(STAFF_PAGE)


def test_a_session_works_until_it_ends(client, auth):
    auth.login(role="designer")
    assert client.get(STAFF_PAGE).status_code == 200


def test_a_cookie_copied_before_logout_no_longer_works(client, auth):
    user = auth.login(role="designer")
    copied = _cookie(client)
    auth.logout()
    response = _replay(client, copied)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.get(User, user.id).session_version == 2


def test_logging_out_ends_the_sessions_on_other_devices(app, client, auth):
    user = auth.login(role="designer")
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other.get(STAFF_PAGE).status_code == 200
    auth.logout()
    assert other.get(STAFF_PAGE).status_code == 302


@pytest.mark.parametrize(
    "end",
    [
        lambda user: accounts.disable(user),
        lambda user: accounts.change(user, "quality_lead", user.display_name, user.unit),
        lambda user: accounts.set_password(user, "a brand new passphrase", "changed"),
        lambda user: accounts.force_password_change(user),
    ],
    ids=["disabled", "role changed", "password changed", "password change forced"],
)
def test_an_account_change_ends_its_open_sessions(client, auth, end):
    user = auth.login(role="designer")
    copied = _cookie(client)
    end(db.session.get(User, user.id))
    db.session.commit()
    response = _replay(client, copied)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_unit_or_name_change_keeps_the_session(client, auth):
    user = auth.login(role="designer")
    accounts.change(db.session.get(User, user.id), "designer", "New name", None)
    db.session.commit()
    assert client.get(STAFF_PAGE).status_code == 200


def test_a_disabled_account_is_logged_out_even_without_a_version_bump(client, auth):
    user = auth.login(role="designer")
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get(STAFF_PAGE).status_code == 302


def test_a_new_login_after_logout_works(client, auth):
    user = auth.login(role="designer")
    auth.logout()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get(STAFF_PAGE).status_code == 200
