from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from survey.api import (
    actions,  # noqa: F401  (the corrective-action routes)
    rounds,  # noqa: F401  (registers the routes on bp)
)
