from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from survey.api import (
    access,  # noqa: F401  (tokens, sessions, scopes and validation, before every view)
    actions,  # noqa: F401  (the corrective-action routes)
    docs,  # noqa: F401  (the OpenAPI document and its readable page)
    rounds,  # noqa: F401  (registers the routes on bp)
)
