"""The OpenAPI document: generated from the routes, valid OpenAPI 3.1, every route in it, a
readable page without outside assets; and schemathesis, run against the app through the
document with a token, finds no server error and no answer off its schema."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import AuditEvent
from tests.survey.api.conftest import bearer


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on an invalid document


def test_every_api_route_and_method_is_in_the_document(app, client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    documented = {(f"/api/v1{path}", method) for path, ops in paths.items() for method in ops}
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served


def test_an_undeclared_route_fails_the_document(app):
    from survey.api import schemas
    from survey.api.spec import document

    app.add_url_rule("/api/v1/undeclared", "api.undeclared", lambda: "")
    with pytest.raises(LookupError, match="undeclared"):
        document(app, schemas.Error)


def test_the_document_names_scopes_errors_and_schemas_from_the_code(client):
    document = client.get("/api/v1/openapi.json").json
    results = document["paths"]["/rounds/{round_id}/results"]["get"]
    assert results["security"][0] == {"token": ["read_results"]}
    assert {"200", "400", "401", "403", "404", "405", "429", "500"} <= set(results["responses"])
    assert results["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    schemas = document["components"]["schemas"]
    assert {"choice_questions", "drivers", "comments_url"} <= set(
        schemas["ResultsOut"]["properties"]
    )
    transitions = document["paths"]["/actions/{action_id}/transitions"]["post"]
    assert transitions["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "TransitionIn"
    )
    lang = next(p for p in results["parameters"] if p["name"] == "lang")
    assert lang["schema"] == {"enum": ["zh", "en"], "type": "string"}


def test_the_docs_page_lists_every_operation_with_nothing_from_elsewhere(client):
    page = client.get("/api/v1/docs?lang=en")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.text
    for path in ("/api/v1/rounds", "/api/v1/rounds/{round_id}/comments", "/api/v1/actions"):
        assert path in text
    assert "Authorization: Bearer" in text and "read_results" in text and "TransitionIn" in text
    # Every script, style and image from this site (the machine may be offline).
    assert not re.search(r"""(src|href)=["'](https?:)?//""", text)


# --- schemathesis ---------------------------------------------------------------------------


@pytest.fixture
def api_world(app, make_user, make_token, known_round, action, choice_round):
    """Data for every operation to find (a round with results, one with choice questions, an
    action) and an admin's token with both scopes."""
    admin = make_user("admin")
    secret = make_token(admin, scopes=("read_results", "manage_actions"))
    return secret, {"round_id": [known_round.id, choice_round.id], "action_id": [action.id]}


# What is checked: no 5xx, every status documented, the content type and body as documented
# for that status. Not the checks that expect a 2xx for any valid input
# (positive_data_acceptance): a valid id of a round that does not exist is a documented 404.
CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
# Fixed examples per operation and a derandomized search: the same cases on every run, fast.
EXAMPLES = 25


def test_the_api_keeps_to_its_document(app, api_world):
    # Loaded from the served document, as a client would; called through the WSGI app. (Not
    # schemathesis's pytest plugin: its lazy fixtures do not run under pytest 9.)
    secret, ids = api_world
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"GET /rounds/{round_id}/results", "POST /actions/{action_id}/transitions"} <= labels
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), pick=st.integers(0, 1))
        def run(case, pick):
            case.call_and_validate(headers=bearer(secret), checks=CHECKS)
            # Generated ids rarely name a stored object: the same case again on one that
            # exists, so that every success answer is checked too.
            if case.path_parameters:
                for name in case.path_parameters:
                    case.path_parameters[name] = ids[name][pick % len(ids[name])]
                case.call_and_validate(headers=bearer(secret), checks=CHECKS)

        run()
    # The cases reached the views with the token (each use is audited).
    used = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "api_token_used")
    )
    assert used > len(operations) * 5
