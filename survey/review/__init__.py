from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from survey.review import views  # noqa: F401  (registers the routes on bp)
