"""Error pages are generic: a clear message and an incident id, never a traceback or SQL."""

from __future__ import annotations

import pytest
from flask import Blueprint

from survey import create_app
from tests.conftest import _config


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


def test_unexpected_error_shows_a_generic_page_with_an_incident_id(app, client):
    bp = Blueprint("broken", __name__)

    @bp.get("/broken")
    def broken():
        raise RuntimeError("secret detail SELECT * FROM user_account")

    app.register_blueprint(bp)
    response = client.get("/broken", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "incident number" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_database_gone_answers_503_without_sql(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    gone = tmp_path / "missing-dir" / "survey.sqlite"
    app = create_app(_config(f"sqlite:///{gone}", PROPAGATE_EXCEPTIONS=False))
    response = app.test_client().get("/r/some-token", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert "temporarily unavailable" in response.text
    assert "sqlite" not in response.text.lower() and "SELECT" not in response.text


HUGE = "99999999999999999999"  # more than 64 bits


@pytest.mark.parametrize(
    "path",
    [
        f"/review/rounds/{HUGE}",
        f"/review/rounds/{HUGE}/report.pdf",
        f"/actions/{HUGE}",
        f"/design/versions/{HUGE}",
        f"/design/rounds/{HUGE}",
        f"/api/v1/rounds/{HUGE}/results",
        f"/api/v1/actions/{HUGE}",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(client, auth, path):
    auth.login(role="admin")
    assert client.get(path).status_code == 404


def test_a_filter_id_too_large_for_the_database_is_ignored(client, auth, known_round):
    auth.login(role="quality_lead")
    assert client.get(f"/actions/?round={HUGE}&owner={HUGE}").status_code == 200
    # The API refuses it instead: off the query's schema (its OpenAPI document), a JSON 400.
    assert client.get(f"/api/v1/actions?round={HUGE}").status_code == 400
    comments = client.get(f"/review/rounds/{known_round.id}/comments?page={HUGE}")
    assert comments.status_code in (200, 404)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/no-such-thing", 404),
        ("/api/v1/rounds", 401),
        (f"/api/v1/rounds/{HUGE}/results", 404),
    ],
)
def test_the_api_answers_every_error_in_json(client, path, status):
    response = client.get(path)
    assert response.status_code == status and response.is_json
    assert response.get_json()["status"] == status


def test_the_api_answers_a_server_fault_in_json(app, client):
    bp = Blueprint("broken_api", __name__, url_prefix="/api/v1/broken")

    @bp.get("/")
    def broken():
        raise RuntimeError("secret detail")

    app.register_blueprint(bp)
    response = client.get("/api/v1/broken/")
    assert response.status_code == 500 and response.is_json
    assert "incident" in response.get_json() and "secret" not in response.text
