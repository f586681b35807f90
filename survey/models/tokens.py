"""API tokens: a user's key for scripts, sent as ``Authorization: Bearer ...``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models.base import utcnow
from survey.models.offices import OfficeOwned
from survey.models.people import User
from survey.text_types import String


class ApiToken(OfficeOwned, db.Model):
    """One token of one user, limited to some scopes. Only a hash of the secret is kept: the
    plaintext is shown once, when the token is made (``survey.api_tokens.create``)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the secret, hex: the secret is 256 random bits, so a fast hash cannot be
    # guessed backwards, and a request finds its token by one indexed lookup.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, to tell tokens apart on the page and in the log.
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
