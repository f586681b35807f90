from analysis import item_table, rating_counts
from analysis.counts import aggregate


def test_comments_of_bottom_two_boxes_are_kept_in_response_order(answers, frame_of):
    frame = frame_of(answers([1, 5, 2, 3], comments=["late", "fine", "rude", "meh"], start=5))
    comments = rating_counts(frame).comments
    assert comments["comment"].tolist() == ["late", "rude"]
    assert comments["response_id"].tolist() == [5, 7]


def test_missing_served_unit_and_category_are_their_own_item(answers, frame_of):
    frame = frame_of(answers([5], served_unit=None, category=None), answers([1]))
    table = item_table(frame)
    assert len(table) == 2
    assert table["served_unit"].isna().tolist() == [False, True]


def test_aggregates_are_kept_but_each_caller_gets_its_own_copy(answers, frame_of):
    frame = frame_of(answers([5, 4, 3], "q1"), answers([5, 1], "q2"))
    counts = rating_counts(frame)
    first = aggregate(counts, ["question"])
    first.loc[0, "n"] = 99
    assert aggregate(counts, ["question"]).equals(aggregate(rating_counts(frame), ["question"]))
    assert aggregate(counts, ["question"])["n"].tolist() == [3, 2]


def test_scale_points_are_those_of_the_counted_rows(answers, frame_of):
    frame = frame_of(
        answers([4], "q1", scale_min=1, scale_max=5),
        answers([5], "q2", scale_min=1, scale_max=7, start=2),
        answers([None], "q3", scale_min=1, scale_max=5, start=3),
        answers([9], "recommend", type="nps", start=4),
    )
    counts = rating_counts(frame)
    assert counts.points == (1, 2, 3, 4, 5, 6, 7)
    assert [c for c in item_table(counts).columns if c.startswith("count_")] == [
        f"count_{v}" for v in range(1, 8)
    ]
