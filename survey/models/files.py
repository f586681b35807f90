"""Files every server must be able to read: stored files (bytes kept in the database, when it
is the configured storage) and the prepared Excel/PDF exports of a round's results."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import User
from survey.models.rounds import Round

EXPORT_STATUSES = ("queued", "running", "done", "failed")


class StoredFile(db.Model):
    """The bytes of one file of ``survey.storage``'s database backend, by key."""

    __tablename__ = "stored_file"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Deferred: looking a file up (or deleting it) never loads its bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ResultExport(OfficeOwned, db.Model):
    """A round's raw answers (CSV), workbook or report, built by a background job into the shared storage.

    ``fingerprint`` names everything the file depends on (round, kind, language, variant, the
    results' data version and settings, the report's section stamps, the drawing code): one
    record per fingerprint, so that two requests for the same file join one job, and a new
    response or settings change asks for a new record."""

    __tablename__ = "result_export"
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))
    # The workbook with its Raw data sheet (answers that may name units): who may take it.
    raw: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    # The raw answers' rows written so far and in all (None: the export has none, or has not
    # reached them), for the progress page.
    rows_done: Mapped[int | None] = mapped_column(Integer)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    round: Mapped[Round] = relationship()
    requested_by: Mapped[User | None] = relationship()
