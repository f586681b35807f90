import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    category_table,
    distribution,
    empty_frame,
    item_table,
    rating_counts,
    summary,
    wilson_interval,
    wilson_intervals,
)
from analysis.metrics import below, metrics_of
from tests.analysis.conftest import SCALES, satisfied_sets


# Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score).
@pytest.mark.parametrize(
    "successes, n, low, high",
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
     (1, 29, 0.0061, 0.1718), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0)],
)  # fmt: skip
def test_wilson_interval_matches_published_values(successes, n, low, high):
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_ends_exactly_at_zero_and_one():
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0


def test_wilson_interval_of_no_answers_is_nan():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_vectorised_wilson_matches_the_scalar_one():
    low, high = wilson_intervals(np.array([81, 0, 3]), np.array([263, 10, 0]))
    assert (low[0], high[0]) == wilson_interval(81, 263)
    assert (low[1], high[1]) == wilson_interval(0, 10)
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_rate_counts_the_top_two_boxes(answers, frame_of):
    row = item_table(frame_of(answers([5, 4, 3, 2, 1]))).iloc[0]
    assert (row["n"], row["satisfied"], row["rate"]) == (5, 2, 0.4)
    assert (row["ci_low"], row["ci_high"]) == wilson_interval(2, 5)


def test_unanswered_ratings_are_left_out_of_n(answers, frame_of):
    row = item_table(frame_of(answers([5, None, 4, None]))).iloc[0]
    assert (row["n"], row["rate"], row["mean"]) == (2, 1.0, 4.5)


def test_mean_sd_and_dissatisfied_share_by_hand(answers, frame_of):
    row = item_table(frame_of(answers([5, 4, 2, 1]))).iloc[0]
    assert row["mean"] == 3.0
    # sum of squared deviations 4 + 1 + 1 + 4 = 10, over n - 1 = 3
    assert row["sd"] == pytest.approx(math.sqrt(10 / 3))
    assert (row["dissatisfied"], row["dissatisfied_share"]) == (2, 0.5)


def test_distribution_lists_every_scale_point_even_with_zero(answers, frame_of):
    table = distribution(frame_of(answers([5, 5, 4, 1])))
    assert table["value"].tolist() == [1, 2, 3, 4, 5]
    assert table["count"].tolist() == [1, 0, 0, 1, 2]
    assert table["share"].tolist() == [0.25, 0.0, 0.0, 0.25, 0.5]


def test_item_table_has_a_count_column_per_point(answers, frame_of):
    row = item_table(frame_of(answers([3, 3, 5]))).iloc[0]
    counts = [row[f"count_{v}"] for v in range(1, 6)]
    assert counts == [0, 0, 2, 0, 1]


def test_only_rating_answers_count(answers, frame_of):
    frame = frame_of(answers([5, 1]), answers([0], "nps", type="nps"), answers([None], "c"))
    table = item_table(frame)
    assert table["question"].tolist() == ["q1"]
    assert summary(frame).n == 2


def test_one_row_per_question_and_served_unit(answers, frame_of):
    frame = frame_of(answers([5, 4], "speed"), answers([2], "speed", served_unit="meetings"))
    table = item_table(frame)
    assert table["served_unit"].tolist() == ["documents", "meetings"]
    assert table["n"].tolist() == [2, 1]


def test_category_rate_pools_the_answers_of_its_items(answers, frame_of):
    frame = frame_of(answers([5, 5], "q1"), answers([5, 1, 1, 1], "q2"))
    row = category_table(frame).iloc[0]
    assert (row["items"], row["n"], row["satisfied"], row["rate"]) == (2, 6, 3, 0.5)
    assert row["respondents"] == 4  # respondents 1..4 answered; 1 and 2 answered both items


def test_seven_point_scale_uses_its_own_top_and_bottom_boxes(answers, frame_of):
    row = item_table(frame_of(answers([7, 6, 5, 2], scale_min=1, scale_max=7))).iloc[0]
    assert (row["satisfied"], row["dissatisfied"]) == (2, 1)


def test_summary_pools_the_whole_round(answers, frame_of):
    frame = frame_of(answers([5, 4, 1], "q1"), answers([2, None], "q2", start=10))
    result = summary(frame)
    assert (result.respondents, result.rating_respondents, result.answers) == (5, 4, 5)
    assert (result.items, result.n, result.satisfied) == (2, 4, 2)
    assert result.rate == 0.5 and result.mean == 3.0


def test_a_round_without_responses_gives_empty_tables_and_nan():
    frame = empty_frame()
    assert item_table(frame).empty and category_table(frame).empty and distribution(frame).empty
    result = summary(frame)
    assert result.n == 0 and math.isnan(result.rate) and math.isnan(result.ci_low)


def test_counts_can_stand_in_for_the_frame(answers, frame_of):
    frame = frame_of(answers([5, 4, 2]), answers([1, 5], "q2"))
    assert item_table(rating_counts(frame)).equals(item_table(frame))


@pytest.mark.parametrize(
    "numerator, denominator, threshold, expected",
    [(799, 1000, 0.8, True), (800, 1000, 0.8, False), (4, 5, 0.8, False), (7, 10, 0.7, False),
     (69, 100, 0.7, True), (35, 10, 3.5, False), (34, 10, 3.5, True), (0, 0, 0.8, False)],
)  # fmt: skip
def test_below_is_exact_at_the_threshold(numerator, denominator, threshold, expected):
    # 0.7 * 10 is 7.000000000000001 in floating point: a naive comparison would fire here.
    assert below(np.array([numerator]), np.array([denominator]), threshold)[0] == expected


def test_answers_without_a_category_form_their_own_category_row(answers, frame_of):
    frame = frame_of(answers([5, 1], "q1", category=None), answers([5], "q2"), answers([4], "q3"))
    table = category_table(frame)
    assert table["category"].isna().tolist() == [False, True]
    assert table["items"].tolist() == [2, 1] and table["n"].tolist() == [2, 2]


def test_metrics_are_kept_on_the_counts_but_each_caller_gets_its_own_copy(answers, frame_of):
    counts = rating_counts(frame_of(answers([5, 4, 3], "q1"), answers([5, 1], "q2")))
    first = metrics_of(counts, ("question",))
    first["n"] = 99
    first.loc[0, "rate"] = 0.0
    again = metrics_of(counts, ("question",))
    assert again["n"].tolist() == [3, 2]
    assert again["rate"].tolist() == [2 / 3, 1 / 2]
    assert metrics_of(counts, ("question",)) is not again


def test_changing_a_table_leaves_the_next_one_as_computed(answers, frame_of):
    counts = rating_counts(frame_of(answers([5, 4, 3], "q1"), answers([5, 1], "q2")))
    first = item_table(counts)
    first.loc[0, "rate"] = 0.0
    first["n"] = 99
    assert item_table(counts)["rate"].tolist() == [2 / 3, 1 / 2]
    assert item_table(counts)["n"].tolist() == [3, 2]


def test_writing_into_a_tables_key_column_leaves_the_next_table_as_computed(answers, frame_of):
    counts = rating_counts(frame_of(answers([5, 4, 3], "q1"), answers([5, 1], "q2")))
    item_table(counts)["question"].array[0] = "q2"
    assert item_table(counts)["question"].tolist() == ["q1", "q2"]


# ------------------------------------------------------- satisfied: the top points of any scale


def _expected_metrics(rated, by: list[str]) -> pd.DataFrame:
    """n, satisfied, dissatisfied, mean, sd per ``by`` and the 95% Wilson interval from
    statsmodels: at n for a row of one rating per respondent, else at the effective n of the
    respondent-clustered variance (OLS of the satisfied indicator, clustered by respondent;
    see ``analysis.clusters``)."""
    rows = []
    for _key, part in rated.groupby(by, sort=True):
        n, respondents = len(part), part["response_id"].nunique()
        satisfied = int(part["is_satisfied"].sum())
        n_eff, successes = n, satisfied
        if n > respondents:
            y = part["is_satisfied"].to_numpy(dtype="float64")
            fit = sm.OLS(y, np.ones(n)).fit(
                cov_type="cluster", cov_kwds={"groups": part["response_id"].to_numpy()}
            )
            p = satisfied / n
            n_eff = min(n / (float(fit.bse[0]) ** 2 / (p * (1 - p) / n)), respondents)
            successes = p * n_eff
        low, high = proportion_confint(successes, n_eff, alpha=0.05, method="wilson")
        rows.append({
            "n": n, "satisfied": satisfied, "dissatisfied": int(part["is_dissatisfied"].sum()),
            "mean": part["value"].mean(), "sd": part["value"].std(ddof=1),
            "respondents": respondents, "n_eff": n_eff, "ci_low": low, "ci_high": high,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _assert_figures(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    for column in ("n", "satisfied", "dissatisfied", "respondents"):
        assert actual[column].tolist() == expected[column].tolist(), column
    np.testing.assert_allclose(actual["rate"], expected["satisfied"] / expected["n"])
    np.testing.assert_allclose(
        actual["dissatisfied_share"], expected["dissatisfied"] / expected["n"]
    )
    for column in ("n_eff", "ci_low", "ci_high", "mean", "sd"):
        np.testing.assert_allclose(actual[column], expected[column], rtol=1e-9, err_msg=column)


@pytest.mark.parametrize("mixed", [False, True], ids=["one_scale", "two_scales"])
@pytest.mark.parametrize("name", list(SCALES))
def test_item_category_and_summary_count_the_scales_own_satisfied_points(scale_round, name, mixed):
    frame = scale_round(name, mixed=mixed)
    rated = satisfied_sets(name, frame)
    items = item_table(frame)
    assert items["question"].astype(str).tolist() == sorted(rated["question"].unique())
    _assert_figures(items, _expected_metrics(rated, ["question"]))
    for value in range(int(frame["scale_min"].min()), int(frame["scale_max"].max()) + 1):
        expected = rated.groupby("question")["value"].apply(lambda v, x=value: (v == x).sum())
        assert items[f"count_{value}"].tolist() == expected.tolist()
    categories = category_table(frame)
    _assert_figures(categories, _expected_metrics(rated, ["category"]))
    whole = summary(rating_counts(frame))
    pooled = _expected_metrics(rated.assign(all=1), ["all"]).iloc[0]
    assert (whole.n, whole.satisfied) == (pooled["n"], pooled["satisfied"])
    assert whole.rate == pytest.approx(pooled["satisfied"] / pooled["n"], rel=1e-12)
    assert (whole.n_eff, whole.ci_low, whole.ci_high) == pytest.approx(
        (pooled["n_eff"], pooled["ci_low"], pooled["ci_high"]), rel=1e-9
    )
    assert whole.mean == pytest.approx(pooled["mean"], rel=1e-12)
    assert whole.dissatisfied_share == pytest.approx(pooled["dissatisfied"] / pooled["n"])


def test_a_three_point_scale_counts_its_top_point_as_satisfied(answers, frame_of):
    row = item_table(frame_of(answers([3, 3, 2, 1], scale_min=1, scale_max=3))).iloc[0]
    assert (row["satisfied"], row["dissatisfied"], row["rate"]) == (2, 1, 0.5)
    assert (row["satisfied_from"], row["dissatisfied_to"]) == (3, 1)


def test_on_odd_values_the_top_two_points_count_not_the_top_two_numbers(answers, frame_of):
    # 1, 3, 5, 7, 9: satisfied from 7 (the app's frame says so), not from 9 - 1 = 8.
    values = [9, 9, 7, 7, 7, 5, 3, 1]
    frame = frame_of(answers(values, scale_min=1, scale_max=9, satisfied_from=7, dissatisfied_to=3))
    row = item_table(frame).iloc[0]
    assert (row["satisfied"], row["dissatisfied"], row["rate"]) == (5, 2, 5 / 8)
