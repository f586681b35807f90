"""The corrective-action loop as a table: its statuses, its transitions and who may make them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context
from flask_babel import gettext

from survey.models.actions import ACTIVE_STATUSES

ACTIVE = ACTIVE_STATUSES
ENDED = ("closed", "cancelled")
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


def open_key(question: str, served_unit: str | None) -> str:
    """The key an active action holds, unique among actions: one open action per item."""
    return f"{question}|{served_unit or ''}"


def note_key(round_id: int, question: str, served_unit: str | None) -> str:
    """The key a note on an item holds, unique among notes: one note per round and item."""
    return f"{round_id}|{question}|{served_unit or ''}"
