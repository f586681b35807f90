"""Review (issue 20): merged counts must equal the counts of all answers at once, also when
the round's scale is not 1..5 and a new response has no rating answer at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

import analysis
from analysis.merging import merge_counts
from tests.analysis.test_merging import tables

FOUR = {"scale_min": 1, "scale_max": 4, "satisfied_from": 3, "dissatisfied_to": 2}


def _rows(respondents: int) -> list[dict]:
    rng = np.random.default_rng(4)
    rows = []
    for response in range(1, respondents + 1):
        for question, category in (("q1", "c1"), ("q2", "c1"), ("overall", "overall")):
            rows.append({
                "round_id": 1, "response_id": response, "group": "departments",
                "question": question, "category": category, "served_unit": None,
                "type": "rating", "value": float(rng.integers(1, 5)), "comment": None, **FOUR,
            })  # fmt: skip
    return rows


CHOICE_ONLY = {
    "round_id": 1, "response_id": 1000, "group": "departments", "question": "channel",
    "category": None, "served_unit": None, "type": "choice", "value": np.nan, "text": "phone",
    "comment": None,
}  # fmt: skip


def test_a_response_without_ratings_does_not_widen_a_four_point_scale():
    rows = _rows(12)
    base = analysis.rating_counts(analysis.answer_frame(rows))
    delta = analysis.rating_counts(analysis.answer_frame([CHOICE_ONLY]))
    merged = merge_counts(base, delta)
    full = analysis.rating_counts(analysis.answer_frame([*rows, CHOICE_ONLY]))
    assert full.points == (1, 2, 3, 4)
    assert merged.points == full.points
    assert list(merged.cells.columns) == list(full.cells.columns)
    expected, got = tables(full, k=3), tables(merged, k=3)
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)


def test_a_first_response_without_ratings_then_rated_ones_on_a_four_point_scale():
    rows = _rows(12)
    base = analysis.rating_counts(analysis.answer_frame([CHOICE_ONLY | {"response_id": 0}]))
    delta = analysis.rating_counts(analysis.answer_frame(rows))
    merged = merge_counts(base, delta)
    full = analysis.rating_counts(analysis.answer_frame([CHOICE_ONLY | {"response_id": 0}, *rows]))
    assert merged.points == full.points
    expected, got = tables(full, k=3), tables(merged, k=3)
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)
    pd.testing.assert_series_equal(
        pd.Series(merged.item_ratings.ravel()), pd.Series(full.item_ratings.ravel())
    )
