"""A per-user session version (bumped to end every session of an account at once) and the
administrator's "change the password at next login"

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 20:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch copy): the audit events and actions refer to the accounts.
    op.add_column(
        "user_account",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column(
        "user_account",
        sa.Column(
            "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )


def downgrade():
    op.drop_column("user_account", "must_change_password")
    op.drop_column("user_account", "session_version")
