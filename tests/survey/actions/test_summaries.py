""""You said, we did": published per respondent group once an action concerning it is closed,
shown to that group in the next round of the same questionnaire."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey import corrective
from survey.actions import summaries
from survey.corrective import ActionError
from survey.extensions import db
from survey.models import Invitation, utcnow

pytest_plugins = ["tests.survey.actions.factories"]


@pytest.fixture
def closed(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    return ready


def test_publishing_waits_for_a_closed_action(ready, lead):
    with pytest.raises(ActionError, match="closed"):
        summaries.publish_summary(ready.round, "departments", "Slow", "Faster", lead, utcnow())


def test_a_published_summary_is_shown_on_the_groups_next_invitation(closed, lead,
                                                                    make_invitation):
    summaries.publish_summary(closed.round, "departments", "Slow", "Weekly list", lead,
                              utcnow())
    later = corrective.next_round(closed.round)
    mine = db.session.get(Invitation, make_invitation(group="departments", round_=later).id)
    other = db.session.get(Invitation, make_invitation(group="mayors", round_=later).id)
    assert summaries.summary_for(mine).we_did == "Weekly list"
    assert summaries.summary_for(other) is None


def test_the_draft_names_the_items_and_what_was_done(closed):
    said, did = summaries.summary_draft(closed.round, "mayors", "zh")
    assert said == "公文办理的及时性（按规定时限办结，不积压、不延误）"
    assert did == "Weekly deadline list since May."


def test_the_groups_list_counts_closed_actions_per_group(closed):
    rows = summaries.summary_groups(closed.round)
    assert [(g.code, count) for g, _summary, count in rows][:2] == [("mayors", 1),
                                                                    ("departments", 1)]
    assert db.session.scalar(select(Invitation)) is None
