"""Access control on every route: the whole URL map is walked (so a new route is covered without
anyone adding it here), each argument filled with a real object, and each role's GET and POST
answered as the table below says. Then the object-level checks (IDOR)."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from questionnaires import loads
from survey import api_tokens, public_ratings, questionnaire_templates
from survey.extensions import db
from survey.models import (
    ActionAttachment,
    ItemNote,
    LibraryScale,
    Question,
    RespondentGroup,
    ResultExport,
    Round,
    Section,
    ServicePoint,
    Unit,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from survey.questionnaire_store import save_version
from tests.factories import PASSWORD
from tests.survey.editing.drafts import SMALL

ROLES = ["anonymous", "link_holder", "respondent", "designer", "quality_lead", "admin", "owner"]
STAFF = {"designer", "admin"}
LEADS = {"quality_lead", "admin"}
OWNER_ACTION = LEADS | {"owner"}
EVERYONE = set(ROLES)
ADMIN = {"admin"}
LOGGED_IN = EVERYONE - {"anonymous", "link_holder"}

# Who may use a route: the first matching endpoint, else the first matching URL prefix.
# "link_holder" is an anonymous visitor who has opened the invitation link; without that the
# /r/i/ pages answer 404 to everyone.
BY_ENDPOINT = {
    "actions.index": OWNER_ACTION,
    "actions.detail": OWNER_ACTION,
    "actions.chart": OWNER_ACTION,
    "actions.attachment": OWNER_ACTION,
    "actions.attachment_add": OWNER_ACTION,
    "actions.investigation": OWNER_ACTION,
    "actions.step_add": OWNER_ACTION,
    "actions.step_update": OWNER_ACTION,
    "actions.action_taken": OWNER_ACTION,
    "actions.move": OWNER_ACTION,
    "api.actions": OWNER_ACTION,
    "api.action": OWNER_ACTION,
    "api.action_transition": OWNER_ACTION,
    "api.rounds_index": LEADS,
    "api.round_results_json": LEADS,
    "api.round_comments": LEADS,
    # The API's document and its page: public, they describe the API and hold no data.
    "api.openapi_json": EVERYONE,
    "api.docs_page": EVERYONE,
    # Every account's own API tokens; revoking one is its owner's only (the admin's here).
    "auth.tokens": LOGGED_IN,
    "auth.token_revoke": ADMIN,
    "home.index": EVERYONE - {"anonymous", "link_holder"},
    # A division sees its own scorecard: the owner and the respondent of this matrix are both
    # staff of the served unit in the URL (see people_for_roles); a designer is not. This
    # matrix's round is open, and an open round's scorecard is sealed for a division until it
    # closes (survey.results.sealing; the closed round's in tests/survey/review/test_views.py).
    "review.unit": LEADS,
    "auth.logout": EVERYONE,
    # Staff accounts: administrators only (the audit trail under /admin/ is the leads' too).
    "admin.users": ADMIN,
    "admin.user_new": ADMIN,
    "admin.user_edit": ADMIN,
    "admin.user_disable": ADMIN,
    "admin.user_enable": ADMIN,
    "admin.user_force_password_change": ADMIN,
    "admin.user_password_link": ADMIN,
    "auth.password_change": LOGGED_IN,
    # Choosing another of one's offices: an office one does not belong to is not found.
    "auth.office_switch": LOGGED_IN,
    # A workbook or report built in the background: who may download them today (the raw
    # sheet's own permission is checked per export, tests/survey/review/test_exports.py).
    "review.export_page": LEADS,
    "review.export_status": LEADS,
    "review.export_file": LEADS,
    "review.export_retry": LEADS,
    # Webhooks hold a signing secret and send the office's events out: administrators only.
    "admin.webhooks_index": ADMIN,
    "admin.webhook_new": ADMIN,
    "admin.webhook_edit": ADMIN,
    "admin.webhook_secret": ADMIN,
    "admin.webhook_change": ADMIN,
    "admin.webhook_redeliver": ADMIN,
    # The load balancer's and monitoring's health check: no login, nothing but "ok".
    "healthz": EVERYONE,
}
BY_PREFIX = [
    ("/login", EVERYONE),
    # Service points are set up by designers; leads, who answer their ratings, may too.
    ("/feedback/points", STAFF | LEADS),
    ("/feedback/", LEADS),
    # A service point's public rating form: anyone with the link (the QR code) is the public.
    ("/s/", EVERYONE),
    ("/password/", EVERYONE),
    ("/design/", STAFF),
    ("/review/", LEADS),
    ("/admin/", LEADS),
    ("/actions/", LEADS),
    ("/r/i/", {"link_holder"}),
    ("/r/", EVERYONE),
]


def allowed_roles(rule) -> set[str]:
    if rule.endpoint in BY_ENDPOINT:
        return BY_ENDPOINT[rule.endpoint]
    for prefix, roles in BY_PREFIX:
        if rule.rule.startswith(prefix):
            return roles
    raise AssertionError(f"{rule.rule} ({rule.endpoint}) is in no access table: add it")


def expected(rule, role: str, method: str) -> str:
    """'ok' (neither 401/403/404 nor 5xx), 'login' (302 to /login), 'denied' (403 or 401)
    or 'missing' (404)."""
    if rule.endpoint == "auth.logout":
        return "login"  # everyone, logged in or not, is sent to the login page
    roles = allowed_roles(rule)
    # Owners of actions are staff of a served unit: designers besides.
    if role in roles or (role == "owner" and "designer" in roles):
        return "ok"
    if rule.rule.startswith("/r/i/"):
        return "missing"
    if role in ("anonymous", "link_holder"):
        return "denied" if rule.rule.startswith("/api/") else "login"
    return "denied"


def verdict(response) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if status in (302, 303) and "/login" in response.headers["Location"]:
        return "login"
    return {401: "denied", 403: "denied", 404: "missing"}.get(status, "ok")


@pytest.fixture
def objects(world, make_invitation, app):
    """One real object of every kind a URL names, keyed by argument name."""
    action, people = world
    round_ = action.round
    invitation, to_revoke = make_invitation(round_=round_), make_invitation(round_=round_)
    uploader = app.test_client()
    uploader.post("/login", data={"email": people["owner"].email, "password": PASSWORD})
    uploader.post(
        f"/actions/{action.id}/attachments",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"evidence"), "notes.txt")},
    )
    question = db.session.scalar(select(Question).where(Question.version_id == round_.version_id))
    note = ItemNote(round=round_, question_code=question.code, note_key=f"{round_.id}|note",
                    rule="single_low_with_comment", observed=0.9, n=10, severity=0.0,
                    comments=["rude"])  # fmt: skip
    db.session.add(note)
    spare = User(email="spare@office.test", role="designer", password_hash="x")
    db.session.add(spare)
    # An export being built (the retry button leaves it be, its file link goes to the download).
    export = ResultExport(round=round_, kind="xlsx", language="en", raw=False, status="running",
                          fingerprint="f" * 64, progress=40, step="sheets")  # fmt: skip
    db.session.add(export)
    scale = LibraryScale(code="agree3", name_zh="同意", name_en="Agree", points=[
        {"value": v, "zh": str(v), "en": str(v)} for v in (1, 2, 3)])  # fmt: skip
    db.session.add(scale)
    token, _ = api_tokens.create(people["admin"], "script", ["manage_actions"], utcnow())
    # A questionnaire the office shares with every office (the library reads it everywhere).
    template, _ = questionnaire_templates.share(save_version(loads(SMALL)), None, utcnow())
    # A webhook to a reserved address (TEST-NET-1): its test event is refused, never sent.
    endpoint = WebhookEndpoint(url="http://192.0.2.1/hook", secret="s" * 32, events=["ping"])
    db.session.add(endpoint)
    db.session.flush()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id, event="ping", uid="d" * 32, payload="{}", status="failed"
    )
    db.session.add(delivery)
    # A service point, a poor rating of it flagged in a burst, and the case it opened.
    point = ServicePoint(code="hall-9", name_zh="九号大厅", name_en="Hall nine", kind="hall")
    # Another point, whose link the walk may renew (the first one's link is walked after).
    renewed = ServicePoint(code="hall-8", name_zh="八号大厅", name_en="Hall eight", kind="hall")
    db.session.add_all([point, renewed])
    db.session.flush()
    rated = public_ratings.submit(point, public_ratings.Answer(score=1, contact="13800000000"),
                                  nonce="matrix-nonce-0000000001", device="matrix-device",
                                  address="192.0.2.9", now=utcnow())  # fmt: skip
    rated.rating.flag = "burst"
    db.session.commit()
    return {
        "point_id": {"feedback.point_renew": renewed.id, "*": point.id},
        "link_key": point.link_key,
        "case_id": rated.case.id,
        "rating_id": rated.rating.id,
        "token_id": token.id,
        "template_id": template.id,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "change": {"admin.webhook_change": "test"},
        "user_id": spare.id,
        "link": "not-a-password-link",
        "action_id": action.id,
        "note_id": note.id,
        "step_id": action.steps[0].id,
        "attachment_id": db.session.scalar(select(ActionAttachment.id)),
        "round_id": round_.id,
        "export_id": export.id,
        "scale_id": scale.id,
        "invitation_id": {"design.invitation_revoke": to_revoke.id, "*": invitation.id},
        "token": invitation.token,
        "version_id": round_.version_id,
        "question_id": question.id,
        "section_id": db.session.scalar(
            select(Section.id).where(Section.version_id == round_.version_id)
        ),
        "unit_id": db.session.scalar(select(Unit.id)),
        "group_id": db.session.scalar(select(RespondentGroup.id)),
        "group": "departments",
        "source": "paper",
        "category": question.category,
        "question": question.code,
        "served_unit": action.served_unit,
        "kind": "rates",
        "table": "items",
        "fmt": {"actions.export": "csv", "review.chart": "svg"},
        "people": people,
    }


def build(rule, objects) -> str:
    unknown = set(rule.arguments) - set(rule.defaults or {}) - set(objects)
    assert not unknown, (
        f"{rule.rule} names {sorted(unknown)}: add an object of that kind to "
        "the `objects` fixture of tests/security/test_access_matrix.py"
    )
    values = {}
    for name in set(rule.arguments) - set(rule.defaults or {}):
        value = objects[name]
        if isinstance(value, dict):
            value = value.get(rule.endpoint, value.get("*"))
        values[name] = value
    return rule.build(values, append_unknown=False)[1]


def rules_to_check(app):
    # Logging out last of all; the link routes before it: opening the link puts the invitation into the session.
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (r.endpoint == "auth.logout", r.rule.startswith("/r/<"), r.rule),
    )


def enter_as(client, role: str, objects, login_as) -> None:
    if role == "link_holder":
        assert client.get(f"/r/{objects['token']}").status_code in (302, 303)
    elif role != "anonymous":
        login_as(objects["people"][role])


@pytest.fixture
def people_for_roles(objects, served_user):
    objects["people"].setdefault("respondent", served_user(role="respondent"))
    return objects


CHECKED: list[int] = []


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_says(
    app, client, role, people_for_roles, login_as
):
    objects = people_for_roles
    enter_as(client, role, objects, login_as)
    wrong, checked = [], 0
    for rule in rules_to_check(app):
        path = build(rule, objects)
        for method in sorted(rule.methods & {"GET", "POST"}):
            want, got = expected(rule, role, method), verdict(client.open(path, method=method))
            checked += 1
            if got != want:
                wrong.append(f"{method} {path} ({rule.endpoint}): {got}, expected {want}")
    CHECKED.append(checked)
    print(f"\n{role}: {checked} route-methods checked")
    assert wrong == [], "\n".join(wrong)


def test_the_matrix_covers_every_route_and_role():
    assert len(CHECKED) in (0, len(ROLES))  # all roles ran, or this module ran partly
    print(f"\nroutes x roles checked: {sum(CHECKED)} ({len(ROLES)} roles)")


def test_a_user_not_on_an_action_cannot_open_it(client, world, served_user, login_as):
    action, _ = world
    login_as(served_user())  # same served unit, another person: owns nothing here
    for path in (
        f"/actions/{action.id}",
        f"/actions/{action.id}/chart.png",
        f"/api/v1/actions/{action.id}",
        f"/actions/{action.id}/attachments/1",
    ):
        assert client.get(path).status_code in (403, 404), path


def test_an_invitation_session_does_not_open_another_invitation(client, make_invitation):
    mine = make_invitation()
    other = make_invitation(round_=mine.round)
    client.get(f"/r/{mine.token}")
    assert client.get(f"/r/i/{mine.id}").status_code == 200
    assert client.get(f"/r/i/{other.id}").status_code == 404
    assert client.post(f"/r/i/{other.id}", data={"action": "save"}).status_code == 404
    assert client.get(f"/r/i/{other.id}/done").status_code == 404


def test_unknown_ids_are_not_found_even_for_an_admin(app, client, people_for_roles, login_as):
    login_as(people_for_roles["people"]["admin"])
    unknown = {name: 987654 for name, value in people_for_roles.items() if isinstance(value, int)}
    unknown.update(token="x" * 43, invitation_id=987654)
    wrong = []
    for rule in rules_to_check(app):
        ints = set(rule.arguments) & set(unknown) - set(rule.defaults or {})
        if not ints or "GET" not in rule.methods:
            continue
        path = build(rule, {**people_for_roles, **unknown})
        if (status := client.get(path).status_code) != 404:
            wrong.append(f"GET {path}: {status}")
    assert wrong == [], "\n".join(wrong)


# --- changing a round: only staff, only by POST, only with the page's CSRF token -----------------

ROUND_CHANGES = ["edit", "archive", "unarchive", "delete", "open", "close"]


def _round_state(round_id: int) -> tuple | None:
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        return None
    return (round_.name, round_.status, round_.archived_at, round_.closes_at, round_.weights)


@pytest.mark.parametrize("role", ["anonymous", "respondent", "quality_lead"])
def test_who_may_not_design_changes_no_round(client, role, make_round, people_for_roles, login_as):
    draft, closed = make_round(status="draft"), make_round(status="closed", name="Spring")
    enter_as(client, role, people_for_roles, login_as)
    before = {r.id: _round_state(r.id) for r in (draft, closed)}
    for round_ in (draft, closed):
        for change in ROUND_CHANGES:
            response = client.post(f"/design/rounds/{round_.id}/{change}", data={"name": "Renamed"})
            assert verdict(response) == ("login" if role == "anonymous" else "denied"), change
    assert {r: _round_state(r) for r in before} == before


def test_a_round_changes_only_by_post(client, make_round, people_for_roles, login_as):
    login_as(people_for_roles["people"]["admin"])
    closed = make_round(status="closed")
    before = _round_state(closed.id)
    for change in ("archive", "unarchive", "open", "close"):
        assert client.get(f"/design/rounds/{closed.id}/{change}").status_code == 405, change
    # The delete page only asks; the round stays until its button is pressed.
    assert client.get(f"/design/rounds/{closed.id}/delete").status_code == 200
    assert _round_state(closed.id) == before


class TestRoundChangesNeedTheToken:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    def test_without_the_pages_token_nothing_changes(self, client, make_round, make_user):
        designer = make_user(role="designer")
        login = {"email": designer.email, "password": PASSWORD}
        login["csrf_token"] = self.token(client.get("/login").text)
        assert client.post("/login", data=login).status_code == 302
        draft, closed = make_round(status="draft").id, make_round(status="closed", name="x").id
        for round_id in (draft, closed):
            before = _round_state(round_id)
            for change in ROUND_CHANGES:
                url = f"/design/rounds/{round_id}/{change}"
                assert client.post(url, data={"name": "Renamed"}).status_code == 400, url
            assert _round_state(round_id) == before

        page = client.get(f"/design/rounds/{closed}").text
        archived = client.post(
            f"/design/rounds/{closed}/archive", data={"csrf_token": self.token(page)}
        )
        assert archived.status_code == 302
        assert _round_state(closed)[2] is not None
        page = client.get(f"/design/rounds/{draft}/delete").text
        deleted = client.post(
            f"/design/rounds/{draft}/delete", data={"csrf_token": self.token(page)}
        )
        assert deleted.status_code == 302
        assert _round_state(draft) is None
