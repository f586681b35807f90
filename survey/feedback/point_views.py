"""Service points: the list, a new one, its settings, a new public link, its QR poster."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from survey import service_points, tenancy
from survey.extensions import db
from survey.feedback import bp
from survey.feedback.forms import ConfirmForm, PointForm
from survey.i18n import current_language
from survey.models import Office, ServicePoint
from survey.permissions import role_required

# Designers set service points up; leads, who answer their ratings, may too.
STAFF = ("designer", "quality_lead")


@bp.route("/points", methods=["GET", "POST"])
@role_required(*STAFF)
def points():
    form = PointForm()
    status = 200
    if form.validate_on_submit():
        try:
            point = service_points.create(
                form.code.data, form.name_zh.data, form.name_en.data, form.kind.data
            )
        except service_points.PointError as error:
            form.code.errors = [*form.code.errors, str(error)]
            status = 400
        else:
            db.session.commit()
            flash(_("Service point %(code)s added: print its poster.", code=point.code), "success")
            return redirect(url_for("feedback.point", point_id=point.id))
    elif form.is_submitted():
        status = 400
    page = render_template(
        "feedback/points.html",
        points=service_points.listing(),
        form=form,
        url_of=service_points.public_url,
        kinds=service_points.KIND_LABELS,
        lang=current_language(),
    )
    return page, status


@bp.route("/points/<int:point_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def point(point_id: int):
    point = db.get_or_404(ServicePoint, point_id)
    form = PointForm(obj=point)
    status = 200
    if form.validate_on_submit():
        try:
            service_points.update(
                point, form.name_zh.data, form.name_en.data, form.kind.data, form.active.data
            )
        except service_points.PointError as error:
            flash(str(error), "error")
            status = 400
        else:
            db.session.commit()
            flash(_("The service point was saved."), "success")
            return redirect(url_for("feedback.point", point_id=point.id))
    elif form.is_submitted():
        status = 400
    page = render_template(
        "feedback/point.html",
        point=point,
        form=form,
        confirm=ConfirmForm(),
        url=service_points.public_url(point),
        lang=current_language(),
    )
    return page, status


@bp.post("/points/<int:point_id>/renew")
@role_required(*STAFF)
def point_renew(point_id: int):
    point = db.get_or_404(ServicePoint, point_id)
    if ConfirmForm().validate_on_submit():
        service_points.renew_link(point)
        db.session.commit()
        flash(_("The old link and its posters no longer work: print the new poster."), "success")
    return redirect(url_for("feedback.point", point_id=point.id))


@bp.get("/points/<int:point_id>/poster.pdf")
@role_required(*STAFF)
def poster(point_id: int):
    # reportlab is imported by the first poster, not by every process that serves pages.
    from survey import posters

    point = db.get_or_404(ServicePoint, point_id)
    office = db.session.get(Office, tenancy.current_office_id())
    pdf = posters.poster_pdf(
        point, service_points.public_url(point), office.name_zh, office.name_en
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="poster-{point.code}.pdf"'},
    )
