"""From the low-score rules to actions: ``run_rules(round_)`` runs ``analysis.run_rules`` on
the round (thresholds and enabled rules from ``Round.thresholds``, the previous round of the
same questionnaire for the drop rule) and keeps one candidate per (question, served unit). An
item with an open action gets an event, never a second action (``CorrectiveAction.open_key`` is
unique); an item whose action from the same round was closed or cancelled is left alone, so
that running the rules again never brings back what the lead already dealt with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

import analysis
from survey.corrective.history import add_event
from survey.corrective.states import open_key
from survey.extensions import db
from survey.formatting import plain_number
from survey.models import (
    CorrectiveAction,
    Round,
    User,
)
from survey.results import answers_frame
from survey.rounds import previous_round, round_closed, thresholds_of


@dataclass
class RuleRun:
    """What one run of the rules did: actions created and actions that got a new event."""

    created: list[CorrectiveAction] = field(default_factory=list)
    fired_again: list[CorrectiveAction] = field(default_factory=list)


def run_rules(round_: Round, now: datetime, actor: User | None = None) -> RuleRun:
    """Run the round's enabled rules (``Round.thresholds["rules"]``, default all) and turn
    the candidates into actions, one per (question, served unit): the first candidate in
    ``analysis.run_rules`` order is the action's source; the other rules that fired for the
    item are named in its event. Flushes; the caller commits."""
    previous = previous_round(round_)
    candidates = analysis.run_rules(
        answers_frame(round_),
        thresholds_of(round_),
        previous=answers_frame(previous) if previous else None,
        anonymity_threshold=round_.anonymity_threshold,
        enabled=(round_.thresholds or {}).get("rules"),
    )
    fired: dict[tuple[str, str | None], list[analysis.ActionCandidate]] = {}
    for candidate in candidates:
        fired.setdefault(analysis.action_key(candidate), []).append(candidate)
    run = RuleRun()
    for found in fired.values():
        _apply(
            round_, found[0], sorted({c.rule for c in found[1:]} - {found[0].rule}), now, actor, run
        )
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
        action = CorrectiveAction(
            round=round_,
            question_code=candidate.question,
            category=candidate.category,
            served_unit=candidate.served_unit,
            group_code=candidate.group,
            open_key=key,
            status="open",
            created_at=now,
            **figures,
        )
        db.session.add(action)
        add_event(
            action, "created", actor, now, data={"round_id": round_.id, **figures, "also": also}
        )
        run.created.append(action)
        return
    data = {"round_id": round_.id, "group_code": candidate.group, **figures, "also": also}
    if _last_firing(action, round_.id) == data:
        return  # the same figures as the last run on this round: nothing new to record
    if action.round_id == round_.id:  # more answers came in: the source figures move on
        for name, value in figures.items():
            setattr(action, name, value)
        action.group_code = candidate.group
    add_event(action, "rule_fired", actor, now, data=data)
    run.fired_again.append(action)


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
        "comments": list(candidate.comments),
    }


def _dealt_with(round_: Round, candidate: analysis.ActionCandidate) -> bool:
    served = CorrectiveAction.served_unit
    return (
        db.session.scalar(
            select(func.count()).where(
                CorrectiveAction.round_id == round_.id,
                CorrectiveAction.question_code == candidate.question,
                served.is_(None)
                if candidate.served_unit is None
                else served == candidate.served_unit,
            )
        )
        > 0
    )


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
    """Low scores of a closed round become corrective actions."""
    run_rules(round_, now)
