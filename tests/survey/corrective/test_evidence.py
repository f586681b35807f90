"""The evidence of an action page: the item's answers in its round and the later round it is
verified against."""

from __future__ import annotations

from datetime import timedelta

from survey.corrective import evidence
from survey.models import utcnow
from tests.factories import mark_implemented


def test_the_distribution_has_a_row_per_round_with_answers(action, next_round):
    mark_implemented(action, utcnow() - timedelta(days=1))
    later = next_round(9)
    found = evidence.gather(action)
    assert list(found.table["n"]) == [10, 10]
    assert list(found.labels.values()) == [action.round.name, later.name]
    assert found.verification.rate_after == 0.9


def test_before_the_next_round_only_the_source_round_is_drawn(action):
    found = evidence.gather(action)
    assert len(found.table) == 1 and found.verification.round is None
    assert evidence.chart_png(found, "en", "Answers").startswith(b"\x89PNG")


def test_before_the_implementation_the_later_round_shows_no_answers(action, next_round):
    later = next_round(9)
    found = evidence.gather(action)
    assert list(found.table["n"]) == [10]
    assert found.verification.round.id == later.id and found.verification.n_after == 0
    assert [c.usable for c in found.candidates] == [False]


def test_the_reader_chooses_the_round_among_the_candidates(action, next_round, make_round, rate):
    mark_implemented(action, utcnow() - timedelta(days=1))
    first = next_round(5)
    third = rate(make_round(name="2006", opens_at=utcnow(), status="closed"), 9, 10)
    assert evidence.gather(action).verification.round.id == first.id  # the earliest comes first
    chosen = evidence.gather(action, third).verification
    assert (chosen.round.id, chosen.rate_after) == (third.id, 0.9)
