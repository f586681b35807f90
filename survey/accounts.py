"""Staff accounts: created, changed, disabled and re-enabled by an administrator; passwords
changed by their owner or reset through an e-mailed link. Each change is added to the caller's
transaction with its audit event; the caller commits.

Every change that must end the account's sessions (a new password, disabling, a new role)
bumps ``User.session_version`` (survey.auth.views.load_user compares it with the session's),
so that an old or copied cookie stops working at its next request.

A password link is signed with the app's SECRET_KEY (itsdangerous, which Flask ships) and
carries the account's id, its session version and a digest of its password hash: setting a
password changes both, so a used link, or one made before the last password change, fails;
it expires after PASSWORD_RESET_SECONDS (a reset) or ACCOUNT_INVITE_SECONDS (the first
password of a new account).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import generate_password_hash

from survey import api_tokens, audit, mail, offices
from survey.extensions import db
from survey.models import User, utcnow

RESET_SALT = "survey.password-link"
PURPOSES = ("reset", "invite")


class AccountError(ValueError):
    """A change the rules refuse; the message (lazy, translated) says why."""


def target(user: User) -> str:
    return f"user:{user.id}"


def create(email: str, role: str, name: str, unit=None) -> User:
    """A new account without a usable password: its owner sets one through the e-mailed link
    (send_password_link(user, "invite"))."""
    user = User(email=email.strip().lower(), role=role, display_name=name or email, unit=unit)
    user.password_hash = generate_password_hash(secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", target=target(user), role=role, **_unit_detail(unit))
    return user


def _unit_detail(unit) -> dict:
    return {"unit": unit.code} if unit is not None else {}


def change(user: User, role: str, name: str, unit) -> None:
    """A new role, name or unit; a new role ends the account's sessions (the rights of the old
    one must not outlive it), the password stays."""
    if role != user.role:
        audit.record("role_changed", target=target(user), before=user.role, after=role)
        user.role = role
        user.end_sessions()
    if (unit.id if unit else None) != user.unit_id:
        before = user.unit.code if user.unit else "—"
        audit.record(
            "user_changed", target=target(user), unit=f"{before} → {unit.code if unit else '—'}"
        )
        user.unit = unit
    if name != user.display_name:
        audit.record("user_changed", target=target(user), name=f"{user.display_name} → {name}")
        user.display_name = name


def disable(user: User) -> None:
    if not user.active:
        return
    user.active = False
    user.end_sessions()
    audit.record("user_disabled", target=target(user))


def enable(user: User) -> None:
    if user.active:
        return
    user.active = True
    audit.record("user_enabled", target=target(user))


def force_password_change(user: User) -> None:
    """The next login leads to the password form and nowhere else; sessions open now end, and
    so do the account's API tokens (an admin forces a change when the account may be in other
    hands, and a token is as good as a session)."""
    user.must_change_password = True
    user.end_sessions()
    audit.record("password_change_forced", target=target(user))
    api_tokens.revoke_all(user, "password change forced", utcnow())


def set_password(user: User, password: str, how: str) -> None:
    """A new password (how: "changed" by its owner, "reset" through a link, "set" from the
    command line); every session of the account ends, its password links fail. A reset also
    revokes the account's API tokens: whoever lost the password may have lost more (its owner
    changing it knowingly keeps them)."""
    user.set_password(password)
    user.must_change_password = False
    user.end_sessions()
    audit.record(
        "password_reset" if how == "reset" else "password_changed",
        target=target(user),
        office_id=offices.office_for(user),
    )
    if how == "reset":
        api_tokens.revoke_all(user, "password reset", utcnow())


# --- password links ------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def password_token(user: User, purpose: str = "reset") -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    payload = {"u": user.id, "v": user.session_version, "h": _fingerprint(user), "p": purpose}
    return _serializer().dumps(payload)


def max_age(purpose: str) -> int:
    key = "ACCOUNT_INVITE_SECONDS" if purpose == "invite" else "PASSWORD_RESET_SECONDS"
    return int(current_app.config[key])


def user_for_token(token: str) -> tuple[User, str] | None:
    """The active account a password link is for, and its purpose; None for a link that is
    forged, expired, used, or made before the account's last password change or disabling."""
    serializer = _serializer()
    try:
        payload = serializer.loads(token)  # the signature first, the age below
        purpose = payload.get("p") if isinstance(payload, dict) else None
        if purpose not in PURPOSES:
            return None
        serializer.loads(token, max_age=max_age(purpose))
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not user.active:
        return None
    if payload.get("v") != user.session_version or payload.get("h") != _fingerprint(user):
        return None
    return user, purpose


def send_password_link(user: User, purpose: str = "reset") -> None:
    """E-mails the account a link to set its password. The one place accounts send mail."""
    link = current_app.config["BASE_URL"].rstrip("/") + url_for(
        "auth.password_reset", link=password_token(user, purpose)
    )
    until = format_datetime(utcnow() + timedelta(seconds=max_age(purpose)), "medium")
    if purpose == "invite":
        subject = _("Your account for the client satisfaction survey")
        intro = _("An account has been opened for you. Set your password with this link:")
    else:
        subject = _("Setting a new password")
        intro = _(
            "Someone asked to set a new password for your account. If it was you, use this link:"
        )
    body = "\n\n".join(
        [
            intro,
            link,
            _("The link works once, until %(time)s.", time=until),
            _("If you did not ask for it, ignore this message: your password stays as it is."),
        ]
    )
    kind = "account_invitation" if purpose == "invite" else "password_reset"
    mail.send(kind, user.email, subject, body, office_id=offices.office_for(user))
    action = "account_invitation_sent" if purpose == "invite" else "password_link_sent"
    audit.record(action, target=target(user), office_id=offices.office_for(user))
