"""Prepared exports count the raw answers' rows written and to write, for the progress page

Revision ID: 0020_export_rows
Revises: 0019_answer_indexes
Create Date: 2026-12-06 05:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020_export_rows"
down_revision = "0019_answer_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("result_export", sa.Column("rows_done", sa.Integer(), nullable=True))
    op.add_column("result_export", sa.Column("rows_total", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("result_export", "rows_total")
    op.drop_column("result_export", "rows_done")
