"""Forms of the staff's public-feedback pages: service points, a case's contact and closing,
the office's deadline."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from survey.feedback_cases import CHOSEN_OUTCOMES, DEADLINE_DAYS_RANGE, OUTCOME_LABELS
from survey.service_points import KIND_LABELS

LONG_TEXT = Length(max=4000)


class PointForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Short and stable, e.g. hall-1: small letters, digits, - and _."),
    )
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(code, label) for code, label in KIND_LABELS.items()]
    )
    active = BooleanField(_l("Taking ratings"), default=True)
    submit = SubmitField(_l("Save"))


class ContactForm(FlaskForm):
    note = TextAreaField(
        _l("How was the citizen contacted, and what did they say?"),
        validators=[DataRequired(), LONG_TEXT],
    )
    submit = SubmitField(_l("Record the contact"))


class CloseForm(FlaskForm):
    reply = TextAreaField(
        _l("The reply given to the citizen, or what the review found"),
        validators=[DataRequired(), LONG_TEXT],
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[SelectChoice(code, OUTCOME_LABELS[code]) for code in CHOSEN_OUTCOMES],
    )
    submit = SubmitField(_l("Close the case"))


class DeadlineForm(FlaskForm):
    days = IntegerField(
        _l("Working days to answer a poor rating"),
        validators=[InputRequired(), NumberRange(*DEADLINE_DAYS_RANGE)],
    )
    submit = SubmitField(_l("Save the deadline"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
