from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from survey import accounts, audit, mail, offices, passwords
from survey.auth import bp
from survey.auth.forms import LoginForm, PasswordChangeForm, PasswordForgotForm, PasswordSetForm
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

# The account's session version at login (survey.models.User.session_version).
SESSION_VERSION = "session_version"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's account, if it is still active and its sessions have not been ended since
    this one began (logout, a new password, disabled, a new role): else the visitor is
    anonymous again and a staff page asks to log in."""
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or session.get(SESSION_VERSION) != user.session_version:
        return None
    return user


# Where an account that must change its password may go before it has.
_WHILE_PASSWORD_MUST_CHANGE = {"auth.password_change", "auth.logout", "static"}


@bp.before_app_request
def password_change_first():
    # The cheap checks first: a respondent's request (three per response) then never loads
    # the session's account (Flask-Login's user loader and session-protection hash) for it.
    if (
        request.blueprint != "respond"
        and request.endpoint not in _WHILE_PASSWORD_MUST_CHANGE
        and current_user.is_authenticated
        and current_user.must_change_password
    ):
        flash(_("Please choose a new password before you go on."), "info")
        return redirect(url_for("auth.password_change"))
    return None


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
            # In the trail of the account's office when the address is an account's (its
            # administrator sees the attempts); an unknown address's attempt is in no office's.
            known = db.session.scalar(User.by_email(form.email.data))
            audit.record(
                "login_failed",
                target=form.email.data.strip().lower()[:200],
                office_id=offices.home(known) if known else None,
            )
            db.session.commit()
            # One message for an unknown account and a wrong password: no user enumeration.
            flash(_("The e-mail or password is not correct."), "error")
            return render_template("auth/login.html", form=form), 401
        audit.record("login", target=f"user:{user.id}", actor=user, office_id=offices.home(user))
        db.session.commit()
        # A new session at login: nothing an attacker planted in the old one carries over,
        # except the language the visitor chose, which is theirs to keep.
        lang = session.get("lang")
        session.clear()
        if lang in current_app.config["LANGUAGES"]:
            session["lang"] = lang
        login_user(user)
        session[SESSION_VERSION] = user.session_version
        offices.choose(user, None)
        if user.must_change_password:
            return redirect(url_for("auth.password_change"))
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            audit.record("logout", target=f"user:{current_user.id}")
            # Ends every session of the account, a copied cookie's too.
            current_user.end_sessions()
            db.session.commit()
        logout_user()
        session.pop(SESSION_VERSION, None)
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


def _password_problem(field, user: User) -> bool:
    """Adds the policy's objection to `field`; whether there was one."""
    problem = passwords.problem(field.data or "", user.email, user.display_name)
    if problem is not None:
        field.errors.append(str(problem))
    return problem is not None


def _own_account() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    login_limit,
    methods=["POST"],
    deduct_when=failed_login,
    scope="password-change",
    key_func=_own_account,
)
@reads_first
def password_change():
    """The logged-in user's own password: the current one, then the new one twice."""
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not user.check_password(form.current.data):
            form.current.errors.append(_("The current password is not correct."))
            # Counted like a failed login: a borrowed session cannot guess the password.
            return render_template(
                "auth/password_change.html", form=form, forced=user.must_change_password
            ), 401
        elif not _password_problem(form.new, user):
            begin_write(db.session)
            accounts.set_password(user, form.new.data, "changed")
            db.session.commit()
            # This session stays: it takes the new version; every other one has ended.
            session[SESSION_VERSION] = user.session_version
            flash(
                _("Your password has been changed. Other sessions have been logged out."), "success"
            )
            return redirect(url_for("home.index"))
    return render_template("auth/password_change.html", form=form, forced=user.must_change_password)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], scope="password-forgot")
def password_forgot():
    """Asks for an e-mail address and, when an active account has it, mails it a link. The
    answer is the same either way: the page tells nobody which addresses have accounts."""
    form = PasswordForgotForm()
    if form.validate_on_submit():
        try:
            email = mail.address(form.email.data).lower()
        except ValueError:
            email = form.email.data.strip().lower()
        user = db.session.scalar(User.by_email(email))
        if user is not None and user.active:
            # Queued: an SMTP server that is down fails the message's record, not this page.
            accounts.send_password_link(user, "reset")
            db.session.commit()
        flash(
            _(
                "If an account has this address, a link to set a new password is on its way."
                " It works once, for %(minutes)s minutes.",
                minutes=accounts.max_age("reset") // 60,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/password_forgot.html", form=form)


@bp.route("/password/reset/<link>", methods=["GET", "POST"])
def password_reset(link: str):
    """A new password through an e-mailed link: once, before the link expires."""
    found = accounts.user_for_token(link)
    if found is None:
        flash(_("This link has expired or has already been used. Ask for a new one."), "error")
        return redirect(url_for("auth.password_forgot"))
    user, purpose = found
    form = PasswordSetForm()
    if form.validate_on_submit() and not _password_problem(form.new, user):
        accounts.set_password(user, form.new.data, "reset")
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
            session.pop(SESSION_VERSION, None)
        flash(_("Your password has been set. Log in with it."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/password_reset.html", form=form, user=user, purpose=purpose)


@bp.post("/office")
@login_required
def office_switch():
    """Work for another of the user's offices from now on; one the user does not belong to is
    not found, whether it exists or not."""
    code = request.form.get("office", "").strip()
    if not EmptyForm().validate_on_submit() or not code:
        abort(400)
    office = offices.by_code(code)
    if office is None or current_user.membership(office.id) is None:
        abort(404)
    offices.choose(current_user, office.id)
    audit.record("office_chosen", target=f"office:{office.code}")
    db.session.commit()
    return redirect(url_for("home.index"))
