"""Every error under /api/ is JSON of one shape (the document's Error schema)."""

from __future__ import annotations

import jsonschema
import pytest

from tests.survey.api.conftest import bearer


@pytest.fixture
def error_schema(client):
    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["Error"]
    return {**schema, "$defs": document["components"]["schemas"]}


def _is_error(response, status: int, schema) -> dict:
    assert response.status_code == status and response.mimetype == "application/json"
    body = response.json
    jsonschema.validate(body, schema)
    assert body["status"] == status and body["message"]
    return body


def test_404_for_a_path_that_matches_no_route(client, error_schema):
    body = _is_error(client.get("/api/v1/no/such/thing"), 404, error_schema)
    assert body["error"] == "Not Found"


def test_405_keeps_the_allow_header(client, error_schema):
    response = client.delete("/api/v1/rounds")
    _is_error(response, 405, error_schema)
    assert "GET" in response.headers["Allow"]


def test_401_without_session_or_token(client, error_schema):
    body = _is_error(client.get("/api/v1/rounds"), 401, error_schema)
    assert body["login"] == "/login"


def test_403_for_a_role_that_may_not(client, auth, error_schema):
    auth.login(role="designer")
    _is_error(client.get("/api/v1/rounds"), 403, error_schema)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/rounds?archived=yes", "/api/v1/rounds/{r}/results?lang=fr",
     "/api/v1/rounds/{r}/comments?page=0", "/api/v1/rounds/{r}/comments?rating=x"],
)  # fmt: skip
def test_400_names_what_does_not_fit(client, auth, known_round, error_schema, path):
    auth.login(role="quality_lead")
    body = _is_error(client.get(path.format(r=known_round.id)), 400, error_schema)
    assert body["message"].startswith("query ")


@pytest.mark.parametrize("body", [[1, 2], {"transition": 5}, {"transition": "close", "x": 1}])
def test_400_for_a_body_off_its_schema(client, lead, action, login_as, error_schema, body):
    login_as(lead)
    _is_error(client.post(f"/api/v1/actions/{action.id}/transitions", json=body), 400, error_schema)


def test_429_when_throttled(app, client, error_schema):
    app.config["API_TOKEN_RATE_LIMIT"] = "1 per minute"
    client.get("/api/v1/rounds", headers=bearer("sxs_wrong"))
    _is_error(client.get("/api/v1/rounds", headers=bearer("sxs_wrong")), 429, error_schema)


def test_500_has_an_incident_and_no_traceback(app, client, auth, monkeypatch, error_schema):
    from survey.api import rounds

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(rounds.db.session, "scalars", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login(role="quality_lead")
    response = client.get("/api/v1/rounds")
    body = _is_error(response, 500, error_schema)
    assert body["incident"] and "secret internals" not in response.text


@pytest.mark.parametrize(
    "path", ["/api/v1/rounds/3000000000/results", "/api/v1/actions/2147483648"]
)
def test_an_id_beyond_the_databases_integers_is_a_404(client, auth, error_schema, path):
    # PostgreSQL's INTEGER ids end at 2**31 - 1; a larger one failed the query (500) there.
    auth.login(role="admin")
    _is_error(client.get(path), 404, error_schema)


def test_a_filter_id_beyond_the_databases_integers_is_refused_or_ignored(
    client, auth, action, error_schema
):
    auth.login(role="admin")
    # The API: off its schema (a 400 that says so); the queue page: ignored.
    api = client.get("/api/v1/actions?status=all&round=33692342414983616")
    assert "round" in _is_error(api, 400, error_schema)["message"]
    assert client.get("/actions/?status=all&round=33692342414983616").status_code == 200
