"""The office's scale library (table scale); number and text limits of a question
(question.min_value, max_value, max_length)

Revision ID: 0013_scale_library
Revises: 0012_shared_files_and_exports
Create Date: 2026-12-06 02:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_scale_library"
down_revision = "0012_shared_files_and_exports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scale",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("satisfied", sa.JSON(), nullable=False),
        sa.Column("dissatisfied", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_scale_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_scale_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scale")),
        sa.UniqueConstraint("code", name=op.f("uq_scale_code")),
    )
    # Plain ADD/DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy of `question` would
    # drop the table that answers refer to.
    op.add_column("question", sa.Column("min_value", sa.Integer(), nullable=True))
    op.add_column("question", sa.Column("max_value", sa.Integer(), nullable=True))
    op.add_column("question", sa.Column("max_length", sa.Integer(), nullable=True))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ drops columns): a batch would copy the question table,
    # which the answer table's foreign key forbids dropping on SQLite.
    op.drop_column("question", "max_length")
    op.drop_column("question", "max_value")
    op.drop_column("question", "min_value")
    op.drop_table("scale")
