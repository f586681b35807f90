"""Webhooks, for administrators: the list, a new endpoint (its secret made here), its events,
deactivating it, its secret on demand, its delivery log with a redelivery button, and a test
event. Every change is in the audit trail (survey.webhooks)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import webhooks
from survey.admin import bp
from survey.admin.forms import WebhookForm
from survey.extensions import db
from survey.models import WebhookDelivery, WebhookEndpoint
from survey.permissions import role_required
from survey.post_form import EmptyForm


def _form(endpoint: WebhookEndpoint | None = None) -> WebhookForm:
    form = WebhookForm(obj=endpoint)
    form.events.choices = [(name, label) for name, label in webhooks.EVENTS.items()]
    return form


def _saved(form: WebhookForm, save) -> bool:
    """Run ``save`` on a valid form; a refused URL or event list becomes the field's error."""
    if not form.validate_on_submit():
        return False
    try:
        save()
    except webhooks.WebhookError as error:
        form[error.field].errors.append(str(error))
        db.session.rollback()
        return False
    db.session.commit()
    return True


@bp.get("/webhooks")
@role_required("admin")
def webhooks_index():
    return render_template(
        "admin/webhooks.html",
        endpoints=webhooks.endpoints(),
        latest=webhooks.latest_deliveries(),
        events=webhooks.EVENTS,
        statuses=webhooks.STATUS_LABELS,
    )


@bp.route("/webhooks/new", methods=["GET", "POST"])
@role_required("admin")
def webhook_new():
    form, made = _form(), []
    if not form.is_submitted():
        form.events.data = list(webhooks.EVENTS)
    save = lambda: made.append(  # noqa: E731
        webhooks.create_endpoint(
            form.url.data, form.events.data, form.description.data or "", current_user
        )
    )
    if _saved(form, save):
        flash(
            _("Webhook created. Show its secret and copy it into the receiving system."),
            "success",
        )
        return redirect(url_for("admin.webhook_edit", endpoint_id=made[0].id))
    return render_template("admin/webhook_edit.html", form=form, endpoint=None)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@role_required("admin")
def webhook_edit(endpoint_id: int):
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    form = _form(endpoint)
    save = lambda: webhooks.update_endpoint(  # noqa: E731
        endpoint, form.url.data, form.events.data, form.description.data or ""
    )
    if _saved(form, save):
        flash(_("Webhook saved."), "success")
        return redirect(url_for("admin.webhook_edit", endpoint_id=endpoint.id))
    return render_template(
        "admin/webhook_edit.html",
        form=form,
        endpoint=endpoint,
        deliveries=webhooks.deliveries_of(endpoint),
        statuses=webhooks.STATUS_LABELS,
        events=webhooks.EVENTS,
        button=EmptyForm(),
    )


@bp.post("/webhooks/<int:endpoint_id>/secret")
@role_required("admin")
def webhook_secret(endpoint_id: int):
    """The secret on demand: a POST (audited), never in a URL or a page served by GET."""
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    secret = webhooks.reveal_secret(endpoint)
    db.session.commit()
    response = make_response(
        render_template("admin/webhook_secret.html", endpoint=endpoint, secret=secret)
    )
    response.headers["Cache-Control"] = "no-store"  # not kept in the browser's history
    return response


@bp.post("/webhooks/<int:endpoint_id>/<any(activate, deactivate, rotate, test):change>")
@role_required("admin")
def webhook_change(endpoint_id: int, change: str):
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if change == "test":
        try:
            webhooks.send_test(endpoint)
        except webhooks.WebhookError as error:
            flash(str(error), "error")
            return redirect(url_for("admin.webhook_edit", endpoint_id=endpoint.id))
        message = _("A test event was sent; its delivery is listed below.")
    elif change == "rotate":
        webhooks.rotate_secret(endpoint)
        message = _("A new secret was made: the old one no longer verifies deliveries.")
    else:
        webhooks.set_active(endpoint, change == "activate")
        message = _("Webhook activated.") if endpoint.active else _("Webhook deactivated.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.webhook_edit", endpoint_id=endpoint.id))


@bp.post("/webhooks/deliveries/<int:delivery_id>/redeliver")
@role_required("admin")
def webhook_redeliver(delivery_id: int):
    delivery = db.get_or_404(WebhookDelivery, delivery_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        webhooks.redeliver(delivery)
    except webhooks.WebhookError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The delivery was sent again; its status is below."), "success")
    return redirect(url_for("admin.webhook_edit", endpoint_id=delivery.endpoint_id))
