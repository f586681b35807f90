"""JSON for scripts: the corrective-action queue, one action with its history, and the loop's
transitions, under the same permission rules as the pages (documented in the README).

A logged-in session or an API token with the ``manage_actions`` scope is needed (401
otherwise; ``survey.api.access``). A session's POSTs carry its CSRF token in an ``X-CSRFToken``
header; every GET answer to a session sends the token in that header, so a script reads it
from its first GET. A token needs none.
"""

from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

import analysis
from survey import corrective
from survey.api import bp, schemas
from survey.api.access import body as json_body
from survey.api.access import by_token
from survey.api.spec import operation
from survey.extensions import db
from survey.models import ActionEvent, CorrectiveAction, Round, utcnow


def _user():
    if not current_user.is_authenticated:
        abort(401)
    return current_user


def _with_token(body: dict):
    response = jsonify(body)
    if not by_token():  # a token's request has no session to keep a CSRF token in
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
@operation(
    summary="The corrective-action queue",
    scope="manage_actions",
    query=schemas.ActionsQuery,
    response=schemas.ActionsOut,
    tag="actions",
)
def actions():
    """Filters as on the queue page: status (default ``active``), owner, served_unit,
    category, round, overdue=y. Most severe first."""
    user = _user()
    if not (corrective.is_lead(user) or corrective.involves(user)):
        abort(403)
    today = corrective.local_today(utcnow())
    # Validated against ActionsQuery already (survey.api.access); the queue page's parsing.
    filters = corrective.QueueFilter.from_args(request.args)
    found = db.session.scalars(corrective.queue(filters, user, today)).all()
    return _with_token({"count": len(found), "actions": [_brief(a, today) for a in found]})


@bp.get("/actions/<int:action_id>")
@operation(
    summary="One corrective action with its history",
    scope="manage_actions",
    response=schemas.ActionOut,
    tag="actions",
)
def action(action_id: int):
    """The action's figures, investigation, steps, history and the transitions the caller may
    make now."""
    return _with_token(_full(_visible(action_id)))


def _round_of(round_id: int | None) -> Round | None:
    """The round a verdict names (``"round": id``, a number the schema bounds); a round that
    does not exist is a 404."""
    if round_id is None:
        return None
    return db.get_or_404(Round, round_id)


@bp.post("/actions/<int:action_id>/transitions")
@operation(
    summary="Move a corrective action along its loop",
    scope="manage_actions",
    body=schemas.TransitionIn,
    response=schemas.ActionOut,
    errors=(409,),
    tag="actions",
)
def action_transition(action_id: int):
    """Body ``{"transition": "start_investigation", "text": "..."}``; a verdict (``close``,
    ``not_effective``) may name the later round it is made on, ``"round": 3``. 403 when the user may not
    make this move, 409 with the reason when the action's state does not allow it."""
    found = _visible(action_id)
    body: schemas.TransitionIn = json_body(schemas.TransitionIn)
    transition = corrective.TRANSITIONS.get(body.transition)
    if transition is None:
        return jsonify(
            {
                "error": "Bad Request",
                "status": 400,
                "message": f"Unknown transition {body.transition!r}.",
                "known": list(corrective.TRANSITIONS),
            }
        ), 400
    if not corrective.can_move(current_user, found, transition):
        abort(403)
    try:
        corrective.move(
            found,
            transition.name,
            current_user,
            utcnow(),
            body.text or "",
            _round_of(body.round),
        )
    except corrective.ActionError as error:
        db.session.rollback()
        return jsonify({"error": "Conflict", "status": 409, "message": str(error)}), 409
    db.session.commit()
    return _with_token(_full(found))
