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


def test_comments_of_dissatisfied_ratings_follow_the_scale(answers, frame_of):
    # 1, 3, 5, 7, 9: the bottom two points are 1 and 3, whatever the numbers; 1..3: only 1.
    comments = ["awful", "poor", "so-so", "good"]
    frame = frame_of(
        answers([1, 3, 5, 7], comments=comments, scale_min=1, scale_max=9,
                satisfied_from=7, dissatisfied_to=3),
        answers([1, 2], "q2", comments=["bad", "ok"], scale_min=1, scale_max=3, start=9),
    )  # fmt: skip
    assert rating_counts(frame).comments["comment"].tolist() == ["awful", "poor", "bad"]


def test_a_wide_scale_is_counted_without_wrapping_around(answers, frame_of):
    # -100..100 has 201 points: its codes do not fit a byte.
    frame = frame_of(answers([100, 99, -100, 0], scale_min=-100, scale_max=100))
    row = item_table(frame).iloc[0]
    assert (row["n"], row["satisfied"], row["dissatisfied"], row["mean"]) == (4, 2, 1, 24.75)
    assert (row["count_100"], row["count_-100"]) == (1, 1)
