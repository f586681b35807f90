from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from survey.units import CODE_LENGTH, CODE_PATTERN

CODE = Regexp(rf"^{CODE_PATTERN.pattern}$", message=_l("Lower-case letters, digits and _ only."))


class GroupForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=CODE_LENGTH), CODE])
    label_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    position = IntegerField(_l("Order"), default=0, validators=[Optional(), NumberRange(0, 999)])
    submit = SubmitField(_l("Save group"))


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=CODE_LENGTH), CODE])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("respondent", _l("Respondent unit")),
            SelectChoice("served", _l("Served unit (rated)")),
        ],
    )
    group_id = SelectField(_l("Respondent group"), coerce=int, validators=[Optional()])
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save unit"))

    def validate_group_id(self, field) -> None:
        if self.kind.data == "respondent" and not field.data:
            raise ValidationError(_("A respondent unit belongs to a respondent group."))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))
    text = TextAreaField(_l("or paste CSV"), validators=[Optional(), Length(max=200_000)])
    submit = SubmitField(_l("Import units"))
