"""Review (issue 20): the data version's settled count and what results are computed from it."""

from __future__ import annotations

import numpy as np
import pytest

from survey.extensions import db
from survey.models import Response
from survey.results import cache, clear_cache, data_versions, round_results
from tests.survey.results.test_tally import _response_with_id, some_answers

pytestmark = pytest.mark.usefixtures("fresh_results_cache")


def test_a_response_committed_after_its_id_settled_is_still_counted(
    make_round, answer, monkeypatch
):
    # SETTLE_SECONDS assumes no transaction holds a response id for a minute. A submit that
    # waits (a PostgreSQL lock held by a long close or bulk entry, a paused worker, a slow
    # listener inside the transaction) commits its lower id after the process settled past
    # it: the process then never counts it (the data version's count and the tally's agree,
    # both missing it), while a fresh process shows it. Results must equal a full count.
    clock = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: clock[0])
    rng = np.random.default_rng(8)
    round_ = make_round(anonymity_threshold=1)
    for _ in range(3):
        answer(round_, "departments", *some_answers(rng))
    group_id = db.session.scalar(db.select(Response.group_id).where(Response.round_id == round_.id))
    top = db.session.scalar(db.select(db.func.max(Response.id)))
    _response_with_id(round_, group_id, top + 10)
    assert round_results(round_).responses == 4
    clock[0] += cache.SETTLE_SECONDS + 1
    assert round_results(round_).responses == 4  # settled through top + 10
    _response_with_id(round_, group_id, top + 5)  # the late commit
    # Counting the whole round at every view to catch this is what the settled count avoids
    # (0.15 s at a million on PostgreSQL): the settled range is counted again every
    # RECHECK_SECONDS, and then the response shows, the tally counted afresh.
    clock[0] += cache.RECHECK_SECONDS
    seen = round_results(round_).responses
    assert data_versions([round_.id])[round_.id][0] == 5
    clear_cache()
    assert round_results(round_).responses == 5  # a fresh process
    assert seen == 5
