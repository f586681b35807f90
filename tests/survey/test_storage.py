"""Files every server reads: put, get, delete by key, in the database (the default) or in a
shared folder written atomically and readable by its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from survey import storage
from survey.corrective.attachments import DEFAULT_MAX_BYTES
from survey.extensions import db
from survey.models import StoredFile


@pytest.fixture
def shared(app, tmp_path) -> Path:
    """The app keeps its files in a shared folder (returned)."""
    folder = tmp_path / "shared"
    folder.mkdir()
    app.config["SHARED_FOLDER"] = str(folder)
    return folder


@pytest.fixture(params=["database", "folder"])
def backend(request, app):
    """Each test runs on both backends; returns the shared folder (None: the database)."""
    return None if request.param == "database" else request.getfixturevalue("shared")


def test_a_file_put_is_got_back_replaced_and_deleted(backend):
    storage.put("attachments/abc123", b"first")
    db.session.commit()
    assert storage.get("attachments/abc123") == b"first"
    storage.put("attachments/abc123", b"second")
    db.session.commit()
    assert storage.get("attachments/abc123") == b"second" and storage.exists("attachments/abc123")
    storage.delete("attachments/abc123")
    db.session.commit()
    assert not storage.exists("attachments/abc123")
    with pytest.raises(storage.Missing):
        storage.get("attachments/abc123")


def test_a_key_that_is_missing_raises_missing(backend):
    with pytest.raises(storage.Missing):
        storage.get("exports/nothing.xlsx")
    storage.delete("exports/nothing.xlsx")  # deleting nothing is no error


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs", "A/B", "a//b", "", "a/"])
def test_unsafe_keys_are_refused(backend, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x")
    with pytest.raises(ValueError):
        storage.get(key)


def test_the_database_holds_an_evidence_file_of_the_largest_allowed_size(app):
    data = os.urandom(DEFAULT_MAX_BYTES)
    storage.put("attachments/largest", data)
    db.session.commit()
    db.session.expire_all()
    assert storage.get("attachments/largest") == data
    assert db.session.get(StoredFile, "attachments/largest").size == DEFAULT_MAX_BYTES


def test_in_the_database_a_file_exists_only_if_its_transaction_commits(app):
    storage.put("attachments/rolled-back", b"x")
    db.session.rollback()
    assert not storage.exists("attachments/rolled-back")


def test_the_shared_folder_is_written_atomically_for_its_owner_only(shared):
    backend = shared
    storage.put("exports/round-1/report.pdf", b"%PDF-")
    path = backend / "exports" / "round-1" / "report.pdf"
    assert path.read_bytes() == b"%PDF-"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (backend / "exports", backend / "exports" / "round-1"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["report.pdf"]  # no temporary left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(shared, monkeypatch):
    backend = shared
    storage.put("attachments/kept", b"old")

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        storage.put("attachments/kept", b"new")
    assert storage.get("attachments/kept") == b"old"
    assert [p.name for p in (backend / "attachments").iterdir()] == ["kept"]


def test_an_unmounted_shared_folder_is_never_made(app, tmp_path):
    app.config["SHARED_FOLDER"] = str(tmp_path / "not-mounted")
    with pytest.raises(FileNotFoundError, match="mounted"):
        storage.put("attachments/x", b"x")
    assert not Path(tmp_path / "not-mounted").exists()


def test_a_file_is_stored_from_a_path_and_read_as_a_stream(backend, tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "COPY_CHUNK", 4)  # several pieces
    source = tmp_path / "export.csv"
    source.write_bytes(b"response_id,overall\n1,5\n2,4\n")
    storage.put_file("exports/round-1/1-abc.csv", source)
    db.session.commit()
    with storage.open_file("exports/round-1/1-abc.csv") as stream:
        assert stream.read() == source.read_bytes()
    assert storage.get("exports/round-1/1-abc.csv") == source.read_bytes()
    with pytest.raises(storage.Missing):
        storage.open_file("exports/round-1/none.csv")
