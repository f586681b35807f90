"""The administrator's forms: staff accounts and webhooks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    URLField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from survey.models import ROLE_LABELS


class AccountForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        _l("Role"), choices=[SelectChoice(code, label) for code, label in ROLE_LABELS.items()]
    )
    unit_id = SelectField(
        _l("Unit"),
        coerce=int,
        description=_l(
            "Required for a respondent account; for office staff, the served unit whose "
            "corrective actions they own (optional)."
        ),
    )
    submit = SubmitField(_l("Save"))


class NewAccountForm(AccountForm):
    submit = SubmitField(_l("Create the account and e-mail a password link"))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WebhookForm(FlaskForm):
    url = URLField(
        _l("Address (URL)"),
        validators=[DataRequired(), Length(max=500)],
        description=_l(
            "Where the events are posted, starting with https:// (or http:// on an internal "
            "network)."
        ),
    )
    description = StringField(
        _l("Description"),
        validators=[Length(max=200)],
        description=_l("Which system receives them, for the people who read this list."),
    )
    events = CheckboxesField(_l("Events"))
    submit = SubmitField(_l("Save"))
