"""Forms of the questionnaire editor, and their translation to and from the definition model.

The forms check only what a browser can get wrong on its own (lengths, one of file or text);
whether a question is valid is decided by the loader's rules in survey.editing, whose error
`key` is shown next to the field that holds that key (`KEYS`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

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
    AnyOf,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from questionnaires import (
    BUILTIN_SCALES,
    GRID_ROW_TYPE,
    GRID_TYPE,
    INTEGER_LIMIT,
    MAX_TEXT_LENGTH,
    QUESTION_TYPES,
)
from questionnaires import model as qm
from survey.design.round_forms import CheckboxesField
from survey.editing import EditError
from survey.editing.scales import LIBRARY_PREFIX, library_choice, to_scale
from survey.models import LibraryScale, QuestionnaireVersion, RespondentGroup, Unit
from survey.questionnaire_store import scale_name

MAX_TEXT = 4000
# What the condition field says of its syntax (questionnaires.conditions), on both forms.
SHOW_IF_HELP = _l(
    "Leave empty to always ask. Otherwise a condition on earlier questions, by their codes: "
    "${used_meetings} = 'yes', ${doc_timeliness} >= 4, selected(${channels}, 'phone'), "
    "${comment} != '' (answered); combine with and, or, not(...) and parentheses."
)
#: What the editor calls a grid: no question type of its own, its rows are ratings.
GRID_LABEL = qm.Label("矩阵（多行共用一个量表）", "Grid (several rows on one scale)")
TEXT = [Optional(), Length(max=MAX_TEXT)]
TITLE = [Optional(), Length(max=300)]


def label(zh: str | None, en: str | None) -> qm.Label:
    return qm.Label((zh or "").strip(), (en or "").strip())


def optional_label(zh: str | None, en: str | None) -> qm.Label | None:
    text = label(zh, en)
    return text if text.zh or text.en else None


def show_error(form: FlaskForm, error: EditError) -> None:
    """Put an editing error next to the field that holds the key at fault, else on the form."""
    name = getattr(form, "KEYS", {}).get(error.key)
    if name and name in form:
        form[name].errors = [*form[name].errors, str(error)]
    else:
        form.form_errors.append(str(error))


class QuestionnaireForm(FlaskForm):
    code = StringField(
        _l("Id"),
        validators=[DataRequired(), Length(max=80)],
        description=_l(
            "Lower-case letters, digits, - and _, such as office-services-2005. "
            "It never changes: analysis and exports use it."
        ),
    )
    title_zh = StringField(_l("Title in Chinese"), validators=TITLE)
    title_en = StringField(_l("Title in English"), validators=TITLE)
    submit = SubmitField(_l("Create questionnaire"))

    KEYS: ClassVar[dict[str, str]] = {"id": "code", "title": "title_zh"}


class ImportForm(FlaskForm):
    file = FileField(_l("Questionnaire file (YAML, or XLSForm .xlsx)"))
    # No Optional(): it would stop the check that a file or a text is given.
    text = TextAreaField(_l("Or paste the YAML here"), validators=[Length(max=500_000)])
    submit = SubmitField(_l("Import as a new draft"))

    def validate_text(self, field) -> None:
        if not self.file.data and not (field.data or "").strip():
            raise ValidationError(_l("Choose a file or paste the questionnaire's YAML."))

    def source(self) -> tuple[bytes | str, str]:
        """The text to load and the file name its errors will quote."""
        if self.file.data:
            return self.file.data.read(), self.file.data.filename or "upload.yaml"
        return self.text.data, str(_l("pasted text"))


class SettingsForm(FlaskForm):
    title_zh = StringField(_l("Title in Chinese"), validators=TITLE)
    title_en = StringField(_l("Title in English"), validators=TITLE)
    description_zh = TextAreaField(_l("Introduction in Chinese"), validators=TEXT)
    description_en = TextAreaField(_l("Introduction in English"), validators=TEXT)
    groups = CheckboxesField(_l("Respondent groups"), validate_choice=True)
    served_units = CheckboxesField(_l("Served units (rated)"), validate_choice=True)
    submit = SubmitField(_l("Save settings"))

    KEYS: ClassVar[dict[str, str]] = {
        "title": "title_zh",
        "description": "description_zh",
        "groups": "groups",
        "audience": "groups",
        "served_units": "served_units",
        "served_unit": "served_units",
    }


def settings_form(
    version: QuestionnaireVersion, groups: list[RespondentGroup], served: list[Unit], lang: str
) -> SettingsForm:
    data = {
        "title_zh": version.title_zh,
        "title_en": version.title_en,
        "description_zh": version.description_zh,
        "description_en": version.description_en,
        "groups": version.group_codes,
        "served_units": version.served_unit_codes,
    }
    form = SettingsForm(data=data)
    form.groups.choices = [SelectChoice(g.code, g.label(lang)) for g in groups]
    form.served_units.choices = [SelectChoice(u.code, u.name(lang)) for u in served]
    return form


class SectionForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Lower-case letters, digits and _, such as documents."),
    )
    title_zh = StringField(_l("Title in Chinese"), validators=TITLE)
    title_en = StringField(_l("Title in English"), validators=TITLE)
    description_zh = TextAreaField(_l("Introduction in Chinese"), validators=TEXT)
    description_en = TextAreaField(_l("Introduction in English"), validators=TEXT)
    show_if = StringField(
        _l("Ask this section only if"),
        validators=[Optional(), Length(max=1000)],
        description=SHOW_IF_HELP,
    )
    submit = SubmitField(_l("Save section"))

    KEYS: ClassVar[dict[str, str]] = {
        "code": "code",
        "title": "title_zh",
        "description": "description_zh",
        "show_if": "show_if",
    }

    def section(self) -> qm.Section:
        return qm.Section(
            code=self.code.data.strip(),
            title=label(self.title_zh.data, self.title_en.data),
            questions=(),
            description=optional_label(self.description_zh.data, self.description_en.data),
            show_if=(self.show_if.data or "").strip() or None,
        )


def section_data(section: qm.Section) -> dict[str, Any]:
    description = section.description or qm.Label("", "")
    return {
        "code": section.code,
        "title_zh": section.title.zh,
        "title_en": section.title.en,
        "description_zh": description.zh,
        "description_en": description.en,
        "show_if": section.show_if or "",
    }


class QuestionForm(FlaskForm):
    section = SelectField(_l("Section"), coerce=int)
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Stable id used in analysis and exports, such as doc_timeliness."),
    )
    type = SelectField(_l("Type"))
    text_zh = TextAreaField(_l("Question in Chinese"), validators=TEXT)
    text_en = TextAreaField(_l("Question in English"), validators=TEXT)
    category = StringField(
        _l("Category"),
        validators=[Optional(), Length(max=80)],
        description=_l("Dotted lower-case, such as services.documents."),
    )
    served_unit = SelectField(_l("Served unit"), validate_choice=True)
    required = BooleanField(_l("An answer is required"), default=True)
    audience = CheckboxesField(
        _l("Asked of"),
        validate_choice=True,
        description=_l("Tick none to ask every respondent group."),
    )
    # Not posted when the editor's script hides it (a type without a scale): the type's own.
    scale = SelectField(_l("Scale (rating only)"), validate_choice=True, default="")
    choices = TextAreaField(
        _l("Choices (one choice and several choices only)"),
        validators=TEXT,
        description=_l("One per line: code|中文|English, such as phone|电话|Telephone."),
    )
    follow_up_zh = TextAreaField(
        _l("Follow-up in Chinese (rating only)"),
        validators=TEXT,
        description=_l(
            "Asked when the rating is in the bottom two points, such as 请告诉我们原因."
        ),
    )
    follow_up_en = TextAreaField(_l("Follow-up in English (rating only)"), validators=TEXT)
    help_zh = TextAreaField(_l("Help in Chinese"), validators=TEXT)
    help_en = TextAreaField(_l("Help in English"), validators=TEXT)
    # The loader decides the limits' rules; these only keep a typed number a number.
    min_value = IntegerField(
        _l("Smallest number (whole number only)"),
        validators=[Optional(), NumberRange(-INTEGER_LIMIT, INTEGER_LIMIT)],
    )
    max_value = IntegerField(
        _l("Largest number (whole number only)"),
        validators=[Optional(), NumberRange(-INTEGER_LIMIT, INTEGER_LIMIT)],
    )
    max_length = IntegerField(
        _l("Longest answer in characters (free text only)"),
        validators=[Optional(), NumberRange(1, MAX_TEXT_LENGTH)],
        description=_l("Empty for the most, 4000."),
    )
    show_if = StringField(
        _l("Ask this question only if"),
        validators=[Optional(), Length(max=1000)],
        description=SHOW_IF_HELP,
    )
    rows = TextAreaField(
        _l("Rows (grid only)"),
        validators=TEXT,
        description=_l(
            "One row per line: code|中文|English, such as doc_speed|办文速度|Speed of documents. "
            "Each row is a rating item of its own, on the grid's scale."
        ),
    )
    submit = SubmitField(_l("Save question"))

    KEYS: ClassVar[dict[str, str]] = {
        "code": "code",
        "type": "type",
        "text": "text_zh",
        "category": "category",
        "served_unit": "served_unit",
        "required": "required",
        "audience": "audience",
        "scale": "scale",
        "choices": "choices",
        "follow_up": "follow_up_zh",
        "help": "help_zh",
        "min_value": "min_value",
        "max_value": "max_value",
        "max_length": "max_length",
        "show_if": "show_if",
        "rows": "rows",
    }

    def question(self, scales: dict[str, qm.Scale]) -> qm.Question:
        """The question as the form describes it; the loader's rules are checked later."""
        qtype = QUESTION_TYPES[GRID_ROW_TYPE if self.type.data == GRID_TYPE else self.type.data]
        return qm.Question(
            code=self.code.data.strip(),
            type=qtype.name,
            text=label(self.text_zh.data, self.text_en.data),
            category=(self.category.data or "").strip() or None,
            served_unit=self.served_unit.data or None,
            # A note is never answered: "required" means nothing for it.
            required=self.required.data and qtype.answered,
            audience=tuple(self.audience.data or ()),
            scale=scales[self.scale.data] if self.scale.data else qtype.default_scale,
            choices=parse_choices(self.choices.data),
            follow_up=optional_label(self.follow_up_zh.data, self.follow_up_en.data),
            help=optional_label(self.help_zh.data, self.help_en.data),
            min_value=self.min_value.data,
            max_value=self.max_value.data,
            max_length=self.max_length.data,
            show_if=(self.show_if.data or "").strip() or None,
        )

    def grid_rows(
        self, scales: dict[str, qm.Scale], kept: dict[str, qm.Question] | None = None
    ) -> tuple[qm.Question, ...]:
        """The rows of the grid the form describes, each a rating question naming the grid.

        Category, served unit and follow-up left empty leave each row in `kept` (the grid's
        rows before the edit, by code) with its own: rows of a file may differ in them."""
        grid = qm.Grid(
            code=self.code.data.strip(),
            text=label(self.text_zh.data, self.text_en.data),
            help=optional_label(self.help_zh.data, self.help_en.data),
        )
        shared = replace(self.question(scales), type=GRID_ROW_TYPE, help=None, grid=grid)
        if self.scale.data == "":
            shared = replace(shared, scale=QUESTION_TYPES[GRID_ROW_TYPE].default_scale)
        rows = []
        for choice in parse_choices(self.rows.data):
            old = (kept or {}).get(choice.code)
            row = replace(shared, code=choice.code, text=choice.label)
            if old is not None:
                row = replace(
                    row,
                    category=row.category or old.category,
                    served_unit=row.served_unit or old.served_unit,
                    follow_up=row.follow_up or old.follow_up,
                )
            rows.append(row)
        return tuple(rows)


def parse_choices(text: str | None) -> tuple[qm.Choice, ...]:
    """`code|中文|English` per line; a missing language is left empty (the other is shown)."""
    choices = []
    for line in (text or "").splitlines():
        if line.strip():
            code, zh, en = (line.split("|", 2) + ["", ""])[:3]
            choices.append(qm.Choice(code.strip(), label(zh, en)))
    return tuple(choices)


def question_data(q: qm.Question, section_id: int) -> dict[str, Any]:
    qtype = QUESTION_TYPES[q.type]
    follow_up, help_ = q.follow_up or qm.Label("", ""), q.help or qm.Label("", "")
    return {
        "section": section_id,
        "code": q.code,
        "type": q.type,
        "text_zh": q.text.zh,
        "text_en": q.text.en,
        "category": q.category,
        "served_unit": q.served_unit or "",
        "required": q.required,
        "audience": list(q.audience),
        "scale": "" if q.scale is None or q.scale == qtype.default_scale else q.scale.code,
        "choices": "\n".join(f"{c.code}|{c.label.zh}|{c.label.en}" for c in q.choices),
        "follow_up_zh": follow_up.zh,
        "follow_up_en": follow_up.en,
        "help_zh": help_.zh,
        "help_en": help_.en,
        "min_value": q.min_value,
        "max_value": q.max_value,
        "max_length": q.max_length,
        "show_if": q.show_if or "",
    }


def grid_data(rows: tuple[qm.Question, ...], section_id: int) -> dict[str, Any]:
    """The question form's data for a grid: the grid's text and help, its rows' shared keys,
    and a category, served unit or follow-up only when every row has the same one."""
    first = rows[0]
    data = question_data(replace(first, help=first.grid.help), section_id)
    grid_help = first.grid.help or qm.Label("", "")
    data.update(
        code=first.grid.code,
        type=GRID_TYPE,
        text_zh=first.grid.text.zh,
        text_en=first.grid.text.en,
        help_zh=grid_help.zh,
        help_en=grid_help.en,
        rows="\n".join(f"{q.code}|{q.text.zh}|{q.text.en}" for q in rows),
    )
    for key, fields in (
        ("category", ("category",)),
        ("served_unit", ("served_unit",)),
        ("follow_up", ("follow_up_zh", "follow_up_en")),
    ):
        if len({getattr(q, key) for q in rows}) > 1:
            data.update(dict.fromkeys(fields, ""))
    return data


def version_scales(definition: qm.Questionnaire) -> dict[str, qm.Scale]:
    """The scales a question of this version may use: the built-in ones and its own."""
    return {**BUILTIN_SCALES, **{s.code: s for s in definition.scales}}


def type_labels(lang: str) -> dict[str, str]:
    """What the editor calls each question type (``QuestionType.label``), in ``lang``."""
    return {name: t.label.get(lang) for name, t in QUESTION_TYPES.items()}


def question_form(
    definition: qm.Questionnaire,
    section_ids: list[int],
    lang: str,
    data: dict[str, Any] | None = None,
    library: list[LibraryScale] = (),
) -> QuestionForm:
    """A QuestionForm whose choices are the version's sections, groups, units and scales, and
    the `library` scales (valued ``library:CODE``: picking one copies it into the version)."""
    form = QuestionForm(data=data)
    form.type.choices = [SelectChoice(name, label) for name, label in type_labels(lang).items()] + [
        SelectChoice(GRID_TYPE, GRID_LABEL.get(lang))
    ]
    form.section.choices = [
        SelectChoice(sid, s.title.get(lang)) for sid, s in zip(section_ids, definition.sections)
    ]
    form.served_unit.choices = [SelectChoice("", _l("— none —"))] + [
        SelectChoice(u.code, u.label.get(lang)) for u in definition.served_units
    ]
    form.audience.choices = [SelectChoice(g.code, g.label.get(lang)) for g in definition.groups]
    form.scale.choices = [
        SelectChoice("", _l("The type's own scale (1–5 satisfaction for a rating)"))
    ] + [
        SelectChoice(code, _scale_label(scale, lang))
        for code, scale in version_scales(definition).items()
    ]
    form.scale.choices += [
        SelectChoice(
            LIBRARY_PREFIX + row.code,
            _l("Library: %(scale)s", scale=_scale_label(to_scale(row), lang, row.name(lang))),
        )
        for row in library_choice(definition, list(library))
    ]
    form.category.render_kw = {"list": "categories"}
    return form


def _scale_label(scale: qm.Scale, lang: str, name: str | None = None) -> str:
    first, last = scale.points[0], scale.points[-1]
    return f"{name or scale_name(scale.code)}: {first.value} {first.label.get(lang)} … {last.value} {last.label.get(lang)}"


class MoveForm(FlaskForm):
    """Two submit buttons, name "direction", value "up" or "down"."""

    direction = StringField(validators=[AnyOf(("up", "down"))])

    def step(self) -> int:
        return -1 if self.direction.data == "up" else 1
