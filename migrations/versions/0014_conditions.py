"""Conditions (skip logic): a question's and a section's show_if

Revision ID: 0014_conditions
Revises: 0013_scale_library
Create Date: 2026-12-06 02:15:00

The condition's source text (questionnaires.conditions); NULL, the value of every existing
row, means always shown.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_conditions"
down_revision = "0013_scale_library"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy would drop and rebuild
    # `question` and `section`, which answers and questions refer to (foreign keys are on).
    op.add_column("question", sa.Column("show_if", sa.Text(), nullable=True))
    op.add_column("section", sa.Column("show_if", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("section", "show_if")
    op.drop_column("question", "show_if")
