from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/s")

from survey.public import views  # noqa: F401  (registers the routes on bp)
