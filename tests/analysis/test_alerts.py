import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import fisher_exact, norm
from scipy.stats.contingency import expected_freq
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

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


def test_severity_is_the_gap_times_how_certain_it_is(counted):
    (candidate,) = _fired(run_rules(counted(70, 100)), "rate_below")
    # The distance from the threshold in standard errors at the threshold: 0.1 / 0.04 = 2.5.
    certainty = norm.cdf((0.8 - 0.7) / math.sqrt(0.8 * 0.2 / 100))
    assert (candidate.gap, candidate.certainty) == (pytest.approx(0.1), pytest.approx(certainty))
    assert candidate.severity == pytest.approx(0.1 * certainty)


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
    assert candidate.evidence == "possible"  # one respondent's word is never confirmed
    assert candidate.gap == pytest.approx(0.8 - 0.25)
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


# --- small samples, many tests, "confirmed", the ranking ------------------------------------


def _reference_p(x1: int, n1: int, x2: int, n2: int) -> float:
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    if expected_freq(table).min() < 5:
        return fisher_exact(table).pvalue
    return proportions_ztest([x2, x1], [n2, n1])[1]


def _cells(answers, frame_of, cells: dict, round_index: int):
    """cells: {(question, group): (x1, n1, x2, n2)} -> the round's frame, respondents numbered
    per group so that a group's cells of several items share respondents."""
    parts, start = [], {"departments": 1, "mayors": 1000, "congress": 2000}
    for (question, group), draw in cells.items():
        x, n = draw[2 * round_index], draw[2 * round_index + 1]
        values = [5] * x + [2] * (n - x)
        parts.append(
            answers(values, question, group=group, start=start[group], round_id=round_index + 1)
        )
    return frame_of(*parts)


def test_drop_tests_are_corrected_across_items_and_group_cells_together(answers, frame_of):
    rng = np.random.default_rng(2017)
    cells = {}
    for i in range(12):
        for group in ("departments", "mayors"):
            n1, n2 = (int(v) for v in rng.integers(5, 40, size=2))
            p1 = rng.uniform(0.5, 1.0)
            p2 = max(0.0, p1 - rng.uniform(0.0, 0.4))
            cells[(f"q{i:02d}", group)] = (
                int(rng.binomial(n1, p1)), n1, int(rng.binomial(n2, p2)), n2
            )  # fmt: skip
    before, after = _cells(answers, frame_of, cells, 0), _cells(answers, frame_of, cells, 1)
    # The reference: one p-value per whole-round item and per group cell, all in one family.
    rows = {}
    for i in range(12):
        question = f"q{i:02d}"
        parts = [cells[(question, g)] for g in ("departments", "mayors")]
        rows[(question, None)] = tuple(sum(part[k] for part in parts) for k in range(4))
        for group in ("departments", "mayors"):
            rows[(question, group)] = cells[(question, group)]
    keys = list(rows)
    p = np.array([_reference_p(*rows[key]) for key in keys])
    q = multipletests(p, method="fdr_bh")[1]
    dropped = np.array([rows[k][2] / rows[k][3] < rows[k][0] / rows[k][1] for k in keys])
    expected = {keys[i]: (p[i], q[i]) for i in np.flatnonzero(dropped & (q < 0.05))}
    fired = {
        (c.question, c.group): (c.p_value, c.p_adjusted)
        for c in run_rules(after, previous=before, enabled=["significant_drop"])
    }
    assert expected and set(fired) == set(expected)
    for key, (p_value, q_value) in expected.items():
        assert fired[key] == (pytest.approx(p_value, rel=1e-9), pytest.approx(q_value, rel=1e-9))
    # Without the correction more would have fired.
    assert (dropped & (p < 0.05)).sum() > len(expected)


def test_a_drop_of_twelve_against_twelve_is_tested_exactly_and_does_not_fire(answers, frame_of):
    cells = {("q1", "mayors"): (11, 12, 6, 12), ("q1", "departments"): (40, 40, 40, 40)}
    before, after = _cells(answers, frame_of, cells, 0), _cells(answers, frame_of, cells, 1)
    fired = run_rules(after, previous=before, enabled=["significant_drop"])
    assert [c.group for c in fired] == []  # z-test p = 0.025, Fisher's p = 0.069
    loose = run_rules(after, previous=before, enabled=["significant_drop"],
                      thresholds=Thresholds(alpha=1.0))  # fmt: skip
    (cell,) = [c for c in loose if c.group == "mayors"]
    assert cell.test == "fisher"
    assert cell.p_value == pytest.approx(fisher_exact([[11, 1], [6, 6]]).pvalue, rel=1e-12)


def test_no_drop_is_tested_below_the_anonymity_threshold(answers, frame_of):
    cells = {("q1", "mayors"): (4, 4, 0, 4), ("q1", "departments"): (40, 40, 40, 40)}
    before, after = _cells(answers, frame_of, cells, 0), _cells(answers, frame_of, cells, 1)
    fired = run_rules(after, previous=before, enabled=["significant_drop"],
                      anonymity_threshold=5, thresholds=Thresholds(alpha=1.0))  # fmt: skip
    assert [c.group for c in fired] == [None]  # the whole item (44 -> 40 of 44) only
    assert fired[0].p_value == pytest.approx(_reference_p(44, 44, 40, 44), rel=1e-12)


def test_a_drop_is_confirmed_only_when_the_interval_of_the_change_is_below_zero(counted):
    # 48 of 50 -> 42 of 50: z-test p = 0.0455, but the Newcombe interval reaches +0.0017.
    (margin,) = _fired(run_rules(counted(42, 50, round_id=2), previous=counted(48, 50)),
                       "significant_drop")  # fmt: skip
    reference = confint_proportions_2indep(42, 50, 48, 50, method="newcomb", compare="diff")
    assert margin.difference_ci == pytest.approx(reference, abs=1e-12)
    assert margin.difference_ci[1] > 0 and margin.evidence == "possible"
    (clear,) = _fired(run_rules(counted(30, 50, round_id=2), previous=counted(48, 50)),
                      "significant_drop")  # fmt: skip
    assert clear.difference_ci[1] < 0 and clear.evidence == "confirmed"
    assert clear.certainty == pytest.approx(1 - clear.p_adjusted)


def test_a_rate_below_is_confirmed_only_with_enough_respondents(answers, frame_of):
    # 0 of 3: the Wilson interval ends at 0.56, below 80%, but three people are too few; so
    # few that the item is not published at all (analysis.disclosure), nor a finding made.
    assert run_rules(frame_of(answers([2, 2, 2])), enabled=["rate_below"]) == []
    enough = run_rules(frame_of(answers([2] * 5)), enabled=["rate_below"])
    assert enough[0].evidence == "confirmed"
    one = run_rules(frame_of(answers([1], comments=["awful"])), anonymity_threshold=1)
    assert {c.rule: c.evidence for c in one}["single_low_with_comment"] == "possible"


def test_a_single_angry_comment_on_a_93_percent_item_ranks_below_a_62_percent_item(
    answers, frame_of
):
    happy = answers([5] * 93 + [4] * 6 + [1], "q_happy", comments=[None] * 99 + ["rude!"])
    low = answers([5] * 62 + [3] * 38, "q_low", start=200)
    candidates = run_rules(frame_of(happy, low))
    ranked = [(c.question, c.rule) for c in candidates]
    assert ranked[0] == ("q_low", "rate_below")
    comments = [c for c in candidates if c.rule == "single_low_with_comment"]
    assert {c.question for c in comments} == {"q_happy"}
    assert all(c.severity == 0.0 and c.evidence == "possible" for c in comments)
    assert ranked.index(("q_happy", "single_low_with_comment")) > ranked.index(
        ("q_low", "rate_below")
    )


def test_candidates_are_ranked_by_severity_whatever_the_rule(answers, frame_of):
    frame = frame_of(
        answers([4] * 7 + [3] * 3, "q1"),  # 70%, mean 3.7: rate_below only
        answers([5] * 2 + [3] * 8, "q2", start=100),  # 20%, mean 3.4
    )
    candidates = run_rules(frame)
    severities = [c.severity for c in candidates]
    assert severities == sorted(severities, reverse=True)
    assert candidates[0].question == "q2"


def test_an_items_action_starts_from_the_whole_round_even_when_a_group_cell_is_worse(
    answers, frame_of
):
    frame = frame_of(answers([1] * 6, group="mayors"), answers([5] * 10 + [3] * 4, start=10))
    candidates = run_rules(frame, enabled=["rate_below"])  # mayors 0%, the item 50%
    assert candidates[0].group == "mayors"  # the worse cell ranks first
    (kept,) = one_per_action_key(candidates)
    assert (kept.group, kept.n) == (None, 20)


def test_the_certainty_is_scipys_normal_distribution_function_without_scipy():
    # analysis.alerts computes it with math.erf/erfc (importing scipy.special for ndtr took
    # 15 MB of every process of the app): scipy's values to the last bit of 1.0, NaN kept.
    from scipy.special import ndtr

    from analysis.alerts import _ndtr

    x = np.concatenate([np.linspace(-40, 40, 40001), [np.inf, -np.inf, 0.0, -0.0, 1e-300]])
    np.testing.assert_allclose(_ndtr(x), ndtr(x), rtol=1e-13, atol=2.3e-16)
    assert np.isnan(_ndtr(np.array([np.nan, 1.0])))[0]
    assert _ndtr(np.array([])).shape == (0,)


def test_importing_analysis_loads_no_scipy():
    code = "import analysis, sys; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if m.split(".")[0] == "scipy"] == []
