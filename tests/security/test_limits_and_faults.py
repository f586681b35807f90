"""Oversized input is refused with a clear message; a database that is locked or a submit that
fails half-way stores nothing and keeps the respondent's draft."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from survey import responses
from survey.extensions import db
from survey.models import Answer, Invitation, Response
from tests.conftest import TEST_DATABASE_URL
from tests.survey.respond.test_views import complete_answers

DRAFT = {"q_comment": "写了一半的意见", "action": "save"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def opened(client, invitation) -> str:
    assert client.get(f"/r/{invitation.token}").status_code in (302, 303)
    return f"/r/i/{invitation.id}"


def test_a_body_over_the_limit_gets_the_friendly_413_page(client, make_invitation):
    path = opened(client, make_invitation())
    response = client.post(
        path,
        data={"q_comment": "x" * (3 * 1024 * 1024), "action": "submit"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 413
    assert "<html" in response.text and "Traceback" not in response.text
    assert count(Response) == 0


def test_a_free_text_over_4000_characters_is_refused_next_to_the_question(client, make_invitation):
    invitation = make_invitation()
    path = opened(client, invitation)
    data = {
        **complete_answers(),
        "q_comment": "长" * 4001,
        "action": "submit",
        "submission_key": "k",
    }
    response = client.post(path, data=data, headers={"Accept-Language": "en"})
    assert response.status_code in (200, 400, 422)
    assert "4000" in response.text
    assert count(Response) == 0 and db.session.get(Invitation, invitation.id).status != "submitted"


def test_a_failure_after_the_invitation_update_leaves_nothing(client, make_invitation, monkeypatch):
    invitation = make_invitation()
    path = opened(client, invitation)
    client.post(path, data=DRAFT)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk went away between the UPDATE and the answers")

    monkeypatch.setattr(responses, "_answer_rows", broken)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    data = {**complete_answers(), "action": "submit", "submission_key": "k"}
    assert client.post(path, data=data).status_code == 500
    invitation = db.session.get(Invitation, invitation.id)
    assert (count(Response), count(Answer)) == (0, 0) and invitation.status != "submitted"
    assert invitation.draft["q_comment"] == DRAFT["q_comment"]


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="an SQLite file lock")
def test_a_locked_database_answers_503_with_an_incident_and_keeps_the_draft(
    client, make_invitation, database_url, monkeypatch
):
    from survey import database

    # Wait 0.1 s for the lock instead of 5 s.
    monkeypatch.setattr(
        database,
        "PRAGMAS",
        [p.replace("busy_timeout=5000", "busy_timeout=100") for p in database.PRAGMAS],
    )
    db.engine.dispose()
    invitation = make_invitation()
    path = opened(client, invitation)
    client.post(path, data=DRAFT)
    locker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        client.application.config["PROPAGATE_EXCEPTIONS"] = False
        data = {**complete_answers(), "action": "submit", "submission_key": "k"}
        response = client.post(path, data=data, headers={"Accept-Language": "en"})
    finally:
        locker.rollback()
        locker.close()
    assert response.status_code == 503
    assert "Traceback" not in response.text and "sqlite" not in response.text.lower()
    assert "incident" in response.text.lower()
    assert count(Response) == 0
    assert db.session.get(Invitation, invitation.id).draft["q_comment"] == DRAFT["q_comment"]
