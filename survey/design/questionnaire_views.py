"""The questionnaire editor: questionnaires and their versions, sections, questions, preview."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from questionnaires import QuestionnaireError, dump, xlsform
from survey import editing, tenancy
from survey.design import bp
from survey.design.editor import (
    STAFF,
    TEMPLATES,
    apply_edit,
    not_editable,
    saved,
    to_version,
    version_or_404,
)
from survey.design.questionnaire_forms import (
    ImportForm,
    MoveForm,
    QuestionnaireForm,
    label,
    optional_label,
    settings_form,
    show_error,
    type_labels,
)
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    Questionnaire,
    RespondentGroup,
    Unit,
    utcnow,
)
from survey.permissions import role_required
from survey.post_form import EmptyForm
from survey.questionnaire_form import form_for, restore
from survey.questionnaire_store import to_model


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
            return saved(version, _("Questionnaire created. Add its first section."))
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
            return saved(version, message)
    return render_template(TEMPLATES + "import.html", form=form, error=error, excerpt=excerpt)


# -------------------------------------------------------------------------------- versions


@bp.get("/versions/<int:version_id>")
@role_required(*STAFF)
def version_detail(version_id: int):
    """A version's sections and questions; a draft's can be changed here."""
    version = version_or_404(version_id)
    definition = to_model(version)
    return render_template(
        TEMPLATES + "version.html",
        version=version,
        definition=definition,
        rows=list(zip(version.sections, definition.sections)),
        type_labels=type_labels(current_language()),
        rounds=editing.rounds_by_version().get(version.id, []),
        editable=editing.is_editable(version),
        button=EmptyForm(),
        move=MoveForm(),
        lang=current_language(),
        shared_items=set(version.template.item_codes) if version.template else set(),
        adopted=version.template is not None
        and version.template.publisher_id != tenancy.current_office_id(),
    )


@bp.route("/versions/<int:version_id>/settings", methods=["GET", "POST"])
@role_required(*STAFF)
def version_update(version_id: int):
    version = version_or_404(version_id)
    if not editing.is_editable(version):
        return not_editable(version)
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
            return saved(version, _("Settings saved."))
    return render_template(TEMPLATES + "settings.html", form=form, version=version)


@bp.post("/versions/<int:version_id>/publish")
@role_required(*STAFF)
def version_publish(version_id: int):
    version = version_or_404(version_id)
    return apply_edit(
        version,
        EmptyForm(),
        lambda: editing.publish(version, utcnow()),
        _("Published: rounds can now use this version."),
    )


@bp.post("/versions/<int:version_id>/unpublish")
@role_required(*STAFF)
def version_unpublish(version_id: int):
    version = version_or_404(version_id)
    return apply_edit(
        version,
        EmptyForm(),
        lambda: editing.unpublish(version),
        _("The version is a draft again and can be edited."),
    )


@bp.post("/versions/<int:version_id>/new-draft")
@role_required(*STAFF)
def version_copy(version_id: int):
    """Edit as new draft: the version is copied; it and its rounds stay as they are."""
    version = version_or_404(version_id)
    if not EmptyForm().validate_on_submit():
        return to_version(version)
    draft = editing.new_draft(version)
    return saved(
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
    version = version_or_404(version_id)
    filename = f"{version.questionnaire.code}-v{version.number}.yaml"
    return Response(
        dump(to_model(version)),
        content_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/versions/<int:version_id>/export.xlsx")
@role_required(*STAFF)
def version_export_xlsform(version_id: int):
    """The version as an XLSForm workbook for ODK, KoboToolbox or SurveyCTO; importing it back
    gives the same questionnaire."""
    version = version_or_404(version_id)
    filename = f"{version.questionnaire.code}-v{version.number}.xlsx"
    return Response(
        xlsform.dump(to_model(version)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/versions/<int:version_id>/preview")
@role_required(*STAFF)
def version_preview(version_id: int):
    """The version as one respondent group sees it, built by the live survey's own form code."""
    version = version_or_404(version_id)
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
