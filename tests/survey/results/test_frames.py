"""The answer frame read in parts (issue 20): the responses after a given id, a small round
among others, and the numbers read a batch at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer, Response
from survey.results import answers_frame, frames


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({c: "object" for c in frame.columns if frame[c].dtype == "category"})
    return frame.sort_values(["response_id", "question"]).reset_index(drop=True)


def test_the_frame_after_an_id_is_the_full_frame_of_the_later_responses(two_rounds, answer):
    before, round_ = two_rounds
    # A response of the earlier round after those of this one: ids of rounds interleave.
    before.status = "open"  # (two_rounds closed it; open rounds overlap here)
    answer(before, "mayors", {"doc_timeliness": 1}, {"doc_timeliness": "慢"})
    answer(round_, "departments", {"doc_timeliness": 2, "overall": 3}, {"doc_timeliness": "迟"})
    ids = sorted(db.session.scalars(select(Response.id).where(Response.round_id == round_.id)))
    full = answers_frame(round_)

    for after in (ids[0], ids[len(ids) // 2], ids[-2]):
        part = answers_frame(round_, after_id=after)
        expected = full[full["response_id"] > after]
        assert len(part) == len(expected) > 0
        pd.testing.assert_frame_equal(_sorted(part), _sorted(expected), check_dtype=False)
    assert answers_frame(round_, after_id=ids[-1]).empty
    # The earlier round's frame keeps its own late response and nothing of this round.
    assert set(answers_frame(before)["response_id"]) == set(
        db.session.scalars(select(Response.id).where(Response.round_id == before.id))
    )


def test_numbers_are_read_in_batches_with_nulls_as_nan(two_rounds, monkeypatch):
    _, round_ = two_rounds
    query = select(Answer.response_id, Answer.question_id, Answer.value).order_by(Answer.id)
    expected = [
        tuple(np.nan if v is None else float(v) for v in row)
        for row in db.session.execute(query).all()
    ]
    assert any(np.isnan(row[2]) for row in expected)  # a choice or text answer has no value
    monkeypatch.setattr(frames, "NUMBER_BATCH", 4)  # several batches and a last partial one

    array = frames.number_rows(query, 3)

    assert array.shape == (len(expected), 3)
    np.testing.assert_array_equal(array, np.array(expected))
    assert frames.number_rows(query.where(Answer.id < 0), 3).shape == (0, 3)
