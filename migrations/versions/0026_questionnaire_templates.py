"""Shared questionnaire templates, and the template a version was adopted from or shared as

Revision ID: 0026_questionnaire_templates
Revises: 0025_offices
Create Date: 2026-12-07 22:00:00

questionnaire_template: one row per revision of a template an office shares (its definition as
YAML and the item codes adopting offices keep). questionnaire_version.template_id: the lineage
that lets results on those items be compared across offices. Nothing existing is changed: every
version so far is its office's own (template_id NULL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_questionnaire_templates"
down_revision = "0025_offices"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "questionnaire_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("title_zh", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("publisher_id", sa.Integer(), nullable=False),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.Column("shared_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["publisher_id"], ["office.id"], name=op.f("fk_questionnaire_template_publisher_id_office")
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"],
            ["user_account.id"],
            name=op.f("fk_questionnaire_template_shared_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_template")),
        sa.UniqueConstraint(
            "code", "revision", name=op.f("uq_questionnaire_template_code_revision")
        ),
    )
    op.create_index(
        op.f("ix_questionnaire_template_code"), "questionnaire_template", ["code"], unique=False
    )
    with op.batch_alter_table("questionnaire_version") as batch_op:
        batch_op.add_column(sa.Column("template_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_questionnaire_version_template_id_questionnaire_template",
            "questionnaire_template",
            ["template_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_questionnaire_version_template_id"), ["template_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("questionnaire_version") as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_version_template_id"))
        batch_op.drop_constraint(
            "fk_questionnaire_version_template_id_questionnaire_template", type_="foreignkey"
        )
        batch_op.drop_column("template_id")
    op.drop_index(op.f("ix_questionnaire_template_code"), table_name="questionnaire_template")
    op.drop_table("questionnaire_template")
