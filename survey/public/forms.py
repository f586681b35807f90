"""The short rating form a citizen fills in at a service point."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey.public_ratings import COMMENT_MAX, REASON_LABELS, SCORE_LABELS

PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _phone_or_email(_form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    if "@" in value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            raise ValidationError(_l("This e-mail address looks wrong.")) from None
    elif not PHONE.match(value):
        raise ValidationError(_l("Give a phone number (digits) or an e-mail address."))


class RatingForm(FlaskForm):
    """No CSRF token of the session: the page carries a nonce the server signed for this
    service point (survey.public_ratings), which also makes a double submit store one
    rating; a stale one shows the form again with what was chosen kept."""

    class Meta:
        csrf = False

    score = RadioField(
        _l("How satisfied are you with the service you received?"),
        choices=[SelectChoice(value, label) for value, label in SCORE_LABELS.items()],
        coerce=int,
        validators=[InputRequired(_l("Choose how satisfied you are."))],
    )
    reasons = CheckboxesField(
        _l("What went wrong?"),
        choices=[SelectChoice(code, label) for code, label in REASON_LABELS.items()],
    )
    comment = TextAreaField(
        _l("Anything you would like to tell us?"),
        validators=[Optional(), Length(max=COMMENT_MAX)],
    )
    contact_name = StringField(_l("Your name"), validators=[Optional(), Length(max=100)])
    contact = StringField(
        _l("Phone or e-mail"),
        validators=[Optional(), Length(max=200), _phone_or_email],
    )
