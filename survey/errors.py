"""Generic error pages: a clear message and, for server faults, an incident id to quote.
No traceback or SQL ever reaches the browser; the log keeps them under the same id."""

from __future__ import annotations

import secrets

from flask import Flask, g, jsonify, render_template, request, url_for
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from survey.extensions import db


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _api():
            return api_error(error)
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        incident = _log(app, error)
        db.session.rollback()
        if _api():
            return _json(503, "The database is not available; try again shortly.", incident)
        return render_template("errors/unavailable.html", incident=incident), 503

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error  # tests want the traceback, not the generic page
        incident = _log(app, error)
        if _api():
            return _json(500, "A fault of the server; quote the incident id.", incident)
        return render_template("errors/server.html", incident=incident), 500


def api_error(error: HTTPException):
    """An error of the API as JSON of one shape (``survey.api.schemas.Error``): ``error`` (the
    status's name), ``status``, ``message``; 401 adds where a browser logs in, 405 keeps the
    Allow header."""
    code = error.code or 500
    message = error.description if error.description != type(error).description else None
    body = {"error": HTTP_STATUS_CODES.get(code, error.name), "status": code}
    body["message"] = message or _DEFAULT_MESSAGES.get(code) or error.description
    if code == 429:
        body["message"] = f"Too many requests ({error.description}); wait and try again."
    if code == 401:
        body["login"] = url_for("auth.login")
    response = jsonify(body)
    response.status_code = code
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


_DEFAULT_MESSAGES = {
    401: "Log in, or send an API token as 'Authorization: Bearer <token>'.",
    403: "Your account or token may not do this.",
    404: "Nothing here: no such path or object.",
    405: "This path does not take this method (see the Allow header).",
}


def _json(code: int, message: str, incident: str):
    body = {"error": HTTP_STATUS_CODES[code], "status": code, "message": message}
    return jsonify(incident=incident, **body), code


def _api() -> bool:
    """Whether the request is the JSON API's: every answer there is JSON, errors too, also
    for a path that matches no route (which no blueprint's handler would see)."""
    return request.path.startswith("/api/")


def _log(app: Flask, error: Exception) -> str:
    incident = secrets.token_hex(4)
    g.incident = incident  # for the request's log line (survey.operations)
    app.logger.error("incident %s", incident, exc_info=error)
    return incident
