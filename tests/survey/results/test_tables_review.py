"""Review (issue 20): a round's results compare it with earlier rounds, whose published counts
are kept per process (``tables.COUNTS``) by (round id, data version, threshold) only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import select

from survey import responses
from survey.extensions import db
from survey.models import Invitation, RespondentGroup, Unit, utcnow
from survey.results import clear_cache, round_results

pytestmark = pytest.mark.usefixtures("fresh_results_cache")

_keys = iter(range(10**6))


def _invite(round_, group: str, nth: int) -> Invitation:
    unit = db.session.scalars(
        select(Unit).join(RespondentGroup).where(RespondentGroup.code == group).order_by(Unit.id)
    ).all()[nth]
    invitation = Invitation(round=round_, unit=unit, group_id=unit.group_id)
    db.session.add(invitation)
    db.session.commit()
    return invitation


def _answer(invitation, answers):
    responses.submit(invitation, answers, {}, f"review-{next(_keys)}", utcnow())


def test_an_earlier_rounds_unnamed_groups_changing_recomputes_the_comparison(make_round):
    now = utcnow()
    first = make_round(
        name="2004 spring", anonymous=True, anonymity_threshold=1,
        opens_at=now - timedelta(days=60), closes_at=now + timedelta(days=5),
    )  # fmt: skip
    second = make_round(name="2004 autumn", anonymity_threshold=1)
    common = {"doc_timeliness": 4, "city_environment": 3, "overall": 4}
    for round_ in (first, second):
        for nth in range(3):
            _answer(_invite(round_, "departments", nth), common)
    # In the anonymous round, one mayor answers an item nobody else does; a second mayor is
    # invited, so the mayors are two units: a named group, and the item is published.
    mayor = _invite(first, "mayors", 0)
    _answer(mayor, {**common, "mtg_minutes": 1})
    second_mayor = _invite(first, "mayors", 1)
    _answer(_invite(second, "mayors", 0), common)
    _answer(_invite(second, "mayors", 1), common)
    first.status = "closed"  # only a closed round is compared with (rounds.earlier_rounds)
    db.session.commit()
    before = round_results(second)
    assert "mtg_minutes" in set(round_results(first).items["question"].astype(str))
    # The second mayor's invitation is revoked: the mayors of the anonymous round are one unit,
    # never named, and an item only they answered is theirs under another name: withheld.
    second_mayor.status = "revoked"
    db.session.commit()
    # (With the mayors one unit, the departments join them as "other groups" too: the demo
    # units have no third group of two units or more.)
    assert "mtg_minutes" not in set(round_results(first).items["question"].astype(str))
    kept = round_results(second)
    clear_cache()
    fresh = round_results(second)
    assert_frame_equal(kept.history, fresh.history, obj="history")
    assert_frame_equal(kept.comparison.items, fresh.comparison.items, obj="comparison.items")
    assert before is not None
