"""When an invitation was e-mailed, so that it is e-mailed once

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 14:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitation") as batch_op:
        batch_op.add_column(sa.Column("emailed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("invitation") as batch_op:
        batch_op.drop_column("emailed_at")
