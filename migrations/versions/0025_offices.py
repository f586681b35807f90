"""Offices: one installation serves several government offices

Revision ID: 0025_offices
Revises: 0024_tally_uncompressed
Create Date: 2026-12-07 18:40:00

office: the tenants. membership: a user's role in an office (user_account.role moves there).
office_id on the rows an office owns (survey.models.OfficeOwned); the codes that were unique in
the installation (units, groups, questionnaires, scales, an open action's item) are unique in
their office. Everything there was belongs to the first office, which this migration creates
(rename it with ``flask offices rename``).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0025_offices"
down_revision = "0024_tally_uncompressed"
branch_labels = None
depends_on = None

# table -> the column that was unique in the installation and is now unique in its office
OWNED = {
    "respondent_group": "code",
    "unit": "code",
    "questionnaire": "code",
    "questionnaire_version": None,
    "survey_round": None,
    "invitation": None,
    "corrective_action": "open_key",
    "item_note": None,
    "action_summary": None,
    "scale": "code",
    "api_token": None,
    "webhook_endpoint": None,
    "webhook_delivery": None,
    "audit_event": None,
    "mail_message": None,
    "result_export": None,
}
# Rows of these may belong to no office (a login's audit event, a password link's mail).
OPTIONAL = {"audit_event", "mail_message"}
# Reached through their round: the round's covering index takes the office as its last column.
UNINDEXED = {"invitation"}
PROGRESS = ("round_id", "group_id", "status")
ROLES = "role IN ('respondent', 'designer', 'quality_lead', 'admin')"


def upgrade():
    office = op.create_table(
        "office",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office")),
        sa.UniqueConstraint("code", name=op.f("uq_office_code")),
    )
    op.bulk_insert(
        office,
        [
            {
                "id": 1,
                "code": "shaoxing",
                "name_zh": "绍兴市人民政府办公室",
                "name_en": "Shaoxing Municipal Government Office",
                "position": 0,
                "created_at": datetime.now(UTC).replace(tzinfo=None),
            }
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('office_id_seq', (SELECT max(id) FROM office))")
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(ROLES, name=op.f("ck_membership_role")),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_membership_office_id_office")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_membership_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("user_id", "office_id", name=op.f("uq_membership_user_id_office_id")),
    )
    op.create_index(op.f("ix_membership_office_id"), "membership", ["office_id"])
    op.create_index(op.f("ix_membership_user_id"), "membership", ["user_id"])
    op.execute(
        "INSERT INTO membership (user_id, office_id, role, created_at)"
        " SELECT id, 1, role, created_at FROM user_account ORDER BY id"
    )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_constraint("role", type_="check")
        batch_op.drop_column("role")

    for table, unique in OWNED.items():
        if table == "invitation":
            op.drop_index("ix_invitation_round_progress", table_name="invitation")
        op.add_column(table, sa.Column("office_id", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET office_id = 1")
        with op.batch_alter_table(table) as batch_op:
            if table not in OPTIONAL:
                batch_op.alter_column("office_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                f"fk_{table}_office_id_office", "office", ["office_id"], ["id"]
            )
            if table not in UNINDEXED:
                batch_op.create_index(f"ix_{table}_office_id", ["office_id"])
            if unique:
                batch_op.drop_constraint(f"uq_{table}_{unique}", type_="unique")
                batch_op.create_unique_constraint(
                    f"uq_{table}_office_id_{unique}", ["office_id", unique]
                )
    op.create_index(
        "ix_invitation_round_progress", "invitation", [*PROGRESS, "office_id"]
    )


def downgrade():
    op.drop_index("ix_invitation_round_progress", table_name="invitation")
    offices = op.get_bind().execute(sa.text("SELECT count(*) FROM office")).scalar()
    if offices > 1:
        raise RuntimeError("several offices: an installation of one office cannot hold them")
    for table, unique in reversed(OWNED.items()):
        with op.batch_alter_table(table) as batch_op:
            if unique:
                batch_op.drop_constraint(f"uq_{table}_office_id_{unique}", type_="unique")
                batch_op.create_unique_constraint(f"uq_{table}_{unique}", [unique])
            if table not in UNINDEXED:
                batch_op.drop_index(f"ix_{table}_office_id")
            batch_op.drop_constraint(f"fk_{table}_office_id_office", type_="foreignkey")
            batch_op.drop_column("office_id")
    op.create_index("ix_invitation_round_progress", "invitation", list(PROGRESS))
    op.add_column("user_account", sa.Column("role", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE user_account SET role = coalesce((SELECT m.role FROM membership m"
        " WHERE m.user_id = user_account.id AND m.office_id = 1), 'respondent')"
    )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("role", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_check_constraint("role", ROLES)
    op.drop_index(op.f("ix_membership_user_id"), table_name="membership")
    op.drop_index(op.f("ix_membership_office_id"), table_name="membership")
    op.drop_table("membership")
    op.drop_table("office")
