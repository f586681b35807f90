"""From the low-score rules to actions: ``run_rules(round_)`` runs ``analysis.run_rules`` on
the round (thresholds and enabled rules from ``Round.thresholds``, the previous round of the
same questionnaire for the drop rule) and keeps one candidate per (question, served unit), the
most severe (gap x certainty, see ``analysis.alerts``). An item with an open action gets an
event, never a second action (``CorrectiveAction.open_key`` is unique). An item is left alone
when the lead already dealt with it on this round's data: its action from the same round was
closed or cancelled, or an action on it was closed as effective on the answers of this round
(or a later one): only a later round's answers may open a new action for that item.

A rating at the bottom of the scale with a comment (``single_low_with_comment``) never opens an
action by itself: it becomes an ``ItemNote`` on the item for the round, which the lead may turn
into an action (``note_to_action``, audited).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

import analysis
from survey import audit
from survey.corrective.history import add_event
from survey.corrective.signals import action_opened
from survey.corrective.states import ActionError, _, note_key, open_key
from survey.extensions import db
from survey.formatting import plain_number
from survey.models import (
    CorrectiveAction,
    ItemNote,
    Round,
    User,
)
from survey.results import round_results
from survey.rounds import in_order, previous_round, round_closed, thresholds_of

NOTE_RULE = "single_low_with_comment"


@dataclass
class RuleRun:
    """What one run of the rules did: actions created, actions that got a new event, and the
    notes on items made or updated."""

    created: list[CorrectiveAction] = field(default_factory=list)
    fired_again: list[CorrectiveAction] = field(default_factory=list)
    notes: list[ItemNote] = field(default_factory=list)


def run_rules(round_: Round, now: datetime, actor: User | None = None) -> RuleRun:
    """Run the round's enabled rules (``Round.thresholds["rules"]``, default all) and turn
    the candidates into actions, one per (question, served unit): the first whole-round
    candidate in ``analysis.run_rules`` order (the most severe; a group cell's only when no
    whole-round row fired) is the action's source; the other rules
    that fired for the item are named in its event. A lowest rating with a comment becomes a
    note on the item, not an action. Flushes; the caller commits."""
    previous = previous_round(round_)
    # What each round may publish, with its own threshold and (anonymous) unnamed groups: an
    # action shows its figures, so it may rest only on what the dashboards show.
    candidates = analysis.run_rules(
        round_results(round_).disclosure,
        thresholds_of(round_),
        previous=round_results(previous).disclosure if previous else None,
        anonymity_threshold=round_.anonymity_threshold,
        enabled=(round_.thresholds or {}).get("rules"),
    )
    fired: dict[tuple[str, str | None], list[analysis.ActionCandidate]] = {}
    noted: dict[tuple[str, str | None], analysis.ActionCandidate] = {}
    for candidate in candidates:
        if candidate.rule == NOTE_RULE:
            # One note per item, from the whole round's row (it holds every group's comments).
            key = analysis.action_key(candidate)
            if candidate.group is None and (key not in noted or noted[key].group is not None):
                noted[key] = candidate
            else:
                noted.setdefault(key, candidate)
            continue
        fired.setdefault(analysis.action_key(candidate), []).append(candidate)
    run = RuleRun()
    for candidate in noted.values():
        _note(round_, candidate, now, run)
    for found in fired.values():
        source = analysis.source_of(found)
        also = sorted({c.rule for c in found if c is not source} - {source.rule})
        _apply(round_, source, also, now, actor, run)
    db.session.flush()
    return run


def _apply(
    round_: Round,
    candidate: analysis.ActionCandidate,
    also: list[str],
    now: datetime,
    actor: User | None,
    run: RuleRun,
) -> None:
    key = open_key(candidate.question, candidate.served_unit)
    action = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.open_key == key))
    figures = _figures(candidate)
    if action is None:
        if _dealt_with(round_, candidate):
            return
        data = {"round_id": round_.id, **figures, "also": also, **_test_of(candidate)}
        item = (candidate.question, candidate.category, candidate.served_unit, candidate.group)
        run.created.append(_open_action(round_, item, figures, now, actor, data))
        return
    data = {"round_id": round_.id, "group_code": candidate.group, **figures, "also": also}
    data.update(_test_of(candidate))
    if _last_firing(action, round_.id) == data:
        return  # the same figures as the last run on this round: nothing new to record
    if action.round_id == round_.id:  # more answers came in: the source figures move on
        for name, value in figures.items():
            setattr(action, name, value)
        action.group_code = candidate.group
    add_event(action, "rule_fired", actor, now, data=data)
    run.fired_again.append(action)


def _open_action(
    round_: Round,
    item: tuple[str, str | None, str | None, str | None],
    figures: dict,
    now: datetime,
    actor: User | None,
    data: dict,
) -> CorrectiveAction:
    """A new open action on ``item`` (question, category, served unit, group) of ``round_``,
    with its figures and its "created" event (``data``: what its history keeps)."""
    question, category, served_unit, group = item
    action = CorrectiveAction(
        round=round_,
        question_code=question,
        category=category,
        served_unit=served_unit,
        group_code=group,
        open_key=open_key(question, served_unit),
        status="open",
        created_at=now,
        **figures,
    )
    db.session.add(action)
    add_event(action, "created", actor, now, data=data)
    db.session.flush()  # its id, for the listeners
    action_opened.send(action, reopened=False)
    return action


def _figures(candidate: analysis.ActionCandidate) -> dict:
    return {
        "rule": candidate.rule,
        "observed": plain_number(candidate.observed),
        "n": candidate.n,
        "ci_low": plain_number(candidate.ci_low),
        "ci_high": plain_number(candidate.ci_high),
        "threshold": plain_number(candidate.threshold),
        "severity": plain_number(candidate.severity) or 0.0,
        "evidence": candidate.evidence,
        "p_value": plain_number(candidate.p_value),
        "p_adjusted": plain_number(candidate.p_adjusted),
        "p_test": candidate.test,
        "comments": list(candidate.comments),
    }


def _test_of(candidate: analysis.ActionCandidate) -> dict:
    """The drop rule's interval of the change (this round - the previous one), for the
    history: what made its evidence confirmed or possible."""
    if candidate.difference_ci is None:
        return {}
    return {"difference_ci": [plain_number(v) for v in candidate.difference_ci]}


def _item(model, question: str, served_unit: str | None) -> list:
    served = model.served_unit
    return [
        model.question_code == question,
        served.is_(None) if served_unit is None else served == served_unit,
    ]


def _dealt_with(round_: Round, candidate: analysis.ActionCandidate) -> bool:
    """The lead already dealt with the item on this round's answers: an action of this round
    was closed or cancelled, or an action was closed as effective on this round's answers or
    a later round's (so that running the rules again, on closing or by hand, never re-opens
    what the verification just closed)."""
    item = _item(CorrectiveAction, candidate.question, candidate.served_unit)
    same_round = select(func.count()).where(CorrectiveAction.round_id == round_.id, *item)
    if db.session.scalar(same_round) > 0:
        return True
    order = [r.id for r in in_order(round_)]
    not_earlier = order[order.index(round_.id) :] if round_.id in order else [round_.id]
    verified = select(func.count()).where(
        CorrectiveAction.status == "closed",
        CorrectiveAction.result == "effective",
        CorrectiveAction.verification_round_id.in_(not_earlier),
        *item,
    )
    return db.session.scalar(verified) > 0


def _note(round_: Round, candidate: analysis.ActionCandidate, now: datetime, run: RuleRun) -> None:
    """Make or update the round's note on the item (its figures and comments move on as more
    answers come in); a note the lead turned into an action keeps what it was then."""
    key = note_key(round_.id, candidate.question, candidate.served_unit)
    note = db.session.scalar(select(ItemNote).where(ItemNote.note_key == key))
    figures = {
        "rule": candidate.rule,
        "group_code": candidate.group,
        "observed": plain_number(candidate.observed),
        "n": candidate.n,
        "ci_low": plain_number(candidate.ci_low),
        "ci_high": plain_number(candidate.ci_high),
        "severity": plain_number(candidate.severity) or 0.0,
        "comments": list(candidate.comments),
    }
    if note is None:
        note = ItemNote(
            round=round_,
            question_code=candidate.question,
            category=candidate.category,
            served_unit=candidate.served_unit,
            note_key=key,
            created_at=now,
            updated_at=now,
            **figures,
        )
        db.session.add(note)
    elif note.action_id is None and any(getattr(note, k) != v for k, v in figures.items()):
        for name, value in figures.items():
            setattr(note, name, value)
        note.updated_at = now
    else:
        return
    run.notes.append(note)


def note_to_action(note: ItemNote, actor: User, now: datetime) -> CorrectiveAction:
    """The lead turns a note into a corrective action of the note's round (rule
    ``single_low_with_comment``, evidence ``possible``): its history and the audit trail say
    who did it. Refused when the note already is an action or the item has an open action.
    Flushes; the caller commits."""
    if note.action_id is not None:
        raise ActionError(_("This note is already a corrective action."))
    key = open_key(note.question_code, note.served_unit)
    if db.session.scalar(select(CorrectiveAction.id).where(CorrectiveAction.open_key == key)):
        raise ActionError(_("This item already has an open corrective action."))
    figures = {
        "rule": note.rule,
        "observed": note.observed,
        "n": note.n,
        "ci_low": note.ci_low,
        "ci_high": note.ci_high,
        "threshold": None,
        "severity": note.severity,
        "evidence": "possible",
        "p_value": None,
        "p_adjusted": None,
        "p_test": None,
        "comments": list(note.comments),
    }
    data = {"round_id": note.round_id, **figures, "also": [], "note_id": note.id}
    item = (note.question_code, note.category, note.served_unit, note.group_code)
    action = _open_action(note.round, item, figures, now, actor, data)
    note.action, note.turned_by, note.turned_at = action, actor, now
    db.session.flush()
    audit.record("action_opened_from_note", target=f"action:{action.id}", actor=actor, note=note.id)
    db.session.flush()
    return action


def _last_firing(action: CorrectiveAction, round_id: int) -> dict | None:
    for event in reversed(action.events):
        if (
            event.kind in ("created", "rule_fired")
            and (event.data or {}).get("round_id") == round_id
        ):
            data = dict(event.data)
            data.setdefault("group_code", action.group_code if event.kind == "created" else None)
            return data
    return None


@round_closed.connect
def _on_round_closed(round_: Round, now: datetime, **_: object) -> None:
    """Low scores of a closed round become corrective actions; not those of a round whose
    figures the close held back (``survey.rounds.release``): an action shows its figures to
    its owner."""
    if round_.results_final:
        run_rules(round_, now)
