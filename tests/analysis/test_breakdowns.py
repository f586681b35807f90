import numpy as np
import pandas as pd

from analysis import (
    by_category,
    by_group,
    by_group_category,
    by_question,
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
    frame = frame_of(
        answers([5] * 10, "q1", group="departments"),
        answers([5, 4, 1], "q2", group="departments", category="services.meetings"),
    )
    table = by_group_category(frame)
    shown = table.set_index("category")["suppressed"].to_dict()
    assert shown == {"services.documents": False, "services.meetings": True}


def test_respondents_are_distinct_people_not_answers(answers, frame_of):
    # 3 mayors answer 2 items of one category: 6 answers but only 3 respondents.
    frame = frame_of(answers([5, 5, 5], "q1", group="mayors"),
                     answers([4, 4, 4], "q2", group="mayors"))  # fmt: skip
    row = by_group_category(frame, anonymity_threshold=4).iloc[0]
    assert row["suppressed"]


def test_suppress_replaces_figures_with_nan_and_keeps_the_keys():
    table = pd.DataFrame({"group": ["a", "b"], "n": [3, 9], "rate": [1.0, 0.5],
                          "scale_max": [5, 5]})  # fmt: skip
    result = suppress(table, pd.Series([3, 9]), threshold=5)
    assert result["group"].tolist() == ["a", "b"]
    assert result["suppressed"].tolist() == [True, False]
    assert np.isnan(result.loc[0, "rate"]) and result.loc[1, "rate"] == 0.5
    assert result["scale_max"].tolist() == [5, 5]
    assert table.loc[0, "rate"] == 1.0  # the caller's table is not changed


def test_breakdowns_without_respondent_groups_are_never_suppressed(answers, frame_of):
    frame = frame_of(answers([5, 1], served_unit="reception"))
    assert not by_served_unit(frame)["suppressed"].any()
    assert not by_question(frame)["suppressed"].any()
    assert by_served_unit(frame).iloc[0]["n"] == 2


def test_a_round_without_responses_gives_empty_breakdowns():
    for table in (by_group(empty_frame()), by_group_category(empty_frame()),
                  by_served_unit(empty_frame()), by_category(empty_frame())):  # fmt: skip
        assert table.empty and "suppressed" in table.columns
