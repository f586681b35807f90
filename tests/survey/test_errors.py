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
