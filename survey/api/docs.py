"""The API's OpenAPI 3.1 document, generated from the routes and their declarations
(``survey.api.spec``), and a readable page of it rendered here: no script, nothing from
another site (the office's machines may be offline)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify, render_template

from survey.api import bp, schemas
from survey.api.spec import API_PREFIX, document, operation


def openapi_document() -> dict[str, Any]:
    """The document, built once per app (its routes do not change while it runs); a copy."""
    kept = current_app.extensions.get("openapi_document")
    if kept is None:
        kept = json.dumps(document(current_app, schemas.Error), ensure_ascii=False)
        current_app.extensions["openapi_document"] = kept
    return json.loads(kept)


@bp.get("/openapi.json")
@operation(summary="This API's OpenAPI 3.1 document", response=None, public=True, tag="about")
def openapi_json():
    """The OpenAPI 3.1 document of this API, generated from its routes and schemas."""
    return jsonify(openapi_document())


@bp.get("/docs")
@operation(
    summary="This API's documentation, as a page",
    response=None,
    public=True,
    tag="about",
    media_type="text/html",
)
def docs_page():
    """The OpenAPI document as a readable page: operations, parameters, answers, errors,
    authentication and the schemas."""
    spec = openapi_document()
    return render_template("api/docs.html", spec=spec, prefix=API_PREFIX, type_of=type_of)


def type_of(schema: dict[str, Any]) -> str:
    """A schema in a few words for the page: ``integer | null``, ``array of ChoiceCount``,
    ``"zh" | "en"``, ``integer 1..1000000``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return "object"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        return f"{kind} {'' if low is None else low}..{'' if high is None else high}"
    if "maxLength" in schema:
        return f"{kind} (at most {schema['maxLength']} characters)"
    return kind
