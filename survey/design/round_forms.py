from __future__ import annotations

import math

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoundForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l('For example "2004 autumn".'),
    )
    version_id = SelectField(_l("Questionnaire version"), coerce=int, validators=[InputRequired()])
    opens_at = DateField(_l("Opens on"), validators=[Optional()])
    closes_at = DateField(_l("Last day to answer"), validators=[Optional()])
    audience_groups = CheckboxesField(_l("Respondent groups"), validate_choice=True)
    audience_units = SelectMultipleField(
        _l("Only these units (optional)"),
        validate_choice=True,
        description=_l("Leave empty to invite every unit of the chosen groups."),
    )
    anonymous = BooleanField(_l("Anonymous: keep no link from a response to its unit"))
    anonymity_threshold = IntegerField(
        _l("Smallest group reported on its own"),
        default=5,
        validators=[InputRequired(), NumberRange(min=2, max=100)],
    )
    rate_threshold = DecimalField(
        _l("Low-score threshold: satisfied (%)"),
        default=80,
        # Shown as set (see round_views): a fixed number of places would round it.
        places=None,
        validators=[InputRequired(), NumberRange(0, 100)],
    )
    mean_threshold = DecimalField(
        _l("Low-score threshold: mean"),
        default=3.5,
        places=2,
        validators=[InputRequired(), NumberRange(1, 10)],
    )
    weights = StringField(
        _l("Weights per group (optional)"),
        validators=[Optional(), Length(max=400)],
        description=_l('For example "mayors=40, departments=40, cppcc=10, congress=10".'),
    )
    submit = SubmitField(_l("Create round"))

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data < self.opens_at.data:
            raise ValidationError(_("The last day cannot be before the first day."))

    def validate_weights(self, field) -> None:
        groups = self.audience_groups.data or [c.value for c in self.audience_groups.choices]
        try:
            parse_weights(field.data, groups)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def parse_weights(text: str | None, groups: list[str]) -> dict[str, float] | None:
    """`mayors=40, departments=60` -> {"mayors": 0.4, "departments": 0.6}; refuses unknown
    groups, NaN and infinity, negative numbers and an all-zero total."""
    if not text or not text.strip():
        return None
    weights = {}
    for part in text.replace("，", ",").split(","):
        code, sep, number = part.partition("=")
        code = code.strip()
        if not sep or code not in groups:
            raise ValueError(_("Write group=number pairs for the chosen groups."))
        try:
            weights[code] = float(number)
        except ValueError:
            raise ValueError(_("Write group=number pairs for the chosen groups.")) from None
        # float() reads "nan" and "inf" too; neither is a weight, and both broke every result.
        if not math.isfinite(weights[code]):
            raise ValueError(_("A weight is an ordinary number, such as 40 or 0.4."))
        if weights[code] < 0:
            raise ValueError(_("Weights cannot be negative."))
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(_("The weights must add up to more than zero."))
    return {code: value / total for code, value in weights.items()}


def weights_text(weights: dict[str, float] | None) -> str:
    """{"mayors": 0.4, "departments": 0.6} -> `mayors=40, departments=60`, as the form takes it."""
    return ", ".join(f"{code}={weight * 100:.4g}" for code, weight in (weights or {}).items())


class IssueForm(FlaskForm):
    group = SelectField(_l("Group"), validators=[Optional()])
    count = IntegerField(
        _l("Invitations per unit"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=50)],
    )
    named = TextAreaField(
        _l("Named people (optional)"),
        validators=[Optional(), Length(max=20000)],
        description=_l("One per line: unit code, name, e-mail. Each gets a personal link."),
    )
    submit = SubmitField(_l("Issue invitations"))
