"""Rounds, invitations, responses and answers: one response per invitation, in the schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import new_token, utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import RespondentGroup, Unit
from survey.models.questionnaires import QuestionnaireVersion
from survey.text_types import String, Text

RESPONSE_SOURCES = ("web", "paper", "meeting")
# The answers that carry text: the condition of the partial index ix_answer_written.
WRITTEN = "text IS NOT NULL OR comment IS NOT NULL"


class Round(OfficeOwned, db.Model):
    """A questionnaire version sent to an audience in a period, e.g. "2004 autumn"."""

    __tablename__ = "survey_round"
    __table_args__ = (CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    opens_at: Mapped[datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymity_threshold: Mapped[int] = mapped_column(Integer, default=5)
    # Low-score thresholds, e.g. {"rate": 0.8, "mean": 3.5}; empty means the defaults.
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Optional weight per respondent group code, e.g. {"mayors": 0.4, ...}.
    weights: Mapped[dict[str, float] | None] = mapped_column(JSON)
    # Codes of the respondent groups invited; empty means every group of the version.
    audience_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Codes of the units invited; empty means every active unit of the audience groups.
    audience_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Responses per respondent group code when the round's figures were last released (at a
    # close), and whether a later close held them back: reopened and closed again with fewer
    # than the anonymity threshold of new responses in some group, whose answers the two
    # closes' figures would show by difference (``survey.rounds.release``).
    released_counts: Mapped[dict[str, int] | None] = mapped_column(JSON)
    results_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An archived round is closed and done with: out of the default lists, read-only.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)

    version: Mapped[QuestionnaireVersion] = relationship()
    invitations: WriteOnlyMapped[Invitation] = relationship(back_populates="round")

    def accepts_answers(self, now: datetime) -> bool:
        return accepts(self, now)

    @property
    def results_final(self) -> bool:
        """Closed with its figures released: they no longer move, so they may be compared
        with, trended, turned into actions and shown to every reader."""
        return self.status == "closed" and not self.results_held


def accepts(round_: Any, now: datetime) -> bool:
    """Whether a round (or anything with its status, opens_at and closes_at) takes answers at
    `now`: open by status and, where dates are set, between opening and closing."""
    if round_.status != "open":
        return False
    if round_.opens_at and now < round_.opens_at:
        return False
    return not (round_.closes_at and now >= round_.closes_at)


class Invitation(OfficeOwned, db.Model):
    """A personal link to one round for one respondent unit (or a named person of it)."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint("status IN ('sent', 'started', 'submitted', 'revoked')", name="status"),
        # A round's response rate per group from the index alone: counting a million
        # invitations through an index on round_id only visits every row of the table
        # (0.5 s or more on SQLite), the first dashboard of a fresh process waits for it.
        # The office last: every ORM count carries it (survey.tenancy), still from the index.
        Index("ix_invitation_round_progress", "round_id", "group_id", "status", "office_id"),
    )
    # Reached through its round (or its token): no index of its own.
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), active_history=True)
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id"))
    person_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), default="sent")
    # Answers saved with "save and continue later": {question code: posted value(s)}.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the invitation itself was e-mailed: it is e-mailed once, however often "send" is
    # pressed (reminders are separate).
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[Round] = relationship(back_populates="invitations")
    unit: Mapped[Unit] = relationship()
    group: Mapped[RespondentGroup] = relationship()


class Response(db.Model):
    """One submitted questionnaire. In an anonymous round it keeps the respondent group (and no
    unit, no invitation): the invitation is only marked submitted in the same transaction."""

    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint("source IN ('web', 'paper', 'meeting')", name="source"),
        # A round's responses by id: its count and highest id (the data version of its cached
        # results) from the index alone, the responses after a given id (the delta of new
        # answers, the raw export's pages) as one range. PostgreSQL cannot find max(id) of a
        # round with an index on round_id only: it walks the primary key backwards instead.
        Index("ix_response_round_id_id", "round_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"))
    # Unique: one response per invitation, enforced by the database, not by a check in Python.
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id"), unique=True)
    # The idempotency key rendered into the form: a double click posts the same key twice.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_group.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    source: Mapped[str] = mapped_column(String(20), default="web")
    # The staff member who keyed in a paper questionnaire or meeting feedback.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    group: Mapped[RespondentGroup] = relationship()


class Answer(db.Model):
    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        # The few answers with text (free text, choice codes, comments: about one in twelve),
        # which the answer frame and the comments read without scanning all the answers.
        Index(
            "ix_answer_written",
            "response_id",
            postgresql_where=text(WRITTEN),
            sqlite_where=text(WRITTEN),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(40))
    # Rating and NPS answers; choice codes and free text go to `text`.
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # The follow-up asked when a rating is in the bottom two points.
    comment: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")


class RawLine(db.Model):
    """A response's answer cells of the raw answers CSV, packed into one row (the cells after
    the response's facts, comma-separated as the CSV writes them), so that the export reads one
    row per response instead of its ~20 answers (``survey.results.raw_store``). A cache: each
    row carries the ``stamp`` of what its cells depend on (the layout's code, the version's
    questions and the response's group), and one that is missing or stale is made again from
    the answers; it goes with its response (ON DELETE CASCADE)."""

    __tablename__ = "raw_line"
    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    stamp: Mapped[int] = mapped_column(BigInteger)
    cells: Mapped[str] = mapped_column(Text)
