"""The loop's transition table, who may make each move, and the append-only history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from survey import corrective
from survey.corrective import ACTIVE, TRANSITIONS, ActionError
from survey.extensions import db
from survey.models import ActionEvent, utcnow
from tests.factories import event_kinds

STATUSES = (*ACTIVE, "closed", "cancelled")


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_every_transition_from_every_status(ready, lead, status, name, force):
    force(ready, status)
    transition = TRANSITIONS[name]
    if status in transition.sources:
        corrective.move(ready, name, lead, utcnow(), "reason")
        assert ready.status == transition.target
        assert (ready.open_key is not None) == (transition.target in ACTIVE)
    else:
        with pytest.raises(ActionError, match="not possible while"):
            corrective.move(ready, name, lead, utcnow(), "reason")
        assert ready.status == status


@pytest.mark.parametrize("name", [t.name for t in TRANSITIONS.values() if t.by == "lead"])
def test_an_owner_cannot_make_the_leads_moves(ready, owner, name, force):
    force(ready, TRANSITIONS[name].sources[0])
    with pytest.raises(ActionError, match="Only the quality lead"):
        corrective.move(ready, name, owner, utcnow(), "reason")


@pytest.mark.parametrize(
    ("fixture", "name", "message"),
    [
        ("action", "start_investigation", "assigns an owner"),
        ("assigned", "plan", "root cause"),
        ("assigned", "implement", "what was done"),
        ("assigned", "close", "after the action was implemented"),
        ("assigned", "cancel", "reason"),
    ],
)
def test_a_move_whose_precondition_is_unmet_is_refused(
    request, lead, fixture, name, message, force
):
    subject = request.getfixturevalue(fixture)
    before = force(subject, TRANSITIONS[name].sources[0]).status
    with pytest.raises(ActionError, match=message):
        corrective.move(subject, name, lead, utcnow(), "")
    assert subject.status == before


def test_an_unknown_move_is_refused(action, lead):
    with pytest.raises(ActionError, match="no step called"):
        corrective.move(action, "approve", lead, utcnow())


def test_reopening_is_refused_while_another_action_for_the_item_is_open(
    action, lead, make_round, rate
):
    corrective.move(action, "cancel", lead, utcnow(), "wrong round")
    corrective.run_rules(rate(make_round(name="later"), 1, 10), utcnow())
    with pytest.raises(ActionError, match="Another action"):
        corrective.move(action, "reopen", lead, utcnow(), "it was right after all")


def test_the_owner_must_be_a_user_of_the_served_unit(action, lead, served_user):
    with pytest.raises(ActionError, match="served unit"):
        corrective.assign(action, served_user("meetings"), date.today(), lead, utcnow())


def test_a_step_owner_changes_only_their_step(ready, served_user, owner):
    helper = served_user()
    step = corrective.add_step(
        ready, "preventive", "Train the clerks.", helper, date.today(), owner, utcnow()
    )
    corrective.update_step(step, True, "Trained six clerks.", helper, utcnow())
    with pytest.raises(ActionError):
        corrective.update_step(ready.steps[0], False, "", helper, utcnow())
    with pytest.raises(ActionError):
        corrective.record(ready, "investigation", helper, utcnow(), root_cause="Mine")
    assert step.done_at is not None and ready.root_cause == "No deadline tracking."


def test_the_history_of_a_full_loop_is_complete(ready, owner, lead):
    for name, who in [
        ("start_investigation", owner),
        ("plan", owner),
        ("implement", owner),
        ("request_verification", owner),
        ("close", lead),
    ]:
        corrective.move(ready, name, who, utcnow())
    db.session.commit()
    assert (
        event_kinds(ready)
        == ["created", "assigned", "investigation", "step_added", "step_updated", "action_taken"]
        + ["transition"] * 5
    )
    moves = [(e.from_status, e.to_status) for e in ready.events if e.kind == "transition"]
    assert moves == [
        ("open", "investigating"),
        ("investigating", "planned"),
        ("planned", "implemented"),
        ("implemented", "verification"),
        ("verification", "closed"),
    ]
    assert all(e.at and (e.actor_id or e.kind == "created") for e in ready.events)


def test_the_history_cannot_be_changed_or_deleted(action):
    event = action.events[0]
    event.text = "rewritten"
    with pytest.raises(ValueError, match="cannot be changed"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(ActionEvent, event.id))
    with pytest.raises(ValueError, match="cannot be changed"):
        db.session.commit()


def _verdicts(action) -> list[dict]:
    query = select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
    return [
        e.data["verification"]
        for e in db.session.scalars(query)
        if e.data and "verification" in e.data
    ]


def test_not_effective_goes_back_into_the_loop_and_a_later_round_verifies_the_new_fix(
    ready, owner, lead, make_round, rate
):
    now = utcnow()
    for name in ("start_investigation", "plan", "implement", "request_verification"):
        corrective.move(ready, name, owner, now)
    corrective.move(ready, "not_effective", lead, now, "Still slow in the districts.")
    assert ready.status == "investigating" and ready.result == "not_effective"

    # A second fix, two days later: the next round's answers (tomorrow) came before it.
    second = now + timedelta(days=2)
    for name in ("plan", "implement", "request_verification"):
        corrective.move(ready, name, owner, second)
    with pytest.raises(ActionError, match="after the action was implemented"):
        corrective.move(ready, "close", lead, second)

    later = rate(
        make_round(name="2006 spring", status="closed", opens_at=now + timedelta(days=3)),
        9,
        10,
        at=now + timedelta(days=4),
    )
    corrective.move(ready, "close", lead, now + timedelta(days=5), against=later)
    assert (ready.status, ready.result, ready.verification_round_id) == (
        "closed",
        "effective",
        later.id,
    )
    first, last = _verdicts(ready)
    assert (first["round"], first["result"], first["rate_after"]) == (
        "2005 spring",
        "not_effective",
        0.9,
    )
    assert (last["round_id"], last["result"], last["n_after"]) == (later.id, "effective", 10)
    assert last["since"] == second.isoformat()


def test_a_verdict_against_a_round_that_is_not_later_is_refused(ready, owner, lead, force):
    force(ready, "verification")
    with pytest.raises(ActionError, match="later round"):
        corrective.move(ready, "close", lead, utcnow(), against=ready.round)
    assert ready.status == "verification"


@pytest.mark.parametrize("name", ["close", "not_effective"])
def test_a_verdict_against_a_round_still_open_is_refused(
    ready, lead, make_round, rate, force, name
):
    # Its answers after the fix meet the threshold, but its figures are not final yet.
    still_open = rate(
        make_round(name="2006 spring", opens_at=utcnow()), 9, 10, at=utcnow() + timedelta(days=1)
    )
    force(ready, "verification")
    with pytest.raises(ActionError, match="still open"):
        corrective.move(ready, name, lead, utcnow(), "Too early to tell.", against=still_open)
    assert (ready.status, ready.result) == ("verification", None)


def test_no_verdict_is_offered_while_every_later_round_is_still_open(ready, lead, force):
    # The fixture's next round is closed and meets the threshold; here it still takes answers.
    later = corrective.candidates(ready)[0].round
    later.status = "open"
    force(ready, "verification")
    for name in ("close", "not_effective"):
        assert "still open" in corrective.unmet(ready, TRANSITIONS[name])
