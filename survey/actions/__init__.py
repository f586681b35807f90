from flask import Blueprint

bp = Blueprint("actions", __name__, url_prefix="/actions")

from survey.actions import (  # noqa: F401  (register the routes on bp)
    action_views,
    summary_views,
    views,
)
