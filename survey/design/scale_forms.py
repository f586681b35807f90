"""The scale library's form: a code, a name, and up to 11 points, each with its value, its
labels in Chinese and English, and whether it counts as satisfied or as low.

The form checks only what a browser can get wrong on its own; whether the scale is valid is
decided by the loader's rules (survey.editing.scales.check_scale).
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from questionnaires import model as qm
from questionnaires.loader import MAX_SCALE_POINTS
from survey.design.questionnaire_forms import label
from survey.models import LibraryScale

#: What a point counts as: "" the usual rule, or declared satisfied or low (dissatisfied).
COUNTS = (
    SelectChoice("", _l("— (usual rule)")),
    SelectChoice("satisfied", _l("satisfied")),
    SelectChoice("low", _l("low (asks why)")),
)


class PointForm(Form):
    """One row of the points table (a sub-form: the page's CSRF token covers it)."""

    value = StringField(
        _l("Value"),
        validators=[Optional(), Regexp(r"^-?[0-9]{1,3}$", message=_l("A whole number."))],
    )
    label_zh = StringField(_l("Label in Chinese"), validators=[Optional(), Length(max=200)])
    label_en = StringField(_l("Label in English"), validators=[Optional(), Length(max=200)])
    counts = SelectField(_l("Counts as"), choices=COUNTS, validate_choice=True, default="")

    @property
    def used(self) -> bool:
        """A row counts once it has a label; an empty row (or one with only its value) is left out."""
        return bool((self.label_zh.data or "").strip() or (self.label_en.data or "").strip())


class ScaleForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l(
            "Lower-case letters, digits and _, such as agree7. A questionnaire that uses the "
            "scale names it so."
        ),
    )
    name_zh = StringField(_l("Name in Chinese"), validators=[Optional(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    points = FieldList(
        FormField(PointForm), min_entries=MAX_SCALE_POINTS, max_entries=MAX_SCALE_POINTS
    )
    submit = SubmitField(_l("Save scale"))

    KEYS: ClassVar[dict[str, str]] = {"code": "code", "name": "name_zh"}

    def used_points(self) -> list[PointForm]:
        return [entry.form for entry in self.points if entry.form.used]

    def scale(self) -> qm.Scale:
        """The scale the form describes; the loader's rules are checked later. A labelled row
        without a value gets an impossible value, so that the loader names the row."""
        rows = self.used_points()
        points = tuple(
            qm.ScalePoint(
                int(row.value.data) if (row.value.data or "").strip() else _missing(row),
                label(row.label_zh.data, row.label_en.data),
            )
            for row in rows
        )
        satisfied = tuple(int(r.value.data) for r in rows if r.counts.data == "satisfied")
        low = tuple(int(r.value.data) for r in rows if r.counts.data == "low")
        return qm.Scale((self.code.data or "").strip(), points, satisfied, low)

    def name(self) -> qm.Label:
        return label(self.name_zh.data, self.name_en.data)

    def validate_points(self, field) -> None:
        for row in self.used_points():
            if not (row.value.data or "").strip():
                row.value.errors = [*row.value.errors, _l("Give this point a value.")]
                field.errors.append(_l("Every point with a label needs a value."))
                return


def _missing(row: PointForm) -> int:  # pragma: no cover - validate_points refuses it first
    raise ValueError("a point without a value")


def scale_data(row: LibraryScale | None) -> dict[str, Any]:
    """The form's data for a library scale; a new one offers the values 1..11 to label."""
    if row is None:
        return {"points": [{"value": str(v)} for v in range(1, MAX_SCALE_POINTS + 1)]}
    points = []
    for p in row.points:
        counts = (
            "satisfied"
            if p["value"] in row.satisfied
            else "low"
            if p["value"] in row.dissatisfied
            else ""
        )
        points.append(
            {"value": str(p["value"]), "label_zh": p["zh"], "label_en": p["en"], "counts": counts}
        )
    return {"code": row.code, "name_zh": row.name_zh, "name_en": row.name_en, "points": points}
