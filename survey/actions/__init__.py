from flask import Blueprint

bp = Blueprint("actions", __name__, url_prefix="/actions")

from survey.actions import (
    report_section,  # noqa: F401  (adds the register to the PDF)
    views,  # noqa: F401  (registers the routes on bp)
)
