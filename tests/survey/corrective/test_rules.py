"""From the low-score rules to corrective actions: one action per item, never brought back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from survey import corrective, rounds
from survey.models import utcnow
from tests.factories import all_actions, event_kinds


@pytest.mark.parametrize(("satisfied", "fires"), [(799, True), (800, False)])
def test_rate_of_79_9_percent_opens_an_action_and_80_0_does_not(make_round, rate, satisfied, fires):
    round_ = rate(make_round(), satisfied, 1000)
    corrective.run_rules(round_, utcnow())
    assert [(a.question_code, a.observed) for a in all_actions()] == (
        [("doc_timeliness", 0.799)] if fires else []
    )


def test_an_action_keeps_the_rule_figures_and_the_low_rating_comments(make_round, rate):
    round_ = rate(make_round(), 6, 10, low=2, comments=("太慢", "退回两次"))
    (made,) = corrective.run_rules(round_, utcnow()).created
    assert (made.rule, made.observed, made.n, made.threshold) == ("rate_below", 0.6, 10, 0.8)
    assert made.ci_low < made.observed < made.threshold < made.ci_high
    assert made.evidence == "possible"
    assert (made.served_unit, made.category, made.group_code) == (
        "documents",
        "services.documents",
        None,
    )
    assert made.comments == ["太慢", "退回两次"] and made.status == "open"


def test_evidence_is_confirmed_when_the_whole_interval_is_below(make_round, rate):
    (made,) = corrective.run_rules(rate(make_round(), 2, 20), utcnow()).created
    assert made.evidence == "confirmed" and made.ci_high < 0.8


def test_running_the_rules_twice_keeps_one_action_and_one_record(low_round):
    corrective.run_rules(low_round, utcnow())
    again = corrective.run_rules(low_round, utcnow())
    assert (again.created, again.fired_again) == ([], [])
    assert len(all_actions()) == 1 and event_kinds(all_actions()[0]) == ["created"]


def test_a_rule_firing_again_adds_an_event_to_the_open_action(low_round, rate):
    corrective.run_rules(low_round, utcnow())
    rate(low_round, 0, 10)  # more low answers in the same round
    assert len(corrective.run_rules(low_round, utcnow()).fired_again) == 1
    (only,) = all_actions()
    assert event_kinds(only) == ["created", "rule_fired"] and (only.n, only.observed) == (20, 0.3)


def test_closing_a_round_twice_keeps_one_open_action(low_round):
    rounds.close_round(low_round, utcnow())
    rounds.open_round(low_round, utcnow())
    rounds.close_round(low_round, utcnow())
    assert [a.status for a in all_actions()] == ["open"]


def test_closing_due_rounds_runs_the_rules(make_round, rate):
    round_ = rate(make_round(closes_at=utcnow() - timedelta(hours=1)), 6, 10)
    rounds.close_due_rounds(utcnow())
    assert [a.round_id for a in all_actions()] == [round_.id]


@pytest.mark.parametrize(("mayors", "expected"), [(4, []), (5, ["mayors"])])
def test_a_group_below_the_anonymity_threshold_gets_no_action(make_round, rate, mayors, expected):
    round_ = rate(make_round(), 20, 20)
    rate(round_, 0, mayors, group="mayors")  # the whole item stays at or above 80%
    corrective.run_rules(round_, utcnow())
    assert [a.group_code for a in all_actions()] == expected


def test_the_rules_and_thresholds_are_the_rounds(make_round, rate):
    round_ = rate(make_round(thresholds={"rate": 0.5, "rules": ["rate_below"]}), 6, 10)
    assert corrective.run_rules(round_, utcnow()).created == []


def test_an_action_dealt_with_is_not_brought_back_by_its_round(action, lead, low_round):
    corrective.move(action, "cancel", lead, utcnow(), "a one-off during the move")
    assert corrective.run_rules(low_round, utcnow()).created == []
