"""analysis.benchmarks: an office's figures on shared items, and the others' distribution."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import benchmarks


def _items(rows):
    return pd.DataFrame(rows, columns=["question", "served_unit", "n", "satisfied"])


def test_a_question_rating_several_units_is_added_up_with_its_interval():
    items = _items([("q1", "documents", 10, 8), ("q1", "meetings", 30, 15), ("q2", None, 7, 7)])
    table = benchmarks.by_question(items, ["q2", "q1", "q3"])
    assert table["question"].tolist() == ["q2", "q1"]  # the codes' order; q3 unpublished
    q1 = table.iloc[1]
    assert (q1["n"], q1["satisfied"], q1["rate"]) == (40, 23, 23 / 40)
    low, high = proportion_confint(23, 40, method="wilson")
    assert q1["ci_low"] == pytest.approx(low) and q1["ci_high"] == pytest.approx(high)


def test_a_change_is_tested_per_question_and_adjusted_over_the_questions():
    comparison = pd.DataFrame(
        {
            "question": ["q1", "q1", "q2", "q3"],
            "n_before": [50, 50, 100, 0],
            "satisfied_before": [20, 20, 50, 0],
            "n_after": [50, 50, 100, 10],
            "satisfied_after": [45, 45, 52, 5],
        }
    )
    table = benchmarks.change_by_question(comparison, ["q1", "q2", "q3"])
    assert table["question"].tolist() == ["q1", "q2"]  # q3 was not rated before
    assert table["rate_before"].tolist() == [0.4, 0.5]
    assert table["difference"].tolist() == pytest.approx([0.5, 0.02])
    assert table["significant"].tolist() == [True, False]


def test_a_unit_rated_in_one_round_only_does_not_make_a_change():
    # Unit X at 50 of 100 in both rounds; unit Y new (or withheld before) at 100 of 100.
    comparison = pd.DataFrame(
        {
            "question": ["q1", "q1"],
            "n_before": [100, 0],
            "satisfied_before": [50, 0],
            "n_after": [100, 100],
            "satisfied_after": [50, 100],
        }
    )
    (row,) = benchmarks.change_by_question(comparison, ["q1"]).itertuples()
    assert (row.rate_before, row.rate_after, row.difference, row.significant) == (
        0.5,
        0.5,
        0.0,
        False,
    )


def test_the_others_distribution_needs_enough_offices_and_names_none():
    assert benchmarks.distribution([0.8, 0.9, 0.7, 0.6], min_offices=5) is None
    assert benchmarks.distribution([0.8, math.nan, 0.9, 0.7, 0.6], min_offices=5) is None
    spread = benchmarks.distribution([0.9, 0.7, 0.8, 0.6, 0.5], min_offices=5)
    assert (spread.offices, spread.median) == (5, 0.7)
    # The quartiles fall between two offices' rates, never on the lowest or highest one.
    assert spread.lower_quartile == pytest.approx(0.575)
    assert spread.upper_quartile == pytest.approx(0.825)
    assert not {spread.lower_quartile, spread.upper_quartile} & {0.5, 0.6, 0.8, 0.9}


@pytest.mark.parametrize("n", range(3, 12))
def test_the_quartiles_are_never_the_lowest_or_highest_rate(n):
    rates = [0.5 + i / 40 for i in range(n)]
    spread = benchmarks.distribution(rates, min_offices=3)
    assert min(rates) < spread.lower_quartile <= spread.median <= spread.upper_quartile
    assert spread.upper_quartile < max(rates)


def test_a_setting_below_the_floor_does_not_show_two_offices_extremes():
    assert benchmarks.distribution([0.6, 0.9], min_offices=1) is None
    assert benchmarks.distribution([0.6, 0.7, 0.9], min_offices=1).offices == 3


def test_standing_is_read_against_the_median():
    spread = benchmarks.Distribution(5, 0.6, 0.8, 0.9)
    assert benchmarks.standing(0.85, spread) == "above"
    assert benchmarks.standing(0.70, spread) == "below"
    assert benchmarks.standing(0.802, spread) == "at"
