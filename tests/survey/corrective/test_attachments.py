"""Evidence files: only allowed kinds whose content matches the name, within the size limit,
kept in the storage every server shares and served as downloads of a fixed, harmless type."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from survey import corrective, create_app, storage
from survey.corrective.attachments import display_name, kind_of, storage_key
from survey.extensions import db
from survey.models import ActionAttachment, utcnow
from tests.factories import PASSWORD

# The fixtures of the corrective-action tests (rounds with chosen ratings, owners, actions).

PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n"


@pytest.fixture
def app_config() -> dict:
    return {"ACTION_ATTACHMENT_MAX_BYTES": 2048}


def _upload(client, action_id: int, name: str, content: bytes):
    return client.post(
        f"/actions/{action_id}/attachments",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )


def test_an_owner_attaches_a_pdf_kept_in_the_shared_storage(client, assigned, owner, login_as):
    login_as(owner)
    assert "File attached" in _upload(client, assigned.id, "会议纪要.pdf", PDF).text
    stored = db.session.scalar(db.select(ActionAttachment))
    assert storage.get(storage_key(stored.stored_name)) == PDF
    assert not (Path(client.application.instance_path) / "attachments").exists()
    assert (stored.filename, stored.kind, stored.size) == ("会议纪要.pdf", "pdf", len(PDF))


def test_a_file_is_served_as_a_download_of_its_checked_type(client, assigned, owner, login_as):
    login_as(owner)
    _upload(client, assigned.id, "notes.txt", b"<script>alert(1)</script>")
    stored = db.session.scalar(db.select(ActionAttachment))
    response = client.get(f"/actions/{assigned.id}/attachments/{stored.id}")
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data == b"<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<html></html>", "Only PDF"),
        ("image.svg", b"<svg/>", "Only PDF"),
        ("fake.pdf", b"<html><script></script></html>", "content must match"),
        ("big.pdf", PDF + b"x" * 4096, "larger than"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_a_file_that_is_not_allowed_is_refused(
    client, assigned, owner, name, content, message, login_as
):
    login_as(owner)
    assert message in _upload(client, assigned.id, name, content).text
    assert db.session.scalar(db.select(ActionAttachment)) is None


def test_an_uninvolved_user_cannot_download(client, assigned, owner, served_user, login_as):
    login_as(owner)
    _upload(client, assigned.id, "a.pdf", PDF)
    stored = db.session.scalar(db.select(ActionAttachment))
    client.post("/logout")
    login_as(served_user("meetings"))
    assert client.get(f"/actions/{assigned.id}/attachments/{stored.id}").status_code == 403


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("scan.JPEG", b"\xff\xd8\xff\xe0", "jpg"),
        ("plan.docx", b"PK\x03\x04", "docx"),
        ("plan.docx", b"%PDF-", None),
        ("data.csv", b"a,b\n1,2\n", "csv"),
        ("bin.txt", b"a\x00b", None),
        ("noext", b"%PDF-", None),
    ],
)
def test_kind_is_decided_by_name_and_content(name, head, kind):
    assert kind_of(name, head) == kind


def test_display_name_drops_folders_and_control_characters():
    assert display_name("C:\\Users\\x\\re\x07port.pdf") == "report.pdf"


def test_a_closed_or_cancelled_action_takes_no_file(client, ready, lead, force, login_as):
    login_as(lead)
    for status in ("closed", "cancelled"):
        force(ready, status)
        page = _upload(client, ready.id, "late.pdf", PDF)
        assert "File attached" not in page.text and "is closed" in page.text
        assert 'enctype="multipart/form-data"' not in client.get(f"/actions/{ready.id}").text
    assert db.session.scalar(db.select(ActionAttachment)) is None


def test_the_owner_of_one_step_attaches_no_file_to_the_action(
    client, ready, owner, served_user, login_as
):
    helper = served_user()
    corrective.add_step(ready, "preventive", "Train.", helper, date.today(), owner, utcnow())
    db.session.commit()
    login_as(helper)
    assert "File attached" not in _upload(client, ready.id, "mine.pdf", PDF).text
    assert db.session.scalar(db.select(ActionAttachment)) is None
    assert 'enctype="multipart/form-data"' not in client.get(f"/actions/{ready.id}").text


class TestTwoServers:
    """Two app servers (instance folders of their own) on one database: a file uploaded
    through one downloads through the other, with the storage in the database or in a
    shared folder."""

    @pytest.fixture(params=["database", "folder"])
    def app_config(self, request, tmp_path) -> dict:
        if request.param == "database":
            return {}
        (tmp_path / "shared").mkdir()
        return {"SHARED_FOLDER": str(tmp_path / "shared")}

    @pytest.fixture
    def other_server(self, app, database_url, app_config, tmp_path, monkeypatch):
        from tests.conftest import IsolatedClient, _config

        monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "second-server"))
        second = create_app(_config(database_url, **app_config))
        second.test_client_class = IsolatedClient
        assert second.instance_path != app.instance_path
        yield second.test_client()
        with second.app_context():
            db.engine.dispose()

    def test_a_file_uploaded_to_one_server_downloads_from_the_other(
        self, client, other_server, assigned, owner
    ):
        for server in (client, other_server):
            server.post("/login", data={"email": owner.email, "password": PASSWORD})
        assert "File attached" in _upload(client, assigned.id, "minutes.pdf", PDF).text
        stored = db.session.scalar(db.select(ActionAttachment))
        response = other_server.get(f"/actions/{assigned.id}/attachments/{stored.id}")
        assert response.status_code == 200 and response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_missing_from_the_storage_answers_404_and_is_logged(
    client, assigned, owner, login_as, caplog
):
    login_as(owner)
    _upload(client, assigned.id, "a.pdf", PDF)
    stored = db.session.scalar(db.select(ActionAttachment))
    storage.delete(storage_key(stored.stored_name))
    db.session.commit()
    assert client.get(f"/actions/{assigned.id}/attachments/{stored.id}").status_code == 404
    assert f"attachment {stored.id}: no file stored" in caplog.text


def test_import_copies_what_the_storage_lacks_from_a_servers_folder(
    app, runner, client, assigned, owner, login_as, tmp_path
):
    login_as(owner)
    for name in ("kept.pdf", "elsewhere.pdf", "lost.pdf"):
        _upload(client, assigned.id, name, PDF + name.encode())
    kept, elsewhere, lost = db.session.scalars(
        db.select(ActionAttachment).order_by(ActionAttachment.id)
    )
    old = tmp_path / "old-attachments"
    old.mkdir()
    (old / elsewhere.stored_name).write_bytes(PDF + b"elsewhere.pdf")
    (old / lost.stored_name).write_bytes(b"%PDF- not the file that was uploaded")
    for attachment in (elsewhere, lost):
        storage.delete(storage_key(attachment.stored_name))
    db.session.commit()
    result = runner.invoke(args=["import-attachments", str(old)])
    assert f"copied {elsewhere.id} " in result.output and f"missing {lost.id} " in result.output
    assert "1 copied, 1 still missing" in result.output
    assert storage.get(storage_key(elsewhere.stored_name)) == PDF + b"elsewhere.pdf"
    assert not storage.exists(storage_key(lost.stored_name))
