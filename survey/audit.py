"""The audit trail: one AuditEvent per security-relevant event, added to the caller's
transaction so that the event and the change it records are committed together."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select

from survey.extensions import db
from survey.models import AuditEvent, User

# The event kinds and how the audit trail names them; the stored code never changes.
ACTION_LABELS = {
    "login": _l("Logged in"),
    "login_failed": _l("Login failed"),
    "logout": _l("Logged out"),
    "office_chosen": _l("Office switched"),
    "role_changed": _l("Role changed"),
    "user_created": _l("User created"),
    "user_changed": _l("User changed"),
    "user_disabled": _l("User disabled"),
    "user_enabled": _l("User re-enabled"),
    "password_changed": _l("Password changed"),
    "password_change_forced": _l("Password change required at next login"),
    "password_link_sent": _l("Password reset link sent"),
    "account_invitation_sent": _l("Account invitation sent"),
    "password_reset": _l("Password reset through a link"),
    "questionnaire_published": _l("Questionnaire published"),
    "template_shared": _l("Questionnaire shared as a template"),
    "template_adopted": _l("Shared template adopted"),
    "scale_created": _l("Scale added to the library"),
    "scale_changed": _l("Library scale changed"),
    "round_created": _l("Round created"),
    "round_opened": _l("Round opened"),
    "round_closed": _l("Round closed"),
    "round_changed": _l("Round settings changed"),
    "round_deleted": _l("Round deleted"),
    "round_archived": _l("Round archived"),
    "round_unarchived": _l("Round taken out of the archive"),
    "export": _l("Export"),
    "results_downloaded": _l("Results downloaded"),
    "raw_answers_downloaded": _l("Raw answers downloaded"),
    "action_changed": _l("Corrective action changed"),
    "action_opened_from_note": _l("Corrective action opened from a note"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "api_tokens_revoked": _l("API tokens of the account revoked"),
    "api_token_used": _l("API token used"),
    "api_token_refused": _l("API token refused"),
    "backup": _l("Backup"),
    "restore": _l("Restored from a backup"),
    "webhook_created": _l("Webhook created"),
    "webhook_changed": _l("Webhook changed"),
    "webhook_enabled": _l("Webhook activated"),
    "webhook_disabled": _l("Webhook deactivated"),
    "webhook_secret_shown": _l("Webhook secret shown"),
    "webhook_secret_changed": _l("Webhook secret replaced"),
    "webhook_test_sent": _l("Webhook test event sent"),
    "webhook_redelivered": _l("Webhook delivery sent again"),
    "service_point_created": _l("Service point added"),
    "service_point_changed": _l("Service point changed"),
    "service_point_link_renewed": _l("Service point's public link replaced"),
    "case_deadline_changed": _l("Deadline of public feedback cases changed"),
    "case_contacted": _l("Feedback case: citizen contacted"),
    "case_closed": _l("Feedback case closed"),
    "rating_set_aside": _l("Public rating set aside"),
    "rating_kept": _l("Flagged public rating kept as genuine"),
}
ACTIONS = tuple(ACTION_LABELS)
# The names of the details events carry (keyword arguments of record()).
DETAIL_LABELS = {
    "version": _l("version"),
    "automatic": _l("automatic"),
    "kind": _l("kind"),
    "count": _l("count"),
    "transition": _l("step"),
    "status": _l("status"),
    "owner": _l("owner"),
    "due_date": _l("due date"),
    "role": _l("role"),
    "before": _l("before"),
    "after": _l("after"),
    "pages": _l("pages"),
    "questionnaire": _l("questionnaire"),
    "number": _l("number"),
    "revision": _l("revision"),
    "changes": _l("changes"),
    "name": _l("name"),
    "format": _l("format"),
    "table": _l("table"),
    "language": _l("language"),
    "unit_codes": _l("unit codes"),
    "note": _l("note"),
    "unit": _l("unit"),
    "url": _l("address"),
    "delivery": _l("delivery"),
    "scopes": _l("scopes"),
    "method": _l("method"),
    "path": _l("path"),
    "reason": _l("reason"),
    "token": _l("token"),
}
# What a download's "format" names.
DOWNLOAD_FORMATS = {
    "csv": _l("CSV"),
    "xlsx": _l("Excel"),
    "pdf": _l("PDF report"),
    "json": _l("API (JSON)"),
}
# What an export event's "kind" names.
EXPORT_KINDS = {
    "invitations": _l("invitation links (CSV)"),
    "csv": _l("CSV"),
    "xlsx": _l("Excel"),
}


def record(
    action: str,
    target: str | None = None,
    actor: User | None = None,
    office_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event for `action` on `target` (e.g. "round:3"). The actor defaults to the
    logged-in user, else "anonymous" in a request and "cli" outside one. The event is in the
    trail of the office being worked for; `office_id` names one where there is none (a login,
    a password link: the account's home office)."""
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
        office_id=office_id,
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
