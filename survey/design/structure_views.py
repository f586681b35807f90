"""The editor's sections and questions of a draft version: add, edit, delete, move."""

from __future__ import annotations

from dataclasses import replace

from flask import flash, render_template, request
from flask_babel import gettext as _

from questionnaires import GRID_TYPE, QUESTION_TYPES
from questionnaires import model as qm
from survey import editing
from survey.design import bp
from survey.design.editor import (
    STAFF,
    TEMPLATES,
    apply_edit,
    not_editable,
    question_or_404,
    saved,
    section_or_404,
    to_version,
    version_or_404,
)
from survey.design.questionnaire_forms import (
    MoveForm,
    QuestionForm,
    SectionForm,
    grid_data,
    question_data,
    question_form,
    section_data,
    show_error,
    version_scales,
)
from survey.editing.scales import LIBRARY_PREFIX, copy_into, library_scales
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    Question,
    QuestionnaireVersion,
)
from survey.permissions import role_required
from survey.post_form import EmptyForm
from survey.questionnaire_store import to_model


@bp.route("/versions/<int:version_id>/sections/new", methods=["GET", "POST"])
@role_required(*STAFF)
def section_create(version_id: int):
    version = version_or_404(version_id)
    if not editing.is_editable(version):
        return not_editable(version)
    form = SectionForm()
    if form.validate_on_submit():
        try:
            section = editing.add_section(version, form.section())
        except editing.EditError as error:
            show_error(form, error)
        else:
            return saved(version, _("Section added. Add its questions."), f"section-{section.code}")
    return render_template(TEMPLATES + "section.html", form=form, version=version, section=None)


@bp.route("/versions/<int:version_id>/sections/<int:section_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def section_update(version_id: int, section_id: int):
    section = section_or_404(version_id, section_id)
    version = section.version
    if not editing.is_editable(version):
        return not_editable(version)
    index = version.sections.index(section)
    form = SectionForm(data=section_data(to_model(version).sections[index]))
    if form.validate_on_submit():
        try:
            editing.update_section(section, form.section())
        except editing.EditError as error:
            show_error(form, error)
        else:
            return saved(version, _("Section saved."), f"section-{section.code}")
    return render_template(
        TEMPLATES + "section.html", form=form, version=version, section=section, button=EmptyForm()
    )


@bp.post("/versions/<int:version_id>/sections/<int:section_id>/delete")
@role_required(*STAFF)
def section_delete(version_id: int, section_id: int):
    section = section_or_404(version_id, section_id)
    return apply_edit(
        section.version, EmptyForm(), lambda: editing.delete_section(section), _("Section deleted.")
    )


@bp.post("/versions/<int:version_id>/sections/<int:section_id>/move")
@role_required(*STAFF)
def section_move(version_id: int, section_id: int):
    section = section_or_404(version_id, section_id)
    form = MoveForm()
    return apply_edit(
        section.version,
        form,
        lambda: editing.move_section(section, form.step()),
        None,
        f"section-{section.code}",
    )


# ------------------------------------------------------------------------------- questions


def _question_form(
    version: QuestionnaireVersion, definition: qm.Questionnaire, data: dict | None = None
) -> QuestionForm:
    return question_form(
        definition, [s.id for s in version.sections], current_language(), data, library_scales()
    )


def _scales(
    version: QuestionnaireVersion, definition: qm.Questionnaire, form: QuestionForm
) -> dict[str, qm.Scale]:
    """The scales the question may use; a library scale picked in the form is copied into the
    version first (raises EditError), and the form then names it by its code."""
    scales = version_scales(definition)
    picked = form.scale.data or ""
    if picked.startswith(LIBRARY_PREFIX):
        scale = copy_into(version, picked.removeprefix(LIBRARY_PREFIX))
        scales[scale.code] = scale
        form.scale.data = scale.code
    return scales


def condition_codes(definition: qm.Questionnaire, before: str | None) -> list[qm.Question]:
    """The questions a condition of question `before` (None: a new one, added at the end) may
    refer to: the answered ones before it, listed beside the condition field."""
    found = []
    for q in definition.questions():
        if q.code == before:
            break
        if QUESTION_TYPES[q.type].answered:
            found.append(q)
    return found


def _render_question(
    form: QuestionForm,
    version: QuestionnaireVersion,
    definition: qm.Questionnaire,
    question: Question | None = None,
    mode: str = "question",
):
    """The question page; `mode` "grid" edits a whole grid, "row" one row of a grid."""
    categories = sorted({q.category for q in definition.questions() if q.category})
    return render_template(
        TEMPLATES + "question.html",
        form=form,
        version=version,
        question=question,
        categories=categories,
        button=EmptyForm(),
        mode=mode,
        condition_codes=condition_codes(definition, question.code if question else None),
    )


def _undo(form: QuestionForm, picked: str | None) -> None:
    """Forget a refused edit (and a library scale copied for it), but keep what was typed,
    the library scale picked included."""
    db.session.rollback()
    form.scale.data = picked


@bp.route("/versions/<int:version_id>/questions/new", methods=["GET", "POST"])
@role_required(*STAFF)
def question_create(version_id: int):
    """Add a question at the end of the section chosen (?section=ID preselects one)."""
    version = version_or_404(version_id)
    if not editing.is_editable(version):
        return not_editable(version)
    if not version.sections:
        flash(_("Add a section first: every question belongs to one."), "error")
        return to_version(version)
    definition = to_model(version)
    form = _question_form(
        version, definition, {"section": request.args.get("section", type=int), "required": True}
    )
    if form.validate_on_submit():
        section = next(s for s in version.sections if s.id == form.section.data)
        picked = form.scale.data
        try:
            scales = _scales(version, definition, form)
            if form.type.data == GRID_TYPE:
                editing.add_grid(section, form.grid_rows(scales))
            else:
                editing.add_question(section, form.question(scales))
        except editing.EditError as error:
            _undo(form, picked)
            show_error(form, error)
        else:
            return saved(version, _("Question added."), f"question-{form.code.data.strip()}")
    return _render_question(form, version, definition)


@bp.route("/versions/<int:version_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def question_update(version_id: int, question_id: int):
    question = question_or_404(version_id, question_id)
    version = question.version
    if not editing.is_editable(version):
        return not_editable(version)
    definition = to_model(version)
    current = definition.question(question.code)
    form = _question_form(version, definition, question_data(current, question.section_id))
    if form.validate_on_submit():
        section = next(s for s in version.sections if s.id == form.section.data)
        picked = form.scale.data
        try:
            changed = form.question(_scales(version, definition, form))
            if current.grid is not None:
                # A row says its code, text, category, served unit and follow-up; the rest is
                # its grid's, and it stays in its grid.
                changed = replace(
                    current,
                    code=changed.code,
                    text=changed.text,
                    category=changed.category,
                    served_unit=changed.served_unit,
                    follow_up=changed.follow_up,
                )
                section = question.section
            editing.update_question(question, changed, section)
        except editing.EditError as error:
            _undo(form, picked)
            show_error(form, error)
        else:
            return saved(version, _("Question saved."), f"question-{question.code}")
    mode = "row" if current.grid is not None else "question"
    return _render_question(form, version, definition, question, mode)


@bp.route("/versions/<int:version_id>/grids/<int:question_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def grid_update(version_id: int, question_id: int):
    """Edit the grid whose row `question_id` is: its text, scale, shared keys and rows."""
    question = question_or_404(version_id, question_id)
    version = question.version
    if not editing.is_editable(version):
        return not_editable(version)
    definition = to_model(version)
    rows = tuple(definition.question(r.code) for r in editing.grid_rows(question))
    if rows[0].grid is None:
        return to_version(version, f"question-{question.code}")
    form = _question_form(version, definition, grid_data(rows, question.section_id))
    if form.validate_on_submit():
        section = next(s for s in version.sections if s.id == form.section.data)
        kept = {q.code: q for q in rows}
        picked = form.scale.data
        try:
            if form.type.data != GRID_TYPE:
                raise editing.EditError(
                    _(
                        "A grid stays a grid: to ask a single question, add one and delete the grid."
                    ),
                    "type",
                )
            new_rows = form.grid_rows(_scales(version, definition, form), kept)
            editing.update_grid(question, new_rows, section)
        except editing.EditError as error:
            _undo(form, picked)
            show_error(form, error)
        else:
            return saved(version, _("Grid saved."), f"question-{form.code.data.strip()}")
    return _render_question(form, version, definition, question, "grid")


@bp.post("/versions/<int:version_id>/grids/<int:question_id>/delete")
@role_required(*STAFF)
def grid_delete(version_id: int, question_id: int):
    question = question_or_404(version_id, question_id)
    return apply_edit(
        question.version,
        EmptyForm(),
        lambda: editing.delete_grid(question),
        _("Grid deleted."),
        f"section-{question.section.code}",
    )


@bp.post("/versions/<int:version_id>/grids/<int:question_id>/move")
@role_required(*STAFF)
def grid_move(version_id: int, question_id: int):
    question = question_or_404(version_id, question_id)
    form = MoveForm()
    return apply_edit(
        question.version,
        form,
        lambda: editing.move_block(question, form.step()),
        None,
        f"question-{(question.grid or {}).get('code', question.code)}",
    )


@bp.post("/versions/<int:version_id>/questions/<int:question_id>/delete")
@role_required(*STAFF)
def question_delete(version_id: int, question_id: int):
    question = question_or_404(version_id, question_id)
    return apply_edit(
        question.version,
        EmptyForm(),
        lambda: editing.delete_question(question),
        _("Question deleted."),
        f"section-{question.section.code}",
    )


@bp.post("/versions/<int:version_id>/questions/<int:question_id>/move")
@role_required(*STAFF)
def question_move(version_id: int, question_id: int):
    question = question_or_404(version_id, question_id)
    form = MoveForm()
    return apply_edit(
        question.version,
        form,
        lambda: editing.move_question(question, form.step()),
        None,
        f"question-{question.code}",
    )
