"""The form built at run time from a questionnaire definition: the respondent's survey
(respond) and the designer's preview (design) both use it.

One WTForms field per question, the builder of its type's field kind (FIELD_BUILDERS); whether a posted value is legal is
decided by the question type's own `parse` in questionnaires.types, so a tampered value (a rating
of 9, a choice not offered) is refused by the same rule everywhere.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf
from markupsafe import Markup
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.csrf.core import CSRFTokenField
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Length, Optional, Regexp, StopValidation
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget, NumberInput

from questionnaires import QUESTION_TYPES, AnswerError, conditions
from questionnaires.model import COMMENT_SUFFIX, Question, Questionnaire
from questionnaires.types import max_length
from survey.i18n import translated

# Fields are named "q_<code>" so that no question code can shadow a Form attribute
# (a question coded "data" or "errors" would otherwise break the form).
FIELD_PREFIX = "q_"
MAX_COMMENT_LENGTH = 4000
# Fields every respondent form carries besides the questions.
# Beside the questions the respondent's page posts a reference to its invitation (answers
# posted after the session was lost are still saved: survey.responses.draft_ref) and the
# fingerprint of the saved draft the page was built from (a save from a second device is
# merged, not overwritten).
REF_FIELD, BASE_FIELD = "ref", "draft_base"
CONTROL_FIELDS = frozenset({"csrf_token", "submission_key", "action", REF_FIELD, BASE_FIELD})
# What a double click posts twice (survey.responses stores one response per key).
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RequiredWhenShown(InputRequired):
    """InputRequired, except for a question its condition hides (questionnaires.conditions):
    the server decides from the posted answers, whatever the browser showed."""

    def __call__(self, form, field):
        if field.short_name.removeprefix(FIELD_PREFIX) in form.hidden_codes():
            raise StopValidation()  # no message: a hidden question is never in error
        super().__call__(form, field)


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


class _TokenWhenShown(CSRFTokenField):
    """The CSRF token field, its token made when the form is rendered, not when the form is
    built: a submit that is stored answers with a redirect and never showed the one it made
    (signing it was a fiftieth of the POST's CPU). What is posted is checked as before."""

    def process(self, *args, **kwargs):
        HiddenField.process(self, *args, **kwargs)  # CSRFTokenField's, less the token

    @property
    def current_token(self) -> str:
        token = self.__dict__.get("_token")
        if token is None:
            token = self.__dict__["_token"] = self.csrf_impl.generate_csrf_token(self)
        return token

    @current_token.setter
    def current_token(self, value: str) -> None:
        self.__dict__["_token"] = value


class _CSRF(_FlaskFormCSRF):
    field_class = _TokenWhenShown


class SurveyForm(FlaskForm):
    """Base of every generated form; `questions` is set on each generated subclass. The base
    itself carries only the control fields (CSRF token, submission key): enough for the page of
    an unanswered survey, whose questions are rendered once (survey.respond.built)."""

    class Meta:
        csrf_class = _CSRF

        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return None  # WTForms' own English messages, as Flask-WTF does
            return WTFORMS_MESSAGES

        def bind_field(self, form, unbound_field, options):
            """A question's field as a copy of one bound once per generated form class: binding
            forty fields anew (labels, choices, validator flags) was a fifth of a submit's CPU
            (bench/profile_submission.py), and none of it differs between two requests. What
            a request changes (data, raw_data, errors) is set on the copy by process() and
            validate(); the rest (label, choices, validators, flags, render_kw) is only read."""
            if not options["name"].startswith(FIELD_PREFIX):
                return super().bind_field(form, unbound_field, options)
            translations = options.get("translations")
            key = (options["name"], options.get("prefix", ""), id(translations))
            prototypes = unbound_field.__dict__.setdefault("bound_prototypes", {})
            seen, prototype = prototypes.get(key, (None, None))
            if prototype is None or seen is not translations:
                prototype = super().bind_field(form, unbound_field, options)
                prototype._form = None  # keeps no request's form alive
                prototypes[key] = (translations, prototype)
            # Not copy.copy(): a Field's __new__ without _form returns an UnboundField.
            field = object.__new__(type(prototype))
            field.__dict__.update(prototype.__dict__)
            field._form, field.meta = form, self
            return field

    questions: tuple[Question, ...] = ()
    # The questionnaire the form was built from, whose conditions decide what is shown.
    questionnaire: Questionnaire | None = None
    # Whether unanswered required questions are refused (a submit) or pass (a draft's save).
    enforce_required: bool = True
    submission_key = HiddenField(validators=[Optional(), Regexp(SUBMISSION_KEY)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._parsed: dict[str, Any] | None = None  # the answers validate() parsed
        self._hidden: frozenset[str] | None = None
        # The answers hidden_codes() parsed to evaluate the conditions: validate() takes them
        # instead of parsing each answer a second time.
        self._parsed_early: dict[str, Any] = {}
        if not self.submission_key.data:
            # Rendered into the form once; a double click posts the same key twice and the
            # database's unique constraint on it keeps only the first.
            self.submission_key.data = secrets.token_urlsafe(24)

    def hidden_tag(self, *fields) -> Markup:
        """Flask-WTF's hidden_tag(), the same HTML: its widget listed every attribute of each
        field's flags (dir()) to find HTML validation attributes a hidden input never has,
        a tenth of the survey page's Python calls for its two hidden inputs
        (bench/profile_submission.py). A field that has such a flag, render_kw or a datalist
        is rendered by WTForms as before."""
        if fields:
            return super().hidden_tag(*fields)
        return Markup("\n").join(
            _hidden_input(f) for f in self if isinstance(f.widget, HiddenInput)
        )

    def field(self, q: Question) -> Field:
        return self[field_name(q.code)]

    def comment_field(self, q: Question) -> Field | None:
        return self._fields.get(field_name(q.code) + COMMENT_SUFFIX)

    def hidden_codes(self) -> frozenset[str]:
        """The questions the answers in the form hide by their conditions (see
        ``hidden_by_answers``). Their answers are neither required nor kept."""
        if self._hidden is None:
            self._hidden, self._parsed_early = hidden_by_answers(
                self.questionnaire, self.questions, lambda q: _raw(self.field(q))
            )
        return self._hidden

    def validate(self, extra_validators=None) -> bool:
        self._hidden = None  # decided on the data being validated
        self._parsed_early = {}
        hidden = self.hidden_codes()
        valid = super().validate(extra_validators)
        if self.submission_key.errors:
            # A damaged key: the page is shown again with a fresh one, so the next try works.
            self.submission_key.data = secrets.token_urlsafe(24)
        self._parsed = {}
        for q in self.questions:
            field = self.field(q)
            if q.code in hidden:
                # Not asked: whatever was posted for it (a script, JavaScript off) is dropped.
                field.errors = []
                comment = self.comment_field(q)
                if comment is not None:
                    comment.errors = []
                self._parsed[q.code] = None
                continue
            if field.errors:
                continue
            if q.code in self._parsed_early:
                self._parsed[q.code] = self._parsed_early[q.code]
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
        hidden = self.hidden_codes()
        return {
            q.code: None
            if q.code in hidden
            else QUESTION_TYPES[q.type].parse(q, _raw(self.field(q)))
            for q in self.questions
        }

    def comments(self) -> dict[str, str]:
        """The non-empty follow-up comments by question code."""
        found = {}
        hidden = self.hidden_codes()
        for q in self.questions:
            field = self.comment_field(q)
            if q.code in hidden:
                continue
            # NUL cannot be stored in a PostgreSQL text column; it is never meaningful here.
            text = (field.data or "").replace("\x00", "").strip() if field is not None else ""
            if text:
                found[q.code] = text
        return found

    def draft(self) -> dict[str, Any]:
        """What was typed, as plain JSON, to be saved and later passed back as `data=`; the
        answers to questions the other answers hide are left out, as on submit."""
        hidden = {field_name(code) for code in self.hidden_codes()}
        return {
            name: field.data
            for name, field in self._fields.items()
            if name not in CONTROL_FIELDS
            and field.data not in (None, "", [])
            and name.removesuffix(COMMENT_SUFFIX) not in hidden
        }

    def answered(self) -> int:
        hidden = self.hidden_codes()
        return sum(
            1
            for q in self.questions
            if q.code not in hidden and self.field(q).data not in (None, "", [])
        )

    def foreign_fields(self, posted: Iterable[str]) -> list[str]:
        """Posted names that are no field of this form (a question not in this questionnaire)."""
        return sorted(set(posted) - set(self._fields) - CONTROL_FIELDS)


def hidden_by_answers(
    questionnaire: Questionnaire | None,
    questions: tuple[Question, ...],
    raw_of: Callable[[Question], Any],
) -> tuple[frozenset[str], dict[str, Any]]:
    """The codes of the questions that the answers hide by their conditions, computed in the
    questionnaire's order from the answers of the questions shown before (an answer that cannot
    be parsed counts as none); and the answers parsed on the way, by code, so that they are not
    parsed twice. ``raw_of``: what was posted for a question, every value of it."""
    if questionnaire is None or not conditions.has_conditions(questionnaire):
        return frozenset(), {}
    answers: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    for question in questions:
        try:
            answers[question.code] = parsed[question.code] = QUESTION_TYPES[question.type].parse(
                question, raw_of(question)
            )
        except AnswerError:
            answers[question.code] = None
    shown = conditions.shown(questionnaire, answers)
    return frozenset(x.code for x in questions if x.code not in shown), parsed


@dataclass(frozen=True)
class Complete:
    """A submit the form accepts: what SurveyForm's answers(), comments(), draft() and
    submission key would give after its validate()."""

    answers: dict[str, Any]
    comments: dict[str, str]
    draft: dict[str, Any]
    submission_key: str


def complete_submit(form_class: type[SurveyForm], formdata: Mapping) -> Complete | None:
    """What ``form_class`` would accept and keep of ``formdata`` (a MultiDict: request.form),
    read without building the form; None whenever the form would refuse it, which the form
    then does in words. Its CSRF token is not read here: the caller checks it.

    A submit is the respondent's most frequent request, and building its forty WTForms fields
    and running their validators were a seventh of the server's CPU per response under load
    (py-spy on the submission benchmark's workers); what they decide is decided here by the
    same rules (InputRequired on the questions shown, Optional and Length on the comments, the
    key's pattern, and each answer through its type's ``parse``). A test holds the two equal
    on generated posts (tests/survey/test_questionnaire_form.py)."""
    questions = form_class.questions
    names = {field_name(q.code) for q in questions}
    names |= {field_name(q.code) + COMMENT_SUFFIX for q in questions if q.follow_up is not None}
    if not set(formdata) <= names | CONTROL_FIELDS:
        return None  # a question not in this questionnaire: the form says so
    raw = {q.code: formdata.getlist(field_name(q.code)) for q in questions}
    hidden, parsed = hidden_by_answers(form_class.questionnaire, questions, lambda q: raw[q.code])
    answers: dict[str, Any] = {}
    comments: dict[str, str] = {}
    draft: dict[str, Any] = {}
    for q in questions:
        name, values = field_name(q.code), raw[q.code]
        comment = None
        if q.follow_up is not None:
            posted = formdata.getlist(name + COMMENT_SUFFIX)
            # Optional() then Length(): checked on the comment of a hidden question too.
            if posted and posted[0].strip() and len(posted[0]) > MAX_COMMENT_LENGTH:
                return None
            comment = posted[0] if posted else None
        if q.code in hidden:
            answers[q.code] = None
            continue
        if form_class.enforce_required and q.required and not (values and values[0]):
            return None  # InputRequired
        if q.code in parsed:
            answers[q.code] = parsed[q.code]
        else:
            try:
                answers[q.code] = QUESTION_TYPES[q.type].parse(q, values)
            except AnswerError:
                return None
        # The field's data, as WTForms sets it: every value of a checkbox list, else the first.
        if QUESTION_TYPES[q.type].field == "checkboxes":
            data: Any = list(values)
        else:
            data = values[0] if values else None
        if data not in (None, "", []):
            draft[name] = data
        if comment not in (None, ""):
            draft[name + COMMENT_SUFFIX] = comment
        text = (comment or "").replace("\x00", "").strip()
        if text:
            comments[q.code] = text
    posted_key = formdata.getlist("submission_key")
    key = posted_key[0] if posted_key else None
    if posted_key and posted_key[0].strip() and not SUBMISSION_KEY.match(key or ""):
        return None  # Optional() then Regexp()
    # As SurveyForm's __init__: a form posted without a key gets one of its own.
    return Complete(answers, comments, draft, key or secrets.token_urlsafe(24))


_HIDDEN_INPUT = Markup('<input id="{}" name="{}" type="hidden" value="{}">')


def blank_hidden_tag() -> Markup:
    """``SurveyForm(formdata=None).hidden_tag()`` without building the form: a new submission
    key and the session's CSRF token, for the survey page kept with slots
    (survey.respond.views._blank_page), where building the form for them was a twentieth of the
    server's CPU per response. A test holds the two equal."""
    inputs = [_HIDDEN_INPUT.format("submission_key", "submission_key", secrets.token_urlsafe(24))]
    name = csrf_field_name()
    if name is not None:
        inputs.append(_HIDDEN_INPUT.format(name, name, generate_csrf()))
    return Markup("\n").join(inputs)


def csrf_field_name() -> str | None:
    """The name of the CSRF token field a form carries under the app's Flask-WTF settings (as
    FlaskForm.Meta reads them); None when CSRF protection is off."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _hidden_input(field: Field) -> Markup:
    if (
        field.render_kw
        or getattr(field, "_datalist", None) is not None
        or any(getattr(field.flags, name, None) for name in HiddenInput.validation_attrs)
    ):
        return Markup(str(field))
    return _HIDDEN_INPUT.format(field.id, field.name, field._value())


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
    attrs: dict[str, Any] = {
        "questions": answered,
        "questionnaire": questionnaire,
        "enforce_required": enforce_required,
    }
    for q in answered:
        required = q.required and enforce_required
        validators = (
            [RequiredWhenShown(message=_l("Please answer this question."))]
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


def condition_json(show_if: str) -> str:
    """A condition as the JSON the browser's script reads (survey/static/conditions.js)."""
    return json.dumps(conditions.to_json(show_if), ensure_ascii=False, separators=(",", ":"))


def condition_note(questionnaire: Questionnaire | None, show_if: str, lang: str) -> str:
    """When to answer a question or a section, in words, for the page without JavaScript:
    "Answer only if you answered 'Yes' to question 3". Questions are named by their number on
    the page (the order of `questionnaire`, as the group sees it), values by their labels."""
    # Numbered as on the page: notes, which are not answered, take no number.
    questions = tuple(
        q
        for q in (questionnaire.questions() if questionnaire is not None else ())
        if QUESTION_TYPES[q.type].answered
    )
    # The rows of a grid share the grid's one number, as on the page.
    numbers, n, grid = {}, 0, None
    for q in questions:
        row_of = q.grid.code if q.grid is not None else None
        if row_of is None or row_of != grid:
            n += 1
        grid = row_of
        numbers[q.code] = n
    by_code = {q.code: q for q in questions}

    def question(code: str) -> str:
        if code not in numbers:
            return _("a question you are not asked")
        if by_code[code].grid is not None:
            row = by_code[code].text.get(lang)
            return _("question %(n)s (%(row)s)", n=numbers[code], row=row)
        return _("question %(n)s", n=numbers[code])

    # Chinese quotation marks are full-width; in English text they look spaced out.
    quoted = "“{}”".format if lang.startswith("zh") else '"{}"'.format

    def answer(code: str, value: str | int) -> str:
        q = by_code.get(code)
        for choice in q.choices if q is not None else ():
            if choice.code == str(value):
                return quoted(choice.label.get(lang))
        scale = q.scale if q is not None else None
        for point in scale.points if scale is not None else ():
            if str(point.value) == str(value):
                return f"{point.value} {quoted(point.label.get(lang))}"
        return quoted(value)

    described = translated(conditions.describe(show_if, question, answer))
    return _("Answer only if %(condition)s.", condition=described)
