"""The administrator's forms for staff accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

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
