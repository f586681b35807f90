"""survey.offices: which office a staff request works for, and what an office's administrator
may do to an account that works for other offices too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import offices, tenancy
from survey.extensions import db
from survey.models import AuditEvent, User
from tests.factories import PASSWORD

EN = {"Accept-Language": "en"}


@pytest.fixture
def beta(app):
    office = offices.create("beta", "乙市政府办公室", "Beta City Office")
    db.session.commit()
    return office


def _in(office_id: int, user: User, role: str) -> None:
    with tenancy.office(office_id):
        user.role = role
    db.session.commit()


def test_a_login_starts_in_the_home_office_and_records_it_there(client, make_user, beta):
    person = make_user("designer", email="p@two.test")
    _in(beta.id, person, "admin")
    client.post("/login", data={"email": person.email, "password": PASSWORD})
    page = client.get("/design/", headers=EN)
    assert page.status_code == 200 and "Shaoxing Municipal Government Office" in page.text
    assert client.get("/admin/users").status_code == 403  # a designer in the home office
    with tenancy.unscoped():
        (login,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login"))
    assert login.office_id == 1


def test_switching_office_changes_the_role_and_the_name_on_every_page(client, make_user, beta):
    person = make_user("designer", email="p@two.test")
    _in(beta.id, person, "admin")
    client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert client.post("/office", data={"office": "beta"}).status_code == 302
    page = client.get("/admin/users", headers=EN)
    assert page.status_code == 200 and "Beta City Office" in page.text
    assert client.get("/design/").status_code == 200  # an admin may design as well
    with tenancy.office(beta.id):
        (switch,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "office_chosen")
        )
    assert switch.target == "office:beta"


def test_a_failed_login_is_in_the_trail_of_the_accounts_office(client, make_user, beta):
    person = make_user("designer", email="p@two.test")
    with tenancy.office(beta.id):
        person.memberships.clear()
        person.role = "designer"  # now only of office B
    db.session.commit()
    client.post("/login", data={"email": person.email, "password": "wrong"})
    client.post("/login", data={"email": "nobody@nowhere.test", "password": "wrong"})
    with tenancy.unscoped():
        failed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_failed").order_by(AuditEvent.id)
        ).all()
    assert [(e.target, e.office_id) for e in failed] == [
        ("p@two.test", beta.id),
        ("nobody@nowhere.test", None),
    ]


def test_the_user_list_shows_the_offices_own_accounts_only(client, auth, make_user, beta):
    auth.login(role="admin")
    mine, theirs = make_user("designer", email="mine@a.test"), None
    with tenancy.office(beta.id):
        theirs = make_user("designer", email="theirs@b.test")
    page = client.get("/admin/users").text
    assert mine.email in page and theirs.email not in page
    assert client.get(f"/admin/users/{theirs.id}").status_code == 404


def test_an_account_of_two_offices_is_not_disabled_by_one_of_them(client, auth, make_user, beta):
    auth.login(role="admin")
    shared = make_user("designer", email="shared@two.test")
    _in(beta.id, shared, "designer")
    for action in ("disable", "force-password-change", "password-link"):
        assert client.post(f"/admin/users/{shared.id}/{action}").status_code == 403, action
    db.session.expire_all()
    assert db.session.get(User, shared.id).active
    # The name is the person's, in both offices; the role here is this office's to change.
    renamed = client.post(
        f"/admin/users/{shared.id}",
        data={"role": "designer", "display_name": "Someone else", "unit_id": 0},
        headers=EN,
    )
    assert renamed.status_code == 200 and "only its role here can change" in renamed.text
    changed = client.post(
        f"/admin/users/{shared.id}",
        data={"role": "quality_lead", "display_name": "designer", "unit_id": 0},
    )
    assert changed.status_code == 302
    db.session.expire_all()
    shared = db.session.get(User, shared.id)
    assert shared.role == "quality_lead" and shared.display_name == "designer"
    with tenancy.office(beta.id):
        assert shared.role == "designer"
