"""Saved tallies stored uncompressed on PostgreSQL, so that a page of one is read alone

Revision ID: 0024_tally_uncompressed
Revises: 0023_raw_lines
Create Date: 2026-12-07 00:45:00

tally_snapshot.data: STORAGE EXTERNAL (out of line, not compressed). survey.results.snapshots
reads a snapshot a page at a time (substring of the bytea); of a compressed value PostgreSQL
decompresses everything before the page for each page, which made reading a million responses'
snapshot in 4 MB pages 1.2 s instead of 0.4. The snapshots saved before are rewritten
uncompressed. SQLite: nothing to do. The downgrade sets the default (EXTENDED) again.
"""

from alembic import op

revision = "0024_tally_uncompressed"
down_revision = "0023_raw_lines"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE tally_snapshot ALTER COLUMN data SET STORAGE EXTERNAL")
    # A new value (the same bytes) is stored as the column now says.
    op.execute("UPDATE tally_snapshot SET data = data || ''::bytea WHERE data IS NOT NULL")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE tally_snapshot ALTER COLUMN data SET STORAGE EXTENDED")
