from analysis import below_threshold_table, empty_frame, headline_table, trend_summary


def test_headline_gives_each_category_its_rate_and_status(answers, frame_of):
    frame = frame_of(answers([5, 5, 5, 5, 1], "q1"),
                     answers([5, 5, 1], "q2", category="services.meetings"))  # fmt: skip
    table = headline_table(frame).set_index("category")
    assert table.loc["services.documents", "rate"] == 0.8
    assert table["status"].to_dict() == {
        "services.documents": "meets", "services.meetings": "possibly_below",
    }  # fmt: skip


def test_items_below_threshold_are_listed_worst_first(answers, frame_of):
    frame = frame_of(answers([5] * 7 + [1] * 3, "q1"), answers([5] + [1] * 9, "q2"),
                     answers([5] * 4 + [1], "q3"))  # fmt: skip
    table = below_threshold_table(frame)
    assert table["question"].tolist() == ["q2", "q1"]
    assert table["evidence"].tolist() == ["confirmed", "possible"]


def test_trend_summary_flags_significant_changes(counted):
    table = trend_summary(counted(40, 50, round_id=1), counted(30, 50, round_id=2))
    row = table.iloc[0]
    assert (row["rate_before"], row["rate_after"], row["significant"]) == (0.8, 0.6, True)


def test_report_tables_of_an_empty_round_are_empty():
    assert headline_table(empty_frame()).empty and below_threshold_table(empty_frame()).empty


def test_an_item_below_the_anonymity_threshold_is_never_confirmed_below(answers, frame_of):
    frame = frame_of(answers([1, 1, 1, 1]), answers([1] * 5, "q2"))  # both intervals below 80%
    table = below_threshold_table(frame)
    assert dict(zip(table["question"], table["evidence"])) == {"q1": "possible", "q2": "confirmed"}


def test_trend_summary_names_the_test_and_the_adjusted_p_value(counted):
    row = trend_summary(counted(11, 12, round_id=1), counted(6, 12, round_id=2)).iloc[0]
    assert (row["test"], row["significant"]) == ("fisher", False)
    assert row["p_adjusted"] == row["p_value"]  # a family of one
