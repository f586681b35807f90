from flask import Blueprint

bp = Blueprint("auth", __name__)

from survey.auth import views  # noqa: F401  (registers the routes on bp)
