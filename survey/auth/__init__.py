from flask import Blueprint

bp = Blueprint("auth", __name__)

from survey.auth import (
    token_views,  # noqa: F401  (the account's API tokens)
    views,  # noqa: F401  (registers the routes on bp)
)
