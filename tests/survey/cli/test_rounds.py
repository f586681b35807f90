"""Rounds from the command line, as the README's table promises them to a cron or a script."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from survey import office_time, rounds
from survey.extensions import db
from survey.models import Invitation, utcnow


def _rows(output: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(output)))


def _invitations(round_) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.round_id == round_.id)
    )


def test_invite_prints_one_link_per_unit_of_the_group(runner, make_round):
    round_ = make_round()
    result = runner.invoke(args=["invite", str(round_.id), "--group", "mayors"])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert rows and {r["group"] for r in rows} == {"mayors"}
    assert all(r["link"].startswith("https://survey.test/r/") for r in rows)
    assert len(rows) == _invitations(round_)


def test_inviting_again_issues_nothing_and_says_why(runner, make_round):
    round_ = make_round()
    runner.invoke(args=["invite", str(round_.id), "--group", "mayors"])
    before = _invitations(round_)
    again = runner.invoke(args=["invite", str(round_.id), "--group", "mayors"])
    assert again.exit_code == 0, again.output
    assert _rows(again.stdout) == []
    assert "every unit" in again.stderr and "--count" in again.stderr
    assert _invitations(round_) == before


def test_invite_with_a_count_issues_that_many_more_per_unit(runner, make_round):
    round_ = make_round()
    first = _rows(runner.invoke(args=["invite", str(round_.id), "--group", "mayors"]).stdout)
    more = runner.invoke(args=["invite", str(round_.id), "--group", "mayors", "--count", "2"])
    assert len(_rows(more.stdout)) == 2 * len(first)


def test_invite_refuses_a_group_that_is_not_in_the_audience(runner, make_round):
    round_ = make_round()
    result = runner.invoke(args=["invite", str(round_.id), "--group", "nobody"])
    assert result.exit_code != 0
    assert "nobody" in result.output
    assert _invitations(round_) == 0


def test_open_and_close_a_round(runner, make_round):
    round_ = make_round(status="draft")
    opened = runner.invoke(args=["open-round", str(round_.id)])
    assert opened.exit_code == 0, opened.output
    assert round_.status == "open"
    closed = runner.invoke(args=["close-round", str(round_.id)])
    assert closed.exit_code == 0, closed.output
    assert round_.status == "closed"


def test_a_round_past_its_close_date_is_reopened_with_a_later_last_day(runner, make_round):
    round_ = make_round(status="closed", closes_at=utcnow() - timedelta(days=2))
    refused = runner.invoke(args=["open-round", str(round_.id)])
    assert refused.exit_code != 0
    assert "--last-day" in refused.output
    assert round_.status == "closed"

    day = office_time.local_date(utcnow()) + timedelta(days=7)
    opened = runner.invoke(args=["open-round", str(round_.id), "--last-day", day.isoformat()])
    assert opened.exit_code == 0, opened.output
    assert round_.status == "open"
    assert office_time.last_day(round_.closes_at) == day
    changed = [e for e in rounds.history(round_) if e.action == "round_changed"]
    assert [list(e.detail["changes"]) for e in changed] == [["closes_at"]]


def test_a_last_day_before_the_first_day_is_refused(runner, make_round):
    round_ = make_round(status="closed", closes_at=utcnow() - timedelta(days=2))
    before = office_time.local_date(round_.opens_at) - timedelta(days=1)
    result = runner.invoke(args=["open-round", str(round_.id), "--last-day", before.isoformat()])
    assert result.exit_code != 0
    assert "first day" in result.output
    db.session.expire_all()
    assert round_.status == "closed" and round_.closes_at < utcnow()


def test_close_round_due_closes_only_rounds_past_their_last_day(runner, make_round):
    past = make_round(name="past", closes_at=utcnow() - timedelta(hours=1))
    current = make_round(name="current")
    result = runner.invoke(args=["close-round", "--due"])
    assert result.exit_code == 0, result.output
    assert (past.status, current.status) == ("closed", "open")


def test_a_missing_round_is_an_error_not_a_traceback(runner):
    for command in ("analyse", "open-round", "close-round", "invite", "run-rules"):
        result = runner.invoke(args=[command, "999"])
        assert result.exit_code != 0
        assert "no round 999" in result.output, (command, result.output)
