"""The API's OpenAPI 3.1 document, generated from the routes and their declarations
(``survey.api.spec``), and a readable page of it rendered here: no script, nothing from
another site (the office's machines may be offline)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import current_app, jsonify, render_template

from survey.api import bp, schemas
from survey.api.spec import API_PREFIX, document, operation


@cache
def _document_of(app_id: int) -> str:
    # Built once per app: the routes do not change while it runs.
    return json.dumps(document(current_app, schemas.Error), ensure_ascii=False)


def openapi_document() -> dict[str, Any]:
    return json.loads(_document_of(id(current_app._get_current_object())))


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
    return render_template("api/docs.html", spec=spec, prefix=API_PREFIX, pretty=_pretty)


def _pretty(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2)
