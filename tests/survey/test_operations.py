"""The health check and the JSON line per request (survey/operations.py)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Blueprint

from survey import create_app
from tests.conftest import _config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_lines():
    """The request log's lines of this test, parsed."""
    lines: list[dict] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(record.getMessage()))

    handler = Keep()
    logger = logging.getLogger("survey.requests")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_health_check_answers_without_login_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "queue": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_health_check_answers_a_logged_in_reader_too(client, make_user, login_as):
    # On PostgreSQL the session already held the connection that loaded the user: setting
    # its options then warned, and the check answered 500.
    login_as(make_user(role="admin"))
    assert client.get("/").status_code == 200
    assert client.get("/healthz").get_json() == {"database": "ok", "queue": "ok"}


def test_health_check_answers_503_without_details_when_the_database_is_gone(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    gone = tmp_path / "missing-dir" / "survey.sqlite"
    app = create_app(_config(f"sqlite:///{gone}", PROPAGATE_EXCEPTIONS=False))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "unavailable", "queue": "ok"}


def test_each_request_is_one_json_line(client, request_lines):
    client.get("/login?next=/review/")
    (line,) = request_lines
    assert line["method"] == "GET" and line["path"] == "/login" and line["status"] == 200
    assert line["user"] is None and line["incident"] is None
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_the_line_names_the_logged_in_user(client, make_user, login_as, request_lines):
    user = make_user(role="admin")
    login_as(user)
    client.get("/")
    assert request_lines[-1]["user"] == user.id


def test_personal_links_and_invitations_are_not_logged(client, make_invitation, request_lines):
    invitation = make_invitation()
    page = client.get(f"/r/{invitation.token}?src=mail")
    client.get(page.headers["Location"])
    client.get("/r/not-a-real-token")
    client.get(f"/r/{invitation.token}/")  # matches no route
    logged = json.dumps(request_lines)
    assert invitation.token not in logged and "not-a-real-token" not in logged
    assert "src=mail" not in logged
    assert f"/{invitation.id}" not in logged  # which invitation answered when stays unsaid
    paths = [line["path"] for line in request_lines]
    assert paths == ["/r/<token>", "/r/i/<int:invitation_id>", "/r/<token>", "/r/<token>/"]


@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}])
def test_the_line_of_a_server_error_carries_the_incident_id(app, client, request_lines):
    bp = Blueprint("broken", __name__)

    @bp.get("/broken")
    def broken():
        raise RuntimeError("boom")

    app.register_blueprint(bp)
    page = client.get("/broken", headers={"Accept-Language": "en"})
    line = request_lines[-1]
    assert line["status"] == 500 and line["incident"]
    assert line["incident"] in page.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_output_carries_the_request_lines(database_url, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SURVEY_"))}
    env |= {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "SURVEY_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    command = f"-m gunicorn --workers 1 --bind 127.0.0.1:{port} survey:create_app()"
    server = subprocess.Popen(
        [sys.executable, *command.split()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(300):  # up to 30 s for the worker to load the app
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as answer:
                    assert answer.status == 200
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    lines = [json.loads(x) for x in (out + err).splitlines() if x.startswith("{")]
    assert {"method": "GET", "path": "/healthz", "status": 200} in [
        {k: line[k] for k in ("method", "path", "status")} for line in lines
    ]
