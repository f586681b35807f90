"""Anonymous rounds keep nothing that ties a response to a unit or a person: what earlier
releases (or a round made anonymous after it was answered) left behind is erased.

- Every response of an anonymous round loses its invitation and unit, and its time of
  submission becomes its day (00:00 UTC), as the respondent's form stores it today.
- Every invitation of an anonymous round loses the times of its opening, answering and
  reminders; those of a closed anonymous round lose their names, e-mail addresses, the time
  they were e-mailed and any saved draft too (survey.rounds.forget_invitees).

Nothing comes back on a downgrade: the erased values are gone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

rounds = sa.table(
    "survey_round",
    sa.column("id", sa.Integer),
    sa.column("anonymous", sa.Boolean),
    sa.column("status", sa.String),
)
responses = sa.table(
    "response",
    sa.column("id", sa.Integer),
    sa.column("round_id", sa.Integer),
    sa.column("invitation_id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("submitted_at", sa.DateTime),
)
invitations = sa.table(
    "invitation",
    sa.column("round_id", sa.Integer),
    sa.column("person_name", sa.String),
    sa.column("email", sa.String),
    sa.column("draft", sa.JSON),
    sa.column("opened_at", sa.DateTime),
    sa.column("submitted_at", sa.DateTime),
    sa.column("reminded_at", sa.DateTime),
    sa.column("emailed_at", sa.DateTime),
)


def upgrade():
    bind = op.get_bind()
    anonymous = sa.select(rounds.c.id).where(rounds.c.anonymous == sa.true())
    closed = anonymous.where(rounds.c.status == "closed")
    in_anonymous = responses.c.round_id.in_(anonymous)
    bind.execute(
        sa.update(responses).where(in_anonymous).values(invitation_id=None, unit_id=None)
    )
    times = bind.execute(
        sa.select(responses.c.submitted_at).where(in_anonymous).distinct()
    ).scalars()
    for moment in list(times):
        day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if day != moment:
            bind.execute(
                sa.update(responses)
                .where(in_anonymous, responses.c.submitted_at == moment)
                .values(submitted_at=day)
            )
    bind.execute(
        sa.update(invitations)
        .where(invitations.c.round_id.in_(anonymous))
        .values(opened_at=None, submitted_at=None, reminded_at=None)
    )
    bind.execute(
        sa.update(invitations)
        .where(invitations.c.round_id.in_(closed))
        .values(person_name=None, email=None, emailed_at=None, draft=None)
    )


def downgrade():
    pass  # the erased links, names and times are gone
