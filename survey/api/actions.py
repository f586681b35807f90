"""JSON for scripts: the corrective-action queue, one action with its history, and the loop's
transitions, under the same permission rules as the pages (documented in the README).

A logged-in session is needed (401 otherwise). POSTs carry the session's CSRF token in an
``X-CSRFToken`` header; every GET answer here sends the token in that header, so a script reads
it from its first GET.
"""

from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

import analysis
from survey import corrective
from survey.api import bp
from survey.extensions import db
from survey.models import ActionEvent, CorrectiveAction, Round, utcnow


def _user():
    if not current_user.is_authenticated:
        abort(401)
    return current_user


def _with_token(body: dict):
    response = jsonify(body)
    response.headers["X-CSRFToken"] = generate_csrf()
    return response


def _visible(action_id: int) -> CorrectiveAction:
    user = _user()
    action = db.get_or_404(CorrectiveAction, action_id)
    if not corrective.can_view(user, action):
        abort(403)
    return action


def _brief(action: CorrectiveAction, today) -> dict:
    rate = None if analysis.measures(action.rule) == "mean" else action.observed
    return {
        "id": action.id,
        "status": action.status,
        "round_id": action.round_id,
        "round": action.round.name,
        "question_code": action.question_code,
        "category": action.category,
        "served_unit": action.served_unit,
        "group": action.group_code,
        "rule": action.rule,
        "observed": action.observed,
        "rate": rate,
        "n": action.n,
        "ci_low": action.ci_low,
        "ci_high": action.ci_high,
        "threshold": action.threshold,
        "evidence": action.evidence,
        "p_value": action.p_value,
        "p_adjusted": action.p_adjusted,
        "test": action.p_test,
        "severity": action.severity,
        "owner_id": action.owner_id,
        "due_date": action.due_date.isoformat() if action.due_date else None,
        "overdue": corrective.is_overdue(action, today),
        "url": url_for("api.action", action_id=action.id),
    }


def _event(event: ActionEvent) -> dict:
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor.display_name if event.actor else None,
        "kind": event.kind,
        "from": event.from_status,
        "to": event.to_status,
        "text": event.text,
        "data": event.data,
    }


def _full(action: CorrectiveAction) -> dict:
    today = corrective.local_today(utcnow())
    fields = (
        "containment",
        "cause_method",
        "cause_category",
        "root_cause",
        "elsewhere",
        "elsewhere_note",
        "action_taken",
        "rate_before",
        "rate_after",
        "n_after",
        "verification_p",
        "result",
        "cancel_reason",
        "comments",
    )
    steps = [
        {
            "id": s.id,
            "kind": s.kind,
            "description": s.description,
            "owner_id": s.owner_id,
            "due_date": s.due_date.isoformat(),
            "done": s.done_at is not None,
            "outcome": s.outcome,
        }
        for s in action.steps
    ]
    return {
        **_brief(action, today),
        **{name: getattr(action, name) for name in fields},
        "steps": steps,
        "history": [_event(e) for e in action.events],
        "transitions": [t.name for t in corrective.allowed_moves(current_user, action)],
        "verification_round_id": action.verification_round_id,
        "implemented_at": _iso(corrective.implemented_at(action)),
        "verification_rounds": [
            {
                "round_id": c.round.id,
                "name": c.round.name,
                "status": c.round.status,
                "responses_after": c.responses_after,
                "usable": c.usable,
                "reason": c.reason,
            }
            for c in corrective.candidates(action)
        ],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@bp.get("/actions")
def actions():
    """Filters as on the queue page: status (default ``active``), owner, served_unit,
    category, round, overdue=y. Most severe first."""
    user = _user()
    if not (corrective.is_lead(user) or corrective.involves(user)):
        abort(403)
    today = corrective.local_today(utcnow())
    filters = corrective.QueueFilter.from_args(request.args)
    found = db.session.scalars(corrective.queue(filters, user, today)).all()
    return _with_token({"count": len(found), "actions": [_brief(a, today) for a in found]})


@bp.get("/actions/<int:action_id>")
def action(action_id: int):
    return _with_token(_full(_visible(action_id)))


def _round_of(value) -> Round | None:
    """The round a verdict names (``"round": id``); a round that does not exist is a 404."""
    if value is None:
        return None
    try:
        round_id = int(value)
    except (TypeError, ValueError):
        abort(400)
    if not 0 < round_id < 2**63:
        abort(404)
    return db.get_or_404(Round, round_id)


@bp.post("/actions/<int:action_id>/transitions")
def action_transition(action_id: int):
    """Body ``{"transition": "start_investigation", "text": "..."}``; a verdict (``close``,
    ``not_effective``) may name the later round it is made on, ``"round": 3``. 403 when the user may not
    make this move, 409 with the reason when the action's state does not allow it."""
    found = _visible(action_id)
    body = request.get_json(silent=True) or {}
    transition = corrective.TRANSITIONS.get(str(body.get("transition", "")))
    if transition is None:
        return jsonify(
            {"error": "unknown transition", "known": list(corrective.TRANSITIONS), "status": 400}
        ), 400
    if not corrective.can_move(current_user, found, transition):
        abort(403)
    try:
        corrective.move(
            found,
            transition.name,
            current_user,
            utcnow(),
            str(body.get("text", "")),
            _round_of(body.get("round")),
        )
    except corrective.ActionError as error:
        db.session.rollback()
        return jsonify({"error": str(error), "status": 409}), 409
    db.session.commit()
    return _with_token(_full(found))
