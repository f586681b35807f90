from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from survey.feedback import case_views, point_views  # noqa: F401  (register the routes on bp)
