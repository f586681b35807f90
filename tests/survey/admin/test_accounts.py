"""Staff accounts in the interface: an administrator lists, creates, changes, disables and
re-enables them and asks for a new password; each change is in the audit trail."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.mail import outbox_dir
from survey.models import AuditEvent, Unit, User
from tests.factories import PASSWORD

EN = {"Accept-Language": "en"}


def _user(user_id: int) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def admin(client, auth):
    return auth.login(role="admin")


def test_the_list_shows_every_account(client, admin, make_user):
    other = make_user(role="quality_lead", email="lead@office.test")
    page = client.get("/admin/users", headers=EN)
    assert page.status_code == 200
    assert other.email in page.text and admin.email in page.text and "Quality lead" in page.text


def test_an_admin_creates_an_account_whose_owner_sets_the_password(client, admin, office_version):
    unit = db.session.scalar(select(Unit).where(Unit.kind == "respondent"))
    response = client.post(
        "/admin/users/new",
        data={"email": " Wang.Li@Office.test ", "display_name": "王丽", "role": "respondent",
              "unit_id": unit.id},
    )  # fmt: skip
    assert response.status_code == 302
    user = db.session.scalar(User.by_email("wang.li@office.test"))
    assert (user.role, user.unit_id, user.display_name) == ("respondent", unit.id, "王丽")
    (created,) = _events("user_created")
    assert created.detail == {"role": "respondent", "unit": unit.code}
    assert len(_events("account_invitation_sent")) == 1
    # The e-mailed link sets the password; nothing else could log in before.
    (mail,) = outbox_dir().iterdir()
    body = message_from_bytes(mail.read_bytes(), policy=policy.default).get_body().get_content()
    link = re.search(r"https://survey\.test(/password/reset/\S+)", body).group(1)
    new = "plum blossom on the west lake"
    assert client.post(link, data={"new": new, "again": new}).status_code == 302
    assert _user(user.id).check_password(new)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not an address"}, "An email address must have an @-sign."),
        ({"email": "a@office.test, b@office.test"}, "invalid characters"),
        ({"email": "taken@office.test"}, "An account with this e-mail address exists already."),
        ({"role": "respondent"}, "A respondent account needs its unit."),
    ],
)
def test_a_new_account_is_refused_with_the_reason(client, admin, make_user, data, message):
    make_user(email="taken@office.test")
    form = {"email": "new@office.test", "display_name": "New", "role": "designer", "unit_id": 0}
    response = client.post("/admin/users/new", data={**form, **data}, headers=EN)
    assert response.status_code == 200 and message in response.text
    assert _events("user_created") == []


def test_a_role_change_keeps_the_password_and_is_audited(client, admin, make_user):
    user = make_user(role="designer")
    response = client.post(
        f"/admin/users/{user.id}",
        data={"display_name": user.display_name, "role": "quality_lead", "unit_id": 0},
    )
    assert response.status_code == 302
    changed = _user(user.id)
    assert changed.role == "quality_lead" and changed.check_password(PASSWORD)
    (event,) = _events("role_changed")
    assert event.detail == {"before": "designer", "after": "quality_lead"}
    assert event.actor == admin.email


def test_a_unit_change_is_audited(client, admin, make_user, office_version):
    user = make_user(role="designer")
    unit = db.session.scalar(select(Unit).where(Unit.code == "documents"))
    client.post(
        f"/admin/users/{user.id}",
        data={"display_name": user.display_name, "role": "designer", "unit_id": unit.id},
    )
    assert _user(user.id).unit_id == unit.id
    (event,) = _events("user_changed")
    assert event.detail == {"unit": "— → documents"}


def test_disabling_logs_out_and_blocks_login_until_enabled(app, client, admin, make_user):
    user = make_user(role="designer")
    theirs = app.test_client()
    theirs.post("/login", data={"email": user.email, "password": PASSWORD})
    assert theirs.get("/design/rounds").status_code == 200
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 302
    assert theirs.get("/design/rounds").status_code == 302
    login = {"email": user.email, "password": PASSWORD}
    assert theirs.post("/login", data=login).status_code == 401
    client.post(f"/admin/users/{user.id}/enable")
    assert theirs.post("/login", data=login).status_code == 302
    assert [len(_events(a)) for a in ("user_disabled", "user_enabled")] == [1, 1]


def test_a_forced_change_logs_out_and_waits_at_the_password_form(app, client, admin, make_user):
    user = make_user(role="designer")
    theirs = app.test_client()
    theirs.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post(f"/admin/users/{user.id}/force-password-change")
    assert _user(user.id).must_change_password
    assert theirs.get("/design/rounds").status_code == 302
    login = theirs.post("/login", data={"email": user.email, "password": PASSWORD})
    assert login.headers["Location"] == "/account/password"
    assert len(_events("password_change_forced")) == 1


def test_an_admin_sends_a_password_link(client, admin, make_user):
    user = make_user(role="designer")
    client.post(f"/admin/users/{user.id}/password-link")
    assert len(list(outbox_dir().iterdir())) == 1
    assert _events("password_link_sent")[0].target == f"user:{user.id}"
    assert _user(user.id).check_password(PASSWORD)  # nothing changes until the link is used


def test_an_admin_cannot_lock_themselves_out(client, admin):
    client.post(f"/admin/users/{admin.id}/disable")
    client.post(
        f"/admin/users/{admin.id}",
        data={"display_name": "me", "role": "designer", "unit_id": 0},
    )
    client.post(f"/admin/users/{admin.id}/force-password-change")
    me = _user(admin.id)
    assert (me.active, me.role, me.must_change_password) == (True, "admin", False)
    assert client.get("/admin/users").status_code == 200


def test_the_audit_page_names_the_account_events(client, admin, make_user):
    user = make_user(role="designer")
    client.post(f"/admin/users/{user.id}/disable")
    page = client.get("/admin/audit", headers=EN).text
    assert "User disabled" in page and f"user:{user.id}" in page


@pytest.mark.parametrize("role", ["designer", "quality_lead", "respondent"])
def test_only_admins_manage_accounts(client, auth, make_user, role):
    user = make_user(role="designer", email="target@office.test")
    auth.login(role=role)
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 403
    assert _user(user.id).active
