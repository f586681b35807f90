import math

import pytest

from analysis import (
    RULES,
    ActionCandidate,
    Thresholds,
    empty_frame,
    measures,
    one_per_action_key,
    run_rules,
)
from analysis.metrics import wilson_interval


def _fired(candidates: list[ActionCandidate], rule: str) -> list[ActionCandidate]:
    return [c for c in candidates if c.rule == rule and c.group is None]


def test_the_registry_holds_the_four_rules():
    assert list(RULES) == ["rate_below", "mean_below", "significant_drop",
                           "single_low_with_comment"]  # fmt: skip


def test_rate_of_799_in_1000_fires(counted):
    (candidate,) = _fired(run_rules(counted(799, 1000)), "rate_below")
    assert (candidate.observed, candidate.n, candidate.threshold) == (0.799, 1000, 0.8)
    assert (candidate.ci_low, candidate.ci_high) == wilson_interval(799, 1000)


@pytest.mark.parametrize("satisfied, n", [(800, 1000), (4, 5)])
def test_rate_of_exactly_80_percent_does_not_fire(counted, satisfied, n):
    assert _fired(run_rules(counted(satisfied, n)), "rate_below") == []


def test_evidence_is_confirmed_only_when_the_whole_interval_is_below(counted):
    assert _fired(run_rules(counted(799, 1000)), "rate_below")[0].evidence == "possible"
    assert _fired(run_rules(counted(10, 100)), "rate_below")[0].evidence == "confirmed"


def test_severity_is_the_gap_weighted_by_sqrt_n(counted):
    (candidate,) = _fired(run_rules(counted(60, 100)), "rate_below")
    assert candidate.severity == pytest.approx((0.8 - 0.6) * 10)


def test_mean_below_threshold_fires_and_a_mean_at_it_does_not(answers, frame_of):
    low = run_rules(frame_of(answers([4, 3, 3, 4, 3])), enabled=["mean_below"])  # mean 3.4
    at = run_rules(frame_of(answers([4, 3, 4, 3])), enabled=["mean_below"])  # mean 3.5
    assert [c.observed for c in _fired(low, "mean_below")] == [pytest.approx(3.4)]
    assert _fired(at, "mean_below") == []


def test_significant_drop_fires_with_its_p_value(counted):
    candidates = run_rules(counted(30, 50, round_id=2), previous=counted(40, 50, round_id=1))
    (candidate,) = _fired(candidates, "significant_drop")
    assert candidate.threshold == 0.8 and candidate.observed == 0.6
    assert candidate.p_value == pytest.approx(0.029096, abs=1e-6)


def test_drop_that_is_not_significant_does_not_fire(counted):
    candidates = run_rules(counted(38, 50), previous=counted(40, 50))
    assert _fired(candidates, "significant_drop") == []


def test_without_a_previous_round_no_drop_fires(counted):
    assert _fired(run_rules(counted(1, 50)), "significant_drop") == []


def test_lowest_rating_with_a_comment_fires_with_the_comments(answers, frame_of):
    frame = frame_of(answers([5, 1, 2, 1], comments=[None, "lost file", "slow", None]))
    # Threshold 1: four respondents would otherwise be too few to publish the item at all.
    (candidate,) = _fired(run_rules(frame, anonymity_threshold=1), "single_low_with_comment")
    assert candidate.severity == 1 and candidate.evidence == "confirmed"
    assert candidate.comments == ("lost file", "slow")
    assert math.isnan(candidate.threshold) and candidate.p_value is None


def test_lowest_rating_without_a_comment_does_not_fire(answers, frame_of):
    frame = frame_of(answers([1, 1, 2], comments=[None, "  ", "slow"]))
    assert _fired(run_rules(frame), "single_low_with_comment") == []


def test_suppressed_group_gets_no_candidate_of_its_own(answers, frame_of):
    frame = frame_of(answers([1, 1, 1, 1], group="mayors"), answers([5] * 6, start=10))
    candidates = run_rules(frame, enabled=["rate_below"])
    assert {c.group for c in candidates} == {None}
    assert candidates[0].n == 10  # the mayors still count in the whole round


def test_group_at_the_anonymity_threshold_gets_its_own_candidate(answers, frame_of):
    frame = frame_of(answers([1] * 5, group="mayors"), answers([5] * 20, start=10))
    candidates = run_rules(frame, enabled=["rate_below"])
    assert [(c.group, c.n) for c in candidates] == [("mayors", 5)]


def test_candidates_name_their_item(counted):
    (candidate,) = _fired(run_rules(counted(1, 10, "doc_timeliness")), "rate_below")
    assert candidate.question == "doc_timeliness"
    assert (candidate.category, candidate.served_unit) == ("services.documents", "documents")


def test_enabled_limits_the_rules_and_unknown_rules_are_rejected(counted):
    assert {c.rule for c in run_rules(counted(1, 10), enabled=["mean_below"])} == {"mean_below"}
    with pytest.raises(ValueError, match="no_such_rule"):
        run_rules(counted(1, 10), enabled=["no_such_rule"])


def test_one_candidate_per_question_and_served_unit(answers, frame_of):
    frame = frame_of(answers([1] * 10, comments="broken"), answers([5] * 5, "q2"))
    candidates = run_rules(frame, thresholds=Thresholds(rate=0.9))
    kept = one_per_action_key(candidates)
    assert [(c.rule, c.question, c.group) for c in kept] == [("rate_below", "q1", None)]


def test_a_round_without_responses_gives_no_candidates():
    assert run_rules(empty_frame(), previous=empty_frame()) == []


def test_every_rule_says_what_it_measures():
    assert {code: rule.measures for code, rule in RULES.items()} == {
        "rate_below": "rate",
        "mean_below": "mean",
        "significant_drop": "rate",
        "single_low_with_comment": "rate",
    }
    assert measures("mean_below") == "mean" and measures("retired_rule") == "rate"
