"""The template library: questionnaires offices share, adopted here as a draft to adapt."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import questionnaire_templates as templates
from survey import tenancy
from survey.design import bp
from survey.design.editor import STAFF, TEMPLATES, saved, to_version, version_or_404
from survey.design.questionnaire_forms import type_labels
from survey.extensions import db
from survey.i18n import current_language
from survey.models import Office, QuestionnaireTemplate, utcnow
from survey.permissions import role_required
from survey.post_form import EmptyForm


@bp.get("/templates")
@role_required(*STAFF)
def templates_index():
    """Every shared template (its latest revision), who shares it, and what this office uses."""
    return render_template(
        TEMPLATES + "templates.html",
        entries=templates.library(current_language()),
        button=EmptyForm(),
        lang=current_language(),
    )


@bp.get("/templates/<int:template_id>")
@role_required(*STAFF)
def template_detail(template_id: int):
    """A revision's sections and items: what an office adopting it gets."""
    template = db.get_or_404(QuestionnaireTemplate, template_id)
    publisher = db.session.get(Office, template.publisher_id)
    return render_template(
        TEMPLATES + "template.html",
        template=template,
        definition=templates.definition(template),
        publisher=publisher.name(current_language()) if publisher else "",
        revisions=templates.revisions(template.code),
        used=templates.used_here().get(template.code),
        own=template.publisher_id == tenancy.current_office_id(),
        type_labels=type_labels(current_language()),
        button=EmptyForm(),
        lang=current_language(),
    )


@bp.post("/templates/<int:template_id>/adopt")
@role_required(*STAFF)
def template_adopt(template_id: int):
    template = db.get_or_404(QuestionnaireTemplate, template_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("design.template_detail", template_id=template.id))
    try:
        version, outcome = templates.adopt(template)
    except templates.TemplateError as error:
        flash(str(error), "error")
        return redirect(url_for("design.template_detail", template_id=template.id))
    if outcome == templates.ADOPTED:
        message = _(
            "Adopted as draft version %(n)s: adapt it, then publish it. The template's items "
            "keep their ids, type and scale, so that their results compare with other offices'.",
            n=version.number,
        )
    elif outcome == templates.LINKED:
        message = _(
            "Version %(n)s is the same as the template: it is now linked to it.",
            n=version.number,
        )
    else:
        message = _("This office adopted this revision already: version %(n)s.", n=version.number)
    return saved(version, message)


@bp.post("/versions/<int:version_id>/share")
@role_required(*STAFF)
def version_share(version_id: int):
    """Share a published version with every office as a template (its next revision)."""
    version = version_or_404(version_id)
    if not EmptyForm().validate_on_submit():
        return to_version(version)
    try:
        template, new = templates.share(version, current_user, utcnow())
    except templates.TemplateError as error:
        flash(str(error), "error")
        return to_version(version)
    if new:
        message = _("Shared as revision %(r)s of the template: every office can adopt it.",
                    r=template.revision)  # fmt: skip
    else:
        message = _("The template's revision %(r)s is already this version.", r=template.revision)
    return saved(version, message)
