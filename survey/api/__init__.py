from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from survey.api import rounds  # noqa: E402,F401  (registers the routes on bp)
from survey.api import actions  # noqa: E402,F401  (the corrective-action routes)
