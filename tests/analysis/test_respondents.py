"""Who answered which cell: distinct respondents, by the presence matrix or by sorted pairs."""

from analysis import rating_counts
from analysis.counts import aggregate


def test_respondents_are_counted_once_per_row(answers, frame_of):
    frame = frame_of(answers([5, 4, 3], "q1"), answers([5, 4, 3], "q2"))
    row = aggregate(rating_counts(frame), ["category"]).iloc[0]
    assert (row["n"], row["respondents"]) == (6, 3)


def test_pairs_bookkeeping_matches_the_presence_matrix(answers, frame_of):
    frame = frame_of(answers([5, 4, 3], "q1"), answers([5, 1], "q2", start=3, group="cppcc"))
    dense = aggregate(rating_counts(frame), ["group", "category"])
    sparse = aggregate(rating_counts(frame, presence_limit=0), ["group", "category"])
    assert rating_counts(frame, presence_limit=0).patterns is None
    assert dense.equals(sparse)


def test_sparse_response_ids_are_factorised(answers, frame_of):
    frame = frame_of(answers([5], start=1), answers([4], start=10**12), answers([2], start=7))
    assert aggregate(rating_counts(frame), ()).iloc[0]["respondents"] == 3
