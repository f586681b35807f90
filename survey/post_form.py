"""The form of a POST-only button (log out, publish, delete): nothing but the CSRF token."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons such as logout."""

    submit = SubmitField()
