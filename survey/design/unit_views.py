"""Respondent groups, respondent units and served units."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from survey.design import bp
from survey.design.unit_forms import GroupForm, ImportForm, UnitForm
from survey.extensions import db
from survey.i18n import current_language, translated
from survey.models import RespondentGroup, Unit
from survey.permissions import role_required
from survey.units import UnitImportError, decode_csv, import_units_csv


@bp.get("/units")
@role_required("designer")
def units_index():
    groups = db.session.scalars(select(RespondentGroup).order_by(RespondentGroup.position))
    units = db.session.scalars(select(Unit).order_by(Unit.kind, Unit.group_id, Unit.id))
    return render_template(
        "design/units.html", groups=list(groups), units=list(units), import_form=ImportForm()
    )


@bp.route("/groups/new", methods=["GET", "POST"], defaults={"group_id": None})
@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
@role_required("designer")
def group_edit(group_id: int | None):
    group = db.get_or_404(RespondentGroup, group_id) if group_id else RespondentGroup()
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        if _code_taken(RespondentGroup, form.code.data, group.id):
            form.code.errors.append(_("This code is already used."))
        else:
            form.populate_obj(group)
            db.session.add(group)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("design.units_index"))
    return render_template("design/edit.html", form=form, title=_("Respondent group"))


@bp.route("/units/new", methods=["GET", "POST"], defaults={"unit_id": None})
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@role_required("designer")
def unit_edit(unit_id: int | None):
    unit = db.get_or_404(Unit, unit_id) if unit_id else Unit(active=True)
    form = UnitForm(obj=unit)
    groups = db.session.scalars(select(RespondentGroup).order_by(RespondentGroup.position))
    form.group_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(g.id, g.label(current_language())) for g in groups
    ]
    if form.validate_on_submit():
        if _code_taken(Unit, form.code.data, unit.id):
            form.code.errors.append(_("This code is already used."))
        else:
            form.populate_obj(unit)
            unit.group_id = form.group_id.data if unit.kind == "respondent" else None
            db.session.add(unit)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("design.units_index"))
    return render_template("design/edit.html", form=form, title=_("Unit"))


def _code_taken(model, code: str, own_id: int | None) -> bool:
    other = db.session.scalar(select(model.id).where(model.code == code))
    return other is not None and other != own_id


@bp.post("/units/import")
@role_required("designer")
def units_import():
    form = ImportForm()
    if form.validate_on_submit():
        try:
            text = decode_csv(form.file.data.read()) if form.file.data else form.text.data
            result = import_units_csv(text or "")
        except UnitImportError as error:
            db.session.rollback()
            reason = translated(error.message)
            flash(
                _("Nothing was imported: line %(n)s: %(reason)s", n=error.line, reason=reason),
                "error",
            )
        else:
            db.session.commit()
            flash(
                _(
                    "%(created)s units created, %(updated)s updated.",
                    created=result.created,
                    updated=result.updated,
                ),
                "success",
            )
    return redirect(url_for("design.units_index"))
