"""Access control for views: ``role_required`` checks the logged-in user's role;
``may_take_identified_answers`` whether a user may download the raw answers of a named round
with their unit codes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app
from flask_login import current_user, login_required


def role_required(*roles: str) -> Callable:
    """Logged-in users with one of `roles` pass (admin always does); others get 403."""
    allowed = set(roles) | {"admin"}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def may_take_identified_answers(user: Any) -> bool:
    """Whether ``user`` may download the raw answers of a named round, each response with its
    unit and time: the roles of the ``RAW_ANSWER_ROLES`` setting, and admins. Reading the
    results does not give it; a results reader without it gets the aggregated downloads only."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == "admin" or user.role in current_app.config["RAW_ANSWER_ROLES"]
