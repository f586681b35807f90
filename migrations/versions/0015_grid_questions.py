"""Grid questions: the grid a rating question is a row of

Revision ID: 0015_grid_questions
Revises: 0014_conditions
Create Date: 2026-12-06 02:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015_grid_questions"
down_revision = "0014_conditions"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, also on SQLite (3.35+ drops columns): a batch would copy the table,
    # which the answers' foreign keys refuse once there are answers.
    op.add_column("question", sa.Column("grid", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("question", "grid")
