"""Who may see and change an action: the quality lead everything, an owner their own."""

from __future__ import annotations

from sqlalchemy import or_, select

from survey.corrective.states import ACTIVE, Transition
from survey.extensions import db
from survey.models import (
    LEAD_ROLES,
    ActionStep,
    CorrectiveAction,
    User,
)


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
