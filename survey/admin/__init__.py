from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import account_views, views, webhook_views  # noqa: F401  (registers the routes on bp)
