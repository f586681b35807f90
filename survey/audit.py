"""The audit trail: one AuditEvent per security-relevant event, added to the caller's
transaction so that the event and the change it records are committed together."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, select

from survey.extensions import db
from survey.models import AuditEvent, User

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "role_changed",
    "user_created",
    "questionnaire_published",
    "round_created",
    "round_opened",
    "round_closed",
    "round_changed",
    "round_deleted",
    "round_archived",
    "round_unarchived",
    "export",
    "action_changed",
    "backup",
)


def record(
    action: str, target: str | None = None, actor: User | None = None, **detail: Any
) -> AuditEvent:
    """Add an audit event for `action` on `target` (e.g. "round:3"). The actor defaults to the
    logged-in user, else "anonymous" in a request and "cli" outside one."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user = actor or _current_user()
    event = AuditEvent(
        actor_id=user.id if user else None,
        actor=user.email if user else ("anonymous" if has_request_context() else "cli"),
        action=action,
        target=target,
        detail=detail,
        address=request.remote_addr if has_request_context() else "cli",
    )
    db.session.add(event)
    return event


def _current_user() -> User | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def newest_first(action: str | None = None) -> Select:
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    return query.where(AuditEvent.action == action) if action else query
