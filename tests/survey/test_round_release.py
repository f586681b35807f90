"""A round's figures are released at its first close; a round reopened and closed again
releases them only when every group got none or at least the anonymity threshold of new
responses (survey.rounds.release): the difference between the two closes' figures would
otherwise be the answers of the few who answered in between."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import rounds
from survey.corrective import rules
from survey.extensions import db
from survey.models import AuditEvent, utcnow
from tests.survey.review.data import fill


@pytest.fixture
def closed_once(make_round, answer):
    round_ = fill(make_round(anonymous=True, anonymity_threshold=3), answer)
    rounds.close_round(round_, utcnow())
    db.session.commit()
    return round_


def _reopen_and_add(round_, answer, group: str, count: int) -> None:
    rounds.open_round(round_, utcnow())
    db.session.commit()
    for _ in range(count):
        answer(round_, group, {"doc_timeliness": 4, "mtg_minutes": 4})


def _close(round_) -> None:
    rounds.close_round(round_, utcnow())
    db.session.commit()


def test_the_first_close_releases_the_figures(closed_once):
    assert closed_once.released_counts == {"departments": 6, "mayors": 4}
    assert closed_once.results_final and not closed_once.results_held


def test_a_close_after_too_few_new_responses_holds_the_figures(closed_once, answer):
    _reopen_and_add(closed_once, answer, "mayors", 1)
    _close(closed_once)

    assert closed_once.results_held and not closed_once.results_final
    assert closed_once.released_counts == {"departments": 6, "mayors": 4}  # as last released
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "round_closed")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert event.detail["held"] == {"mayors": 1}


def test_enough_new_responses_release_them_again(closed_once, answer):
    _reopen_and_add(closed_once, answer, "mayors", 1)
    _close(closed_once)
    # Two more: three since the last release, the threshold.
    _reopen_and_add(closed_once, answer, "mayors", 2)
    _close(closed_once)

    assert closed_once.results_final
    assert closed_once.released_counts == {"departments": 6, "mayors": 7}


def test_every_group_counts_on_its_own(closed_once, answer):
    _reopen_and_add(closed_once, answer, "mayors", 3)
    answer(closed_once, "departments", {"doc_timeliness": 4})
    _close(closed_once)

    assert closed_once.results_held  # three new mayors, but one new department


def test_a_reopening_without_new_responses_changes_nothing(closed_once, answer):
    _reopen_and_add(closed_once, answer, "mayors", 0)
    _close(closed_once)
    assert closed_once.results_final


def test_a_held_close_runs_no_rules_and_is_not_an_earlier_round(
    closed_once, answer, make_round, monkeypatch
):
    ran = []
    monkeypatch.setattr(rules, "run_rules", lambda round_, now, actor=None: ran.append(round_))
    _reopen_and_add(closed_once, answer, "departments", 2)
    _close(closed_once)
    assert ran == []
    later = make_round(name="2005 spring", opens_at=utcnow())
    assert rounds.earlier_rounds(later) == []

    _reopen_and_add(closed_once, answer, "departments", 1)
    _close(closed_once)
    assert ran == [closed_once]
    assert rounds.earlier_rounds(later) == [closed_once]
