"""A round's figures released at a close, and held after a reopening that added too few

Revision ID: 0022_round_release
Revises: 0021_invitation_progress
Create Date: 2026-12-06 14:20:00

survey_round.released_counts: responses per respondent group code when the figures were last
released; survey_round.results_held: a later close held them back (survey.rounds.release).
Rounds closed before this migration have released their figures: their counts are filled in
from their responses, so that a reopening is checked against them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_round_release"
down_revision = "0021_invitation_progress"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("survey_round", sa.Column("released_counts", sa.JSON(), nullable=True))
    op.add_column(
        "survey_round",
        sa.Column("results_held", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    bind = op.get_bind()
    counts: dict[int, dict[str, int]] = {}
    closed = bind.execute(sa.text("SELECT id FROM survey_round WHERE status = 'closed'"))
    for (round_id,) in closed:
        counts[round_id] = {}
    rows = bind.execute(
        sa.text(
            "SELECT r.round_id, g.code, count(*) FROM response r"
            " JOIN respondent_group g ON g.id = r.group_id"
            " JOIN survey_round s ON s.id = r.round_id WHERE s.status = 'closed'"
            " GROUP BY r.round_id, g.code"
        )
    )
    for round_id, code, n in rows:
        counts[round_id][code] = int(n)
    rounds = sa.table(
        "survey_round", sa.column("id", sa.Integer), sa.column("released_counts", sa.JSON)
    )
    for round_id, by_group in counts.items():
        bind.execute(
            rounds.update().where(rounds.c.id == round_id).values(released_counts=by_group)
        )


def downgrade():
    op.drop_column("survey_round", "results_held")
    op.drop_column("survey_round", "released_counts")
