"""Round dates as calendar days at the office: rounds made by the round form kept their first
day as 00:00 UTC and their last day as 23:59:59 UTC, which is 08:00 and the next day's 07:59 in
Beijing. They become 00:00 of the first day and 24:00 of the last day at the office.

Only values with those exact times are the form's; others (set by hand or by the demo, to the
second) are left as they are. The office's time zone is read as the app reads it:
SURVEY_BABEL_DEFAULT_TIMEZONE, else Asia/Shanghai.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 14:20:00

"""

import json
import os
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LAST_SECOND = time(23, 59, 59)


def _zone() -> ZoneInfo:
    raw = os.environ.get("SURVEY_BABEL_DEFAULT_TIMEZONE")
    return ZoneInfo(json.loads(raw) if raw and raw.startswith('"') else raw or "Asia/Shanghai")


def _utc(day, zone) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def upgrade():
    zone = _zone()
    rounds = sa.table(
        "survey_round", sa.column("id", sa.Integer), sa.column("opens_at", sa.DateTime),
        sa.column("closes_at", sa.DateTime),
    )  # fmt: skip
    bind = op.get_bind()
    for id_, opens, closes in bind.execute(
        sa.select(rounds.c.id, rounds.c.opens_at, rounds.c.closes_at)
    ):
        values = {}
        if opens is not None and opens.time() == time.min:
            values["opens_at"] = _utc(opens.date(), zone)
        if closes is not None and closes.time() == LAST_SECOND and not closes.microsecond:
            values["closes_at"] = _utc(closes.date() + timedelta(days=1), zone)
        if values:
            bind.execute(sa.update(rounds).where(rounds.c.id == id_).values(**values))


def downgrade():
    pass  # the old values were a day off; nothing to go back to
