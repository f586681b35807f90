"""The round's history as sentences: the audit events of a round, with translated setting
names and values instead of the JSON they are stored as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from survey import rounds
from survey.models import AuditEvent

EVENT_NAMES = {
    "round_created": _l("Round created"),
    "round_opened": _l("Round opened"),
    "round_closed": _l("Round closed"),
    "round_changed": _l("Settings changed"),
    "round_archived": _l("Archived"),
    "round_unarchived": _l("Unarchived"),
}
# The names of the settings, shared with the audit trail.
SETTING_NAMES = rounds.SETTING_LABELS


@dataclass(frozen=True)
class Change:
    setting: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str
    what: str
    changes: list[Change]


def history_entries(events: list[AuditEvent]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            when=event.at,
            who=event.actor,
            what=_what(event),
            changes=[
                Change(
                    str(SETTING_NAMES.get(key, key)),
                    rounds.setting_text(key, old),
                    rounds.setting_text(key, new),
                )
                for key, (old, new) in (event.detail or {}).get("changes", {}).items()
            ],
        )
        for event in events
    ]


def _what(event: AuditEvent) -> str:
    if event.action == "round_closed" and (event.detail or {}).get("automatic"):
        return str(_l("Closed at its close date"))
    return str(EVENT_NAMES.get(event.action, event.action))
