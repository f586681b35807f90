"""The office's calendar. A round runs over calendar days in the office's time zone
(``BABEL_DEFAULT_TIMEZONE``, default Asia/Shanghai): open from 00:00 of its first day to 24:00
of its last. The database keeps naive UTC, so each day is converted here, in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))


def start_of(day: date) -> datetime:
    """00:00 of ``day`` at the office, as the naive UTC the database keeps."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def end_of(day: date) -> datetime:
    """24:00 of ``day`` at the office (00:00 of the next day), naive UTC: the first moment
    after the day, so that a round whose last day it is stops taking answers then."""
    return start_of(day + timedelta(days=1))


def local_date(moment: datetime) -> date:
    """The office's calendar date of a naive UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(zone()).date()


def last_day(end: datetime) -> date:
    """The last day a round whose answers stop at ``end`` takes answers."""
    return local_date(end - timedelta(microseconds=1))


def working_days_after(day: date, days: int) -> date:
    """The ``days``-th working day (Monday to Friday) after ``day``; a case opened on a
    Saturday counts from Monday. numpy's business-day calendar does the counting."""
    import numpy as np

    moved = np.busday_offset(np.datetime64(day, "D"), days, roll="forward")
    return moved.astype(object)
