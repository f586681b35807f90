"""The register's figures: counts by state and the median days to close."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from survey import corrective
from survey.corrective import ACTIVE
from survey.extensions import db
from survey.models import ActionEvent, CorrectiveAction

# The fixtures of the corrective-action tests (rounds with chosen ratings, owners, actions).

STATUSES = (*ACTIVE, "closed", "cancelled")


def _actions() -> list[CorrectiveAction]:
    return list(db.session.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)))


def _kinds(action: CorrectiveAction) -> list[str]:
    return [
        e.kind
        for e in db.session.scalars(
            select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
        )
    ]


def test_register_counts_and_median_days_to_close(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, ready.created_at + timedelta(days=12))
    stats = corrective.register_stats(_actions(), date.today())
    assert (stats.open, stats.closed, stats.median_days_to_close) == (0, 1, 12.0)
