"""Files every server shares (stored_file) and prepared exports (result_export); evidence
files move from this server's instance/attachments/ into the configured storage

Revision ID: 0012_shared_files_and_exports
Revises: 0011_mail_message
Create Date: 2026-12-05 22:30:00

The move reads this server's instance folder: a file that is not there (it stayed on another
server's disk) keeps its row and is logged, and `flask import-attachments` on that server
moves it later. The files are copied, never deleted: remove instance/attachments/ once every
server has run the import. Self-contained on purpose (a migration must not change meaning
when the app's code does): the storage layout is that of survey/storage.py at this revision.
"""

import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0012_shared_files_and_exports"
down_revision = "0011_mail_message"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    stored_file = op.create_table(
        "stored_file",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "result_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("raw", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["survey_round.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("result_export") as batch_op:
        batch_op.create_index("ix_result_export_round_id", ["round_id"], unique=False)
    move_attachments(stored_file)


def move_attachments(stored_file) -> None:
    source = Path(current_app.instance_path) / "attachments"
    shared = current_app.config.get("SHARED_FOLDER")
    bind = op.get_bind()
    names = bind.execute(sa.text("SELECT id, stored_name FROM action_attachment ORDER BY id"))
    moved = missing = 0
    for attachment_id, stored_name in names.all():
        try:
            data = (source / stored_name).read_bytes()
        except FileNotFoundError:
            missing += 1
            log.warning(
                "attachment %s: %s is not on this server; its row is kept, run "
                "`flask import-attachments` on the server that has it",
                attachment_id,
                source / stored_name,
            )
            continue
        key = f"attachments/{stored_name}"
        if shared:
            _write_shared(Path(shared), key, data)
        else:
            bind.execute(sa.delete(stored_file).where(stored_file.c.key == key))
            bind.execute(
                sa.insert(stored_file).values(
                    key=key, data=data, size=len(data), stored_at=_now()
                )
            )
        moved += 1
    if moved or missing:
        log.info("evidence files moved into the shared storage: %s, missing here: %s", moved, missing)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _write_shared(root: Path, key: str, data: bytes) -> None:
    if not root.is_dir():
        raise RuntimeError(f"SHARED_FOLDER {root} does not exist (mounted?)")
    path = root.joinpath(*key.split("/"))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def downgrade():
    # The evidence kept in the database goes back to this server's instance folder, where
    # the older release reads it (a shared folder keeps its files).
    target = Path(current_app.instance_path) / "attachments"
    rows = op.get_bind().execute(
        sa.text("SELECT key, data FROM stored_file WHERE key LIKE 'attachments/%'")
    )
    for key, data in rows.all():
        target.mkdir(parents=True, exist_ok=True)
        (target / key.split("/", 1)[1]).write_bytes(bytes(data))
    with op.batch_alter_table("result_export") as batch_op:
        batch_op.drop_index("ix_result_export_round_id")
    op.drop_table("result_export")
    op.drop_table("stored_file")
