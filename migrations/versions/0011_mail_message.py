"""A record per e-mail message (queued, sending, sent, failed, with the reason)

Revision ID: 0011_mail_message
Revises: 0010
Create Date: 2026-12-05 22:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_mail_message"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')",
            name=op.f("ck_mail_message_status"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_mail_message_invitation_id_invitation"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["survey_round.id"], name=op.f("fk_mail_message_round_id_survey_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
    )
    op.create_index(
        op.f("ix_mail_message_invitation_id"), "mail_message", ["invitation_id"], unique=False
    )
    op.create_index(op.f("ix_mail_message_round_id"), "mail_message", ["round_id"], unique=False)
    op.create_index(op.f("ix_mail_message_status"), "mail_message", ["status"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_mail_message_status"), table_name="mail_message")
    op.drop_index(op.f("ix_mail_message_round_id"), table_name="mail_message")
    op.drop_index(op.f("ix_mail_message_invitation_id"), table_name="mail_message")
    op.drop_table("mail_message")
