"""A round's results tally as last saved (``survey.results.snapshots``): what a fresh process
starts from instead of reading a million responses again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from survey.extensions import db
from survey.models.base import utcnow


class TallySnapshot(db.Model):
    """One per round: the tally of its responses up to ``through_id`` (``responses`` of them),
    encoded by ``survey.results.snapshots`` in its ``format``; a newer save replaces it."""

    __tablename__ = "tally_snapshot"
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(Integer)
    through_id: Mapped[int] = mapped_column(Integer)
    responses: Mapped[int] = mapped_column(Integer)
    format: Mapped[int] = mapped_column(Integer)
    # Deferred: checking how fresh a snapshot is never loads its bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    saved_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
