"""`flask init-db` and `flask backup`: the database's schema and copies."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy.exc import SQLAlchemyError

from survey import audit, backups
from survey.extensions import db


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


COMMANDS = (init_db, backup)
