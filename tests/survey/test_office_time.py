"""A round's days are calendar days at the office (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import date, datetime

from survey import office_time
from survey.models import Round, accepts


def test_a_day_runs_from_midnight_to_midnight_at_the_office(app):
    with app.app_context():
        assert office_time.start_of(date(2026, 12, 1)) == datetime(2026, 11, 30, 16, 0)
        end = office_time.end_of(date(2026, 12, 31))
        assert end == datetime(2026, 12, 31, 16, 0)
        assert office_time.last_day(end) == date(2026, 12, 31)
        assert office_time.local_date(datetime(2026, 12, 31, 15, 59)) == date(2026, 12, 31)


def test_a_round_takes_answers_from_the_first_to_the_last_day_at_the_office(app):
    with app.app_context():
        round_ = Round(
            status="open",
            opens_at=office_time.start_of(date(2026, 12, 1)),
            closes_at=office_time.end_of(date(2026, 12, 31)),
        )
    assert not accepts(round_, datetime(2026, 11, 30, 15, 59, 59))  # 23:59:59 on Nov 30, Beijing
    assert accepts(round_, datetime(2026, 11, 30, 16, 0))  # 00:00 on Dec 1
    assert accepts(round_, datetime(2026, 12, 31, 15, 59, 59))  # 23:59:59 on Dec 31
    assert not accepts(round_, datetime(2026, 12, 31, 16, 0))  # 24:00 on Dec 31
