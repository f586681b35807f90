from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from survey import audit
from survey.auth import bp
from survey.auth.forms import LoginForm
from survey.database import begin_write, reads_first
from survey.extensions import db, login_manager
from survey.models import User
from survey.post_form import EmptyForm
from survey.security import (
    failed_login,
    limiter,
    login_account,
    login_address_limit,
    login_limit,
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


# Checked when an account is unknown or inactive, so that a wrong login takes as long as a
# wrong password and its timing does not tell which accounts exist.
_DUMMY_HASH = generate_password_hash("no account has this password")


def safe_next(target: str | None) -> str | None:
    """A `next` URL only if it stays on this site: a path, not //host, /\\host or a URL with
    control characters (which urlsplit would silently drop)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(User.by_email(email))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if user.check_password(password) else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    login_address_limit, methods=["POST"], deduct_when=failed_login, scope="login-address"
)
@limiter.limit(
    login_limit,
    methods=["POST"],
    deduct_when=failed_login,
    scope="login-account",
    key_func=login_account,
)
@reads_first
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = _authenticate(form.email.data, form.password.data)
        begin_write(db.session)  # the password is checked; now the audit record is written
        if user is None:
            audit.record("login_failed", target=form.email.data.strip().lower()[:200])
            db.session.commit()
            # One message for an unknown account and a wrong password: no user enumeration.
            flash(_("The e-mail or password is not correct."), "error")
            return render_template("auth/login.html", form=form), 401
        audit.record("login", target=f"user:{user.id}", actor=user)
        db.session.commit()
        # A new session at login: nothing an attacker planted in the old one carries over,
        # except the language the visitor chose, which is theirs to keep.
        lang = session.get("lang")
        session.clear()
        if lang in current_app.config["LANGUAGES"]:
            session["lang"] = lang
        login_user(user)
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            audit.record("logout", target=f"user:{current_user.id}")
            db.session.commit()
        logout_user()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
