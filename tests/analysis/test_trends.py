import math

import pytest

from analysis import compare_rounds, empty_frame, trend_table, two_proportion_z_test


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
