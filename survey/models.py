"""The database schema: typed SQLAlchemy 2.0 models of the architecture's domain model."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from survey.extensions import db
from survey.text_types import String, Text

ROLES = ("respondent", "designer", "quality_lead", "admin")
ROUND_STATUSES = ("draft", "open", "closed")
INVITATION_STATUSES = ("sent", "started", "submitted", "revoked")
RESPONSE_SOURCES = ("web", "paper", "meeting")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_token() -> str:
    # 32 bytes = 256 bits, well over the 128 bits the architecture asks for.
    return secrets.token_urlsafe(32)


class RespondentGroup(db.Model):
    """A group of respondent units that sees its own set of questions (e.g. the mayors)."""

    __tablename__ = "respondent_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    units: Mapped[list[Unit]] = relationship(back_populates="group")

    def label(self, lang: str) -> str:
        return self.label_en if lang.startswith("en") else self.label_zh


class Unit(db.Model):
    """An organisation: a respondent unit (in a group) or a served unit of the office."""

    __tablename__ = "unit"
    __table_args__ = (CheckConstraint("kind IN ('respondent', 'served')", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("respondent_group.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[RespondentGroup | None] = relationship(back_populates="units")

    def name(self, lang: str) -> str:
        return self.name_en if lang.startswith("en") else self.name_zh


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('respondent', 'designer', 'quality_lead', 'admin')", name="role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def shown_name(self) -> str:
        """How the user is named on pages and records: the display name, else the e-mail."""
        return self.display_name or self.email

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @classmethod
    def by_email(cls, email: str):
        return select(cls).where(cls.email == email.strip().lower())


class Questionnaire(db.Model):
    __tablename__ = "questionnaire"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number"
    )


class QuestionnaireVersion(db.Model):
    """One version of a questionnaire. Frozen once a round uses it: past results keep meaning."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "number"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    # Codes of the respondent groups the version addresses, in their order in the file.
    group_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    served_unit_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The scales the file declared, kept so that an export reads back to the same definition.
    scales: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # sha256 of the canonical YAML export: loading the same file twice makes no new version.
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(DateTime)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    sections: Mapped[list[Section]] = relationship(
        back_populates="version", order_by="Section.position", cascade="all, delete-orphan"
    )

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class Section(db.Model):
    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("version_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)

    version: Mapped[QuestionnaireVersion] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("version_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(80))
    served_unit: Mapped[str | None] = mapped_column(String(40))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"code": ..., "points": [{"value": 1, "zh": ..., "en": ...}, ...]} for rating and nps.
    scale: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [{"code": ..., "zh": ..., "en": ...}, ...] for choice and multi.
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    follow_up_zh: Mapped[str | None] = mapped_column(Text)
    follow_up_en: Mapped[str | None] = mapped_column(Text)
    help_zh: Mapped[str | None] = mapped_column(Text)
    help_en: Mapped[str | None] = mapped_column(Text)

    section: Mapped[Section] = relationship(back_populates="questions")
    version: Mapped[QuestionnaireVersion] = relationship()


class Round(db.Model):
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

    version: Mapped[QuestionnaireVersion] = relationship()
    invitations: WriteOnlyMapped[Invitation] = relationship(back_populates="round")

    def accepts_answers(self, now: datetime) -> bool:
        return accepts(self, now)


def accepts(round_: Any, now: datetime) -> bool:
    """Whether a round (or anything with its status, opens_at and closes_at) takes answers at
    `now`: open by status and, where dates are set, between opening and closing."""
    if round_.status != "open":
        return False
    if round_.opens_at and now < round_.opens_at:
        return False
    return not (round_.closes_at and now >= round_.closes_at)


class Invitation(db.Model):
    """A personal link to one round for one respondent unit (or a named person of it)."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint("status IN ('sent', 'started', 'submitted', 'revoked')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
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

    round: Mapped[Round] = relationship(back_populates="invitations")
    unit: Mapped[Unit] = relationship()
    group: Mapped[RespondentGroup] = relationship()


class Response(db.Model):
    """One submitted questionnaire. In an anonymous round it keeps the respondent group (and no
    unit, no invitation): the invitation is only marked submitted in the same transaction."""

    __tablename__ = "response"
    __table_args__ = (CheckConstraint("source IN ('web', 'paper', 'meeting')", name="source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
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
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
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


# --- Corrective actions (issue 5): low scores become tracked actions through ISO 9001 10.2 ----

from datetime import date  # noqa: E402  (this section's imports: its diff stays in one place)

from sqlalchemy import event  # noqa: E402

ACTION_STATUSES = (
    "open",
    "investigating",
    "planned",
    "implemented",
    "verification",
    "closed",
    "cancelled",
)
STEP_KINDS = ("immediate", "corrective", "preventive", "improvement")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class CorrectiveAction(db.Model):
    """A nonconformity found by a low-score rule, followed from reaction to verified closure.

    The source figures (rule, observed value, n, interval, threshold, evidence class, comments)
    are those of the round the rule fired in; they never change once the round is closed.
    """

    __tablename__ = "corrective_action"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(ACTION_STATUSES)}", name="status"),
        CheckConstraint("evidence IN ('confirmed', 'possible')", name="evidence"),
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
    comments: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "question|served_unit" while the action is open, NULL once closed or cancelled: the unique
    # constraint keeps at most one open action per item (NULLs never collide).
    open_key: Mapped[str | None] = mapped_column(String(90), unique=True)
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
    """An evidence file, stored under the instance folder by a random name."""

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


class ActionSummary(db.Model):
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


class AuditEvent(db.Model):
    """One security-relevant event (login, role change, publishing, round state, export, ...):
    who, when, what, from where. Written by survey.audit.record; nothing edits or deletes it."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The account's e-mail (or "cli", "anonymous") as it was: kept even if the account changes.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, target: AuditEvent) -> None:
    raise ValueError(f"audit event {target.id} is part of the record and cannot be changed")
