"""survey/backups.py and `flask restore`: what a restore refuses, and what it does with a backup
of an older release. The whole runbook, end to end, is tests/ops/test_backup_runbook.py."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade
from sqlalchemy import create_engine, func, select

from survey import backups, create_app
from survey.extensions import db, migrate
from survey.models import AuditEvent, User
from tests.conftest import _migrate


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backups") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """Always SQLite: `backup` and `restore` are SQLite's (PostgreSQL is backed up with pg_dump
    and restored with pg_restore, tests/ops/test_backup_runbook.py), so the PostgreSQL pass runs
    these tests on SQLite too rather than skipping them."""
    copy = tmp_path / "survey.sqlite"
    shutil.copyfile(sqlite_template, copy)
    return f"sqlite:///{copy}"


def _backup(runner, path: Path) -> Path:
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    return path


def _restore(runner, path: Path):
    db.session.remove()  # what this test holds: a server would be stopped
    return runner.invoke(args=["restore", str(path)])


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_restore_brings_back_the_backup_and_keeps_the_replaced_database(
    app, runner, make_user, tmp_path
):
    make_user()
    backup = _backup(runner, tmp_path / "b.sqlite")
    make_user()
    result = _restore(runner, backup)
    assert result.exit_code == 0, result.output
    assert _users() == 1
    assert db.session.scalars(select(AuditEvent.action)).all()[-1] == "restore"
    live = Path(db.engine.url.database)
    (kept,) = live.parent.glob(f"{live.name}.*.before-restore")
    with sqlite3.connect(kept) as old:
        assert old.execute("SELECT count(*) FROM user_account").fetchone() == (2,)
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b.")) == ["b.sqlite"]


def test_restore_reads_a_wal_file_left_beside_the_backup(app, runner, make_user, tmp_path):
    backup = _backup(runner, tmp_path / "b.sqlite")
    make_user()
    db.session.commit()
    writer = sqlite3.connect(backup)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    with writer:
        writer.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    assert Path(f"{backup}-wal").stat().st_size > 0  # the change is in the -wal only
    try:
        result = _restore(runner, backup)
    finally:
        writer.close()
    assert result.exit_code != 0 and "0099_from_the_future" in result.output


def test_restore_onto_a_new_machine_makes_the_database(app, runner, make_user, tmp_path):
    make_user()
    backup = _backup(runner, tmp_path / "b.sqlite")
    db.session.remove()
    db.engine.dispose()
    live = Path(db.engine.url.database)
    live.unlink()
    result = _restore(runner, backup)
    assert result.exit_code == 0, result.output
    assert _users() == 1
    db.session.remove()
    db.engine.dispose()
    assert sorted(p.name for p in live.parent.iterdir() if p.name.startswith(live.name)) == [
        live.name,
        *[p.name for p in live.parent.glob(f"{live.name}.*.before-restore")],
    ]


def test_restore_refuses_while_another_process_has_the_database_open(
    app, runner, make_user, tmp_path
):
    backup = _backup(runner, tmp_path / "b.sqlite")
    make_user()
    db.session.commit()
    server = sqlite3.connect(db.engine.url.database)  # a server's pooled connection, idle
    server.execute("SELECT 1 FROM user_account").fetchall()
    try:
        result = _restore(runner, backup)
    finally:
        server.close()
    assert result.exit_code != 0 and "in use" in result.output
    assert _users() == 1
    live = Path(db.engine.url.database)
    assert not list(live.parent.glob(f"{live.name}.*"))  # no copy made, nothing left behind


def test_restore_refuses_a_file_that_is_not_a_database(app, runner, make_user, tmp_path):
    make_user()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    result = _restore(runner, junk)
    assert result.exit_code != 0 and "not a backup of this app" in result.output
    assert str(junk) in result.output
    assert _users() == 1


def test_restore_refuses_a_damaged_backup(app, runner, make_user, tmp_path):
    for _ in range(40):
        make_user()
    db.session.commit()
    backup = _backup(runner, tmp_path / "b.sqlite")
    data = bytearray(backup.read_bytes())
    page = 4096
    root = _table_root_page(backup, "user_account")
    start = (root - 1) * page
    data[start : start + 8] = b"\x0d\x00\x00\xff\xff\x00\x00\x00"  # a torn page header
    backup.write_bytes(bytes(data))
    result = _restore(runner, backup)
    assert result.exit_code != 0
    assert "damaged" in result.output or "not a backup" in result.output
    assert _users() == 40


def _table_root_page(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]


def test_restore_refuses_a_backup_of_a_newer_release(app, runner, make_user, tmp_path):
    make_user()
    backup = _backup(runner, tmp_path / "b.sqlite")
    conn = sqlite3.connect(backup)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    result = _restore(runner, backup)
    assert result.exit_code != 0 and "newer release" in result.output
    assert "0099_from_the_future" in result.output


def test_a_backup_of_an_older_release_is_brought_to_the_newest_schema(app, runner, tmp_path):
    backup = _backup(runner, tmp_path / "old.sqlite")
    older = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{backup}", "SECRET_KEY": "x"})
    with older.app_context():
        downgrade(revision="0009")  # as a backup made before migration 0010
        db.engine.dispose()
    result = _restore(runner, backup)
    assert result.exit_code == 0, result.output
    assert "revision 0009" in result.output and "newest schema" in result.output
    head = ScriptDirectory.from_config(migrate.get_config()).get_current_head()
    engine = create_engine(db.engine.url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
        conn.exec_driver_sql("SELECT session_version FROM user_account").all()
    engine.dispose()


def test_check_backup_names_the_file_it_checked(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"x" * 4096)
    with pytest.raises(backups.BackupError, match=f"^{junk} is not a backup"):
        backups.check_backup(junk, lambda _: True)


def test_backups_module_refuses_postgresql(tmp_path):
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(backups.BackupError, match="pg_restore"):
        backups.restore_sqlite(engine, tmp_path / "x", lambda _: True, datetime(2026, 1, 1))
