"""The command-line tasks, as scripts call them."""

from __future__ import annotations

import re
import stat

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from survey.extensions import db
from survey.models import Invitation, QuestionnaireVersion, Response, Round, User


def test_init_db_upgrades_to_head(runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output


def test_load_questionnaires_loads_the_shipped_files_once(runner):
    first = runner.invoke(args=["load-questionnaires"])
    assert first.exit_code == 0, first.output
    assert "questionnaire office-services version 1" in first.output
    again = runner.invoke(args=["load-questionnaires"])
    assert "questionnaire office-services version 1" in again.output
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 2


def test_load_questionnaires_rejects_a_bad_file_with_file_and_line(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\ntitle: Bad\nsections:\n  - code: s\n    title: S\n"
        "    questions:\n      - code: q1\n        type: ratting\n        text: Q\n"
    )
    result = runner.invoke(args=["load-questionnaires", str(bad)])
    assert result.exit_code != 0
    assert re.search(r"bad\.yaml:\d+: .*ratting", result.output)
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 0


def test_create_user_with_password_option(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "Lead@Office.test",
            "--role",
            "quality_lead",
            "--password",
            "long enough!",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role) == ("lead@office.test", "quality_lead")
    assert user.check_password("long enough!")


def test_create_user_asks_for_the_password(runner):
    result = runner.invoke(
        args=["create-user", "a@office.test", "--role", "designer"],
        input="long enough!\nlong enough!\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).check_password("long enough!")


def test_create_user_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["create-user", "a@office.test", "--role", "admin", "--password", "short"]
    )
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_prints_stable_lines_and_is_idempotent(runner):
    first = runner.invoke(args=["demo", "--responses", "12"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    logins = [line.split() for line in lines if line.startswith("login ")]
    assert sorted(fields[1] for fields in logins) == [
        "admin",
        "designer",
        "quality_lead",
        "respondent",
    ]
    assert len([line for line in lines if re.fullmatch(r"round \d+ 2004 autumn", line)]) == 1
    invites = [line.split() for line in lines if line.startswith("invite ")]
    assert sorted(i[1] for i in invites) == ["congress", "cppcc", "departments", "mayors"]
    assert all(re.fullmatch(r"https://survey\.test/r/[\w-]{43}", i[2]) for i in invites)
    second = runner.invoke(args=["demo", "--responses", "12"])
    assert second.exit_code == 0, second.output
    assert db.session.scalar(select(func.count()).select_from(Round)) == 1
    assert db.session.scalar(select(func.count()).select_from(Response)) == 12
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_demo_invite_links_are_unused(runner, client):
    output = runner.invoke(args=["demo", "--responses", "40"]).output
    tokens = [line.rsplit("/", 1)[1] for line in output.splitlines() if line.startswith("invite ")]
    statuses = db.session.scalars(select(Invitation.status).where(Invitation.token.in_(tokens)))
    assert set(statuses) <= {"sent", "started"}
    assert client.get(f"/r/{tokens[0]}", follow_redirects=True).status_code == 200


def test_demo_logins_work(runner, client):
    output = runner.invoke(args=["demo"]).output
    _, role, email, password = next(
        line for line in output.splitlines() if line.startswith("login ")
    ).split()
    assert client.post("/login", data={"email": email, "password": password}).status_code == 302


def test_backup_copies_every_response_and_restores(app, runner, tmp_path):
    from sqlalchemy import create_engine

    runner.invoke(args=["demo", "--responses", "7"])
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    if db.engine.dialect.name != "sqlite":  # the PostgreSQL run: pg_dump is named instead
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    assert result.exit_code == 0, result.output
    restored = create_engine(f"sqlite:///{target}")
    with restored.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM response").scalar() == 7
        assert conn.exec_driver_sql("SELECT count(*) FROM answer").scalar() > 7 * 15
    restored.dispose()


def test_backup_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "exists.sqlite"
    target.write_text("keep me")
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("email", ["a@office.test,b@office.test", "not-an-address", "a@"])
def test_create_user_refuses_what_is_not_one_address(runner, email):
    result = runner.invoke(
        args=["create-user", email, "--role", "designer", "--password", "long enough password"]
    )
    assert result.exit_code != 0 and "email" in result.output.lower()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_backup_is_readable_by_its_owner_only(runner, tmp_path):
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL is backed up with pg_dump (the test above checks the message)
    target = tmp_path / "copy.sqlite"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_complete_backup_succeeds_when_its_audit_record_cannot_be_written(
    runner, tmp_path, monkeypatch
):
    if db.engine.dialect.name != "sqlite":
        return
    from survey.cli import database

    def fails(*args, **kwargs):
        raise OperationalError("INSERT INTO audit_event", {}, Exception("database is locked"))

    monkeypatch.setattr(database.audit, "record", fails)
    target = tmp_path / "copy.sqlite"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0 and "audit record could not be written" in result.output


def test_restore_on_postgresql_names_pg_restore(runner, tmp_path):
    if db.engine.dialect.name == "sqlite":
        return  # tests/survey/test_backups.py restores SQLite
    backup = tmp_path / "b.sqlite"
    backup.write_bytes(b"")
    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code != 0 and "pg_restore" in result.output


def test_create_user_changes_a_role_without_resetting_the_password(runner):
    runner.invoke(
        args=["create-user", "a@office.test", "--role", "designer", "--password", "long enough!"]
    )
    result = runner.invoke(args=["create-user", "a@office.test", "--role", "quality_lead"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(select(User))
    assert user.role == "quality_lead" and user.check_password("long enough!")
    assert user.session_version == 2  # the old role's sessions have ended


def test_create_user_refuses_a_common_password(runner):
    result = runner.invoke(
        args=["create-user", "a@office.test", "--role", "admin", "--password", "password12345"]
    )
    assert result.exit_code != 0 and "too common" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
