"""Each audited event writes exactly one record, and no record can be changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import audit, rounds
from survey.extensions import db
from survey.models import AuditEvent, utcnow
from tests.factories import PASSWORD


def events(action: str | None = None) -> list[AuditEvent]:
    return list(db.session.scalars(audit.newest_first(action)))


def test_login_failed_login_and_logout_each_write_one_record(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": "wrong"})
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/logout")
    assert [e.action for e in events()] == ["logout", "login", "login_failed"]
    failed = events("login_failed")[0]
    assert (failed.actor, failed.target, failed.address) == ("anonymous", user.email, "127.0.0.1")
    assert events("login")[0].actor == user.email


def test_round_lifecycle_is_audited(office_version):
    round_ = rounds.create("2005", office_version)
    rounds.open_round(round_, utcnow())
    rounds.close_round(round_, utcnow())
    db.session.commit()
    assert [e.action for e in events()] == ["round_closed", "round_opened", "round_created"]
    assert {e.target for e in events()} == {f"round:{round_.id}"}
    assert events()[0].actor == "cli"


def test_role_change_and_backup_from_the_cli_are_audited(runner, tmp_path):
    args = ["create-user", "a@office.test", "--password", "long enough!"]
    runner.invoke(args=[*args, "--role", "designer"])
    runner.invoke(args=[*args, "--role", "admin"])
    runner.invoke(args=[*args, "--role", "admin"])  # no change, no record
    changed = events("role_changed")
    assert len(changed) == 1 and changed[0].detail == {"before": "designer", "after": "admin"}
    assert len(events("user_created")) == 1


def test_invitation_download_is_an_audited_export(client, auth, make_round):
    round_ = make_round()
    auth.login(role="designer")
    client.get(f"/design/rounds/{round_.id}/invitations.csv")
    (export,) = events("export")
    assert (export.target, export.detail) == (f"round:{round_.id}", {"kind": "invitations"})


def test_audit_records_cannot_be_changed_or_deleted(app):
    event = audit.record("login", target="user:1")
    db.session.commit()
    event.action = "logout"
    with pytest.raises(ValueError, match="cannot be changed"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(ValueError, match="cannot be changed"):
        db.session.commit()


@pytest.mark.parametrize(
    ("role", "status"),
    [("quality_lead", 200), ("admin", 200), ("designer", 403), ("respondent", 403)],
)
def test_the_audit_page_is_for_auditors(client, auth, role, status):
    auth.login(role=role)
    response = client.get("/admin/audit")
    assert response.status_code == status
    if status == 200:
        assert "login" in response.text


def test_downloads_read_in_the_audit_trail(client, auth, known_round):
    auth.login(role="quality_lead")
    client.get(f"/review/rounds/{known_round.id}/results.xlsx?lang=en")
    client.get(f"/review/rounds/{known_round.id}/tables/items.csv?lang=en")
    page = client.get("/admin/audit?lang=en").text
    assert "Raw answers downloaded" in page and "Results downloaded" in page
    assert "format=Excel, language=en, unit codes=yes" in page
    assert "format=CSV, table=items, language=en" in page
