"""The office's scale library: list, add and change the scales questionnaires may reuse."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.design import bp
from survey.design.editor import STAFF
from survey.design.questionnaire_forms import show_error
from survey.design.scale_forms import ScaleForm, scale_data
from survey.editing import EditError
from survey.editing.scales import library_scales, save_scale, to_scale
from survey.extensions import db
from survey.models import LibraryScale
from survey.permissions import role_required


@bp.get("/scales")
@role_required(*STAFF)
def scales_index():
    rows = library_scales()
    return render_template(
        "design/scales/index.html", scales=[(row, to_scale(row)) for row in rows]
    )


@bp.route("/scales/new", methods=["GET", "POST"], defaults={"scale_id": None})
@bp.route("/scales/<int:scale_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def scale_edit(scale_id: int | None):
    row = db.get_or_404(LibraryScale, scale_id) if scale_id else None
    form = ScaleForm(data=scale_data(row))
    if form.validate_on_submit():
        try:
            saved = save_scale(row, form.scale(), form.name(), current_user)
        except EditError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Scale %(code)s saved.", code=saved.code), "success")
            return redirect(url_for("design.scales_index", _anchor=f"scale-{saved.code}"))
    return render_template("design/scales/edit.html", form=form, scale=row)
