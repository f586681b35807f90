"""Respondents as clusters: the intervals, design effects and effective n of pooled figures
against statsmodels' cluster-robust variances on generated rounds."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from analysis import (
    answer_frame,
    by_group,
    category_table,
    item_table,
    rating_counts,
    summary,
    weighted_table,
    wilson_interval,
)
from analysis.clusters import response_groups
from analysis.scorecards import scorecard_table

GROUPS = ("mayors", "departments", "cppcc", "congress")
WEIGHTS = {"mayors": 0.4, "departments": 0.4, "cppcc": 0.1, "congress": 0.1}


def generated_round(respondents: int, items: int, *, agreement: float, seed: int = 7):
    """Each respondent rates ``items`` items of two categories on 1..5; ``agreement`` is how
    much of a rating comes from the respondent's own mood (0: independent answers)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(respondents):
        mood = rng.normal()
        for k in range(items):
            noise = rng.normal()
            latent = 3.7 + agreement * mood + (1 - agreement) * noise + 0.3 * (k % 3)
            rows.append({
                "round_id": 1, "response_id": 1000 + 3 * i, "group": GROUPS[i % 4],
                "served_unit": "documents" if k % 2 else "meetings",
                "category": "a" if k < items // 2 else "b", "question": f"q{k}",
                "type": "rating", "value": float(np.clip(round(latent), 1, 5)),
                "comment": None,
            })  # fmt: skip
    return answer_frame(rows)


def clustered_reference(rows: pd.DataFrame) -> tuple[float, float, int]:
    """(p, cluster-robust variance, respondents): OLS of the satisfied indicator on a constant,
    clustered by respondent (statsmodels' default small-sample correction G / (G - 1))."""
    y = (rows["value"] >= 4).to_numpy(dtype="float64")
    fit = sm.OLS(y, np.ones(len(y))).fit(
        cov_type="cluster", cov_kwds={"groups": rows["response_id"].to_numpy()}
    )
    return float(fit.params[0]), float(fit.bse[0]) ** 2, rows["response_id"].nunique()


def expected(rows: pd.DataFrame) -> dict[str, float]:
    """deff, n_eff and the Wilson interval at n_eff, from statsmodels."""
    p, variance, respondents = clustered_reference(rows)
    n = len(rows)
    deff = variance / (p * (1 - p) / n)
    n_eff = min(n / deff, respondents)
    low, high = proportion_confint(p * n_eff, n_eff, alpha=0.05, method="wilson")
    return {"deff": deff, "n_eff": n_eff, "ci_low": low, "ci_high": high}


def assert_matches(row, reference: dict[str, float]) -> None:
    for name, value in reference.items():
        assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


@pytest.fixture(scope="module")
def clustered():
    """161 respondents who rate 9 items each, their answers strongly alike."""
    return generated_round(161, 9, agreement=0.85)


@pytest.fixture(scope="module")
def independent():
    """2,000 respondents who rate 6 items each, every answer drawn on its own."""
    return generated_round(2000, 6, agreement=0.0, seed=3)


def test_the_round_interval_counts_respondents_as_clusters(clustered):
    figures = summary(clustered)
    reference = expected(clustered)
    assert_matches(figures.__dict__, reference)
    assert figures.deff > 2  # answers of one respondent go together
    assert figures.n_eff <= figures.rating_respondents < figures.n
    naive = wilson_interval(figures.satisfied, figures.n)
    assert figures.ci_high - figures.ci_low > 1.5 * (naive[1] - naive[0])


def test_each_category_is_clustered_on_its_own_answers(clustered):
    table = category_table(clustered)
    for row in table.to_dict("records"):
        rows = clustered[clustered["category"] == row["category"]]
        assert_matches(row, expected(rows))
        assert row["n"] == len(rows) and row["respondents"] == 161
        assert row["n_eff"] <= row["respondents"]


def test_groups_and_served_units_are_clustered_too(clustered):
    for row in by_group(clustered, anonymity_threshold=5).to_dict("records"):
        assert_matches(row, expected(clustered[clustered["group"] == row["group"]]))
    for row in scorecard_table(clustered, level="unit").to_dict("records"):
        rows = clustered[clustered["served_unit"] == row["served_unit"]]
        assert_matches(row, expected(rows))


def test_independent_answers_have_a_design_effect_near_one(independent):
    figures = summary(independent)
    reference = expected(independent)
    assert_matches(figures.__dict__, reference)
    assert figures.deff == pytest.approx(1, abs=0.1)
    # n / deff is about the 12,000 answers, yet the effective n stays at the respondents.
    assert figures.n_eff == figures.rating_respondents == 2000


def test_an_item_keeps_its_plain_wilson_interval(clustered):
    table = item_table(clustered)
    assert (table["deff"] == 1).all() and (table["n_eff"] == table["n"]).all()
    for row in table.to_dict("records"):
        assert (row["ci_low"], row["ci_high"]) == wilson_interval(row["satisfied"], row["n"])


def test_a_category_of_one_item_per_respondent_is_not_clustered(answers, frame_of):
    frame = frame_of(answers([5, 4, 2, 1, 5], "q1"), answers([5, 2, 2], "q2", start=10))
    row = category_table(frame).iloc[0]
    assert (row["deff"], row["n_eff"]) == (1, 8)
    assert (row["ci_low"], row["ci_high"]) == wilson_interval(4, 8)


def test_no_variance_to_measure_gives_the_respondents(answers, frame_of):
    # everyone satisfied: the design effect cannot be measured, the effective n is r
    frame = frame_of(answers([5, 4, 5], "q1"), answers([4, 4, 5], "q2"))
    figures = summary(frame)
    assert math.isnan(figures.deff) and figures.n_eff == 3
    assert (figures.ci_low, figures.ci_high) == pytest.approx(wilson_interval(3, 3))


def test_the_large_round_bookkeeping_gives_the_same_figures(clustered):
    small = rating_counts(clustered)
    large = rating_counts(clustered, presence_limit=1)
    assert small.patterns is not None and large.patterns is None
    assert (response_groups(small) == response_groups(large)).all()
    for table in (category_table, lambda c: by_group(c, 5)):
        pd.testing.assert_frame_equal(table(small), table(large))
    pd.testing.assert_frame_equal(
        weighted_table(small, WEIGHTS, by=("category",)),
        weighted_table(large, WEIGHTS, by=("category",)),
    )


def weighted_reference(rows: pd.DataFrame, weights: dict[str, float], correction: bool):
    """(weighted rate, variance) from statsmodels' WLS on a constant, clustered by respondent,
    each answer of group g weighing w_g / n_g (shares renormalised over the groups present)."""
    present = {g: w for g, w in weights.items() if (rows["group"] == g).any() and w > 0}
    total = sum(present.values())
    rows = rows[rows["group"].isin(list(present))]
    n_g = rows["group"].astype(str).value_counts()
    w = rows["group"].astype(str).map(lambda g: present[g] / total / n_g[g]).to_numpy()
    y = (rows["value"] >= 4).to_numpy(dtype="float64")
    fit = sm.WLS(y, np.ones(len(y)), weights=w).fit(
        cov_type="cluster",
        cov_kwds={"groups": rows["response_id"].to_numpy(), "use_correction": correction},
    )
    kish = 1 / sum((present[g] / total) ** 2 / rows.loc[rows["group"] == g, "response_id"]
                   .nunique() for g in present)  # fmt: skip
    return float(fit.params[0]), float(fit.bse[0]) ** 2, len(rows), kish


def test_weighted_round_and_categories_match_statsmodels(clustered):
    for by in ((), ("category",)):
        table = weighted_table(clustered, WEIGHTS, by=by)
        for row in table.to_dict("records"):
            rows = clustered if not by else clustered[clustered["category"] == row["category"]]
            p, variance, n, kish = weighted_reference(rows, WEIGHTS, correction=True)
            assert row["weighted_rate"] == pytest.approx(p)
            assert row["weighted_deff"] == pytest.approx(variance / (p * (1 - p) / n))
            assert row["weighted_n_eff"] == pytest.approx(min(p * (1 - p) / variance, kish))
            assert row["weighted_n_eff"] <= row["weighted_respondents"] == 161
            low, high = proportion_confint(
                p * row["weighted_n_eff"], row["weighted_n_eff"], method="wilson"
            )
            assert (row["weighted_ci_low"], row["weighted_ci_high"]) == pytest.approx((low, high))


def test_weighted_items_match_statsmodels_without_the_cluster_factor(clustered):
    table = weighted_table(clustered, {"mayors": 3, "departments": 1, "cppcc": 1})
    for row in table.to_dict("records"):
        rows = clustered[clustered["question"] == row["question"]]
        p, variance, n, kish = weighted_reference(
            rows, {"mayors": 3, "departments": 1, "cppcc": 1}, correction=False
        )
        assert row["weighted_n_eff"] == pytest.approx(min(p * (1 - p) / variance, kish))
        assert row["weighted_n_eff"] <= row["weighted_respondents"]


def test_the_weighted_figure_of_the_issue_no_longer_exceeds_the_respondents(clustered):
    # Kish's n from answers gave an effective n of about nine ratings per respondent.
    row = weighted_table(clustered, WEIGHTS, by=()).iloc[0]
    assert row["weighted_n_eff"] <= 161 < row["weighted_n"]


@st.composite
def small_rounds(draw):
    """Up to 12 respondents in up to 3 groups, each rating a random subset of 5 items of two
    categories on 1..5 (some twice, in frame order), values drawn freely."""
    rows = []
    for i in range(draw(st.integers(1, 12))):
        group = draw(st.sampled_from(GROUPS[:3]))
        for k in draw(st.lists(st.integers(0, 4), min_size=1, max_size=7)):
            rows.append({
                "round_id": 1, "response_id": i + 1, "group": group, "served_unit": "u",
                "category": "a" if k < 3 else "b", "question": f"q{k}", "type": "rating",
                "value": float(draw(st.integers(1, 5))), "comment": None,
            })  # fmt: skip
    return answer_frame(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_rounds(), st.booleans())
def test_the_effective_n_never_exceeds_the_respondents(frame, large):
    counts = rating_counts(frame, presence_limit=1 if large else 100_000_000)
    figures = summary(counts)
    assert figures.n_eff <= figures.rating_respondents
    for table in (category_table(counts), by_group(counts, 1), item_table(counts)):
        assert (table["n_eff"] <= table["respondents"]).all()
        assert (table["n_eff"] > 0).all()
        assert (table["ci_low"] <= table["rate"] + 1e-12).all()
        assert (table["rate"] <= table["ci_high"] + 1e-12).all()
    for by in ((), ("category",), ("question", "category", "served_unit")):
        weighted = weighted_table(counts, WEIGHTS, by=by)
        assert (weighted["weighted_n_eff"] <= weighted["weighted_respondents"] + 1e-9).all()
        assert (weighted["weighted_respondents"] <= weighted["respondents"]).all()
