from flask import Blueprint

bp = Blueprint("design", __name__, url_prefix="/design")

from survey.design import (  # noqa: F401  (register the routes)
    questionnaire_views,
    round_views,
    scale_views,
    structure_views,
    template_views,
    unit_views,
)
