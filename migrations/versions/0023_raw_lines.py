"""Packed raw lines: each response's answer cells of the raw answers CSV in one row

Revision ID: 0023_raw_lines
Revises: 0022_round_release
Create Date: 2026-12-06 17:30:00

raw_line: per response, the cells its raw answers CSV line has after the response's facts,
with the stamp of what they depend on (survey.results.raw_store). A cache: empty after the
upgrade, filled by the worker's exports; the downgrade drops it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_raw_lines"
down_revision = "0022_round_release"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "raw_line",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_raw_line_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_raw_line")),
    )


def downgrade():
    op.drop_table("raw_line")
