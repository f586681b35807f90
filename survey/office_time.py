"""The office's calendar. A round runs over calendar days in the office's time zone
(``BABEL_DEFAULT_TIMEZONE``, default Asia/Shanghai): open from 00:00 of its first day to 24:00
of its last. The database keeps naive UTC, so each day is converted here, in one place."""

from __future__ import annotations

from collections.abc import Collection
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


def working_days_after(
    day: date,
    days: int,
    holidays: Collection[date] = (),
    workdays: Collection[date] = (),
) -> date:
    """The ``days``-th working day after ``day``: Monday to Friday, but not ``holidays``, and
    the weekend days of ``workdays`` too (China moves working days onto weekends around its
    holidays). A case opened on a Saturday counts from Monday."""

    def working(d: date) -> bool:
        return d in workdays or (d.weekday() < 5 and d not in holidays)

    counted, current = 0, day
    while counted < days:
        current += timedelta(days=1)
        counted += working(current)
    return current


def calendar_dates(values, name: str = "OFFICE_HOLIDAYS") -> frozenset[date]:
    """ISO dates from the configuration: a list, or one string separated by commas or
    spaces. A value that is no date raises ValueError naming the setting; the app checks both
    settings when it starts (``check_calendar``), since a bad one found only when a poor
    public rating is stored would lose the rating."""
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    elif not isinstance(values, list | tuple | set | frozenset):
        values = [values] if values else []
    try:
        return frozenset(date.fromisoformat(str(v)) for v in values)
    except ValueError as error:
        raise ValueError(f"{name}: {error} (ISO dates such as 2026-10-01 expected)") from None


def check_calendar(config) -> None:
    for name in ("OFFICE_HOLIDAYS", "OFFICE_WORKDAYS"):
        calendar_dates(config.get(name), name)
