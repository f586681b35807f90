"""Column types for text that users type.

PostgreSQL refuses a NUL character in any text value ("text fields cannot contain NUL"), while
SQLite stores it; a pasted NUL in a comment would then be a server error on the production
database only. A NUL carries no meaning in a survey answer, a name or a note, so it is dropped
on the way in, the same on both databases. The DDL is that of plain String/Text, so the
migrations do not change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String as _String
from sqlalchemy import Text as _Text
from sqlalchemy.types import TypeDecorator

NUL = "\x00"


def without_nul(value: Any) -> Any:
    return value.replace(NUL, "") if isinstance(value, str) and NUL in value else value


class String(TypeDecorator):
    impl = _String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return without_nul(value)


class Text(TypeDecorator):
    impl = _Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return without_nul(value)
