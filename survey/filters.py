"""Template filters and globals every page may use, registered on the app rather than on one
blueprint."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

import analysis
from questionnaires import QUESTION_TYPES
from survey import invitations, rounds
from survey.formatting import percent, percent_as_set, point_list
from survey.office_time import last_day
from survey.questionnaire_form import condition_json, condition_note
from survey.questionnaire_store import scale_name
from survey.responses import SOURCE_NAMES


def init_app(app: Flask) -> None:
    app.add_template_filter(percent, "pct1")
    app.add_template_filter(percent_as_set, "pct")
    # Scale points as a phrase: (4, 5) -> "4 or 5".
    app.add_template_filter(point_list, "points")
    # A round's last day to answer, from the moment its answers stop (24:00 of that day).
    app.add_template_filter(last_day, "last_day")
    # A moment kept as ISO text in an event's JSON data, back to the datetime that
    # ``datetimeformat`` shows at the office like every other time on the page.
    app.add_template_filter(datetime.fromisoformat, "from_iso")
    # The question-type registry, so that a template asks a type what it is (its field kind)
    # instead of listing type names.
    app.jinja_env.globals["question_types"] = QUESTION_TYPES
    # What a low-score rule measures (rate or mean), so pages format its figures accordingly.
    app.jinja_env.globals["rule_measures"] = analysis.measures
    app.jinja_env.globals["source_names"] = SOURCE_NAMES
    app.jinja_env.globals["invitation_statuses"] = invitations.STATUS_LABELS
    app.jinja_env.globals["round_statuses"] = rounds.STATUS_LABELS
    app.jinja_env.globals["scale_name"] = scale_name
    # Conditions (skip logic): the JSON the survey's script evaluates, and the note in words
    # that a page without JavaScript shows beside a conditional question or section.
    app.add_template_filter(condition_json, "condition_json")
    app.jinja_env.globals["condition_note"] = condition_note
