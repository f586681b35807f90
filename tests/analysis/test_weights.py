import math

import pytest

from analysis import empty_frame, weighted_table, wilson_interval

WEIGHTS = {"mayors": 0.4, "departments": 0.4, "cppcc": 0.1, "congress": 0.1}


@pytest.fixture
def frame(answers, frame_of):
    """4 mayors (2 satisfied) and 10 departments (9 satisfied) rate one item."""
    return frame_of(
        answers([5, 5, 2, 2], group="mayors", start=100),
        answers([4] * 9 + [1], group="departments"),
    )


def test_each_group_contributes_its_share(frame):
    row = weighted_table(frame, WEIGHTS).iloc[0]
    # cppcc and congress did not answer: 0.4 and 0.4 renormalise to 0.5 each.
    assert row["weighted_rate"] == pytest.approx(0.5 * 2 / 4 + 0.5 * 9 / 10)


def test_unweighted_figures_are_returned_beside_the_weighted_ones(frame):
    row = weighted_table(frame, WEIGHTS).iloc[0]
    assert (row["n"], row["satisfied"]) == (14, 11)
    assert (row["ci_low"], row["ci_high"]) == wilson_interval(11, 14)


def test_weighted_interval_is_taken_at_the_effective_n_of_respondents(frame):
    row = weighted_table(frame, WEIGHTS).iloc[0]
    # One rating per respondent: var = sum over respondents of (w_g / n_g * (s_i - p))^2 with
    # the shares 0.5 and 0.5, p = 0.7 (no small-sample factor for an item).
    variance = (0.5 / 4) ** 2 * (2 * 0.3**2 + 2 * 0.7**2) + (0.5 / 10) ** 2 * (9 * 0.3**2 + 0.7**2)
    n_eff = 0.7 * 0.3 / variance
    assert row["weighted_n_eff"] == pytest.approx(n_eff)
    # never more than Kish's effective number of respondents, 1 / (0.25/4 + 0.25/10) = 80/7
    assert row["weighted_n_eff"] <= 80 / 7
    low, high = wilson_interval(0.7 * n_eff, n_eff)
    assert (row["weighted_ci_low"], row["weighted_ci_high"]) == pytest.approx((low, high))


def test_equal_shares_per_answer_give_the_unweighted_rate(frame):
    row = weighted_table(frame, {"mayors": 4, "departments": 10}).iloc[0]
    assert row["weighted_rate"] == pytest.approx(11 / 14)
    assert row["weighted_n_eff"] == pytest.approx(14)


def test_group_missing_from_the_weights_is_left_out_of_weighted_figures(frame):
    row = weighted_table(frame, {"departments": 1.0}).iloc[0]
    assert row["weighted_rate"] == pytest.approx(0.9)
    assert (row["weighted_n"], row["n"]) == (10, 14)


def test_whole_round_row(frame, answers, frame_of):
    table = weighted_table(frame, WEIGHTS, by=())
    assert len(table) == 1 and table.iloc[0]["weighted_rate"] == pytest.approx(0.7)


def test_row_without_weighted_groups_has_nan_weighted_figures(frame):
    row = weighted_table(frame, {"cppcc": 1.0}).iloc[0]
    assert math.isnan(row["weighted_rate"]) and row["weighted_n_eff"] == 0


def test_negative_weights_are_rejected(frame):
    with pytest.raises(ValueError, match="mayors"):
        weighted_table(frame, {"mayors": -1, "departments": 1})


def test_a_round_without_responses_gives_an_empty_table():
    assert weighted_table(empty_frame(), WEIGHTS).empty


def test_whole_round_row_of_a_round_without_ratings_has_nan_weighted_figures():
    table = weighted_table(empty_frame(), WEIGHTS, by=())
    assert len(table) == 1 and table.iloc[0]["n"] == 0
    assert math.isnan(table.iloc[0]["weighted_rate"])
    assert table.iloc[0]["weighted_n_eff"] == 0
