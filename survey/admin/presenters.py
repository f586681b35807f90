"""How an audit event reads: its kind and details by name, with codes among the values
(statuses, steps, roles, export kinds,
download formats) in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from survey import audit, rounds
from survey.corrective import texts
from survey.models import ROLE_LABELS, AuditEvent


def event_label(action: str) -> str:
    return str(audit.ACTION_LABELS.get(action, action))


def detail_text(event: AuditEvent) -> str:
    """ "状态=调查中, 步骤=开始调查", in the order the details were recorded."""
    return ", ".join(
        f"{audit.DETAIL_LABELS.get(key, key)}={_value(key, value)}"
        for key, value in (event.detail or {}).items()
    )


def _value(key: str, value) -> str:
    names = {
        "status": texts.status_labels(),
        "transition": texts.TRANSITION_LABELS,
        "role": ROLE_LABELS,
        "before": ROLE_LABELS,
        "after": ROLE_LABELS,
        "kind": audit.EXPORT_KINDS,
        "format": audit.DOWNLOAD_FORMATS,
    }.get(key)
    if key == "changes" and isinstance(value, dict):
        # A round's settings: "最后答题日: 2026-12-31 → 2027-01-15; …"
        return "; ".join(
            f"{rounds.SETTING_LABELS.get(name, name)}: {_plain(pair[0])} → {_plain(pair[1])}"
            for name, pair in value.items()
        )
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if names is not None and isinstance(value, str):
        return str(names.get(value, value))
    return str(value)


def _plain(value) -> str:
    if value is None or value in ([], {}):
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
