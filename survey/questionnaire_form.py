"""The form built at run time from a questionnaire definition: the respondent's survey
(respond) and the designer's preview (design) both use it.

One WTForms field per question, the builder of its type's field kind (FIELD_BUILDERS); whether a posted value is legal is
decided by the question type's own `parse` in questionnaires.types, so a tampered value (a rating
of 9, a choice not offered) is refused by the same rule everywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from questionnaires import QUESTION_TYPES, AnswerError
from questionnaires.model import Question, Questionnaire
from questionnaires.types import max_length

# Fields are named "q_<code>" so that no question code can shadow a Form attribute
# (a question coded "data" or "errors" would otherwise break the form).
FIELD_PREFIX = "q_"
COMMENT_SUFFIX = "__comment"
MAX_COMMENT_LENGTH = 4000
# Fields every respondent form carries besides the questions.
# Beside the questions the respondent's page posts a reference to its invitation (answers
# posted after the session was lost are still saved: survey.responses.draft_ref) and the
# fingerprint of the saved draft the page was built from (a save from a second device is
# merged, not overwritten).
REF_FIELD, BASE_FIELD = "ref", "draft_base"
CONTROL_FIELDS = frozenset({"csrf_token", "submission_key", "action", REF_FIELD, BASE_FIELD})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _points(q: Question, lang: str) -> list[SelectChoice]:
    return (
        [SelectChoice(str(p.value), p.label.get(lang)) for p in q.scale.points] if q.scale else []
    )


def _choices(q: Question, lang: str) -> list[SelectChoice]:
    return [SelectChoice(c.code, c.label.get(lang)) for c in q.choices]


def _rating(q: Question, lang: str, validators: list) -> Field:
    return RadioField(
        q.text.get(lang), choices=_points(q, lang), validators=validators, validate_choice=False
    )


def _choice(q: Question, lang: str, validators: list) -> Field:
    return RadioField(
        q.text.get(lang), choices=_choices(q, lang), validators=validators, validate_choice=False
    )


def _multi(q: Question, lang: str, validators: list) -> Field:
    return MultiCheckboxField(
        q.text.get(lang), choices=_choices(q, lang), validators=validators, validate_choice=False
    )


def _text(q: Question, lang: str, validators: list) -> Field:
    # The browser stops at the limit too; the server's check (the type's parse) is the rule.
    return TextAreaField(
        q.text.get(lang), validators=validators, render_kw={"maxlength": max_length(q)}
    )


def _number(q: Question, lang: str, validators: list) -> Field:
    # A text field shown as a number input: the type's parse says what is wrong, in words,
    # where WTForms' IntegerField would only say "Not a valid integer value".
    return StringField(
        q.text.get(lang),
        validators=validators,
        widget=NumberInput(step=1, min=q.min_value, max=q.max_value),
        render_kw={"inputmode": "numeric"},
    )


#: The WTForms field of each kind of form field a question type names (``QuestionType.field``).
FIELD_BUILDERS: dict[str, Callable[[Question, str, list], Field]] = {
    "scale": _rating,
    "radio": _choice,
    "checkboxes": _multi,
    "textarea": _text,
    "number": _number,
}


@cache
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WTFormsMessages:
    """WTForms' own messages in the request's language. Flask-WTF reads the catalogue from
    disk once per request; the respondent's page and submit are hot enough for that to show
    in the profile, so each language's catalogue is read once per process."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


WTFORMS_MESSAGES = _WTFormsMessages()


class SurveyForm(FlaskForm):
    """Base of every generated form; `questions` is set on each generated subclass. The base
    itself carries only the control fields (CSRF token, submission key): enough for the page of
    an unanswered survey, whose questions are rendered once (survey.respond.built)."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None  # WTForms' own English messages, as Flask-WTF does
            return WTFORMS_MESSAGES

    questions: tuple[Question, ...] = ()
    submission_key = HiddenField(validators=[Optional(), Regexp(r"^[A-Za-z0-9_-]{1,64}$")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._parsed: dict[str, Any] | None = None  # the answers validate() parsed
        if not self.submission_key.data:
            # Rendered into the form once; a double click posts the same key twice and the
            # database's unique constraint on it keeps only the first.
            self.submission_key.data = secrets.token_urlsafe(24)

    def field(self, q: Question) -> Field:
        return self[field_name(q.code)]

    def comment_field(self, q: Question) -> Field | None:
        return self._fields.get(field_name(q.code) + COMMENT_SUFFIX)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.submission_key.errors:
            # A damaged key: the page is shown again with a fresh one, so the next try works.
            self.submission_key.data = secrets.token_urlsafe(24)
        self._parsed = {}
        for q in self.questions:
            field = self.field(q)
            if field.errors:
                continue
            try:
                self._parsed[q.code] = QUESTION_TYPES[q.type].parse(q, _raw(field))
            except AnswerError as error:
                field.errors.append(str(error))
                valid = False
        return valid

    def answers(self) -> dict[str, Any]:
        """Parsed answers by question code (None where unanswered); call after validate(),
        which has parsed them already."""
        if self._parsed is not None and len(self._parsed) == len(self.questions):
            return dict(self._parsed)
        return {
            q.code: QUESTION_TYPES[q.type].parse(q, _raw(self.field(q))) for q in self.questions
        }

    def comments(self) -> dict[str, str]:
        """The non-empty follow-up comments by question code."""
        found = {}
        for q in self.questions:
            field = self.comment_field(q)
            # NUL cannot be stored in a PostgreSQL text column; it is never meaningful here.
            text = (field.data or "").replace("\x00", "").strip() if field is not None else ""
            if text:
                found[q.code] = text
        return found

    def draft(self) -> dict[str, Any]:
        """What was typed, as plain JSON, to be saved and later passed back as `data=`."""
        return {
            name: field.data
            for name, field in self._fields.items()
            if name not in CONTROL_FIELDS and field.data not in (None, "", [])
        }

    def answered(self) -> int:
        return sum(1 for q in self.questions if self.field(q).data not in (None, "", []))

    def foreign_fields(self, posted: Iterable[str]) -> list[str]:
        """Posted names that are no field of this form (a question not in this questionnaire)."""
        return sorted(set(posted) - set(self._fields) - CONTROL_FIELDS)


def field_name(code: str) -> str:
    return FIELD_PREFIX + code


def _raw(field: Field) -> Any:
    # What was posted, every value of it: a tampered form that sends one rating twice must
    # reach the type's parse as two values, not as WTForms' first one.
    if field.raw_data is not None:
        return field.raw_data
    return field.data if field.data is not None else ""


def form_for(
    questionnaire: Questionnaire, lang: str, enforce_required: bool = True
) -> type[SurveyForm]:
    """A SurveyForm subclass with one field per question of `questionnaire`.

    Pass a questionnaire already filtered to the respondent's group. With
    enforce_required=False (saving a draft) unanswered required questions pass, but every
    given answer is still checked.
    """
    # A note is shown, never answered: it has no field, and counts for no progress.
    answered = tuple(q for q in questionnaire.questions() if QUESTION_TYPES[q.type].answered)
    attrs: dict[str, Any] = {"questions": answered}
    for q in answered:
        required = q.required and enforce_required
        validators = (
            [InputRequired(message=_l("Please answer this question."))]
            if required
            else [Optional()]
        )
        attrs[field_name(q.code)] = FIELD_BUILDERS[QUESTION_TYPES[q.type].field](
            q, lang, validators
        )
        if q.follow_up is not None:
            attrs[field_name(q.code) + COMMENT_SUFFIX] = TextAreaField(
                q.follow_up.get(lang), validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)]
            )
    return type("GeneratedSurveyForm", (SurveyForm,), attrs)


def restore(form_class: type[SurveyForm], draft: Mapping[str, Any] | None) -> SurveyForm:
    """A form filled with a saved draft (GET), ignoring entries for questions no longer shown."""
    return form_class(formdata=None, data=dict(draft or {}))
