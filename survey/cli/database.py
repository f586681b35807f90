"""`flask init-db`, `flask backup` and `flask restore`: the database's schema and copies."""

from __future__ import annotations

from pathlib import Path

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from survey import audit, backups
from survey.extensions import db, migrate
from survey.models import utcnow


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations to head)."""
    upgrade()
    click.echo("database at the newest schema")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Copy the live SQLite database to PATH, consistently, while the app keeps running (SQLite's
    online backup API). For PostgreSQL use pg_dump (see the README)."""
    try:
        pages = backups.backup_sqlite(db.engine, path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup {path} ({pages} pages)")
    try:
        audit.record("backup", target=str(path), pages=pages)
        db.session.commit()
    except SQLAlchemyError as error:
        # The copy is complete and usable: say that its record is missing, and succeed.
        db.session.rollback()
        click.echo(f"warning: the backup's audit record could not be written: {error}", err=True)


def _known_revision(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(migrate.get_config())
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore(path: Path) -> None:
    """Replace the SQLite database by the backup at PATH, then bring its schema to head. Stop
    every app server and worker first: the restore is refused while any has the database open.
    The backup is checked first (integrity, schema revision), and the replaced database is kept
    beside it as *.before-restore. For PostgreSQL use pg_restore (see the README)."""
    try:
        restored = backups.restore_sqlite(db.engine, path, _known_revision, utcnow())
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {path} (revision {restored.revision}, {restored.pages} pages)")
    click.echo(f"the database as it was before: {restored.kept}")
    upgrade()
    audit.record("restore", target=str(path), before=str(restored.kept), pages=restored.pages)
    db.session.commit()
    click.echo("database at the newest schema")


COMMANDS = (init_db, backup, restore)
