"""Tally snapshots: each round's results tally as last saved, so that a fresh process does not
read every response again

Revision ID: 0018_tally_snapshots
Revises: 0017_api_tokens
Create Date: 2026-12-06 06:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018_tally_snapshots"
down_revision = "0017_api_tokens"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tally_snapshot",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("through_id", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["survey_round.id"],
            name=op.f("fk_tally_snapshot_round_id_survey_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_tally_snapshot")),
    )


def downgrade():
    op.drop_table("tally_snapshot")
