from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from survey.corrective import QueueFilter, texts

LONG_TEXT = Length(max=4000)


def _choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    first = [SelectChoice("", blank)] if blank is not None else []
    return first + [SelectChoice(code, label) for code, label in labels.items()]


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)
    owner = SelectField(_l("Owner"), validate_choice=False)
    served_unit = SelectField(_l("Served unit"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    round = SelectField(_l("Round"), validate_choice=False)
    overdue = BooleanField(_l("Overdue only"))

    def filters(self, default_status: str = "active") -> QueueFilter:
        return QueueFilter.from_args(self.data, default_status)


class RunRulesForm(FlaskForm):
    round_id = SelectField(_l("Round"), coerce=int, validators=[InputRequired()])
    submit = SubmitField(_l("Run the rules"))


class NoteActionForm(FlaskForm):
    """Turn a note on an item (a lowest rating with a comment) into a corrective action."""

    submit = SubmitField(_l("Make it a corrective action"))


class AssignForm(FlaskForm):
    owner_id = SelectField(
        _l("Owner"),
        coerce=int,
        validators=[InputRequired()],
        description=_l("A user of the served unit."),
    )
    due_date = DateField(_l("Due date"), validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))


class InvestigationForm(FlaskForm):
    containment = TextAreaField(
        _l("Immediate containment"),
        validators=[Optional(), LONG_TEXT],
        description=_l("What was done at once to limit the effect."),
    )
    cause_method = SelectField(
        _l("Root-cause method"), choices=_choices(texts.CAUSE_METHODS, "–"), validators=[Optional()]
    )
    cause_category = SelectField(
        _l("Cause category"), choices=_choices(texts.CAUSE_CATEGORIES, "–"), validators=[Optional()]
    )
    root_cause = TextAreaField(
        _l("Root cause"),
        validators=[Optional(), LONG_TEXT],
        description=_l("For 5 whys, one why a line."),
    )
    elsewhere = SelectField(
        _l("Does the same problem exist elsewhere?"),
        choices=[
            SelectChoice("", _l("Not yet checked")),
            SelectChoice("yes", _l("Yes")),
            SelectChoice("no", _l("No")),
        ],
        validators=[Optional()],
        description=_l("For other served units or items (ISO 9001 10.2.1 b)."),
    )
    elsewhere_note = TextAreaField(
        _l("Where, or how it was checked"), validators=[Optional(), LONG_TEXT]
    )
    submit = SubmitField(_l("Save the investigation"))

    def values(self) -> dict:
        return {
            "containment": self.containment.data or None,
            "cause_method": self.cause_method.data or None,
            "cause_category": self.cause_category.data or None,
            "root_cause": self.root_cause.data or None,
            "elsewhere": {"yes": True, "no": False}.get(self.elsewhere.data),
            "elsewhere_note": self.elsewhere_note.data or None,
        }


class StepForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices(texts.STEP_KINDS))
    description = TextAreaField(_l("Step"), validators=[DataRequired(), LONG_TEXT])
    owner_id = SelectField(_l("Owner of the step"), coerce=int, validators=[InputRequired()])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])
    submit = SubmitField(_l("Add the step"))


class StepUpdateForm(FlaskForm):
    done = BooleanField(_l("Done"))
    outcome = TextAreaField(_l("What came of it"), validators=[Optional(), LONG_TEXT])
    submit = SubmitField(_l("Save the step"))


class ActionTakenForm(FlaskForm):
    action_taken = TextAreaField(_l("What was done"), validators=[DataRequired(), LONG_TEXT])
    submit = SubmitField(_l("Save"))


class TransitionForm(FlaskForm):
    transition = HiddenField(validators=[DataRequired()])
    text = TextAreaField(_l("Note"), validators=[Optional(), LONG_TEXT])
    # The later round the page showed the verification against (a verdict is made on it).
    against = HiddenField(validators=[Optional(), Regexp(r"^\d{1,18}$")])


class AttachmentForm(FlaskForm):
    file = FileField(_l("Evidence file"), validators=[FileRequired()])
    submit = SubmitField(_l("Attach"))


class SummaryForm(FlaskForm):
    you_said = TextAreaField(
        _l("You said"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("What this group rated low, in plain words."),
    )
    we_did = TextAreaField(
        _l("We did"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("What the office changed as a result."),
    )
    submit = SubmitField(_l("Publish"))
