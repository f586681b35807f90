"""The office's scale library: rating scales a clerk defines once in the editor and reuses.

A questionnaire version never refers to a row here: choosing a library scale for a question
copies it into the version's own scales (``QuestionnaireVersion.scales``), so a version stays
self-contained and a frozen one never changes when the library does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import User
from survey.text_types import String


class LibraryScale(OfficeOwned, db.Model):
    __tablename__ = "scale"
    __table_args__ = (UniqueConstraint("office_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # The code the scale takes in a questionnaire that uses it (`scale:` of its questions).
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # [{"value": 1, "zh": ..., "en": ...}, ...], lowest first, as a version stores its scales.
    points: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Declared satisfied and dissatisfied point values; empty: the default ones.
    satisfied: Mapped[list[int]] = mapped_column(JSON, default=list)
    dissatisfied: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    def name(self, lang: str) -> str:
        if lang.startswith("en"):
            return self.name_en or self.name_zh
        return self.name_zh or self.name_en
