"""Consistent copies of the embedded SQLite database, and restoring one."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupError(RuntimeError):
    pass


def _sqlite_file(engine: Engine, done: str, tool: str) -> str:
    """The file of the SQLite database behind ``engine``; else a BackupError naming the tool
    that does it (``done``: "backed up", "restored")."""
    if engine.dialect.name != "sqlite":
        raise BackupError(f"{engine.dialect.name} is {done} with its own tools: {tool}")
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError(f"an in-memory database cannot be {done}")
    return path


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the database behind `engine` to `target` with SQLite's online backup API: a
    consistent snapshot even while other processes write (they wait at most busy_timeout).
    Returns the number of pages copied."""
    source_path = _sqlite_file(
        engine, "backed up", "pg_dump --format=custom --file=survey.dump DATABASE_URL"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Made here, empty and for the owner only, before SQLite writes into it: a copy of
        # every answer must not be world-readable, not even for a moment. O_EXCL: never over
        # an existing file.
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise BackupError(f"{target} exists; choose a new file name") from None
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        return copy.execute("PRAGMA page_count").fetchone()[0]
    finally:
        copy.close()
        source.close()


@dataclass(frozen=True)
class Restored:
    revision: str  # the backup's schema revision, before init-db brings it to head
    pages: int
    kept: Path  # the database as it was before, beside it


def check_backup(
    path: Path, known_revision: Callable[[str], bool], name: Path | None = None
) -> str:
    """The schema revision of the SQLite backup at `path`, after checking that it is a whole,
    uncorrupted database of this app whose schema this release knows (an older or the same
    release: `flask init-db` brings it to head). Raises BackupError saying what is wrong, about
    `name` (default: `path`), the file the operator named."""
    name = name or path
    if not path.is_file():
        raise BackupError(f"{name} is not a file")
    try:
        copy = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{name} cannot be opened: {error}") from None
    try:
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"{name} is damaged: {'; '.join(problems[:5])}")
        rows = copy.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{name} is not a backup of this app: {error}") from None
    finally:
        copy.close()
    if len(rows) != 1:
        raise BackupError(f"{name} has no single schema revision (alembic_version)")
    revision = rows[0][0]
    if not known_revision(revision):
        raise BackupError(
            f"{name} has schema revision {revision}, unknown to this release: it was made by a "
            "newer release; restore it with that release"
        )
    return revision


def restore_sqlite(
    engine: Engine, backup: Path, known_revision: Callable[[str], bool], now: datetime
) -> Restored:
    """Replace the SQLite database behind `engine` by the backup at `backup`.

    The backup is checked first (check_backup) on a private copy, so that neither it nor the
    live database is touched if it is unusable. The live database is then locked exclusively:
    if any process still has it open (a server's pooled connection, a worker, a backup under
    way) the restore is refused, since that process would go on from the old data. The current
    database is kept beside it as `<name>.<time>.before-restore`, and the backup's pages are
    written into the live file through SQLite's backup API, under the lock, so that its
    `-wal` and `-shm` files stay consistent with it (copying a file over a database whose
    `-wal` remains corrupts it). The schema is left at the backup's revision: run init-db."""
    live_path = _sqlite_file(
        engine, "restored", "pg_restore --dbname=... survey.dump into an empty database"
    )
    live_file = Path(live_path)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    staging = live_file.with_name(f"{live_file.name}.{stamp}.restoring")
    kept = live_file.with_name(f"{live_file.name}.{stamp}.before-restore")
    if kept.exists():
        raise BackupError(f"{kept} exists; try again in a second")
    engine.dispose()  # this process's own pooled connections
    if not live_file.exists():  # a new machine: the empty database the app would make
        live_file.parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(live_file).execute("PRAGMA journal_mode=WAL").connection.close()
    _private_copy(backup, staging)
    try:
        revision = check_backup(staging, known_revision, name=backup)
        live = sqlite3.connect(live_path, timeout=1, isolation_level=None)
        try:
            try:
                # Held until close: no other connection can open the database meanwhile.
                live.execute("PRAGMA locking_mode=EXCLUSIVE")
                live.execute("BEGIN EXCLUSIVE")
                live.execute("COMMIT")
            except sqlite3.OperationalError:
                raise BackupError(
                    f"{live_path} is in use: stop every app server and worker, then restore"
                ) from None
            _private_copy_from(live, kept)
            source = sqlite3.connect(staging)
            try:
                source.backup(live)
                pages = live.execute("PRAGMA page_count").fetchone()[0]
            finally:
                source.close()
        finally:
            live.close()
    finally:
        for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
            leftover.unlink(missing_ok=True)
    return Restored(revision=revision, pages=pages, kept=kept)


def _private_copy(source: Path, target: Path) -> None:
    """A copy of the database file `source` (its `-wal` included, if someone left one),
    readable by its owner only. Without a `-wal` the file is read as immutable, so that reading
    it leaves no `-wal` and `-shm` files beside it."""
    has_wal = Path(f"{source}-wal").exists()
    options = "mode=ro" if has_wal else "mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(f"{source.resolve().as_uri()}?{options}", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{source} cannot be opened: {error}") from None
    try:
        _private_copy_from(connection, target)
    except sqlite3.DatabaseError as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"{source} is not a backup of this app: {error}") from None
    finally:
        connection.close()


def _private_copy_from(connection: sqlite3.Connection, target: Path) -> None:
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    copy = sqlite3.connect(target)
    try:
        connection.backup(copy)
    finally:
        copy.close()
