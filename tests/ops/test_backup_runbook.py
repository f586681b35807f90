"""The README's backup and restore runbook (Production → Backup and restore), followed step by
step as an operator would: data made through the app, the backup commands, a disaster, the
restore commands, and the data checked through the app again. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from survey import create_app
from survey.extensions import db, migrate
from survey.models import ActionAttachment, AuditEvent, CorrectiveAction, Response, Round
from tests.ops.runbook import (
    demo_lines,
    drop_postgres,
    filled_survey,
    flask,
    operator_env,
    scratch_postgres,
)

pytestmark = pytest.mark.processes

EVIDENCE = b"%PDF-1.4\n% the minutes of the meeting that fixed the queue\n"


class Office:
    """The app as a server serves it, on the database and instance folder an operator set up;
    its test client stands for the browsers. `stop()` is stopping the server."""

    def __init__(self, database_url: str, instance: Path, monkeypatch) -> None:
        monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(instance))
        self.app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "WTF_CSRF_ENABLED": False}
        )

    def client(self, email: str | None = None, password: str | None = None):
        client = self.app.test_client()
        if email:
            response = client.post("/login", data={"email": email, "password": password})
            assert response.status_code == 302, response.text
        return client

    def query(self, statement):
        with self.app.app_context():
            return db.session.execute(statement).all()

    def respond(self, link: str) -> None:
        """A respondent opens the personal link and submits the whole form."""
        client = self.client()
        page = client.get(link.removeprefix("http://survey.test"), follow_redirects=True)
        action, data = filled_survey(page.text)
        response = client.post(action, data=data)
        assert response.status_code == 303, response.text[:2000]

    def attach(self, lead, action_id: int) -> int:
        response = lead.post(
            f"/actions/{action_id}/attachments",
            data={"file": (io.BytesIO(EVIDENCE), "minutes.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code in (302, 303), response.text[:2000]
        ((attachment_id,),) = self.query(
            select(ActionAttachment.id).where(ActionAttachment.action_id == action_id)
        )
        return attachment_id

    def state(self) -> dict:
        """What the office sees: responses per round, round states, the evidence files."""
        return {
            "responses": self.query(
                select(Response.round_id, func.count())
                .group_by(Response.round_id)
                .order_by(Response.round_id)
            ),
            "rounds": self.query(select(Round.name, Round.status).order_by(Round.id)),
            "attachments": self.query(select(ActionAttachment.filename, ActionAttachment.sha256)),
        }

    def revision(self) -> str:
        with self.app.app_context():
            revision = db.session.scalar(db.text("SELECT version_num FROM alembic_version"))
            head = ScriptDirectory.from_config(migrate.get_config()).get_current_head()
        assert head is not None
        return revision if revision == head else f"{revision} (head {head})"

    def stop(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def set_up_office(env: dict, office_factory) -> tuple[Office, dict]:
    """init-db and the demo through the command line, then a day's work through the app: a
    response through an invitation link and an evidence file on a corrective action."""
    flask(env, "init-db")
    demo = flask(env, "demo", "--responses", "12").stdout
    logins = {role: (email, password) for role, email, password in demo_lines(demo, "login")}
    links = [url for _group, url in demo_lines(demo, "invite")]
    office = Office(env["DATABASE_URL"], Path(env["SURVEY_INSTANCE_PATH"]), office_factory)
    office.respond(links[0])
    lead = office.client(*logins["quality_lead"])
    ((action_id,),) = office.query(select(func.min(CorrectiveAction.id)))
    attachment = office.attach(lead, action_id)
    session = lead.get_cookie("session").value  # signed with instance/secret_key
    made = {"logins": logins, "links": links, "action": action_id, "attachment": attachment}
    return office, made | {"session": session}


def back_up_files(instance: Path, archive: Path) -> None:
    """The instance folder's files but the database and the chart cache, as the README says."""
    exclude = ["--exclude=./survey.sqlite*", "--exclude=./queue.sqlite3*", "--exclude=./cache"]
    subprocess.run(["tar", "-czf", archive, *exclude, "-C", instance, "."], check=True)
    listed = subprocess.run(["tar", "-tzf", archive], capture_output=True, text=True).stdout
    assert "./secret_key" in listed.split()  # the evidence files are in the database
    assert "survey.sqlite" not in listed and "queue.sqlite3" not in listed


def the_day_after(office: Office, env: dict, made: dict) -> None:
    """What the restore must undo: another response, a closed round, a lost key (the evidence
    files come back with the database)."""
    office.respond(made["links"][1])
    ((round_id, _name),) = office.query(select(Round.id, Round.name).where(Round.status == "open"))
    flask(env, "close-round", str(round_id))
    instance = env["SURVEY_INSTANCE_PATH"]
    subprocess.run(["rm", "-f", f"{instance}/secret_key"], check=True)


def check_restored(office: Office, before: dict, made: dict) -> None:
    assert office.state() == before
    assert office.revision() == office.revision().split()[0]  # at head
    lead = office.client(*made["logins"]["quality_lead"])  # logins work
    download = lead.get(
        f"/actions/{made['action']}/attachments/{made['attachment']}", buffered=True
    )
    assert download.status_code == 200 and download.data == EVIDENCE
    download.close()
    assert office.client().get("/healthz").json == {"database": "ok", "queue": "ok"}
    # The key is back: a session begun before the backup is still good.
    before_backup = office.client()
    before_backup.set_cookie("session", made["session"])
    assert before_backup.get("/review/").status_code == 200


def test_sqlite_backup_and_restore_by_the_runbook(tmp_path, monkeypatch):
    instance, backups = tmp_path / "instance", tmp_path / "backups"
    live = instance / "survey.sqlite"
    env = operator_env(f"sqlite:///{live}", instance)
    office, made = set_up_office(env, monkeypatch)
    before = office.state()
    assert before["attachments"] and before["responses"]

    # The backup, while the server runs: the database online, then the instance folder's files.
    flask(env, "backup", str(backups / "survey-2026-12-05.sqlite"))
    back_up_files(instance, backups / "files-2026-12-05.tar.gz")
    the_day_after(office, env, made)
    changed = office.state()
    assert changed != before

    # A restore while the server still has the database open is refused, and changes nothing.
    refused = flask(env, "restore", str(backups / "survey-2026-12-05.sqlite"), check=False)
    assert refused.returncode != 0 and "in use" in refused.stderr
    assert office.state() == changed

    office.stop()
    done = flask(env, "restore", str(backups / "survey-2026-12-05.sqlite"))
    assert "database at the newest schema" in done.stdout
    subprocess.run(["tar", "-xzf", backups / "files-2026-12-05.tar.gz", "-C", instance], check=True)

    office = Office(env["DATABASE_URL"], instance, monkeypatch)  # the server started again
    check_restored(office, before, made)
    restores = office.query(select(AuditEvent.target).where(AuditEvent.action == "restore"))
    assert restores == [(str(backups / "survey-2026-12-05.sqlite"),)]
    # The replaced database is kept, with the day after in it.
    (kept,) = instance.glob("survey.sqlite.*.before-restore")
    kept_office = Office(f"sqlite:///{kept}", instance, monkeypatch)
    assert kept_office.state()["rounds"] == changed["rounds"]
    assert not list(instance.glob("*.restoring*"))  # nothing left of the restore's own copy
    office.stop()
    kept_office.stop()


def test_postgresql_backup_and_restore_by_the_runbook(tmp_path, monkeypatch):
    instance, backups = tmp_path / "instance", tmp_path / "backups"
    backups.mkdir()
    with scratch_postgres("runbook") as url:
        env = operator_env(url, instance)
        office, made = set_up_office(env, monkeypatch)
        before = office.state()
        dump = backups / "survey-2026-12-05.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", url], env=env, check=True)
        back_up_files(instance, backups / "files.tar.gz")
        the_day_after(office, env, made)
        assert office.state() != before
        office.stop()

        # The disaster: the database is gone. Restore into a new, empty one.
        name = url.rsplit("/", 1)[1]
        drop_postgres(name)
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin_url, "-c", f'CREATE DATABASE "{name}"'], env=env, check=True)
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}", dump],
            env=env,
            check=True,
        )
        flask(env, "init-db")
        subprocess.run(["tar", "-xzf", backups / "files.tar.gz", "-C", instance], check=True)

        office = Office(url, instance, monkeypatch)
        check_restored(office, before, made)
        office.stop()
