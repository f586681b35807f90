import numpy as np
import pandas as pd

from analysis import (
    by_category,
    by_group,
    by_group_category,
    by_served_unit,
    empty_frame,
    item_table,
    suppress,
)


def _mayors_and_departments(answers, frame_of, mayors: int):
    return frame_of(
        answers([5] * mayors, group="mayors", start=100),
        answers([4] * 8 + [1, 2], group="departments"),
    )


def _row(table: pd.DataFrame, group: str) -> pd.Series:
    return table[table["group"] == group].iloc[0]


def test_group_below_threshold_is_suppressed(answers, frame_of):
    table = by_group(_mayors_and_departments(answers, frame_of, mayors=4), anonymity_threshold=5)
    mayors = _row(table, "mayors")
    assert mayors["suppressed"]
    assert np.isnan(mayors["rate"]) and np.isnan(mayors["n"]) and np.isnan(mayors["ci_low"])


def test_group_at_threshold_is_shown(answers, frame_of):
    table = by_group(_mayors_and_departments(answers, frame_of, mayors=5), anonymity_threshold=5)
    mayors = _row(table, "mayors")
    assert not mayors["suppressed"]
    assert (mayors["n"], mayors["rate"]) == (5, 1.0)


def test_suppressed_group_still_counts_in_the_totals(answers, frame_of):
    frame = _mayors_and_departments(answers, frame_of, mayors=4)
    assert item_table(frame).iloc[0]["n"] == 14
    assert item_table(frame).iloc[0]["satisfied"] == 12
    assert by_category(frame).iloc[0]["n"] == 14


def test_few_respondents_of_a_large_group_hide_that_cell(answers, frame_of):
    # q2 has 9 respondents, so it is published; only 3 of them are departments.
    meetings = {"category": "services.meetings"}
    frame = frame_of(
        answers([5] * 10, "q1", group="departments"),
        answers([5] * 10, "q1", group="mayors", start=50),
        answers([5, 4, 1], "q2", group="departments", **meetings),
        answers([5] * 6, "q2", group="mayors", start=50, **meetings),
    )
    table = by_group_category(frame).set_index(["group", "category"])["suppressed"]
    assert table[("departments", "services.meetings")]
    # Its complement: the meetings total minus the mayors' cell would give the departments'.
    assert table[("mayors", "services.meetings")]


def test_respondents_are_distinct_people_not_answers(answers, frame_of):
    # 3 mayors answer 2 items of one category: 6 answers but only 3 respondents.
    frame = frame_of(answers([5, 5, 5], "q1", group="mayors"),
                     answers([4, 4, 4], "q2", group="mayors"),
                     answers([5] * 6, "q1", start=10), answers([5] * 6, "q2", start=10))  # fmt: skip
    table = by_group_category(frame, anonymity_threshold=4).set_index("group")
    assert table.loc["mayors", "suppressed"]


def test_suppress_replaces_figures_with_nan_and_keeps_the_keys():
    table = pd.DataFrame({"group": ["a", "b"], "n": [3, 9], "rate": [1.0, 0.5],
                          "scale_max": [5, 5]})  # fmt: skip
    result = suppress(table, pd.Series([3, 9]), threshold=5)
    assert result["group"].tolist() == ["a", "b"]
    assert result["suppressed"].tolist() == [True, False]
    assert np.isnan(result.loc[0, "rate"]) and result.loc[1, "rate"] == 0.5
    assert result["scale_max"].tolist() == [5, 5]
    assert table.loc[0, "rate"] == 1.0  # the caller's table is not changed


def test_an_item_with_fewer_respondents_than_the_threshold_is_withheld_from_every_total(
    answers, frame_of
):
    frame = frame_of(answers([5, 1], "q1", served_unit="reception"),
                     answers([5] * 5, "q2", served_unit="reception", start=10))  # fmt: skip
    units = by_served_unit(frame)
    assert not units["suppressed"].any()
    # q1's two answers would be the reception total minus q2: they are in no total.
    assert units.iloc[0]["n"] == 5
    assert by_served_unit(frame_of(answers([5] * 5, served_unit="reception"))).iloc[0]["n"] == 5


def test_a_round_without_responses_gives_empty_breakdowns():
    for table in (by_group(empty_frame()), by_group_category(empty_frame()),
                  by_served_unit(empty_frame()), by_category(empty_frame())):  # fmt: skip
        assert table.empty and "suppressed" in table.columns
