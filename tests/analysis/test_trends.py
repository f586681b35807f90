import math

import numpy as np
import pytest
from scipy.stats import fisher_exact
from scipy.stats.contingency import expected_freq
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analysis import (
    category_table,
    compare_rounds,
    empty_frame,
    trend_table,
    two_proportion_z_test,
)
from analysis.trends import adjust_bh, newcombe_intervals


def test_z_test_matches_a_textbook_example():
    # Gerstman, StatPrimer, exercise 9B.16 (drug testing of student athletes): 5/95 vs
    # 12/62, "zstat = 2.78; P = 0.0054 (two-tailed)", without continuity correction; the
    # book's p is read at the rounded z = 2.78.
    z, p = two_proportion_z_test(5, 95, 12, 62)
    assert z == pytest.approx(2.78, abs=0.005)
    assert p == pytest.approx(0.0054, abs=1e-4)


def test_z_test_by_hand():
    # 40/50 -> 30/50: pooled p = 0.7, se = sqrt(0.7 * 0.3 * (2 / 50)) = 0.0916515,
    # z = -0.2 / 0.0916515 = -2.182179, p = erfc(2.182179 / sqrt 2) = 0.029096
    z, p = two_proportion_z_test(40, 50, 30, 50)
    assert z == pytest.approx(-2.182179, abs=1e-6)
    assert p == pytest.approx(0.029096, abs=1e-6)


def test_equal_rounds_all_satisfied_give_no_change():
    assert two_proportion_z_test(5, 5, 10, 10) == (0.0, 1.0)


def test_no_answers_in_a_round_give_nan():
    assert all(math.isnan(x) for x in two_proportion_z_test(0, 0, 3, 4))


def test_compare_rounds_reports_both_rates_and_the_test(counted):
    table = compare_rounds(counted(40, 50, round_id=1), counted(30, 50, round_id=2))
    row = table.iloc[0]
    assert (row["rate_before"], row["rate_after"]) == (0.8, 0.6)
    assert row["difference"] == pytest.approx(-0.2)
    assert row["significant"] and row["direction"] == "down"
    assert row["p_value"] == pytest.approx(0.029096, abs=1e-6)


def test_item_missing_from_one_round_is_not_tested(counted):
    table = compare_rounds(counted(4, 5, "old"), counted(4, 5, "new"))
    assert table["question"].tolist() == ["new", "old"]
    assert table["p_value"].isna().all() and not table["significant"].any()
    assert table["n_before"].tolist() == [0, 5]


def test_trend_table_follows_the_callers_round_order(answers, frame_of):
    frame = frame_of(answers([5, 5], round_id=7), answers([5, 1], round_id=3, start=10))
    table = trend_table(frame, order=[7, 3])
    assert table["round_id"].tolist() == [7, 3] and table["round_index"].tolist() == [0, 1]
    assert table["rate"].tolist() == [1.0, 0.5]
    assert math.isnan(table["difference"].iloc[0]) and table["difference"].iloc[1] == -0.5


def test_rounds_without_responses_give_empty_tables():
    assert compare_rounds(empty_frame(), empty_frame()).empty
    assert trend_table(empty_frame(), order=[1, 2]).empty


def test_missing_keys_and_directions_are_missing_strings(counted):
    table = compare_rounds(
        counted(4, 5, "old", served_unit=None), counted(4, 5, "new", served_unit=None)
    )
    assert str(table["served_unit"].dtype) == "str" and table["served_unit"].isna().all()
    assert str(table["direction"].dtype) == "str" and table["direction"].isna().all()


# --- the test chosen by the expected counts, the anonymity threshold, Benjamini-Hochberg ---
# Reference values: statsmodels (pooled z-test, BH, Newcombe) and scipy (Fisher's exact test).


def _reference_p(x1: int, n1: int, x2: int, n2: int) -> tuple[str, float]:
    """The rule of analysis.trends written with the references: Fisher's exact test when an
    expected count (scipy's expected_freq) is below 5, else statsmodels' pooled z-test."""
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    if expected_freq(table).min() < 5:
        return "fisher", fisher_exact(table).pvalue
    return "z", proportions_ztest([x2, x1], [n2, n1])[1]


@pytest.fixture
def rounds_of(answers, frame_of):
    """rounds_of(draws, round_index) -> one answer frame with an item q00, q01, ... per draw
    (x1, n1, x2, n2): round_index 0 gives x1 satisfied of n1 (round 1), 1 gives x2 of n2."""

    def build(draws, round_index: int):
        parts = []
        for i, draw in enumerate(draws):
            x, n = draw[2 * round_index], draw[2 * round_index + 1]
            values = [5] * x + [2] * (n - x)
            parts.append(answers(values, f"q{i:02d}", round_id=round_index + 1))
        return frame_of(*parts)

    return build


@pytest.fixture
def generated():
    """40 items with 5..60 answers a round and rates from 30% to 100%, seeded."""
    rng = np.random.default_rng(17)
    draws = []
    for _ in range(40):
        n1, n2 = rng.integers(5, 61, size=2)
        p1 = rng.uniform(0.3, 1.0)
        p2 = min(1.0, max(0.0, p1 + rng.normal(0, 0.15)))
        draws.append((int(rng.binomial(n1, p1)), int(n1), int(rng.binomial(n2, p2)), int(n2)))
    return draws


def test_every_p_value_matches_scipy_or_statsmodels_on_generated_rounds(rounds_of, generated):
    table = compare_rounds(rounds_of(generated, 0), rounds_of(generated, 1))
    expected = [_reference_p(*draw) for draw in generated]
    assert table["test"].tolist() == [test for test, _ in expected]
    assert table["p_value"].to_numpy() == pytest.approx([p for _, p in expected], rel=1e-9)
    assert {"z", "fisher"} <= set(table["test"])  # both tests are exercised


def test_adjusted_p_values_are_benjamini_hochberg_over_the_tables_tests(rounds_of, generated):
    table = compare_rounds(rounds_of(generated, 0), rounds_of(generated, 1))
    _, q, _, _ = multipletests(table["p_value"], method="fdr_bh")
    assert table["p_adjusted"].to_numpy() == pytest.approx(q, rel=1e-9)
    assert table["significant"].tolist() == (q < 0.05).tolist()
    # The correction matters here: some rows are below 0.05 only before it.
    assert ((table["p_value"] < 0.05) & ~table["significant"]).any()


def test_twelve_against_twelve_answers_use_fishers_exact_test(counted):
    # The group cell: 11 of 12 -> 6 of 12; z-test p = 0.025, Fisher p = 0.069.
    row = compare_rounds(counted(11, 12, round_id=1), counted(6, 12, round_id=2)).iloc[0]
    assert proportions_ztest([6, 11], [12, 12])[1] == pytest.approx(0.0247, abs=1e-4)
    assert row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(fisher_exact([[11, 1], [6, 6]]).pvalue, rel=1e-12)
    assert row["p_value"] == pytest.approx(0.0686, abs=1e-4) and not row["significant"]


@pytest.mark.parametrize(
    ("before", "after", "test"),
    [(24, 20, "fisher"), (21, 14, "z")],  # expected not-satisfied counts 2 and 6.5
)
def test_twenty_four_against_twenty_four_answers(counted, before, after, test):
    row = compare_rounds(counted(before, 24, round_id=1), counted(after, 24, round_id=2)).iloc[0]
    reference_test, reference_p = _reference_p(before, 24, after, 24)
    assert row["test"] == reference_test == test
    assert row["p_value"] == pytest.approx(reference_p, rel=1e-12)
    assert row["significant"] == (reference_p < 0.05)  # one test: q = p


def test_nothing_is_tested_below_the_anonymity_threshold(counted):
    table = compare_rounds(counted(4, 4, round_id=1), counted(0, 20, round_id=2))
    row = table.iloc[0]
    assert math.isnan(row["p_value"]) and math.isnan(row["p_adjusted"])
    assert row["test"] is None or row["test"] != row["test"]  # missing
    assert not row["significant"] and row["direction"] == "down"
    tested = compare_rounds(counted(4, 4), counted(0, 20), anonymity_threshold=4).iloc[0]
    assert tested["test"] == "fisher" and tested["significant"]


def test_rows_below_the_threshold_do_not_count_in_the_correction(rounds_of):
    draws = [(40, 50, 30, 50), (2, 2, 0, 2)]
    table = compare_rounds(rounds_of(draws, 0), rounds_of(draws, 1))
    assert table["p_adjusted"].iloc[0] == table["p_value"].iloc[0]  # a family of one
    assert math.isnan(table["p_value"].iloc[1])


def test_trend_table_adjusts_each_pair_of_rounds_on_its_own(answers, frame_of):
    counts = {1: [(40, 50), (9, 10), (30, 60)], 2: [(30, 50), (5, 10), (45, 60)],
              3: [(45, 50), (10, 10), (20, 60)]}  # fmt: skip
    frame = frame_of(
        *(
            answers([5] * x + [2] * (n - x), f"q{i}", category=f"c{i}", round_id=r)
            for r, rows in counts.items()
            for i, (x, n) in enumerate(rows)
        )
    )
    table = trend_table(frame, order=[1, 2, 3])
    for index in (1, 2):
        pair = table[table["round_index"] == index].sort_values("category")
        expected = [
            _reference_p(counts[index][i][0], counts[index][i][1], *counts[index + 1][i])
            for i in range(3)
        ]
        assert pair["p_value"].to_numpy() == pytest.approx([p for _, p in expected], rel=1e-9)
        assert pair["test"].tolist() == [t for t, _ in expected]
        q = multipletests([p for _, p in expected], method="fdr_bh")[1]
        assert pair["p_adjusted"].to_numpy() == pytest.approx(q, rel=1e-9)
        assert pair["significant"].tolist() == (q < 0.05).tolist()
    assert table[table["round_index"] == 0]["p_adjusted"].isna().all()


def test_adjust_bh_keeps_untested_rows_out():
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    q = adjust_bh(p)
    assert np.isnan(q[[1, 4]]).all()
    assert q[[0, 2, 3]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1])
    assert np.isnan(adjust_bh(np.array([np.nan]))).all() and adjust_bh(np.array([])).size == 0


def test_newcombe_interval_matches_statsmodels(generated):
    for x1, n1, x2, n2 in generated:
        (low,), (high,) = newcombe_intervals([x1], [n1], [x2], [n2])
        # statsmodels gives the interval of count1/nobs1 - count2/nobs2: the after round first.
        reference = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff")
        assert (low, high) == pytest.approx(reference, abs=1e-12)


def test_a_category_is_tested_on_its_respondents_not_on_its_answers(answers, frame_of):
    # 20 respondents rate four items of one category, each all alike: 10 then 15 of them
    # satisfied. Counted as answers, 40 of 80 against 60 of 80 looks certain (p < 0.01); the
    # evidence is 20 people, and their effective n is what the test may use.
    def round_of(satisfied: int, round_id: int):
        parts = []
        for item in ("q1", "q2", "q3", "q4"):
            values = [5] * satisfied + [2] * (20 - satisfied)
            parts.append(answers(values, item, round_id=round_id))
        return frame_of(*parts)

    before, after = round_of(10, 1), round_of(15, 2)
    (row,) = compare_rounds(before, after, by=("category",)).to_dict("records")
    answers_p = proportions_ztest([40, 60], [80, 80])[1]
    effective = [category_table(f).iloc[0] for f in (before, after)]
    x = [round(r["rate"] * round(r["n_eff"])) for r in effective]
    n = [round(r["n_eff"]) for r in effective]
    assert n[0] <= 20 and n[1] <= 20
    assert row["test"] == "z" and row["p_value"] == pytest.approx(proportions_ztest(x, n)[1])
    assert answers_p < 0.01 < 0.05 < row["p_value"]


def test_adjust_bh_equals_scipy_bit_for_bit():
    # adjust_bh follows scipy.stats.false_discovery_control step for step (scipy.stats is not
    # imported for it: 45 MB of an export's memory), ties and one-element families included.
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(20)
    for size in (1, 2, 3, 7, 50, 400):
        p = rng.uniform(size=size)
        p[rng.integers(0, size, size=size // 3)] = p[0]  # ties
        p[: size // 4] = rng.choice([0.0, 1.0, 1e-300], size=size // 4)
        expected = false_discovery_control(p, method="bh")
        assert adjust_bh(p).tolist() == np.asarray(expected, dtype="float64").tolist()


def test_the_analysis_package_leaves_scipy_stats_unimported():
    # Its import alone is 45 MB of every process; only Fisher's exact test needs it, and
    # imports it when a table has a small expected count.
    import subprocess
    import sys

    code = "import analysis, sys; print('scipy.stats' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
