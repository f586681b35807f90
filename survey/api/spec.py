"""The API's operations as a registry, and the OpenAPI 3.1 document built from it.

Each view of the API declares itself with ``@operation(...)``: its summary, the token scope
it needs, the pydantic models of its query string, body and answer, and the errors it can
give. The same declaration is used twice, so that the document cannot drift from the code:

- at request time, ``survey.api.access`` checks a token's scope against it and validates the
  query string with its model, and the view its body (400 with the reason when they do not
  fit);
- ``document()`` walks the app's URL map (the routes as Flask serves them, with their
  methods and path parameters), takes each route's declaration and the JSON Schema pydantic
  makes of its models (JSON Schema 2020-12, the dialect of OpenAPI 3.1).

A route under /api/v1 without a declaration makes ``document()`` fail, and a test builds the
document, so an undocumented route fails the suite.

Why a registry of our own rather than apispec or flask-smorest: apispec documents what a
docstring's YAML says (written by hand, free to drift), and flask-smorest would replace the
blueprint, the error handling and the JSON of every view with marshmallow's. Pydantic alone
gives the schemas; the rest is the ~100 lines below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.http import HTTP_STATUS_CODES

from survey.converters import MAX_ID

API_PREFIX = "/api/v1"
TITLE = "Client-satisfaction survey API"
VERSION = "1"
ERROR_DESCRIPTIONS = {
    400: "The query string or body does not fit the schema, or names something unknown.",
    401: "No session and no token, or a token that is unknown, revoked or of a disabled account.",
    403: "The token lacks the operation's scope, or the user's role or permissions do not allow it.",
    404: "No such path, or the object does not exist.",
    405: "The path exists but not with this method.",
    409: "The object's state does not allow it (the message says why).",
    429: "Too many refused tokens from this address: wait and try again.",
    500: "A fault of the server; quote the incident id.",
    503: "The database is not available for a moment; try again.",
}
PATH_DESCRIPTIONS = {
    "round_id": "A round's id (GET /rounds lists them).",
    "action_id": "A corrective action's id (GET /actions lists them).",
}
# Every operation can give these: no route, wrong method, a throttled address, a fault.
COMMON_ERRORS = (404, 405, 429, 500, 503)


@dataclass(frozen=True)
class Operation:
    summary: str
    response: type[BaseModel] | None
    scope: str | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    tag: str = "results"
    # Operations that answer something else than JSON (the readable page).
    media_type: str = "application/json"


def operation(**declared: Any) -> Callable:
    """Declare a view of the API (see the module). Put it directly under the route decorator,
    so that the function Flask registers carries it."""
    op = Operation(**declared)

    def decorator(view: Callable) -> Callable:
        view.api_operation = op  # type: ignore[attr-defined]
        return view

    return decorator


def operation_of(app: Flask, endpoint: str | None) -> Operation | None:
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "api_operation", None)


def parsed(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    """``data`` validated by ``model``; a 400 naming the first problem otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or where
        abort(400, description=f"{where} {place}: {first['msg']}")


def query(model: type[BaseModel]) -> Any:
    return parsed(model, request.args.to_dict(), "query")


# --- the document ---------------------------------------------------------------------------

_PARAMETER = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


def document(app: Flask, error_model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route under ``API_PREFIX``."""
    operations = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        op = operation_of(app, rule.endpoint)
        if op is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no @operation declaration")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((rule, method.lower(), op))
    models = {error_model}
    for _, _, op in operations:
        models |= {m for m in (op.response, op.query, op.body) if m is not None}
    refs, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    ref = {model: refs[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, op in operations:
        path = _PARAMETER.sub(r"{\g<name>}", rule.rule)[len(API_PREFIX) :]
        doc = app.view_functions[rule.endpoint].__doc__ or ""
        operation_ = _operation(rule, op, ref, error_model, doc)
        paths.setdefault(path, {})[method] = operation_
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "The rounds and results of the client-satisfaction surveys, and the corrective"
                " actions. Authenticate with an API token (Authorization: Bearer ..., made on"
                " the account's API tokens page) or a logged-in browser session (whose POSTs"
                " need the X-CSRFToken header). Every error is JSON of the Error schema."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token; its scopes limit what it may do.",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


def _operation(rule, op: Operation, ref: dict, error_model, doc: str) -> dict[str, Any]:
    view = rule.endpoint.split(".")[-1]
    out: dict[str, Any] = {
        "operationId": view,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _path_parameters(rule) + _query_parameters(op),
        "responses": {},
    }
    if doc:
        # The view's docstring, first paragraph: what the operation does, in the code's words.
        out["description"] = " ".join(doc.split("\n\n")[0].split())
    if op.public:
        out["security"] = []
    else:
        out["security"] = [{"token": [op.scope] if op.scope else []}, {"session": []}]
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref[op.body]}},
        }
    if op.media_type == "application/json":
        success = {"schema": ref[op.response] if op.response else {"type": "object"}}
    else:
        success = {"schema": {"type": "string"}}
    out["responses"]["200"] = {"description": "OK", "content": {op.media_type: success}}
    errors = set(op.errors) | set(COMMON_ERRORS)
    if op.query is not None or op.body is not None:
        errors.add(400)
    if not op.public:
        errors |= {401, 403}
    for code in sorted(errors):
        out["responses"][str(code)] = {
            "description": ERROR_DESCRIPTIONS.get(code, HTTP_STATUS_CODES.get(code, "")),
            "content": {"application/json": {"schema": ref[error_model]}},
        }
    return out


def _path_parameters(rule) -> list[dict[str, Any]]:
    parameters = []
    for match in _PARAMETER.finditer(rule.rule):
        integer = match["converter"] == "int"
        schema = (
            {"type": "integer", "minimum": 0, "maximum": MAX_ID} if integer else {"type": "string"}
        )
        name = match["name"]
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema,
                "description": PATH_DESCRIPTIONS.get(name, ""),
            }
        )
    return parameters


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema()
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _not_null(field),
            **({"description": field["description"]} if "description" in field else {}),
        }
        for name, field in schema.get("properties", {}).items()
    ]


def _not_null(field: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's "or null" (an absent parameter is the
    null of a query string), title and description."""
    schema = {k: v for k, v in field.items() if k not in ("title", "description", "default")}
    options = [o for o in schema.pop("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    return schema
