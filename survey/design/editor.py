"""What the questionnaire editor's views share: the rows a URL names (404 unless they belong
to the version), applying an edit with its message, and the way back to the version."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from survey import editing
from survey.extensions import db
from survey.models import (
    Question,
    QuestionnaireVersion,
    Section,
)

STAFF = ("designer",)
TEMPLATES = "design/questionnaires/"


def version_or_404(version_id: int) -> QuestionnaireVersion:
    return db.get_or_404(QuestionnaireVersion, version_id)


def section_or_404(version_id: int, section_id: int) -> Section:
    # The version first: it is what belongs to an office (survey.tenancy), not its sections.
    version_or_404(version_id)
    section = db.get_or_404(Section, section_id)
    if section.version_id != version_id:
        abort(404)
    return section


def question_or_404(version_id: int, question_id: int) -> Question:
    version_or_404(version_id)
    question = db.get_or_404(Question, question_id)
    if question.version_id != version_id:
        abort(404)
    return question


def to_version(version: QuestionnaireVersion, anchor: str | None = None):
    return redirect(url_for("design.version_detail", version_id=version.id, _anchor=anchor))


def not_editable(version: QuestionnaireVersion):
    flash(_("This version is not a draft and cannot be changed; edit it as a new draft."), "error")
    return to_version(version)


def apply_edit(
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
    return to_version(version, anchor)


def saved(version: QuestionnaireVersion, message: str, anchor: str | None = None):
    db.session.commit()
    flash(message, "success")
    return to_version(version, anchor)
