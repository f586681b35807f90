from flask import render_template, request

from survey import audit
from survey.admin import bp, presenters
from survey.extensions import db
from survey.permissions import role_required


@bp.get("/audit")
@role_required("quality_lead")
def audit_log():
    """The audit trail, newest first; read-only: no route edits or deletes an event."""
    action = request.args.get("action") if request.args.get("action") in audit.ACTIONS else None
    page = db.paginate(audit.newest_first(action), per_page=100, error_out=False)
    return render_template(
        "admin/audit.html",
        page=page,
        action=action,
        actions=audit.ACTION_LABELS,
        event_label=presenters.event_label,
        detail_text=presenters.detail_text,
    )
