"""Staff accounts, for administrators: the list, a new account (its owner sets the password
through an e-mailed link), role, name and unit, disabling and re-enabling, and asking for a
new password at the next login. Every change is in the audit trail (survey.accounts)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from survey import accounts, mail, offices
from survey.admin import bp
from survey.admin.forms import AccountForm, NewAccountForm
from survey.extensions import db
from survey.i18n import current_language
from survey.models import ROLE_LABELS, Membership, Unit, User
from survey.permissions import role_required
from survey.post_form import EmptyForm


@bp.get("/users")
@role_required("admin")
def users():
    people = db.session.scalars(
        offices.members().order_by(User.active.desc(), Membership.role, User.email)
    )
    return render_template(
        "admin/users.html", users=list(people), roles=ROLE_LABELS, lang=current_language()
    )


def _unit_choices(form: AccountForm) -> None:
    lang = current_language()
    units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.code))
    form.unit_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(u.id, f"{u.name(lang)} ({u.code})") for u in units
    ]


def _checked_unit(form: AccountForm) -> tuple[bool, Unit | None]:
    unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
    if form.role.data == "respondent" and unit is None:
        form.unit_id.errors.append(_("A respondent account needs its unit."))
        return False, None
    return True, unit


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def user_new():
    form = NewAccountForm()
    _unit_choices(form)
    if form.validate_on_submit():
        try:
            email = mail.address(form.email.data).lower()
        except ValueError as error:
            form.email.errors.append(_("Not one valid e-mail address: %(reason)s", reason=error))
            email = None
        if email and db.session.scalar(User.by_email(email)) is not None:
            form.email.errors.append(_("An account with this e-mail address exists already."))
            email = None
        ok, unit = _checked_unit(form)
        if email and ok:
            user = accounts.create(email, form.role.data, form.display_name.data.strip(), unit)
            # Queued: the mail job sends it (the message's record says how that went).
            accounts.send_password_link(user, "invite")
            db.session.commit()
            flash(
                _(
                    "Account created; a link to set its password was sent to %(email)s.",
                    email=email,
                ),
                "success",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_edit.html", form=form, user=None, button=EmptyForm())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_edit(user_id: int):
    user = offices.member(user_id) or abort(404)
    form = AccountForm(obj=user)
    del form.email  # an account keeps its address
    _unit_choices(form)
    if form.validate_on_submit():
        ok, unit = _checked_unit(form)
        if ok and _own(user) and form.role.data != user.role:
            form.role.errors.append(_("You cannot change your own role."))
            ok = False
        person_changed = (
            form.display_name.data.strip() != user.display_name
            or (unit.id if unit else None) != user.unit_id
        )
        if ok and person_changed and not offices.only_here(user):
            # The name and the unit are the person's, in every office they work for.
            form.display_name.errors.append(
                _("This account works for other offices too: only its role here can change.")
            )
            ok = False
        if ok:
            accounts.change(user, form.role.data, form.display_name.data.strip(), unit)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_edit.html", form=form, user=user, button=EmptyForm())


def _own(user: User) -> bool:
    return user.id == current_user.id


def _user_for_button(user_id: int) -> User:
    user = offices.member(user_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not offices.only_here(user):
        # Disabling, a password: the account's, for every office it works for.
        abort(403, description=_("This account works for other offices too."))
    return user


@bp.post("/users/<int:user_id>/disable")
@role_required("admin")
def user_disable(user_id: int):
    user = _user_for_button(user_id)
    if _own(user):
        flash(_("You cannot disable your own account."), "error")
    else:
        accounts.disable(user)
        db.session.commit()
        flash(_("The account is disabled and logged out."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/enable")
@role_required("admin")
def user_enable(user_id: int):
    user = _user_for_button(user_id)
    accounts.enable(user)
    db.session.commit()
    flash(_("The account can log in again."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/force-password-change")
@role_required("admin")
def user_force_password_change(user_id: int):
    user = _user_for_button(user_id)
    if _own(user):
        flash(_("Change your own password on the password page."), "error")
    else:
        accounts.force_password_change(user)
        db.session.commit()
        flash(_("The account must choose a new password at its next login."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/password-link")
@role_required("admin")
def user_password_link(user_id: int):
    user = _user_for_button(user_id)
    if not user.active:
        flash(_("A disabled account gets no password link: enable it first."), "error")
    else:
        accounts.send_password_link(user, "reset")
        db.session.commit()
        flash(_("A link to set a new password was sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
