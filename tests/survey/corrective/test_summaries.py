""" "You said, we did": published per respondent group once an action concerning it is closed,
shown to that group in the next round of the same questionnaire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from survey import corrective, rounds
from survey.corrective import ActionError, summaries
from survey.extensions import db
from survey.models import ActionSummary, Invitation, utcnow


@pytest.fixture
def closed(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    return ready


def test_publishing_waits_for_a_closed_action(ready, lead):
    with pytest.raises(ActionError, match="closed"):
        summaries.publish_summary(ready.round, "departments", "Slow", "Faster", lead, utcnow())


def test_a_published_summary_is_shown_on_the_groups_next_invitation(closed, lead, make_invitation):
    summaries.publish_summary(closed.round, "departments", "Slow", "Weekly list", lead, utcnow())
    later = rounds.next_round(closed.round)
    mine = db.session.get(Invitation, make_invitation(group="departments", round_=later).id)
    other = db.session.get(Invitation, make_invitation(group="mayors", round_=later).id)
    assert summaries.summary_for(mine).we_did == "Weekly list"
    assert summaries.summary_for(other) is None


def test_the_newest_earlier_summary_is_shown_never_a_later_or_unpublished_one(
    make_round, make_invitation
):
    now = utcnow()

    def round_(name, days_ago, status="closed"):
        opens = now - timedelta(days=days_ago)
        return make_round(
            name=name, status=status, opens_at=opens, closes_at=opens + timedelta(days=30)
        )

    old, spring, draft, current, later = (
        round_("2003", 400),
        round_("2004 spring", 200),
        round_("2004 summer", 100, "draft"),
        round_("2004 autumn", 1, "open"),
        round_("2005", -100, "open"),
    )
    for r, text, published in (
        (old, "old", True),
        (spring, "spring", True),
        (draft, "draft", True),
        (later, "later", True),
    ):
        db.session.add(
            ActionSummary(
                round=r,
                group_code="departments",
                you_said=text,
                we_did=text,
                published_at=now if published else None,
            )
        )
    db.session.add(
        ActionSummary(
            round=spring, group_code="mayors", you_said="m", we_did="m", published_at=None
        )
    )
    db.session.commit()
    shown = summaries.summary_for(make_invitation(group="departments", round_=current))
    assert (shown.we_did, shown.round.name) == ("spring", "2004 spring")
    assert summaries.summary_for(make_invitation(group="mayors", round_=current)) is None
    first = summaries.summary_for(make_invitation(group="departments", round_=old))
    assert first is None


def test_the_draft_names_the_items_and_what_was_done(closed):
    said, did = summaries.summary_draft(closed.round, "mayors", "zh")
    assert said == "公文办理的及时性（按规定时限办结，不积压、不延误）"
    assert did == "Weekly deadline list since May."


def test_the_groups_list_counts_closed_actions_per_group(closed):
    rows = summaries.summary_groups(closed.round)
    assert [(g.code, count) for g, _summary, count in rows][:2] == [
        ("mayors", 1),
        ("departments", 1),
    ]
    assert db.session.scalar(select(Invitation)) is None
