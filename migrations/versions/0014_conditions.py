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
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_if", sa.Text(), nullable=True))
    with op.batch_alter_table("section", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_if", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("section", schema=None) as batch_op:
        batch_op.drop_column("show_if")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_column("show_if")
