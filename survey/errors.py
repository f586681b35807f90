"""Generic error pages: a clear message and, for server faults, an incident id to quote.
No traceback or SQL ever reaches the browser; the log keeps them under the same id."""

from __future__ import annotations

import secrets

from flask import Flask, g, jsonify, render_template, request, url_for
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from survey.extensions import db


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _api():
            body = {"error": error.name, "status": error.code}
            if error.code == 401:
                body["login"] = url_for("auth.login")
            return jsonify(body), error.code
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        incident = _log(app, error)
        db.session.rollback()
        if _api():
            return jsonify(error="Service Unavailable", status=503, incident=incident), 503
        return render_template("errors/unavailable.html", incident=incident), 503

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error  # tests want the traceback, not the generic page
        incident = _log(app, error)
        if _api():
            return jsonify(error="Internal Server Error", status=500, incident=incident), 500
        return render_template("errors/server.html", incident=incident), 500


def _api() -> bool:
    """Whether the request is the JSON API's: every answer there is JSON, errors too, also
    for a path that matches no route (which no blueprint's handler would see)."""
    return request.path.startswith("/api/")


def _log(app: Flask, error: Exception) -> str:
    incident = secrets.token_hex(4)
    g.incident = incident  # for the request's log line (survey.operations)
    app.logger.error("incident %s", incident, exc_info=error)
    return incident
