"""A round's response rate per group from an index: invitations by round, group and status

Revision ID: 0021_invitation_progress
Revises: 0020_export_rows
Create Date: 2026-12-06 09:30:00

ix_invitation_round_progress replaces ix_invitation_round_id (its first column is round_id, so
it serves every lookup by round too): the dashboard's response rate per group is counted from
it alone, instead of visiting each of a million invitations in the table.
"""

from alembic import op

revision = "0021_invitation_progress"
down_revision = "0020_export_rows"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_invitation_round_progress",
        "invitation",
        ["round_id", "group_id", "status"],
        unique=False,
    )
    op.drop_index("ix_invitation_round_id", table_name="invitation")


def downgrade():
    op.create_index("ix_invitation_round_id", "invitation", ["round_id"], unique=False)
    op.drop_index("ix_invitation_round_progress", table_name="invitation")
