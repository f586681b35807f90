"""Notes on items (a lowest rating with a comment is a note for the quality lead, not an
action by itself), the drop rule's adjusted p-value and test on an action, and the queue's
severities on the new scale (gap x certainty)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00

"""
import math

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The defaults of analysis.alerts.Thresholds and the 1..5 scale of the shipped questionnaires:
# what an action stored before this revision was found with.
RATE, Z95 = 0.8, 1.959963984540054


def upgrade():
    op.create_table(
        "item_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_code", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("served_unit", sa.String(length=40), nullable=True),
        sa.Column("group_code", sa.String(length=40), nullable=True),
        sa.Column("note_key", sa.String(length=100), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("observed", sa.Double(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("ci_low", sa.Double(), nullable=True),
        sa.Column("ci_high", sa.Double(), nullable=True),
        sa.Column("severity", sa.Double(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("turned_by_id", sa.Integer(), nullable=True),
        sa.Column("turned_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["corrective_action.id"],
            name=op.f("fk_item_note_action_id_corrective_action"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["survey_round.id"], name=op.f("fk_item_note_round_id_survey_round")
        ),
        sa.ForeignKeyConstraint(
            ["turned_by_id"], ["user_account.id"],
            name=op.f("fk_item_note_turned_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_note")),
        sa.UniqueConstraint("note_key", name=op.f("uq_item_note_note_key")),
    )
    op.create_index(op.f("ix_item_note_round_id"), "item_note", ["round_id"], unique=False)
    # Plain ALTER TABLE, also on SQLite (3.35+ drops columns): a batch would copy the table,
    # which the action events' foreign keys refuse once there are actions.
    op.add_column("corrective_action", sa.Column("p_adjusted", sa.Double(), nullable=True))
    op.add_column("corrective_action", sa.Column("p_test", sa.String(length=10), nullable=True))
    _rescale_severities()


def downgrade():
    op.drop_column("corrective_action", "p_test")
    op.drop_column("corrective_action", "p_adjusted")
    op.drop_index(op.f("ix_item_note_round_id"), table_name="item_note")
    op.drop_table("item_note")


def _normal(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _severity(rule, observed, n, threshold, ci_low, ci_high, p_value) -> float:
    """The stored figures on the scale of analysis.alerts: gap (0..1) x certainty."""
    if rule == "significant_drop":
        if threshold is None or p_value is None:
            return 0.0
        return max(threshold - observed, 0.0) * (1 - p_value)  # p unadjusted: all there is
    if rule == "mean_below":
        if threshold is None or ci_low is None or ci_high is None:
            return 0.0
        se = (ci_high - ci_low) / (2 * Z95)
        shortfall = threshold - observed
        sure = (1.0 if shortfall > 0 else 0.0) if se == 0 else _normal(shortfall / se)
        return max(shortfall / 4, 0.0) * sure  # a 1..5 scale spans 4 points
    # rate_below and a lowest rating with a comment: the rate against the (default) threshold.
    t = threshold if rule == "rate_below" and threshold is not None else RATE
    gap = max(t - observed, 0.0)
    return gap * _normal(gap / math.sqrt(t * (1 - t) / n)) if n else 0.0


def _rescale_severities():
    action = sa.table(
        "corrective_action",
        *(sa.column(name) for name in ("id", "rule", "observed", "n", "threshold",
                                       "ci_low", "ci_high", "p_value", "severity")),
    )  # fmt: skip
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(action.c.id, action.c.rule, action.c.observed, action.c.n,
                  action.c.threshold, action.c.ci_low, action.c.ci_high, action.c.p_value)
    ).all()  # fmt: skip
    for id_, *figures in rows:
        bind.execute(
            action.update().where(action.c.id == id_).values(severity=_severity(*figures))
        )
