"""A user's own password change, and a new password through an e-mailed, single-use, expiring
link whose request form never tells whether an address has an account."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from survey import accounts
from survey.extensions import db
from survey.mail import outbox_dir
from survey.models import AuditEvent, User
from tests.factories import PASSWORD

NEW = "tea kettle under the bridge"
EN = {"Accept-Language": "en"}


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _mails() -> list:
    folder = outbox_dir()
    if not folder.exists():
        return []
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.iterdir())
    ]


def _link(message) -> str:
    body = message.get_body().get_content()
    return re.search(r"https://survey\.test(/password/reset/\S+)", body).group(1)


# --- the user's own change -----------------------------------------------------------------------


def _change(client, current=PASSWORD, new=NEW, again=None):
    data = {"current": current, "new": new, "again": new if again is None else again}
    return client.post("/account/password", data=data, headers=EN)


def test_a_user_changes_the_password(client, auth):
    user = auth.login(role="designer")
    assert client.get("/account/password").status_code == 200
    response = _change(client)
    assert response.status_code == 302
    assert _user(user.id).check_password(NEW)
    assert "password_changed" in _actions()
    # This session goes on; the old password no longer logs in.
    assert client.get("/design/rounds").status_code == 200
    auth.logout()
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "wrong password"}, "The current password is not correct."),
        ({"again": "something else entirely"}, "The two new passwords differ."),
        ({"new": "short one"}, "Use at least 12 characters."),
        ({"new": "password123456"}, "This password is too common"),
    ],
)
def test_a_change_is_refused_with_the_reason(client, auth, fields, message):
    user = auth.login(role="designer")
    response = _change(client, **fields)
    assert response.status_code == (401 if "current" in fields else 200)
    assert message in response.text
    assert _user(user.id).check_password(PASSWORD)


def test_the_other_sessions_end_when_the_password_changes(app, client, auth):
    user = auth.login(role="designer")
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    _change(client)
    assert other.get("/design/rounds").status_code == 302
    assert client.get("/design/rounds").status_code == 200


def test_a_required_change_comes_before_anything_else(client, make_user):
    user = make_user(role="designer")
    user.must_change_password = True
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account/password"
    assert client.get("/design/rounds").headers["Location"] == "/account/password"
    _change(client)
    assert not _user(user.id).must_change_password
    assert client.get("/design/rounds").status_code == 200


# --- the e-mailed link ---------------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once(client, make_user):
    user = make_user(role="designer")
    response = client.post("/password/forgot", data={"email": user.email.upper()}, headers=EN)
    assert response.status_code == 302
    (message,) = _mails()
    assert message["To"] == user.email
    link = _link(message)
    assert client.get(link).status_code == 200
    data = {"new": NEW, "again": NEW}
    assert client.post(link, data=data).headers["Location"] == "/login"
    assert _user(user.id).check_password(NEW)
    assert _actions()[-2:] == ["password_link_sent", "password_reset"]
    # Used: the same link fails, and says so.
    again = client.post(
        link, data={"new": "another fine passphrase", "again": "another fine passphrase"}
    )
    assert again.headers["Location"] == "/password/forgot"
    assert _user(user.id).check_password(NEW)


def test_the_answer_is_the_same_for_an_unknown_address(client, make_user):
    user = make_user(role="designer")
    known = client.post("/password/forgot", data={"email": user.email}, headers=EN)
    unknown = client.post("/password/forgot", data={"email": "nobody@office.test"}, headers=EN)
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert "If an account has this address" in client.get("/login", headers=EN).text
    assert len(_mails()) == 1


def test_a_disabled_account_gets_no_link(client, make_user):
    user = make_user(role="designer")
    user.active = False
    db.session.commit()
    client.post("/password/forgot", data={"email": user.email})
    assert _mails() == []


def test_a_link_expires(app, client, make_user):
    user = make_user(role="designer")
    link = "/password/reset/" + accounts.password_token(user)
    app.config["PASSWORD_RESET_SECONDS"] = -1
    assert client.get(link).headers["Location"] == "/password/forgot"


def test_a_link_made_before_a_password_change_fails(client, make_user):
    user = make_user(role="designer")
    link = "/password/reset/" + accounts.password_token(user)
    accounts.set_password(user, NEW, "changed")
    db.session.commit()
    assert client.get(link).headers["Location"] == "/password/forgot"


def test_a_forged_link_fails(app, client, make_user):
    user = make_user(role="designer")
    forged = URLSafeTimedSerializer("another key", salt=accounts.RESET_SALT).dumps(
        {"u": user.id, "v": user.session_version, "h": "", "p": "reset"}
    )
    assert client.get(f"/password/reset/{forged}").headers["Location"] == "/password/forgot"
    assert client.get("/password/reset/nonsense").headers["Location"] == "/password/forgot"


def test_a_reset_refuses_a_common_password(client, make_user):
    user = make_user(role="designer")
    link = "/password/reset/" + accounts.password_token(user)
    response = client.post(
        link, data={"new": "qwertyuiop123", "again": "qwertyuiop123"}, headers=EN
    )
    assert response.status_code == 200 and "too common" in response.text
    assert _user(user.id).check_password(PASSWORD)


def test_a_reset_ends_the_accounts_sessions(client, auth):
    user = auth.login(role="designer")
    link = "/password/reset/" + accounts.password_token(_user(user.id))
    client.post(link, data={"new": NEW, "again": NEW})
    assert client.get("/design/rounds").status_code == 302
