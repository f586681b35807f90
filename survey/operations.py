"""What the servers' operators need: a health check for the load balancer and monitoring, and
one JSON line per request in the log.

GET /healthz answers 200 {"database": "ok", "queue": "ok"} when the database answers a query
and the job queue (survey.jobs: SQLite file or Redis) tells its length, and 503 naming the part
that is "unavailable" when either does not: no login, nothing about the fault (the log has it),
nothing enqueued, never cached.

Each request is logged by the logger "survey.requests" as one line of JSON on the standard
error stream, which gunicorn's workers share with gunicorn's own log:

    {"method": "GET", "path": "/r/<token>", "status": 303, "duration_ms": 4.1,
     "user": null, "incident": null}

The query string is never logged, nor a personal link's token or the invitation a survey page
belongs to (the respondent's pages are logged by their route, "/r/i/<invitation_id>"): together
with the time, an invitation would tell who answered an anonymous round when. "user" is the id
of the logged-in staff member, "incident" the id a server-error page showed (survey.errors).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from flask import Flask, current_app, g, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from survey import jobs
from survey.extensions import db

request_log = logging.getLogger("survey.requests")

# Blueprints whose paths are logged as their route, without the values in it.
ROUTE_ONLY = ("respond.",)
# A path segment that looks like a token (ours are 43 URL-safe characters): masked when the
# path matched no route, e.g. a personal link with a stray character after it.
TOKEN_LIKE = re.compile(r"(?<=/)[A-Za-z0-9_-]{32,}(?=/|$)")


class _CurrentStderr(logging.StreamHandler):
    """A handler that writes to whatever sys.stderr is when the record comes (gunicorn's
    workers and test runners replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_request_log() -> None:
    """Once per process: the request lines go to standard error as they are (no prefix: each
    line is JSON), and not also through Flask's own handler."""
    if request_log.handlers:
        return
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("%(message)s"))
    request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)
    request_log.propagate = False


def logged_path() -> str:
    rule = request.url_rule
    if rule is not None and (request.endpoint or "").startswith(ROUTE_ONLY):
        return rule.rule
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name:
            path = path.replace(str(value), f"<{name}>")
    return TOKEN_LIKE.sub("<token>", path)


def _user_id() -> int | None:
    # Only a user the request has already loaded: logging must not query the database.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id
    return None


def _started() -> None:
    g.request_started = time.perf_counter()


def _log_request(response):
    started = g.get("request_started")
    line = {
        "method": request.method,
        "path": logged_path(),
        "status": response.status_code,
        "duration_ms": None
        if started is None
        else round(1000 * (time.perf_counter() - started), 1),
        "user": _user_id(),
        "incident": g.get("incident"),
    }
    request_log.info(json.dumps(line))
    return response


def healthz():
    parts = {"database": _database_answers(), "queue": _queue_answers()}
    response = jsonify({name: "ok" if up else "unavailable" for name, up in parts.items()})
    response.status_code = 200 if all(parts.values()) else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_answers() -> bool:
    try:
        # A connection of its own: the request's session may already hold one (a logged-in
        # reader's user was loaded), whose options cannot change any more (PostgreSQL).
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.warning("health check: the database does not answer", exc_info=True)
        return False
    return True


def _queue_answers() -> bool:
    try:
        jobs.queue_size()
    except Exception:  # redis, sqlite3 and OS errors alike: the queue is not there
        current_app.logger.warning("health check: the job queue does not answer", exc_info=True)
        return False
    return True


def init_app(app: Flask) -> None:
    configure_request_log()
    app.before_request(_started)
    app.after_request(_log_request)
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
