"""A form's errors as a sentence a person can read (which field, what is wrong), for flash
messages of forms that are not shown again; never the dict that WTForms keeps them in."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm


def error_text(form: FlaskForm) -> str:
    """ "Number of links: This field is required." for each field with an error, in the form's
    order; the CSRF token's error says what it means for the person instead of its name."""
    parts = []
    for field in form:
        if not field.errors:
            continue
        if field.name == "csrf_token":
            parts.append(_("The page was open too long; please try again."))
            continue
        reasons = " ".join(str(error) for error in field.errors)
        parts.append(_("%(field)s: %(reason)s", field=field.label.text, reason=reasons))
    parts.extend(str(error) for error in getattr(form, "form_errors", []))
    return " ".join(parts)
