"""What every model module shares: the clock (naive UTC, as stored) and new tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_token() -> str:
    # 32 bytes = 256 bits, well over the 128 bits the architecture asks for.
    return secrets.token_urlsafe(32)
