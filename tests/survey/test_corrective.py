"""Corrective actions: from the rules to actions, the loop's transition table, verification
against the next round, the append-only history, reminders and "you said, we did"."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from analysis import two_proportion_z_test
from survey import corrective, rounds
from survey.corrective import ACTIVE, TRANSITIONS, ActionError
from survey.extensions import db
from survey.models import ActionEvent, CorrectiveAction, utcnow

# The fixtures of the corrective-action tests (rounds with chosen ratings, owners, actions).
pytest_plugins = ["tests.survey.actions.factories"]

STATUSES = (*ACTIVE, "closed", "cancelled")


def _actions() -> list[CorrectiveAction]:
    return list(db.session.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)))


def _kinds(action: CorrectiveAction) -> list[str]:
    return [
        e.kind
        for e in db.session.scalars(
            select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
        )
    ]


# --- rules to actions ------------------------------------------------------------------


@pytest.mark.parametrize(("satisfied", "fires"), [(799, True), (800, False)])
def test_rate_of_79_9_percent_opens_an_action_and_80_0_does_not(make_round, rate, satisfied, fires):
    round_ = rate(make_round(), satisfied, 1000)
    corrective.run_rules(round_, utcnow())
    assert [(a.question_code, a.observed) for a in _actions()] == (
        [("doc_timeliness", 0.799)] if fires else []
    )


def test_an_action_keeps_the_rule_figures_and_the_low_rating_comments(make_round, rate):
    round_ = rate(make_round(), 6, 10, low=2, comments=("太慢", "退回两次"))
    (made,) = corrective.run_rules(round_, utcnow()).created
    assert (made.rule, made.observed, made.n, made.threshold) == ("rate_below", 0.6, 10, 0.8)
    assert made.ci_low < made.observed < made.threshold < made.ci_high
    assert made.evidence == "possible"
    assert (made.served_unit, made.category, made.group_code) == (
        "documents",
        "services.documents",
        None,
    )
    assert made.comments == ["太慢", "退回两次"] and made.status == "open"


def test_evidence_is_confirmed_when_the_whole_interval_is_below(make_round, rate):
    (made,) = corrective.run_rules(rate(make_round(), 2, 20), utcnow()).created
    assert made.evidence == "confirmed" and made.ci_high < 0.8


def test_running_the_rules_twice_keeps_one_action_and_one_record(low_round):
    corrective.run_rules(low_round, utcnow())
    again = corrective.run_rules(low_round, utcnow())
    assert (again.created, again.fired_again) == ([], [])
    assert len(_actions()) == 1 and _kinds(_actions()[0]) == ["created"]


def test_a_rule_firing_again_adds_an_event_to_the_open_action(low_round, rate):
    corrective.run_rules(low_round, utcnow())
    rate(low_round, 0, 10)  # more low answers in the same round
    assert len(corrective.run_rules(low_round, utcnow()).fired_again) == 1
    (only,) = _actions()
    assert _kinds(only) == ["created", "rule_fired"] and (only.n, only.observed) == (20, 0.3)


def test_closing_a_round_twice_keeps_one_open_action(low_round):
    rounds.close_round(low_round, utcnow())
    rounds.open_round(low_round, utcnow())
    rounds.close_round(low_round, utcnow())
    assert [a.status for a in _actions()] == ["open"]


def test_closing_due_rounds_runs_the_rules(make_round, rate):
    round_ = rate(make_round(closes_at=utcnow() - timedelta(hours=1)), 6, 10)
    rounds.close_due_rounds(utcnow())
    assert [a.round_id for a in _actions()] == [round_.id]


@pytest.mark.parametrize(("mayors", "expected"), [(4, []), (5, ["mayors"])])
def test_a_group_below_the_anonymity_threshold_gets_no_action(make_round, rate, mayors, expected):
    round_ = rate(make_round(), 20, 20)
    rate(round_, 0, mayors, group="mayors")  # the whole item stays at or above 80%
    corrective.run_rules(round_, utcnow())
    assert [a.group_code for a in _actions()] == expected


def test_the_rules_and_thresholds_are_the_rounds(make_round, rate):
    round_ = rate(make_round(thresholds={"rate": 0.5, "rules": ["rate_below"]}), 6, 10)
    assert corrective.run_rules(round_, utcnow()).created == []


def test_an_action_dealt_with_is_not_brought_back_by_its_round(action, lead, low_round):
    corrective.move(action, "cancel", lead, utcnow(), "a one-off during the move")
    assert corrective.run_rules(low_round, utcnow()).created == []


# --- the transition table --------------------------------------------------------------


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
        ("assigned", "close", "next round"),
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


# --- verification ----------------------------------------------------------------------


def test_verification_reads_the_next_rounds_figure_for_the_same_item_and_unit(
    action, next_round, rate, make_round
):
    later = next_round(9)
    rate(later, 0, 10, question="doc_accuracy")  # another item of the same unit
    rate(make_round(name="2005 autumn", opens_at=utcnow() + timedelta(days=90)), 0, 10)
    check = corrective.verify(action)
    assert check.round.id == later.id
    assert (check.rate_before, check.rate_after, check.n_after) == (0.6, 0.9, 10)
    assert check.p_value == pytest.approx(two_proportion_z_test(6, 10, 9, 10)[1])


@pytest.mark.parametrize(("satisfied", "proposal"), [(8, "effective"), (7, "not_effective")])
def test_effective_is_proposed_only_when_the_new_rate_meets_the_threshold(
    action, next_round, satisfied, proposal
):
    next_round(satisfied)
    assert corrective.verify(action).proposal == proposal


def test_without_a_next_round_there_is_nothing_to_verify(action):
    assert corrective.verify(action).proposal == "no_data"


def test_closing_stores_the_verification(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    assert (ready.result, ready.rate_before, ready.rate_after) == ("effective", 0.6, 0.9)
    assert ready.closed_at is not None and ready.open_key is None


# --- the record ------------------------------------------------------------------------


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
        _kinds(ready)
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


# --- register ---


def test_register_counts_and_median_days_to_close(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, ready.created_at + timedelta(days=12))
    stats = corrective.register_stats(_actions(), date.today())
    assert (stats.open, stats.closed, stats.median_days_to_close) == (0, 1, 12.0)


# --- command line ----------------------------------------------------------------------


def test_run_rules_command_prints_the_new_actions_once(runner, low_round):
    first = runner.invoke(args=["run-rules", str(low_round.id)])
    assert first.exit_code == 0, first.output
    assert "1 new actions" in first.output
    assert "action 1 doc_timeliness documents rate_below 0.600 10" in first.output
    assert "0 new actions" in runner.invoke(args=["run-rules", str(low_round.id)]).output


def test_send_reminders_command_counts_what_it_sent(runner, assigned):
    assigned.due_date = date.today() + timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["send-reminders"])
    assert "1 to owners, 0 to quality leads" in result.output


def test_demo_with_history_has_actions_that_the_next_round_verifies(runner):
    output = runner.invoke(args=["demo", "--responses", "100"]).output
    assert re.search(r"^previous-round \d+ 2004 spring$", output, re.MULTILINE)
    assert re.search(r"^owner documents \S+@shaoxing.example \S+$", output, re.MULTILINE)
    first = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.question_code == "doc_timeliness")
    )
    assert first.round.name == "2004 spring" and first.round.status == "closed"
    assert corrective.verify(first).round.name == "2004 autumn"
    again = runner.invoke(args=["demo", "--responses", "100"]).output
    assert re.findall(r"^actions \d+ open$", again, re.MULTILINE) == re.findall(
        r"^actions \d+ open$", output, re.MULTILINE
    )
