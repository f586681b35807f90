"""Review (issue 20): results grow with every response, at once. Two views of the dashboard,
before and after one response of a hidden group (fewer than k respondents: "seven mayors"),
differ by exactly that response, and the page's "Response rate by respondent group" says
which group it came from: the mayor's ratings, by subtraction."""

from __future__ import annotations

import numpy as np
import pytest

from survey.results import round_progress, round_results
from survey.results.cache import PROGRESS, PROGRESS_LOCK
from tests.survey.results.test_tally import some_answers

pytestmark = pytest.mark.usefixtures("fresh_results_cache")


# A known, open defect (issue 20's closing note, "Left alone"): results of an open round that
# follow every response let two views be subtracted. Stepping by k responses is not enough
# (a visible group's own row gives its part of the step), so the fix is a policy the team must
# choose: figures of an open round for readers allowed the raw answers only, or shown once the
# round closes. Strict: when it is fixed this test passes, and the mark must go.
@pytest.mark.xfail(strict=True, reason="time-differencing of open rounds: a policy to choose")
def test_one_hidden_groups_response_cannot_be_read_by_subtraction(make_round, answer):
    rng = np.random.default_rng(5)
    round_ = make_round(anonymity_threshold=3)
    for _ in range(8):
        answer(round_, "departments", *some_answers(rng))
    before = round_results(round_)
    before_progress = dict(round_progress(round_, before)[1])
    mayor = {"doc_timeliness": 1, "mtg_minutes": 5, "city_environment": 2, "overall": 3}
    answer(round_, "mayors", mayor)
    after = round_results(round_)
    with PROGRESS_LOCK:
        PROGRESS.clear()  # the group figures as shown PROGRESS_SECONDS later
    after_progress = dict(round_progress(round_, after)[1])
    assert "mayors" in after.small_groups()  # hidden: one respondent, k = 3
    # What the page tells: one more response, from the mayors.
    assert after.responses == before.responses + 1
    mayors_before = before_progress["mayors"].submitted if "mayors" in before_progress else 0
    assert after_progress["mayors"].submitted == mayors_before + 1
    # What subtraction of the two items tables (n and mean, both shown) gives.
    items_before = before.items.set_index("question")
    items_after = after.items.set_index("question")
    recovered = {
        str(q): int(
            round(
                items_after.loc[q, "mean"] * items_after.loc[q, "n"]
                - items_before.loc[q, "mean"] * items_before.loc[q, "n"]
            )
        )
        for q in mayor
        if q in items_after.index and q in items_before.index
    }
    assert recovered != mayor, "the mayor's ratings, read off two views of the dashboard"
