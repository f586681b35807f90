"""Verification of an action against the next round: same item, unit and group."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analysis import two_proportion_z_test
from survey import corrective
from survey.models import utcnow


def test_verification_reads_the_next_rounds_figure_for_the_same_item_and_unit(
    action, next_round, rate, make_round
):
    later = next_round(9)
    rate(later, 0, 10, question="doc_accuracy")  # another item of the same unit
    rate(make_round(name="2005 autumn", opens_at=utcnow() + timedelta(days=90)), 0, 10)
    check = corrective.verify(action)
    assert check.round.id == later.id
    assert (check.rate_before, check.rate_after, check.n_after) == (0.6, 0.9, 10)
    assert check.p_value == pytest.approx(two_proportion_z_test(6, 10, 9, 10)[1])


@pytest.mark.parametrize(("satisfied", "proposal"), [(8, "effective"), (7, "not_effective")])
def test_effective_is_proposed_only_when_the_new_rate_meets_the_threshold(
    action, next_round, satisfied, proposal
):
    next_round(satisfied)
    assert corrective.verify(action).proposal == proposal


def test_without_a_next_round_there_is_nothing_to_verify(action):
    assert corrective.verify(action).proposal == "no_data"


def test_closing_stores_the_verification(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    assert (ready.result, ready.rate_before, ready.rate_after) == ("effective", 0.6, 0.9)
    assert ready.closed_at is not None and ready.open_key is None
