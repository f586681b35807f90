"""The user's own API tokens: made (the secret shown once), listed and revoked."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from survey import api_tokens
from survey.auth import bp
from survey.auth.forms import TokenForm
from survey.extensions import db
from survey.models import ApiToken, utcnow
from survey.post_form import EmptyForm


def _form(**kwargs) -> TokenForm:
    form = TokenForm(**kwargs)
    form.scopes.choices = [
        (scope, str(api_tokens.SCOPE_LABELS[scope]))
        for scope in api_tokens.scopes_for(current_user)
    ]
    return form


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = _form()
    secret = None
    if form.validate_on_submit():
        _, secret = api_tokens.create(current_user, form.name.data, form.scopes.data, utcnow())
        db.session.commit()
        form = _form(formdata=None)  # empty again: the next token starts afresh
    mine = db.session.scalars(api_tokens.of_user(current_user)).all()
    return render_template(
        "auth/tokens.html",
        form=form,
        secret=secret,
        tokens=mine,
        scope_labels=api_tokens.SCOPE_SHORT_LABELS,
        button=EmptyForm(),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def token_revoke(token_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    token = db.get_or_404(ApiToken, token_id)
    # Each account revokes its own tokens only (an administrator disables the account).
    if token.user_id != current_user.id:
        abort(403)
    api_tokens.revoke(token, current_user, utcnow())
    db.session.commit()
    flash(_("Token “%(name)s” revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("auth.tokens"))
