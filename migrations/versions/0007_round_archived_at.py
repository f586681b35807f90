"""When a round was archived: hidden from the default lists, kept read-only with its results

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 16:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("survey_round") as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("survey_round") as batch_op:
        batch_op.drop_column("archived_at")
