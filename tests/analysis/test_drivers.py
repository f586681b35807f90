import math

import numpy as np
import pandas as pd
import pytest

from analysis import driver_table, empty_frame, rating_counts
from analysis.drivers import quadrants
from tests.analysis.conftest import SCALES, satisfied_sets


def test_importance_is_the_pearson_correlation_with_overall(answers, frame_of):
    item, overall = [5, 4, 2, 1, 3], [4, 5, 1, 2, 3]
    frame = frame_of(answers(item, "q1"), answers(overall, "overall", category="overall"))
    row = driver_table(frame).iloc[0]
    assert row["question"] == "q1"
    assert row["importance"] == pytest.approx(np.corrcoef(item, overall)[0, 1])
    assert (row["pairs"], row["n"], row["rate"]) == (5, 5, 0.4)


def test_pairs_are_matched_by_respondent(answers, frame_of):
    frame = frame_of(
        answers([5, 4, 1, None, 3], "q1"),  # respondent 4 skipped q1
        answers([5, 4, 1, 5], "overall", category="overall", start=2),  # 1 skipped overall
    )
    row = driver_table(frame).iloc[0]
    # pairs: respondent 2 (4, 5), 3 (1, 4), 5 (3, 5)
    assert row["pairs"] == 3
    assert row["importance"] == pytest.approx(np.corrcoef([4, 1, 3], [5, 4, 5])[0, 1])


def test_fewer_than_three_pairs_give_no_importance(answers, frame_of):
    frame = frame_of(answers([5, 1], "q1"), answers([5, 1], "overall", category="overall"))
    row = driver_table(frame).iloc[0]
    assert row["pairs"] == 2 and math.isnan(row["importance"]) and pd.isna(row["quadrant"])


def test_quadrants_split_at_the_medians():
    importance = pd.Series([0.9, 0.8, 0.1, 0.2])
    performance = pd.Series([0.5, 0.95, 0.4, 0.99])
    assert list(quadrants(importance, performance)) == [
        "concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill",
    ]  # fmt: skip


def test_an_item_at_the_median_counts_as_high():
    labels = quadrants(pd.Series([0.1, 0.5, 0.9]), pd.Series([0.6, 0.7, 0.8]))
    assert labels[1] == "keep_up_the_good_work"


def test_items_without_importance_get_no_quadrant_and_do_not_move_the_medians():
    labels = quadrants(pd.Series([0.9, np.nan, 0.1]), pd.Series([0.9, 0.0, 0.5]))
    assert pd.isna(labels[1])
    assert list(labels[[0, 2]]) == ["keep_up_the_good_work", "low_priority"]


def test_without_an_overall_item_every_importance_is_nan(answers, frame_of):
    table = driver_table(frame_of(answers([5, 4, 1], "q1"), answers([2, 4, 5], "q2")))
    assert len(table) == 2 and table["importance"].isna().all()


def test_overall_item_code_is_configurable(answers, frame_of):
    frame = frame_of(answers([5, 4, 1], "q1"), answers([5, 4, 2], "general"))
    table = driver_table(frame, overall="general")
    assert table["question"].tolist() == ["q1"] and table["importance"].iloc[0] > 0.9


def test_a_round_without_responses_gives_an_empty_table():
    assert driver_table(empty_frame()).empty


def _brute_force(frame: pd.DataFrame, overall: str = "overall") -> pd.DataFrame:
    """The driver figures the slow way: each respondent's last rating of each item, pandas corr."""
    rated = frame[(frame["type"] == "rating") & frame["value"].notna()].astype({"question": str})
    last = rated.groupby(["response_id", "question"])[["value", "satisfied_from"]].last()
    values = last["value"].unstack()
    top = last["satisfied_from"].groupby("question").last()
    rows = []
    for question in values.columns.drop(overall, errors="ignore"):
        x = values[question]
        y = values[overall] if overall in values else pd.Series(np.nan, index=x.index)
        both = x.notna() & y.notna()
        r = x[both].corr(y[both]) if both.sum() >= 3 else np.nan
        rows.append((question, x.count(), (x >= top[question]).sum() / x.count(), r, both.sum()))
    return pd.DataFrame(rows, columns=["question", "n", "rate", "importance", "pairs"])


@pytest.fixture
def odd_round(answers, frame_of):
    """Duplicates (last answer wins), a 1..7 item, unanswered items, a respondent in two groups."""
    return lambda *extra: frame_of(
        answers([5, 4, 2, 1, 3, None], "q1"), answers([3], "q1", start=2),
        answers([7, 6, 2, 5, 1, 4], "q2", scale_min=1, scale_max=7),
        answers([None, 2, 4], "q3", start=3), answers([1, 5], "q3", start=4, group="cppcc"),
        *extra,
    )  # fmt: skip


@pytest.mark.parametrize("with_overall", [True, False])
@pytest.mark.parametrize("presence_limit", [None, 0])
def test_driver_table_from_counts_matches_the_answers(
    answers, odd_round, with_overall, presence_limit
):
    overall = answers([5, 4, 1, 2, 4, 3], "overall", category="overall")
    frame = odd_round(overall) if with_overall else odd_round()
    kwargs = {} if presence_limit is None else {"presence_limit": presence_limit}
    table = driver_table(rating_counts(frame, **kwargs))
    assert table.equals(driver_table(frame))
    expected = _brute_force(frame)
    assert table["question"].astype(str).tolist() == expected["question"].tolist()
    assert table["n"].tolist() == expected["n"].tolist()
    assert table["pairs"].tolist() == expected["pairs"].tolist()
    np.testing.assert_allclose(table["rate"], expected["rate"])
    importance = expected["importance"].astype(float)
    np.testing.assert_allclose(table["importance"], importance, atol=1e-12)


@pytest.mark.parametrize("values", [[], [None, None]])
def test_driver_table_from_counts_of_a_round_without_ratings(answers, frame_of, values):
    frame = frame_of(answers(values)) if values else empty_frame()
    table = driver_table(rating_counts(frame))
    assert table.empty and table.equals(driver_table(frame))


def test_respondents_who_skipped_an_item_are_not_satisfied_on_a_scale_ending_at_1(
    answers, frame_of
):
    # Top two boxes of -2..1 are 0 and 1; respondent 3 never rated q1.
    frame = frame_of(answers([1, -2], "q1", scale_min=-2, scale_max=1), answers([5, 4, 3], "q2"))
    row = driver_table(frame).iloc[0]
    assert (row["question"], row["n"], row["rate"]) == ("q1", 2, 0.5)


def test_an_item_with_fewer_than_ten_pairs_keeps_its_importance_but_no_quadrant(answers, frame_of):
    # q_small: asked of one small group (nine respondents), strongly correlated there; it must
    # neither get a quadrant nor move the medians the well-answered items are split at.
    overall = [5, 4, 2, 1, 3, 4, 5, 2, 3, 4, 5, 1]
    frame = frame_of(
        answers(overall, "overall", category="overall"),
        answers([5, 4, 2, 1, 3, 4, 5, 2, 3, 4, 5, 1], "q_strong"),
        answers([3, 4, 4, 3, 4, 3, 4, 4, 3, 4, 4, 3], "q_weak"),
        answers(overall[:9], "q_small"),
    )
    table = driver_table(frame).set_index("question")
    assert table.loc["q_small", "pairs"] == 9
    assert table.loc["q_small", "importance"] == pytest.approx(1.0)
    assert pd.isna(table.loc["q_small", "quadrant"])
    placed = table.drop(index="q_small")
    assert list(placed["quadrant"]) == list(quadrants(placed["importance"], placed["rate"]))
    assert placed["quadrant"].notna().all()


@pytest.mark.parametrize("mixed", [False, True], ids=["one_scale", "two_scales"])
@pytest.mark.parametrize("name", list(SCALES))
def test_driver_rates_count_the_scales_own_satisfied_points(scale_round, name, mixed):
    frame = scale_round(name, mixed=mixed)
    rated = satisfied_sets(name, frame)
    table = driver_table(frame)
    drivers = rated[rated["question"] != "overall"]
    assert table["question"].astype(str).tolist() == sorted(drivers["question"].unique())
    per_item = drivers.groupby("question")["is_satisfied"]
    np.testing.assert_allclose(table["rate"], per_item.mean())
    assert table["n"].tolist() == per_item.size().tolist()
    values = rated.pivot(index="response_id", columns="question", values="value")
    expected = [values[q].corr(values["overall"]) for q in sorted(drivers["question"].unique())]
    np.testing.assert_allclose(table["importance"], expected, atol=1e-12)
