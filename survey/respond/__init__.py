from flask import Blueprint

bp = Blueprint("respond", __name__, url_prefix="/r")

from survey.respond import views  # noqa: E402,F401  (registers the routes on bp)
