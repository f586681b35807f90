"""URL converters: an id in a URL is a number the database can hold."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

# Ids are PostgreSQL INTEGERs (32 bits; SQLite's hold more, but no id here comes near). A
# larger number names nothing: it must not match (404) rather than overflow the database
# driver (500). Found by schemathesis on PostgreSQL: ?round=33692342414983616 failed the query
# ("integer out of range") where 2**63 - 1 was the bound.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` with an upper bound of ``MAX_ID`` unless the rule sets its own."""

    def __init__(self, url_map: Map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def parse_id(value: object) -> int | None:
    """An id from a query string or form: ASCII digits within ``MAX_ID``, else None."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    number = int(value) if len(value) <= 19 else MAX_ID + 1  # no int() of a huge string
    return number if number <= MAX_ID else None


def init_app(app: Flask) -> None:
    # Before any blueprint is registered: a rule looks its converter up when it is added.
    app.url_map.converters["int"] = IdConverter
