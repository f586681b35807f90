"""Corrective actions (ISO 9001:2015, 10.2): from the low-score rules to a verified closure.

The loop is a table, ``TRANSITIONS``: open -> investigating -> planned -> implemented ->
verification -> closed, with "not effective" back to investigating, reopen, and cancel with a
reason. A transition not in the table, or one whose precondition is unmet, raises
``ActionError`` with a message for the reader; nothing is changed then.

Rules to actions: ``run_rules(round_)`` runs ``analysis.run_rules`` on the round (thresholds
and enabled rules from ``Round.thresholds``, the previous round of the same questionnaire for
the drop rule) and keeps one candidate per (question, served unit). An item with an open
action gets an event, never a second action (``CorrectiveAction.open_key`` is unique); an item
whose action from the same round was closed or cancelled is left alone, so that running the
rules again never brings back what the lead already dealt with.

Every change appends an ``ActionEvent`` (who, when, status from and to, text); no function here
changes or deletes one, and the model refuses to.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from flask import current_app, has_request_context
from flask_babel import gettext, pgettext
from sqlalchemy import Select, func, or_, select

import analysis
from analysis.metrics import below
from survey import audit
from survey.extensions import db
from survey.models import (
    ActionEvent,
    ActionStep,
    CorrectiveAction,
    Question,
    QuestionnaireVersion,
    RespondentGroup,
    Round,
    Unit,
    User,
)
from survey.results import answers_frame

ACTIVE = ("open", "investigating", "planned", "implemented", "verification")
ENDED = ("closed", "cancelled")
LEAD_ROLES = ("quality_lead", "admin")
CAUSE_METHODS = ("five_whys", "cause_category")
CAUSE_CATEGORIES = ("people", "method", "process", "communication", "resources", "environment")


def _(message: str, **params: object) -> str:
    """The reader's language in a request; plain English on the command line."""
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message


class ActionError(ValueError):
    """A change that the action's state or the user's part in it does not allow."""


@dataclass(frozen=True)
class Transition:
    """A move of the loop: allowed from ``sources`` to ``target``, by the quality lead only
    (``by="lead"``) or also by the action's owner (``by="owner"``); ``needs_text`` asks for a
    reason or note."""

    name: str
    sources: tuple[str, ...]
    target: str
    by: str
    needs_text: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("start_investigation", ("open",), "investigating", "owner"),
        Transition("plan", ("investigating",), "planned", "owner"),
        Transition("implement", ("planned",), "implemented", "owner"),
        Transition("request_verification", ("implemented",), "verification", "owner"),
        Transition("close", ("verification",), "closed", "lead"),
        Transition("not_effective", ("verification",), "investigating", "lead", True),
        Transition("reopen", ENDED, "open", "lead", True),
        Transition("cancel", ACTIVE, "cancelled", "lead", True),
    )
}


# --- who may do what -------------------------------------------------------------------


def is_lead(user: User) -> bool:
    return user.role in LEAD_ROLES


def can_view(user: User, action: CorrectiveAction) -> bool:
    """The quality lead and admin see every action; an owner the actions and steps they own."""
    return (
        is_lead(user)
        or action.owner_id == user.id
        or any(step.owner_id == user.id for step in action.steps)
    )


def can_edit(user: User, action: CorrectiveAction) -> bool:
    """Investigation, plan and what was done: the action's owner, or the quality lead."""
    return is_lead(user) or action.owner_id == user.id


def can_edit_step(user: User, step: ActionStep) -> bool:
    return can_edit(user, step.action) or step.owner_id == user.id


def can_move(user: User, action: CorrectiveAction, transition: Transition) -> bool:
    return is_lead(user) or (transition.by == "owner" and action.owner_id == user.id)


def involves(user: User) -> bool:
    """Whether the user owns any action or step (and so has a queue of their own)."""
    owns = select(CorrectiveAction.id).where(CorrectiveAction.owner_id == user.id).exists()
    steps = select(ActionStep.id).where(ActionStep.owner_id == user.id).exists()
    return bool(db.session.scalar(select(or_(owns, steps))))


def my_actions(user: User) -> list[CorrectiveAction]:
    """The active actions the user owns or has a step in, the earliest due first."""
    steps = select(ActionStep.action_id).where(ActionStep.owner_id == user.id)
    query = (
        select(CorrectiveAction)
        .where(
            CorrectiveAction.status.in_(ACTIVE),
            or_(CorrectiveAction.owner_id == user.id, CorrectiveAction.id.in_(steps)),
        )
        .order_by(
            CorrectiveAction.due_date.is_(None), CorrectiveAction.due_date, CorrectiveAction.id
        )
    )
    return list(db.session.scalars(query))


# --- rounds in order -------------------------------------------------------------------


def rounds_in_order(round_: Round) -> list[Round]:
    """The rounds (not drafts) of the round's questionnaire, in the order they ran: by opening
    date (creation date where none is set), then id."""
    query = (
        select(Round)
        .join(QuestionnaireVersion, Round.version_id == QuestionnaireVersion.id)
        .where(
            QuestionnaireVersion.questionnaire_id == round_.version.questionnaire_id,
            Round.status != "draft",
        )
    )
    return sorted(db.session.scalars(query), key=lambda r: (r.opens_at or r.created_at, r.id))


def next_round(round_: Round) -> Round | None:
    order = rounds_in_order(round_)
    later = [
        r
        for r in order
        if (r.opens_at or r.created_at, r.id) > (round_.opens_at or round_.created_at, round_.id)
    ]
    return later[0] if later else None


def previous_round(round_: Round) -> Round | None:
    order = rounds_in_order(round_)
    earlier = [
        r
        for r in order
        if (r.opens_at or r.created_at, r.id) < (round_.opens_at or round_.created_at, round_.id)
    ]
    return earlier[-1] if earlier else None


def thresholds_of(round_: Round) -> analysis.Thresholds:
    """The round's thresholds (``{"rate": 0.8, "mean": 3.5, "alpha": 0.05}``), defaults for
    what it does not set."""
    given = round_.thresholds or {}
    default = analysis.Thresholds()
    return analysis.Thresholds(
        rate=float(given.get("rate", default.rate)),
        mean=float(given.get("mean", default.mean)),
        alpha=float(given.get("alpha", default.alpha)),
    )


# --- from candidates to actions --------------------------------------------------------


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


def open_key(question: str, served_unit: str | None) -> str:
    return f"{question}|{served_unit or ''}"


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
        "observed": _number(candidate.observed),
        "n": candidate.n,
        "ci_low": _number(candidate.ci_low),
        "ci_high": _number(candidate.ci_high),
        "threshold": _number(candidate.threshold),
        "severity": _number(candidate.severity) or 0.0,
        "evidence": candidate.evidence,
        "p_value": _number(candidate.p_value),
        "comments": list(candidate.comments),
    }


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


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


def add_event(
    action: CorrectiveAction,
    kind: str,
    actor: User | None,
    now: datetime,
    text: str = "",
    data: dict | None = None,
    to_status: str | None = None,
) -> ActionEvent:
    event = ActionEvent(
        action=action,
        kind=kind,
        actor_id=actor.id if actor else None,
        at=now,
        from_status=action.status,
        to_status=to_status or action.status,
        text=text or "",
        data=data,
    )
    db.session.add(event)
    return event


# --- the loop --------------------------------------------------------------------------


def move(action: CorrectiveAction, name: str, actor: User, now: datetime, text: str = "") -> None:
    """Apply the transition ``name`` or raise ActionError saying why it is refused."""
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
    reason = unmet(action, transition)
    if reason:
        raise ActionError(reason)
    add_event(
        action,
        "transition",
        actor,
        now,
        text=text,
        data={"transition": name},
        to_status=transition.target,
    )
    action.status = transition.target
    action.open_key = (
        open_key(action.question_code, action.served_unit)
        if (transition.target in ACTIVE)
        else None
    )
    _after_move(action, transition, text, now)
    audit.record(
        "action_changed",
        target=f"action:{action.id}",
        actor=actor,
        transition=name,
        status=transition.target,
    )
    db.session.flush()


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
    if name == "close" and (proposal or verify(action).proposal) != "effective":
        return _(
            "The next round does not show the item at or above its threshold: mark the "
            "action not effective, or wait for the next round."
        )
    if name == "reopen" and db.session.scalar(
        select(CorrectiveAction.id).where(
            CorrectiveAction.open_key == open_key(action.question_code, action.served_unit)
        )
    ):
        return _("Another action for the same item and served unit is open.")
    return None


def _after_move(action: CorrectiveAction, transition: Transition, text: str, now: datetime) -> None:
    if transition.name == "close":
        _store_verification(action, verify(action), "effective")
        action.closed_at = now
    elif transition.name == "not_effective":
        _store_verification(action, verify(action), "not_effective")
    elif transition.name == "cancel":
        action.cancel_reason, action.closed_at = text, now
    elif transition.name == "reopen":
        action.closed_at, action.result = None, None


def _store_verification(action: CorrectiveAction, check: Verification, result: str) -> None:
    action.verification_round_id = check.round.id if check.round else None
    action.rate_before, action.rate_after = check.rate_before, check.rate_after
    action.n_after, action.verification_p, action.result = check.n_after, check.p_value, result


def allowed_moves(user: User, action: CorrectiveAction) -> list[Transition]:
    """The transitions the table allows from the action's status for this user."""
    return [
        t for t in TRANSITIONS.values() if action.status in t.sources and can_move(user, action, t)
    ]


# --- assignment, investigation, plan, what was done ------------------------------------


def owner_candidates(action: CorrectiveAction) -> Select:
    """Active users of the action's served unit; for an item without one (the city's order,
    say), every active office account (not respondents)."""
    query = select(User).where(User.active).order_by(User.display_name, User.id)
    if action.served_unit:
        return query.join(Unit, User.unit_id == Unit.id).where(Unit.code == action.served_unit)
    return query.where(User.role != "respondent")


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


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Before (the source round) and after (the next round of the same questionnaire) for the
    action's item, served unit and, where it fired for one, respondent group."""

    round: Round | None
    group: str | None
    n_before: int
    satisfied_before: int
    n_after: int
    satisfied_after: int
    threshold: float
    z: float | None
    p_value: float | None

    @property
    def rate_before(self) -> float | None:
        return self.satisfied_before / self.n_before if self.n_before else None

    @property
    def rate_after(self) -> float | None:
        return self.satisfied_after / self.n_after if self.n_after else None

    @property
    def proposal(self) -> str:
        """``effective`` only when the next round's rate meets the threshold (exactly: 80.0%
        meets 80%); ``not_effective`` when it is below; ``no_data`` without answers."""
        if not self.n_after:
            return "no_data"
        met = not below([self.satisfied_after], [self.n_after], self.threshold)[0]
        return "effective" if met else "not_effective"


def verify(
    action: CorrectiveAction, frames: tuple[pd.DataFrame, pd.DataFrame] | None = None
) -> Verification:
    """The rate threshold is the source round's. A group-specific action is checked on that
    group when it reaches the next round's anonymity threshold, else on the whole item.
    ``frames``: the answer frames of the source and the next round, when the caller has them."""
    after_round = next_round(action.round)
    if frames is None:
        frames = (
            answers_frame(action.round),
            answers_frame(after_round) if after_round else analysis.empty_frame(),
        )
    before, after = frames
    group = action.group_code
    if (
        group
        and after_round
        and _respondents(after, action, group) < (after_round.anonymity_threshold)
    ):
        group = None
    n0, x0 = _counts(before, action, group)
    n1, x1 = _counts(after, action, group)
    z, p = analysis.two_proportion_z_test(x0, n0, x1, n1) if n0 and n1 else (None, None)
    return Verification(
        after_round, group, n0, x0, n1, x1, thresholds_of(action.round).rate, _number(z), _number(p)
    )


def item_frame(frame: pd.DataFrame, action: CorrectiveAction, group: str | None) -> pd.DataFrame:
    """The rows of the action's item (question and served unit), and group if given."""
    mask = frame["question"].astype("str") == action.question_code
    served = frame["served_unit"]
    mask &= (
        served.isna()
        if action.served_unit is None
        else (served.astype("str") == action.served_unit)
    )
    if group:
        mask &= frame["group"].astype("str") == group
    return frame[mask]


def _counts(frame: pd.DataFrame, action: CorrectiveAction, group: str | None) -> tuple[int, int]:
    items = analysis.item_table(item_frame(frame, action, group))
    if items.empty:
        return 0, 0
    return int(items["n"].sum()), int(items["satisfied"].sum())


def _respondents(frame: pd.DataFrame, action: CorrectiveAction, group: str) -> int:
    return int(item_frame(frame, action, group)["response_id"].nunique())


# --- the queue and the register --------------------------------------------------------


def local_today(now: datetime) -> date:
    """Today in the office's time zone (due dates are office days), from a naive UTC now."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return now.replace(tzinfo=UTC).astimezone(zone).date()


def is_overdue(action: CorrectiveAction, today: date) -> bool:
    return action.status in ACTIVE and action.due_date is not None and action.due_date < today


@dataclass(frozen=True)
class QueueFilter:
    """``status``: one status, ``active`` (default: all but closed and cancelled) or ``all``."""

    status: str = "active"
    owner_id: int | None = None
    served_unit: str | None = None
    category: str | None = None
    round_id: int | None = None
    overdue: bool = False


def queue(filters: QueueFilter, viewer: User, today: date) -> Select:
    """Actions the viewer may see, filtered, most severe first (severity: how far below the
    threshold, weighted by sqrt(n), as ``analysis.alerts`` computes it)."""
    query = select(CorrectiveAction)
    if not is_lead(viewer):
        mine = select(ActionStep.action_id).where(ActionStep.owner_id == viewer.id)
        query = query.where(
            or_(CorrectiveAction.owner_id == viewer.id, CorrectiveAction.id.in_(mine))
        )
    if filters.status == "active":
        query = query.where(CorrectiveAction.status.in_(ACTIVE))
    elif filters.status != "all":
        query = query.where(CorrectiveAction.status == filters.status)
    for column, value in (
        (CorrectiveAction.owner_id, filters.owner_id),
        (CorrectiveAction.served_unit, filters.served_unit),
        (CorrectiveAction.category, filters.category),
        (CorrectiveAction.round_id, filters.round_id),
    ):
        if value not in (None, ""):
            query = query.where(column == value)
    if filters.overdue:
        query = query.where(CorrectiveAction.status.in_(ACTIVE), CorrectiveAction.due_date < today)
    return query.order_by(CorrectiveAction.severity.desc(), CorrectiveAction.id)


@dataclass(frozen=True)
class RegisterStats:
    open: int
    overdue: int
    closed: int
    cancelled: int
    median_days_to_close: float | None


def register_stats(actions: Iterable[CorrectiveAction], today: date) -> RegisterStats:
    """Counts by state and the median days from opening to closing (closed actions only)."""
    actions = list(actions)
    days = [
        (a.closed_at - a.created_at).total_seconds() / 86400
        for a in actions
        if a.status == "closed" and a.closed_at
    ]
    return RegisterStats(
        open=sum(a.status in ACTIVE for a in actions),
        overdue=sum(is_overdue(a, today) for a in actions),
        closed=sum(a.status == "closed" for a in actions),
        cancelled=sum(a.status == "cancelled" for a in actions),
        median_days_to_close=round(statistics.median(days), 1) if days else None,
    )


# --- names for codes -------------------------------------------------------------------


def question_texts(actions: Iterable[CorrectiveAction], lang: str) -> dict[tuple[int, str], str]:
    """(round id, question code) -> the question's text in its round's version."""
    actions = list(actions)
    versions = {a.round.version_id for a in actions}
    rows = db.session.execute(
        select(Question.version_id, Question.code, Question.text_zh, Question.text_en).where(
            Question.version_id.in_(versions)
        )
    )
    by_version = {(v, c): (en if lang == "en" else zh) for v, c, zh, en in rows}
    return {
        (a.round_id, a.question_code): by_version.get(
            (a.round.version_id, a.question_code), a.question_code
        )
        for a in actions
    }


def unit_names(lang: str) -> dict[str, str]:
    rows = db.session.scalars(select(Unit).where(Unit.kind == "served"))
    return {u.code: u.name(lang) for u in rows}


def group_names(lang: str) -> dict[str, str]:
    return {g.code: g.label(lang) for g in db.session.scalars(select(RespondentGroup))}


STATUS_TEXT = {
    "open": "Open",
    "investigating": "Investigating",
    "planned": "Action planned",
    "implemented": "Implemented",
    "verification": "Verification",
    "closed": "Closed (effective)",
    "cancelled": "Cancelled",
}


def status_labels() -> dict[str, str]:
    """Status -> its name in the reader's language (English outside a request)."""
    if not has_request_context():
        return dict(STATUS_TEXT)
    # A context of their own: a round is "open" too, and its word differs from an action's.
    return {
        "open": pgettext("action status", "Open"),
        "investigating": pgettext("action status", "Investigating"),
        "planned": pgettext("action status", "Action planned"),
        "implemented": pgettext("action status", "Implemented"),
        "verification": pgettext("action status", "Verification"),
        "closed": pgettext("action status", "Closed (effective)"),
        "cancelled": pgettext("action status", "Cancelled"),
    }


def status_label(status: str) -> str:
    return status_labels()[status]
