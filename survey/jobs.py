"""Background jobs: a STAND-IN for the real queue being built on the `jobs` branch (issue 18).

It has the same interface, which the rest of the code keeps to::

    @jobs.task(retries=1, retry_delay=30)  # a Huey task whose body runs in the app context
    def build_export(export_id: int) -> None: ...

    build_export(export_id)                # enqueues

Here the Huey instance runs every task at once, in the caller's thread (immediate mode), so
the stand-in needs no worker; the real module stores tasks for a worker process and runs
them inline only in tests. The merge takes the real module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, has_app_context
from huey import MemoryHuey

huey = MemoryHuey("survey", immediate=True)
_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Register the app whose context a task runs in when none is active."""
    global _app
    _app = app


def task(**options: Any) -> Callable:
    """A Huey task whose body runs inside the Flask app context (the caller's, or the
    registered app's)."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def in_context(*args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                return function(*args, **kwargs)
            with _registered().app_context():
                return function(*args, **kwargs)

        return huey.task(**options)(in_context)

    return decorate


def _registered() -> Flask:
    if _app is None:
        raise RuntimeError("survey.jobs.init_app(app) was not called")
    return _app
