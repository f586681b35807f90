"""Consistent copies of the embedded SQLite database."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupError(RuntimeError):
    pass


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the database behind `engine` to `target` with SQLite's online backup API: a
    consistent snapshot even while other processes write (they wait at most busy_timeout).
    Returns the number of pages copied."""
    if engine.dialect.name != "sqlite":
        raise BackupError(
            f"{engine.dialect.name} is backed up with its own tools: "
            "pg_dump --format=custom --file=survey.dump DATABASE_URL"
        )
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
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
