from flask import Blueprint

bp = Blueprint("home", __name__)

from survey.home import views  # noqa: F401  (registers the routes on bp)
