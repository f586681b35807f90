"""The questionnaire editor: questionnaires and their versions, sections, questions, preview."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from questionnaires import QuestionnaireError, dump
from questionnaires import model as qm
from survey import editing
from survey.design import bp
from survey.design.questionnaire_forms import (
    TYPE_LABELS,
    ImportForm,
    MoveForm,
    QuestionForm,
    QuestionnaireForm,
    SectionForm,
    label,
    optional_label,
    question_data,
    question_form,
    section_data,
    settings_form,
    show_error,
    version_scales,
)
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    Question,
    Questionnaire,
    QuestionnaireVersion,
    RespondentGroup,
    Section,
    Unit,
    utcnow,
)
from survey.permissions import role_required
from survey.post_form import EmptyForm
from survey.questionnaire_form import form_for, restore
from survey.questionnaire_store import to_model

STAFF = ("designer",)
TEMPLATES = "design/questionnaires/"


# --------------------------------------------------------------------------------- helpers


def _version(version_id: int) -> QuestionnaireVersion:
    return db.get_or_404(QuestionnaireVersion, version_id)


def _section(version_id: int, section_id: int) -> Section:
    section = db.get_or_404(Section, section_id)
    if section.version_id != version_id:
        abort(404)
    return section


def _question(version_id: int, question_id: int) -> Question:
    question = db.get_or_404(Question, question_id)
    if question.version_id != version_id:
        abort(404)
    return question


def _to_version(version: QuestionnaireVersion, anchor: str | None = None):
    return redirect(url_for("design.version_detail", version_id=version.id, _anchor=anchor))


def _not_editable(version: QuestionnaireVersion):
    flash(_("This version is not a draft and cannot be changed; edit it as a new draft."), "error")
    return _to_version(version)


def _change(
    version: QuestionnaireVersion,
    form: FlaskForm,
    action: Callable[[], object],
    message: str | None,
    anchor: str | None = None,
):
    """Run a button's action (a POST with only a CSRF token and maybe a direction)."""
    if form.validate_on_submit():
        try:
            action()
        except editing.EditError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            if message:
                flash(message, "success")
    return _to_version(version, anchor)


def _saved(version: QuestionnaireVersion, message: str, anchor: str | None = None):
    db.session.commit()
    flash(message, "success")
    return _to_version(version, anchor)


# -------------------------------------------------------------------------- questionnaires


@bp.get("/")
@role_required(*STAFF)
def index():
    """Every questionnaire with its versions and the rounds that use each."""
    questionnaires = db.session.scalars(select(Questionnaire).order_by(Questionnaire.code))
    return render_template(
        TEMPLATES + "index.html",
        questionnaires=questionnaires.all(),
        rounds=editing.rounds_by_version(),
    )


@bp.route("/questionnaires/new", methods=["GET", "POST"])
@role_required(*STAFF)
def questionnaire_create():
    form = QuestionnaireForm()
    if form.validate_on_submit():
        try:
            version = editing.create_questionnaire(
                form.code.data.strip(), label(form.title_zh.data, form.title_en.data)
            )
        except editing.EditError as error:
            show_error(form, error)
        else:
            return _saved(version, _("Questionnaire created. Add its first section."))
    return render_template(TEMPLATES + "create.html", form=form)


@bp.route("/questionnaires/import", methods=["GET", "POST"])
@role_required(*STAFF)
def questionnaire_import():
    form = ImportForm()
    error, excerpt = None, []
    if form.validate_on_submit():
        text, filename = form.source()
        try:
            version, new = editing.import_definition(text, filename)
        except QuestionnaireError as refused:
            error, excerpt = refused, editing.source_excerpt(text, refused.line)
        else:
            message = (
                _("Imported as draft version %(n)s.", n=version.number)
                if new
                else _(
                    "The file is the same as version %(n)s: no new version was made.",
                    n=version.number,
                )
            )
            return _saved(version, message)
    return render_template(TEMPLATES + "import.html", form=form, error=error, excerpt=excerpt)


# -------------------------------------------------------------------------------- versions


@bp.get("/versions/<int:version_id>")
@role_required(*STAFF)
def version_detail(version_id: int):
    """A version's sections and questions; a draft's can be changed here."""
    version = _version(version_id)
    definition = to_model(version)
    return render_template(
        TEMPLATES + "version.html",
        version=version,
        definition=definition,
        rows=list(zip(version.sections, definition.sections)),
        type_labels=TYPE_LABELS,
        rounds=editing.rounds_by_version().get(version.id, []),
        editable=editing.is_editable(version),
        button=EmptyForm(),
        move=MoveForm(),
        lang=current_language(),
    )


@bp.route("/versions/<int:version_id>/settings", methods=["GET", "POST"])
@role_required(*STAFF)
def version_update(version_id: int):
    version = _version(version_id)
    if not editing.is_editable(version):
        return _not_editable(version)
    groups = db.session.scalars(select(RespondentGroup).order_by(RespondentGroup.position)).all()
    served = db.session.scalars(select(Unit).where(Unit.kind == "served").order_by(Unit.id)).all()
    form = settings_form(version, groups, served, current_language())
    if form.validate_on_submit():
        try:
            editing.update_settings(
                version,
                label(form.title_zh.data, form.title_en.data),
                optional_label(form.description_zh.data, form.description_en.data),
                form.groups.data or [],
                form.served_units.data or [],
            )
        except editing.EditError as error:
            show_error(form, error)
        else:
            return _saved(version, _("Settings saved."))
    return render_template(TEMPLATES + "settings.html", form=form, version=version)


@bp.post("/versions/<int:version_id>/publish")
@role_required(*STAFF)
def version_publish(version_id: int):
    version = _version(version_id)
    return _change(
        version,
        EmptyForm(),
        lambda: editing.publish(version, utcnow()),
        _("Published: rounds can now use this version."),
    )


@bp.post("/versions/<int:version_id>/unpublish")
@role_required(*STAFF)
def version_unpublish(version_id: int):
    version = _version(version_id)
    return _change(
        version,
        EmptyForm(),
        lambda: editing.unpublish(version),
        _("The version is a draft again and can be edited."),
    )


@bp.post("/versions/<int:version_id>/new-draft")
@role_required(*STAFF)
def version_copy(version_id: int):
    """Edit as new draft: the version is copied; it and its rounds stay as they are."""
    version = _version(version_id)
    if not EmptyForm().validate_on_submit():
        return _to_version(version)
    draft = editing.new_draft(version)
    return _saved(
        draft,
        _(
            "Version %(n)s is a new draft copied from version %(old)s.",
            n=draft.number,
            old=version.number,
        ),
    )


@bp.get("/versions/<int:version_id>/export.yaml")
@role_required(*STAFF)
def version_export(version_id: int):
    """The version as a definition file that the loader reads back to the same questionnaire."""
    version = _version(version_id)
    filename = f"{version.questionnaire.code}-v{version.number}.yaml"
    return Response(
        dump(to_model(version)),
        content_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/versions/<int:version_id>/preview")
@role_required(*STAFF)
def version_preview(version_id: int):
    """The version as one respondent group sees it, built by the live survey's own form code."""
    version = _version(version_id)
    definition = to_model(version)
    codes = [g.code for g in definition.groups]
    group = request.args.get("group") or (codes[0] if codes else None)
    if codes and group not in codes:
        abort(404)
    shown, lang = definition.for_group(group), current_language()
    return render_template(
        TEMPLATES + "preview.html",
        preview=True,
        invitation=None,
        questionnaire=shown,
        form=restore(form_for(shown, lang), None),
        lang=lang,
        version=version,
        groups=definition.groups,
        group=group,
    )


# -------------------------------------------------------------------------------- sections


@bp.route("/versions/<int:version_id>/sections/new", methods=["GET", "POST"])
@role_required(*STAFF)
def section_create(version_id: int):
    version = _version(version_id)
    if not editing.is_editable(version):
        return _not_editable(version)
    form = SectionForm()
    if form.validate_on_submit():
        try:
            section = editing.add_section(version, form.section())
        except editing.EditError as error:
            show_error(form, error)
        else:
            return _saved(
                version, _("Section added. Add its questions."), f"section-{section.code}"
            )
    return render_template(TEMPLATES + "section.html", form=form, version=version, section=None)


@bp.route("/versions/<int:version_id>/sections/<int:section_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def section_update(version_id: int, section_id: int):
    section = _section(version_id, section_id)
    version = section.version
    if not editing.is_editable(version):
        return _not_editable(version)
    index = version.sections.index(section)
    form = SectionForm(data=section_data(to_model(version).sections[index]))
    if form.validate_on_submit():
        try:
            editing.update_section(section, form.section())
        except editing.EditError as error:
            show_error(form, error)
        else:
            return _saved(version, _("Section saved."), f"section-{section.code}")
    return render_template(
        TEMPLATES + "section.html", form=form, version=version, section=section, button=EmptyForm()
    )


@bp.post("/versions/<int:version_id>/sections/<int:section_id>/delete")
@role_required(*STAFF)
def section_delete(version_id: int, section_id: int):
    section = _section(version_id, section_id)
    return _change(
        section.version, EmptyForm(), lambda: editing.delete_section(section), _("Section deleted.")
    )


@bp.post("/versions/<int:version_id>/sections/<int:section_id>/move")
@role_required(*STAFF)
def section_move(version_id: int, section_id: int):
    section = _section(version_id, section_id)
    form = MoveForm()
    return _change(
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
    return question_form(definition, [s.id for s in version.sections], current_language(), data)


def _render_question(
    form: QuestionForm,
    version: QuestionnaireVersion,
    definition: qm.Questionnaire,
    question: Question | None = None,
):
    categories = sorted({q.category for q in definition.questions() if q.category})
    return render_template(
        TEMPLATES + "question.html",
        form=form,
        version=version,
        question=question,
        categories=categories,
        button=EmptyForm(),
    )


@bp.route("/versions/<int:version_id>/questions/new", methods=["GET", "POST"])
@role_required(*STAFF)
def question_create(version_id: int):
    """Add a question at the end of the section chosen (?section=ID preselects one)."""
    version = _version(version_id)
    if not editing.is_editable(version):
        return _not_editable(version)
    if not version.sections:
        flash(_("Add a section first: every question belongs to one."), "error")
        return _to_version(version)
    definition = to_model(version)
    form = _question_form(
        version, definition, {"section": request.args.get("section", type=int), "required": True}
    )
    if form.validate_on_submit():
        section = next(s for s in version.sections if s.id == form.section.data)
        try:
            question = editing.add_question(section, form.question(version_scales(definition)))
        except editing.EditError as error:
            show_error(form, error)
        else:
            return _saved(version, _("Question added."), f"question-{question.code}")
    return _render_question(form, version, definition)


@bp.route("/versions/<int:version_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def question_update(version_id: int, question_id: int):
    question = _question(version_id, question_id)
    version = question.version
    if not editing.is_editable(version):
        return _not_editable(version)
    definition = to_model(version)
    data = question_data(definition.question(question.code), question.section_id)
    form = _question_form(version, definition, data)
    if form.validate_on_submit():
        section = next(s for s in version.sections if s.id == form.section.data)
        try:
            editing.update_question(question, form.question(version_scales(definition)), section)
        except editing.EditError as error:
            show_error(form, error)
        else:
            return _saved(version, _("Question saved."), f"question-{question.code}")
    return _render_question(form, version, definition, question)


@bp.post("/versions/<int:version_id>/questions/<int:question_id>/delete")
@role_required(*STAFF)
def question_delete(version_id: int, question_id: int):
    question = _question(version_id, question_id)
    return _change(
        question.version,
        EmptyForm(),
        lambda: editing.delete_question(question),
        _("Question deleted."),
        f"section-{question.section.code}",
    )


@bp.post("/versions/<int:version_id>/questions/<int:question_id>/move")
@role_required(*STAFF)
def question_move(version_id: int, question_id: int):
    question = _question(version_id, question_id)
    form = MoveForm()
    return _change(
        question.version,
        form,
        lambda: editing.move_question(question, form.step()),
        None,
        f"question-{question.code}",
    )
