"""The staff pages in Chinese show names, never the codes they are stored as or a Python
repr; every code of each label registry has its label."""

from __future__ import annotations

import html
import pathlib
import re

import pytest

from questionnaires import BUILTIN_SCALES
from survey import audit, invitations, rounds
from survey.admin import presenters
from survey.corrective import texts
from survey.extensions import db
from survey.models import ROLE_LABELS, ROLES
from survey.questionnaire_store import BUILTIN_SCALE_LABELS
from survey.responses import SOURCE_NAMES

# Codes a page must never show as such (case-sensitive, as whole words).
RAW_CODES = (
    *audit.ACTIONS,
    *texts.TRANSITION_LABELS,
    "investigating",
    "quality_lead",
    "invitations",
    "xlsx",
    "sent",
    "started",
    "submitted",
    "revoked",
    "satisfaction5",
    "nps11",
    "services.documents",
    "True",
    "False",
)
REPRS = ("{'", "['", "')", "<built-in", "object at 0x")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def raw_words(page: str) -> list[str]:
    text = visible_text(page)
    found = [
        code for code in RAW_CODES if re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text)
    ]
    return found + [r for r in REPRS if r in text]


@pytest.fixture
def audited(assigned, lead, make_user):
    """Events of every kind with codes among their details."""
    lead.display_name = "王主任"  # the factory names users by their role code
    user = make_user(role="designer")
    audit.record("role_changed", target=f"user:{user.id}", before="designer", after="quality_lead")
    audit.record("export", target="actions:register", kind="xlsx", count=3)
    audit.record("export", target="round:1", kind="invitations")
    audit.record("round_closed", target="round:1", automatic=True)
    audit.record(
        "action_changed",
        target=f"action:{assigned.id}",
        transition="start_investigation",
        status="investigating",
    )
    for action in audit.ACTIONS:
        audit.record(action, target="x:1")
    db.session.commit()
    return assigned


def test_the_audit_trail_in_chinese_names_events_and_details(client, login_as, lead, audited):
    login_as(lead)
    page = client.get("/admin/audit?lang=zh").text
    assert raw_words(page) == []
    assert "调查中" in visible_text(page)  # the action's status, by its Chinese name


def test_the_action_queue_filter_names_statuses_and_categories(client, login_as, lead, audited):
    login_as(lead)
    page = client.get("/actions/?lang=zh").text
    assert raw_words(page) == []
    assert "公文办理" in visible_text(page)  # the category, by its section's title


def test_a_rounds_invitations_show_their_status_by_name(client, auth, make_invitation):
    invitation = make_invitation()
    invitations.revoke(invitation)
    make_invitation(round_=invitation.round)
    db.session.commit()
    auth.login(role="designer")
    for url in ("/design/rounds", f"/design/rounds/{invitation.round_id}", "/"):
        page = client.get(url + "?lang=zh").text
        assert raw_words(page) == [], url
    page = visible_text(client.get(f"/design/rounds/{invitation.round_id}?lang=zh").text)
    assert "已撤销" in page or "Revoked" in page


def test_a_version_page_names_a_built_in_scale(client, auth, office_version):
    auth.login(role="designer")
    page = client.get(f"/design/versions/{office_version.id}?lang=zh").text
    assert raw_words(page) == []


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        (audit.ACTIONS, audit.ACTION_LABELS),
        (ROLES, ROLE_LABELS),
        (("sent", "started", "submitted", "revoked"), invitations.STATUS_LABELS),
        (("draft", "open", "closed"), rounds.STATUS_LABELS),
        (("web", "paper", "meeting"), SOURCE_NAMES),
        (tuple(BUILTIN_SCALES), BUILTIN_SCALE_LABELS),
    ],
)
def test_every_code_of_a_registry_has_its_label(app, codes, labels):
    with app.test_request_context():
        assert set(codes) == set(labels)
        assert all(str(labels[code]) and str(labels[code]) != code for code in codes)


def test_every_detail_an_event_records_has_a_name(app):
    recorded = set()
    for path in pathlib.Path("survey").rglob("*.py"):
        for call in re.findall(r"audit\.record\((.*?)\)\n", path.read_text(), flags=re.S):
            recorded |= set(re.findall(r"\b(\w+)=", call)) - {"target", "actor", "office_id"}
    assert recorded and recorded <= set(audit.DETAIL_LABELS)
    with app.test_request_context():
        assert presenters.event_label("backup") != "backup"
