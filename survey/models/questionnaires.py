"""Questionnaires and their versions (frozen once a round uses one), sections and questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.text_types import String, Text


class Questionnaire(OfficeOwned, db.Model):
    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("office_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number"
    )


class QuestionnaireTemplate(db.Model):
    """A questionnaire one office shares for every office to adopt and adapt: one row per
    revision. Shared on purpose, so not ``OfficeOwned``: every office reads the library. It
    holds the definition only (the YAML export), never a round, an answer or a name of the
    office's people. The item codes of its questions stay when an office adapts it, so that
    results on them compare across offices (``survey.questionnaire_templates``)."""

    __tablename__ = "questionnaire_template"
    __table_args__ = (UniqueConstraint("code", "revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    # The codes of the questions every adopting office keeps as they are, in the file's order.
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The office that shares it (only it may share a new revision under this code).
    publisher_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    shared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def title(self, lang: str) -> str:
        return self.title_en if lang.startswith("en") else self.title_zh


class QuestionnaireVersion(OfficeOwned, db.Model):
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
    # The shared template the version was adopted from, or shared as (None: the office's own).
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_template.id"), index=True
    )

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")
    template: Mapped[QuestionnaireTemplate | None] = relationship()
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
    # The section's condition (questionnaires.conditions); None: always shown.
    show_if: Mapped[str | None] = mapped_column(Text)

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
    # Limits of an integer answer (min_value, max_value) and of a text answer (max_length).
    min_value: Mapped[int | None] = mapped_column(Integer)
    max_value: Mapped[int | None] = mapped_column(Integer)
    max_length: Mapped[int | None] = mapped_column(Integer)
    # The question's condition (questionnaires.conditions); None: always shown.
    show_if: Mapped[str | None] = mapped_column(Text)
    # The grid a rating question is a row of, {"code", "zh", "en", "help_zh", "help_en"}, kept
    # on each row (None for a question alone); the rows of one grid follow each other.
    grid: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    section: Mapped[Section] = relationship(back_populates="questions")
    version: Mapped[QuestionnaireVersion] = relationship()
