"""Corrective actions (ISO 9001 10.2): low scores become tracked actions with an append-only
history, steps, attachments, and the "you said, we did" summaries."""

from __future__ import annotations

from datetime import (
    date,
    datetime,
)
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import User
from survey.models.rounds import Round
from survey.text_types import String, Text

ACTION_STATUSES = (
    "open",
    "investigating",
    "planned",
    "implemented",
    "verification",
    "closed",
    "cancelled",
)
# An action still being worked on (the queue's); the others ended.
ACTIVE_STATUSES = ("open", "investigating", "planned", "implemented", "verification")
# Who leads quality in an office: runs the action queue, reads its results (an administrator
# may do all a lead does).
LEAD_ROLES = ("quality_lead", "admin")
STEP_KINDS = ("immediate", "corrective", "preventive", "improvement")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class CorrectiveAction(OfficeOwned, db.Model):
    """A nonconformity found by a low-score rule, followed from reaction to verified closure.

    The source figures (rule, observed value, n, interval, threshold, evidence class, comments)
    are those of the round the rule fired in; they never change once the round is closed.
    """

    __tablename__ = "corrective_action"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(ACTION_STATUSES)}", name="status"),
        CheckConstraint("evidence IN ('confirmed', 'possible')", name="evidence"),
        UniqueConstraint("office_id", "open_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(80))
    served_unit: Mapped[str | None] = mapped_column(String(40))
    # The respondent group the rule fired for; None when it fired on the whole round.
    group_code: Mapped[str | None] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(40))
    observed: Mapped[float]
    n: Mapped[int] = mapped_column(Integer)
    ci_low: Mapped[float | None]
    ci_high: Mapped[float | None]
    threshold: Mapped[float | None]
    severity: Mapped[float]
    evidence: Mapped[str] = mapped_column(String(20))
    p_value: Mapped[float | None]
    # The drop rule's Benjamini-Hochberg adjusted p-value and the test of p_value ("z" or
    # "fisher"); None for the other rules and for actions found before they were recorded.
    p_adjusted: Mapped[float | None]
    p_test: Mapped[str | None] = mapped_column(String(10))
    comments: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "question|served_unit" while the action is open, NULL once closed or cancelled: the unique
    # constraint keeps at most one open action per item (NULLs never collide).
    open_key: Mapped[str | None] = mapped_column(String(90))
    status: Mapped[str] = mapped_column(String(20), default="open")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date | None]
    # Investigation (ISO 9001 10.2.1 a-b): containment, root cause, the same problem elsewhere.
    containment: Mapped[str | None] = mapped_column(Text)
    cause_method: Mapped[str | None] = mapped_column(String(20))
    cause_category: Mapped[str | None] = mapped_column(String(40))
    root_cause: Mapped[str | None] = mapped_column(Text)
    elsewhere: Mapped[bool | None]
    elsewhere_note: Mapped[str | None] = mapped_column(Text)
    action_taken: Mapped[str | None] = mapped_column(Text)
    # Verification against the next round of the same questionnaire.
    verification_round_id: Mapped[int | None] = mapped_column(ForeignKey("survey_round.id"))
    rate_before: Mapped[float | None]
    rate_after: Mapped[float | None]
    n_after: Mapped[int | None] = mapped_column(Integer)
    verification_p: Mapped[float | None]
    result: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The due date a reminder was last sent for, so that the daily job sends each one once.
    owner_reminded_for: Mapped[date | None]
    lead_reminded_for: Mapped[date | None]

    round: Mapped[Round] = relationship(foreign_keys=[round_id])
    verification_round: Mapped[Round | None] = relationship(foreign_keys=[verification_round_id])
    owner: Mapped[User | None] = relationship()
    events: Mapped[list[ActionEvent]] = relationship(
        back_populates="action", order_by="ActionEvent.id", passive_deletes="all"
    )
    steps: Mapped[list[ActionStep]] = relationship(
        back_populates="action", order_by="ActionStep.id"
    )
    attachments: Mapped[list[ActionAttachment]] = relationship(
        back_populates="action", order_by="ActionAttachment.id"
    )


class ItemNote(OfficeOwned, db.Model):
    """A rating at the bottom of the scale given with a comment, on an item of a round: a note
    for the quality lead, never a corrective action by itself (one respondent's word). The
    lead may turn it into an action (``action``, ``turned_by``, ``turned_at``). One note per
    round and item (question and served unit), ``note_key`` unique; running the rules again
    updates its figures and comments."""

    __tablename__ = "item_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(80))
    served_unit: Mapped[str | None] = mapped_column(String(40))
    group_code: Mapped[str | None] = mapped_column(String(40))
    # "round_id|question|served_unit": one note per round and item (NULLs would not collide).
    note_key: Mapped[str] = mapped_column(String(100), unique=True)
    rule: Mapped[str] = mapped_column(String(40))
    # The item's satisfaction rate, n and 95% interval in the round, and the rule's severity.
    observed: Mapped[float]
    n: Mapped[int] = mapped_column(Integer)
    ci_low: Mapped[float | None]
    ci_high: Mapped[float | None]
    severity: Mapped[float]
    comments: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"))
    turned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    turned_at: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[Round] = relationship()
    action: Mapped[CorrectiveAction | None] = relationship()
    turned_by: Mapped[User | None] = relationship()


class ActionEvent(db.Model):
    """One entry of an action's history: who, when, from which status to which, and what.
    Append-only: the ORM refuses to update or delete a stored event (see below)."""

    __tablename__ = "action_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None: the system (the rules, the reminder job).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    action: Mapped[CorrectiveAction] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ActionStep(db.Model):
    """A step of the plan: immediate, corrective, preventive or improvement, with its owner."""

    __tablename__ = "action_step"
    __table_args__ = (CheckConstraint(f"kind IN {_in(STEP_KINDS)}", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date]
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="steps")
    owner: Mapped[User] = relationship()


class ActionAttachment(db.Model):
    """An evidence file, kept in the shared storage (``survey.storage``) by a random name."""

    __tablename__ = "action_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User] = relationship()


class ActionSummary(OfficeOwned, db.Model):
    """ "You said, we did": what a respondent group rated low in a round and what was done,
    shown on the group's invitation pages of the following rounds once published."""

    __tablename__ = "action_summary"
    __table_args__ = (UniqueConstraint("round_id", "group_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"))
    group_code: Mapped[str] = mapped_column(String(40))
    you_said: Mapped[str] = mapped_column(Text)
    we_did: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    round: Mapped[Round] = relationship()


@event.listens_for(ActionEvent, "before_update")
@event.listens_for(ActionEvent, "before_delete")
def _history_is_append_only(_mapper, _connection, target: ActionEvent) -> None:
    raise ValueError(f"action event {target.id} is part of the record and cannot be changed")
