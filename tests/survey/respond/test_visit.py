"""An invitation as the respondent's pages see it: the same facts the ORM objects give, read
in one statement, and never anything for an id or link that does not exist."""

from __future__ import annotations

from datetime import timedelta

import pytest

from survey.extensions import db
from survey.models import utcnow
from survey.respond.visit import by_token, visit


def test_a_visit_holds_what_the_invitation_and_its_round_unit_and_group_say(make_invitation):
    invitation = make_invitation(group="congress", anonymous=True)
    invitation.person_name = "王主任"
    invitation.draft = {"q_doc_timeliness": "4"}
    db.session.commit()

    seen = visit(invitation.id)

    assert (seen.id, seen.round_id, seen.unit_id, seen.group_id) == (
        invitation.id,
        invitation.round_id,
        invitation.unit_id,
        invitation.group_id,
    )
    assert (seen.group_code, seen.person_name, seen.status, seen.draft, seen.submitted_at) == (
        "congress",
        "王主任",
        "sent",
        {"q_doc_timeliness": "4"},
        None,
    )
    round_ = invitation.round
    assert seen.round.name == round_.name and seen.round.version_id == round_.version_id
    assert (seen.round.status, seen.round.opens_at, seen.round.closes_at) == (
        round_.status,
        round_.opens_at,
        round_.closes_at,
    )
    assert seen.round.anonymous is True and seen.round.frozen is True
    assert seen.unit.name("zh") == invitation.unit.name("zh")
    assert seen.unit.name("en") == invitation.unit.name("en")


def test_there_is_no_visit_of_an_unknown_invitation_or_link(make_invitation):
    invitation = make_invitation()
    assert visit(invitation.id + 1000) is None
    assert by_token("not-a-token") is None
    found = by_token(invitation.token)
    assert (found.id, found.status) == (invitation.id, "sent")


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"status": "closed"},
        {"status": "draft"},
        {"opens_at": "tomorrow"},
        {"closes_at": "a minute ago"},
    ],
)
def test_a_visit_takes_answers_exactly_when_its_round_does(make_invitation, settings):
    now = utcnow()
    when = {"tomorrow": now + timedelta(days=1), "a minute ago": now - timedelta(minutes=1)}
    invitation = make_invitation(**{k: when.get(v, v) for k, v in settings.items()})
    expected = invitation.round.accepts_answers(now)
    assert visit(invitation.id).round.accepts_answers(now) is expected
    assert expected is (settings == {})
