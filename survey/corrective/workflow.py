"""The corrective-action loop (ISO 9001:2015, 10.2): moves between statuses, assignment,
investigation, the plan and what was done.

The loop is a table, ``TRANSITIONS``: open -> investigating -> planned -> implemented ->
verification -> closed, with "not effective" back to investigating, reopen, and cancel with a
reason. A transition not in the table, or one whose precondition is unmet, raises
``ActionError`` with a message for the reader; nothing is changed then.

Every change appends an ``ActionEvent`` (see ``history``); no function here changes or
deletes one, and the model refuses to.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, select

from survey import audit, offices
from survey.corrective.access import can_edit, can_edit_step, can_move, is_lead
from survey.corrective.history import add_event
from survey.corrective.signals import action_closed, action_opened
from survey.corrective.states import (
    ACTIVE,
    CAUSE_METHODS,
    ENDED,
    TRANSITIONS,
    ActionError,
    Transition,
    _,
    open_key,
)
from survey.corrective.texts import status_label
from survey.corrective.verification import Verification, candidates, later_rounds, verify
from survey.extensions import db
from survey.models import (
    ActionStep,
    CorrectiveAction,
    Round,
    Unit,
    User,
)

# The moves that record a verdict on the action's effectiveness.
VERDICTS = {"close": "effective", "not_effective": "not_effective"}


def move(
    action: CorrectiveAction,
    name: str,
    actor: User,
    now: datetime,
    text: str = "",
    against: Round | None = None,
) -> None:
    """Apply the transition ``name`` or raise ActionError saying why it is refused.
    ``against``: for a verdict, the later round chosen to verify against (default: see
    ``verification.default_round``)."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise ActionError(_("There is no step called %(name)s.", name=name))
    if not can_move(actor, action, transition):
        raise ActionError(_("Only the quality lead can do this."))
    if action.status not in transition.sources:
        raise ActionError(
            _(
                "This step is not possible while the action is %(status)s.",
                status=status_label(action.status),
            )
        )
    text = (text or "").strip()
    if transition.needs_text and not text:
        raise ActionError(_("Please give a reason."))
    if against is not None and against not in later_rounds(action):
        raise ActionError(_("Verify against a later round of the same questionnaire."))
    check = verify(action, round_=against) if name in VERDICTS else None
    if check is not None and check.round is not None:
        # A verdict rests on a round that can serve (closed, answers after the fix): the
        # figures it records must be the ones anyone re-checking it later would find.
        why = next((c.reason for c in candidates(action) if c.round.id == check.round.id), None)
        if why:
            raise ActionError(why)
    reason = unmet(action, transition, check.proposal if check else None)
    if reason:
        raise ActionError(reason)
    data = {"transition": name}
    if check is not None:
        data["verification"] = _verification_record(check, VERDICTS[name])
    add_event(
        action,
        "transition",
        actor,
        now,
        text=text,
        data=data,
        to_status=transition.target,
    )
    action.status = transition.target
    action.open_key = (
        open_key(action.question_code, action.served_unit)
        if (transition.target in ACTIVE)
        else None
    )
    _after_move(action, transition, text, now, check)
    audit.record(
        "action_changed",
        target=f"action:{action.id}",
        actor=actor,
        transition=name,
        status=transition.target,
    )
    db.session.flush()
    if transition.target in ENDED:
        action_closed.send(action)
    elif transition.name == "reopen":
        action_opened.send(action, reopened=True)


def unmet(
    action: CorrectiveAction, transition: Transition, proposal: str | None = None
) -> str | None:
    """Why the transition cannot be made yet (the action lacks something), or None.
    ``proposal``: the verification's proposal when the caller has computed it."""
    name = transition.name
    if name == "start_investigation" and (action.owner_id is None or action.due_date is None):
        return _("The quality lead assigns an owner and a due date first.")
    if name == "plan" and not (action.root_cause and action.cause_method and action.steps):
        return _("Record the root cause and at least one step of the plan first.")
    if name == "implement" and not action.action_taken:
        return _("Record what was done first.")
    if name == "implement" and any(step.done_at is None for step in action.steps):
        return _("Every step of the plan must be done first.")
    if name in VERDICTS:
        options = candidates(action)
        if options and not any(c.usable for c in options):
            return options[0].reason
    if name == "close" and (proposal or verify(action).proposal) != "effective":
        return _(
            "The answers given after the action was implemented do not show the item at or "
            "above its threshold: mark the action not effective, or wait for a later round."
        )
    if name == "reopen" and db.session.scalar(
        select(CorrectiveAction.id).where(
            CorrectiveAction.open_key == open_key(action.question_code, action.served_unit)
        )
    ):
        return _("Another action for the same item and served unit is open.")
    return None


def _after_move(
    action: CorrectiveAction,
    transition: Transition,
    text: str,
    now: datetime,
    check: Verification | None,
) -> None:
    if check is not None:
        _store_verification(action, check, VERDICTS[transition.name])
    if transition.name == "close":
        action.closed_at = now
    elif transition.name == "cancel":
        action.cancel_reason, action.closed_at = text, now
    elif transition.name == "reopen":
        action.closed_at, action.result = None, None


def _verification_record(check: Verification, result: str) -> dict:
    """What the history keeps of each verdict, so that every attempt stays on record after a
    later verification replaces the action's own figures."""
    return {
        "round_id": check.round.id if check.round else None,
        "round": check.round.name if check.round else None,
        "since": check.since.isoformat() if check.since else None,
        "group": check.group,
        "n_before": check.n_before,
        "rate_before": check.rate_before,
        "n_after": check.n_after,
        "rate_after": check.rate_after,
        "p_value": check.p_value,
        "test": check.test,
        "result": result,
    }


def _store_verification(action: CorrectiveAction, check: Verification, result: str) -> None:
    action.verification_round_id = check.round.id if check.round else None
    action.rate_before, action.rate_after = check.rate_before, check.rate_after
    action.n_after, action.verification_p, action.result = check.n_after, check.p_value, result


def allowed_moves(user: User, action: CorrectiveAction) -> list[Transition]:
    """The transitions the table allows from the action's status for this user."""
    return [
        t for t in TRANSITIONS.values() if action.status in t.sources and can_move(user, action, t)
    ]


def owner_candidates(action: CorrectiveAction) -> Select:
    """Active users of the action's served unit; for an item without one (the city's order,
    say), every active office account (not respondents)."""
    query = select(User).where(User.active).order_by(User.display_name, User.id)
    if action.served_unit:
        query = query.join(Unit, User.unit_id == Unit.id).where(Unit.code == action.served_unit)
        return query.where(offices.is_member())
    return query.where(offices.is_member("designer", "quality_lead", "admin"))


def assign(action: CorrectiveAction, owner: User, due: date, actor: User, now: datetime) -> None:
    """The quality lead names the owner (a user of the served unit) and the due date."""
    _editable(action)
    if not is_lead(actor):
        raise ActionError(_("Only the quality lead can do this."))
    allowed = db.session.scalar(owner_candidates(action).where(User.id == owner.id))
    if allowed is None:
        raise ActionError(_("The owner must be a user of the served unit."))
    changes = _changes(action, owner_id=owner.id, due_date=due)
    if not changes:
        return
    action.owner, action.due_date = owner, due
    audit.record(
        "action_changed",
        target=f"action:{action.id}",
        actor=actor,
        owner=owner.id,
        due_date=due.isoformat(),
    )
    add_event(
        action,
        "assigned",
        actor,
        now,
        data={"owner": owner.shown_name, "due_date": due.isoformat()},
    )


def record(action: CorrectiveAction, kind: str, actor: User, now: datetime, **values) -> None:
    """Store investigation fields (kind ``investigation``) or what was done (``action_taken``);
    one event lists what changed, old and new."""
    _editable(action)
    if not can_edit(actor, action):
        raise ActionError(_("Only the owner of the action or the quality lead can change this."))
    if values.get("cause_method") not in (None, *CAUSE_METHODS):
        raise ActionError(_("Unknown root-cause method."))
    changes = _changes(action, **values)
    for name, (_old, new) in changes.items():
        setattr(action, name, new)
    if changes:
        add_event(
            action,
            kind,
            actor,
            now,
            data={k: [_plain(old), _plain(new)] for k, (old, new) in changes.items()},
        )


def add_step(
    action: CorrectiveAction,
    kind: str,
    description: str,
    owner: User,
    due: date,
    actor: User,
    now: datetime,
) -> ActionStep:
    _editable(action)
    if not can_edit(actor, action):
        raise ActionError(_("Only the owner of the action or the quality lead can change this."))
    step = ActionStep(
        action=action,
        kind=kind,
        description=description.strip(),
        owner=owner,
        due_date=due,
        created_at=now,
    )
    db.session.add(step)
    add_event(
        action,
        "step_added",
        actor,
        now,
        text=step.description,
        data={"kind": kind, "owner": owner.shown_name, "due_date": due.isoformat()},
    )
    return step


def update_step(step: ActionStep, done: bool, outcome: str, actor: User, now: datetime) -> None:
    """A step's own fields: whether it is done and what came of it."""
    _editable(step.action)
    if not can_edit_step(actor, step):
        raise ActionError(_("Only the owner of this step can change it."))
    done_at = (step.done_at or now) if done else None
    changes = _changes(step, done_at=done_at, outcome=outcome.strip() or None)
    for name, (_old, new) in changes.items():
        setattr(step, name, new)
    if changes:
        add_event(
            step.action,
            "step_updated",
            actor,
            now,
            text=step.outcome or "",
            data={"step": step.id, "done": done, "description": step.description},
        )


def _editable(action: CorrectiveAction) -> None:
    if action.status in ENDED:
        raise ActionError(
            _("A closed or cancelled action is part of the record; reopen it to change it.")
        )


def _changes(target: object, **values) -> dict[str, tuple]:
    changes = {}
    for name, new in values.items():
        old = getattr(target, name)
        if old != new:
            changes[name] = (old, new)
    return changes


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, (date, datetime)) else value
