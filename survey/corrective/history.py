"""An action's history: append-only events (who, when, status from and to, text)."""

from __future__ import annotations

from datetime import datetime

from survey.extensions import db
from survey.models import (
    ActionEvent,
    CorrectiveAction,
    User,
)


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
