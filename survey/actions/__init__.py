from flask import Blueprint

bp = Blueprint("actions", __name__, url_prefix="/actions")

from survey.actions import views  # noqa: E402,F401  (registers the routes on bp)
from survey.actions import report_section  # noqa: E402,F401  (adds the register to the PDF)
