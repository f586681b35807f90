"""Offices are isolated: the whole URL map is walked for two offices (so a new route is covered
without anyone adding it here). Office B holds one real object of every kind a URL names (the
access matrix's ``objects``, built while working for B); office A's administrator opens every
route, GET and POST, with B's ids and must find none of them, see none of B's names on any page
and change nothing of B's. B's administrator, on the same URLs, finds each of them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import api_tokens, offices, tenancy
from survey.extensions import db
from survey.models import Membership, OfficeOwned, Round, ServicePoint, User, utcnow
from tests.factories import PASSWORD
from tests.security.test_access_matrix import (  # noqa: F401 (fixtures used by name)
    build,
    expected,
    objects,
    people_for_roles,
    rules_to_check,
    verdict,
)

# The arguments that name one object of an office; a route without any lists the office's.
OBJECT_ARGUMENTS = {
    "token_id", "endpoint_id", "delivery_id", "user_id", "action_id", "note_id", "step_id",
    "attachment_id", "round_id", "export_id", "scale_id", "invitation_id", "version_id",
    "question_id", "section_id", "unit_id", "group_id", "point_id", "case_id", "rating_id",
}  # fmt: skip
# A personal link works for whoever holds it, whatever their office: the link is the key.
PUBLIC_LINKS = ("/r/", "/s/")


def _named(rule) -> set[str]:
    """The arguments the URL names (not those a rule fills in, as ``/groups/new``'s id)."""
    return set(rule.arguments) - set(rule.defaults or {})


@pytest.fixture
def office_b(app):
    office = offices.create("beta", "乙市政府办公室", "Beta City Office")
    db.session.commit()
    tenancy.enter(office.id)  # the fixtures that follow this one build office B's objects
    return office


@pytest.fixture
def b_objects(office_b, request):
    # The access matrix's objects and people, made after office_b: in office B.
    return request.getfixturevalue("people_for_roles")


def _b_state(office_id: int) -> dict:
    """Every row office B owns, and its members' accounts and roles, as plain tuples."""
    db.session.expire_all()
    state = {}
    for mapper in db.Model.registry.mappers:
        if issubclass(mapper.class_, OfficeOwned):
            table = mapper.local_table
            rows = db.session.execute(
                table.select().where(table.c.office_id == office_id).order_by(table.c.id)
            )
            state[table.name] = [tuple(row) for row in rows]
    members = db.session.execute(
        select(User.id, User.email, User.active, User.session_version, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.office_id == office_id)
        .order_by(User.id)
    )
    state["members"] = [tuple(row) for row in members]
    return state


def _markers(found: dict, office_id: int) -> list[str]:
    """Names only office B's pages may show."""
    with tenancy.office(office_id):
        round_ = db.session.get(Round, found["round_id"])
        names = [p.email for p in found["people"].values()]
        names += [round_.name, round_.version.title_zh, round_.version.title_en]
        point = db.session.get(ServicePoint, found["point_id"]["*"])
        names += [point.name_zh, point.name_en, point.link_key]
    names += ["192.0.2.1/hook", "spare@office.test"]
    return sorted({n for n in names if len(n) >= 6})


def test_another_offices_objects_are_not_found_and_its_names_never_shown(
    app, client, office_b, b_objects, make_user, login_as
):
    b_id = office_b.id
    markers = _markers(b_objects, b_id)
    before = _b_state(b_id)
    assert before["survey_round"] and before["corrective_action"] and before["members"]

    tenancy.enter(1)  # office A: the migration's first office, empty but for its administrator
    a_admin = make_user("admin", email="admin@alpha.test")
    login_as(a_admin)
    wrong, checked = [], 0
    for rule in rules_to_check(app):
        if rule.rule.startswith(PUBLIC_LINKS) or rule.endpoint == "auth.logout":
            continue
        path = build(rule, b_objects)
        names_an_object = bool(_named(rule) & OBJECT_ARGUMENTS)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(path, method=method)
            checked += 1
            got = verdict(response)
            if names_an_object and got != "missing":
                wrong.append(f"{method} {path} ({rule.endpoint}): {got}, expected missing")
            if got.startswith("error"):
                wrong.append(f"{method} {path} ({rule.endpoint}): {got}")
            shown = [m for m in markers if m in response.get_data(as_text=True)]
            if shown:
                wrong.append(f"{method} {path} ({rule.endpoint}) shows {shown}")
    print(f"\noffice A's administrator: {checked} route-methods on office B's objects")
    assert checked > 120
    assert wrong == [], "\n".join(wrong)
    assert _b_state(b_id) == before


def test_the_same_urls_find_each_object_for_its_own_office(
    app, client, office_b, b_objects, login_as
):
    login_as(b_objects["people"]["admin"])
    wrong = []
    for rule in rules_to_check(app):
        if rule.rule.startswith(PUBLIC_LINKS) or not _named(rule) & OBJECT_ARGUMENTS:
            continue
        if "GET" not in rule.methods:
            continue
        path = build(rule, b_objects)
        want, got = expected(rule, "admin", "GET"), verdict(client.get(path))
        if got != want:
            wrong.append(f"GET {path} ({rule.endpoint}): {got}, expected {want}")
    assert wrong == [], "\n".join(wrong)


def test_an_api_token_reads_its_own_office_only(app, client, office_b, b_objects, make_user):
    b_round = b_objects["round_id"]
    with tenancy.office(1):
        a_lead = make_user("quality_lead", email="lead@alpha.test")
        _, secret = api_tokens.create(a_lead, "script", ["read_results"], utcnow())
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/v1/rounds", headers=headers)
    assert listed.status_code == 200
    assert b_round not in [r["id"] for r in listed.json["rounds"]]
    assert client.get(f"/api/v1/rounds/{b_round}/results", headers=headers).status_code == 404
    assert client.get(f"/api/v1/actions/{b_objects['action_id']}", headers=headers).status_code in (
        403,
        404,
    )


def test_a_user_of_two_offices_works_for_the_one_chosen(app, client, office_b, b_objects):
    person = b_objects["people"]["quality_lead"]
    with tenancy.office(1):
        person.role = "designer"  # the same person, a designer in office A
        db.session.commit()
    assert [m.office_id for m in person.memberships] == [office_b.id, 1]
    client.post("/login", data={"email": person.email, "password": PASSWORD})
    # The first membership is the home office: B, where the person is a quality lead.
    assert client.get(f"/review/rounds/{b_objects['round_id']}").status_code == 200
    assert client.get("/design/").status_code == 403
    client.post("/office", data={"office": "shaoxing"})
    assert client.get(f"/review/rounds/{b_objects['round_id']}").status_code in (403, 404)
    assert client.get("/design/").status_code == 200
    # An office the person does not belong to cannot be chosen.
    with tenancy.office(1):
        other = offices.create("gamma", "丙", "Gamma")
        db.session.commit()
    assert client.post("/office", data={"office": other.code}).status_code == 404
    assert client.get("/design/").status_code == 200


def test_an_invitation_id_without_its_link_does_not_tell_its_office(
    app, client, office_b, b_objects
):
    # The page that asks for the link again is the same whether the id exists, in which
    # office, or not at all: it names no office.
    invitation_id = b_objects["invitation_id"]["*"]
    pages = [
        client.post(f"/r/i/{i}", data={"action": "save", "ref": "x" * 40}).text.replace(
            f"/r/i/{i}", "/r/i/ID"
        )
        for i in (invitation_id, 987654)
    ]
    assert "乙市政府办公室" not in pages[0] and "Beta City Office" not in pages[0]
    assert pages[0] == pages[1]
