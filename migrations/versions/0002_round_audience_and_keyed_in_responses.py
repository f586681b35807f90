"""Round audience (groups and units) and the staff member who keyed in a paper response

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("survey_round") as batch_op:
        batch_op.add_column(sa.Column("audience_groups", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("audience_units", sa.JSON(), nullable=False,
                                      server_default="[]"))
    with op.batch_alter_table("response") as batch_op:
        batch_op.add_column(sa.Column("entered_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_response_entered_by_id_user_account"),
                                    "user_account", ["entered_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("response") as batch_op:
        batch_op.drop_constraint(op.f("fk_response_entered_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_column("entered_by_id")
    with op.batch_alter_table("survey_round") as batch_op:
        batch_op.drop_column("audience_units")
        batch_op.drop_column("audience_groups")
