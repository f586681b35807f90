"""Review (issue 20): results grow with every response, at once. Two views of the dashboard,
before and after one response of a hidden group (fewer than k respondents: "seven mayors"),
differ by exactly that response, and the page's "Response rate by respondent group" says
which group it came from: the mayor's ratings, by subtraction.

Fixed by sealing an open round's figures (survey.results.sealing): this test first shows that
the computed figures would give the mayor away, then that no reader gets them while the round
is open, and that once it closes nothing moves any more."""

from __future__ import annotations

import numpy as np
import pytest

from survey.extensions import db
from survey.results import round_progress, round_results
from survey.results.cache import PROGRESS, PROGRESS_LOCK
from tests.survey.results.test_tally import some_answers

pytestmark = pytest.mark.usefixtures("fresh_results_cache")

MAYOR = {"doc_timeliness": 1, "mtg_minutes": 5, "city_environment": 2, "overall": 3}


def recovered(before, after) -> dict[str, int]:
    """What subtraction of two items tables (n and mean, both shown when shown) gives."""
    items_before = before.items.set_index("question")
    items_after = after.items.set_index("question")
    return {
        str(q): int(
            round(
                items_after.loc[q, "mean"] * items_after.loc[q, "n"]
                - items_before.loc[q, "mean"] * items_before.loc[q, "n"]
            )
        )
        for q in MAYOR
        if q in items_after.index and q in items_before.index
    }


# An anonymous round, read by the quality lead; a named one, read by a lead who may not take
# its identified answers (who may, reads the mayor's response itself: nothing to subtract).
@pytest.mark.parametrize(("anonymous", "raw_roles"), [(True, ["quality_lead"]), (False, [])])
def test_one_hidden_groups_response_cannot_be_read_by_subtraction(
    app, client, auth, make_round, answer, anonymous, raw_roles
):
    app.config["RAW_ANSWER_ROLES"] = raw_roles
    rng = np.random.default_rng(5)
    round_ = make_round(anonymous=anonymous, anonymity_threshold=3)
    for _ in range(8):
        answer(round_, "departments", *some_answers(rng))
    auth.login(role="quality_lead")
    views = [client.get(f"/review/rounds/{round_.id}?lang=en").text]
    api = [client.get(f"/api/v1/rounds/{round_.id}/results")]
    before = round_results(round_)
    answer(round_, "mayors", MAYOR)
    after = round_results(round_)
    with PROGRESS_LOCK:
        PROGRESS.clear()  # the group figures as shown PROGRESS_SECONDS later
    views.append(client.get(f"/review/rounds/{round_.id}?lang=en").text)
    api.append(client.get(f"/api/v1/rounds/{round_.id}/results"))

    # What the figures, were they shown, would give away: the mayor's ratings exactly.
    mayors = dict(round_progress(round_, after)[1])["mayors"]
    assert after.responses == before.responses + 1 and mayors.submitted == 1
    if not anonymous:  # (an anonymous round of these one-unit groups withholds every item)
        assert "mayors" in after.small_groups()  # hidden: one respondent, k = 3
        assert recovered(before, after) == MAYOR
    # What the reader gets: who answered, not what.
    assert all(r.status_code == 403 for r in api)
    for view in views:
        assert "The figures of this round are shown once it closes." in view
        assert "of all ratings are satisfied" not in view and "All items" not in view
    # Closed, the round takes no more answers: its figures show, and no later view differs.
    round_.status = "closed"
    db.session.commit()
    shown = client.get(f"/api/v1/rounds/{round_.id}/results")
    assert shown.status_code == 200
    assert client.get(f"/api/v1/rounds/{round_.id}/results").json == shown.json
