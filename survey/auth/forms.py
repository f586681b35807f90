from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Log in"))


class PasswordSetForm(FlaskForm):
    new = PasswordField(
        _l("New password"),
        description=_l(
            "At least 12 characters; a few unrelated words are easy to remember and hard to guess."
        ),
        validators=[DataRequired(), Length(max=256)],
    )
    again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class PasswordChangeForm(PasswordSetForm):
    """The new password twice, as when setting one, after the current one."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Change password"))


class PasswordForgotForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class TokenForm(FlaskForm):
    """A new API token: a name saying what uses it, and its scopes (those of the account's role
    are offered; ``survey.api_tokens.scopes_for``)."""

    name = StringField(
        _l("Name"),
        description=_l('What will use it, e.g. "monthly report script".'),
        validators=[DataRequired(), Length(max=100)],
    )
    scopes = CheckboxesField(_l("Allowed to"), validators=[DataRequired()])
    submit = SubmitField(_l("Create token"))
