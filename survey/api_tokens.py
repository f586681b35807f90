"""API tokens: made and revoked by their user, looked up by the API on every request.

A token acts as its user and never more: the API's views check the user's role and
permissions as for a browser session, and a token also needs the scope of the operation
(``read_results`` for the rounds and their results, ``manage_actions`` for the corrective
actions). A revoked token, or any token of a deactivated account, stops working at once.

A forced password change or a password reset says the password, and so maybe the account, may be
known to someone else: survey.accounts then revokes all the account's tokens (revoke_all), and
while the account must change its password its tokens are refused too (a token must not do
what the account's own login is kept from doing until then).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from survey import audit, offices, tenancy
from survey.extensions import db
from survey.models import ApiToken, User

# The scopes a token can carry and what the token page calls them.
SCOPE_LABELS = {
    "read_results": _l("Read results (rounds and their figures)"),
    "manage_actions": _l("Manage corrective actions (read and move them)"),
}
# The same, short, for the list of tokens.
SCOPE_SHORT_LABELS = {
    "read_results": _l("Read results"),
    "manage_actions": _l("Manage actions"),
}
SCOPES = tuple(SCOPE_LABELS)
# Who may read results at all (as survey.api.rounds and the review pages).
RESULT_READERS = ("quality_lead", "admin")
# Recognisable in logs, and by secret scanners in a repository it was pasted into.
PREFIX = "sxs_"
PREFIX_SHOWN = 12


class TokenRefused(Exception):
    """A token that exists but may not be used: revoked, or its account deactivated."""

    def __init__(self, token: ApiToken, reason: str) -> None:
        super().__init__(reason)
        self.token = token
        self.reason = reason


def scopes_for(user: User) -> tuple[str, ...]:
    """The scopes ``user``'s role can use: results only for those who may read them; actions
    for everyone, since any account may own an action (what it may do is the action's rule)."""
    return tuple(s for s in SCOPES if s != "read_results" or user.role in RESULT_READERS)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(user: User, name: str, scopes: list[str], now: datetime) -> tuple[ApiToken, str]:
    """A new token and its plaintext, which is not kept anywhere: show it once. Scopes beyond
    the user's role are refused (ValueError)."""
    beyond = set(scopes) - set(scopes_for(user))
    if beyond or not scopes:
        raise ValueError(f"scopes not allowed for this account: {sorted(beyond) or 'none given'}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip()[:100],
        secret_hash=digest(secret),
        prefix=secret[:PREFIX_SHOWN],
        scopes=[s for s in SCOPES if s in scopes],
        created_at=now,
    )
    db.session.add(token)
    db.session.flush()
    audit.record("api_token_created", _target(token), actor=user, name=token.name, scopes=scopes)
    return token, secret


def revoke(token: ApiToken, by: User, now: datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record("api_token_revoked", _target(token), actor=by, name=token.name)


def revoke_all(user: User, reason: str, now: datetime) -> int:
    """Revoke every working token of ``user`` (``reason``: what made the account suspect, kept
    in the audit trail); one audit event with the count, none when there was nothing to revoke.
    Returns how many were revoked."""
    # The person's tokens in every office (the account is suspect), revoked inside the block:
    # its end writes them and takes the other offices' out of the session.
    with tenancy.unscoped():
        tokens = db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        ).all()
        for token in tokens:
            token.revoked_at = now
    if tokens:
        audit.record(
            "api_tokens_revoked",
            f"user:{user.id}",
            count=len(tokens),
            reason=reason,
            token=", ".join(t.prefix for t in tokens),
            office_id=offices.office_for(user),
        )
    return len(tokens)


def of_user(user: User) -> Select:
    """The user's tokens, working ones first, newest first."""
    return (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    )


def find(secret: str) -> ApiToken | None:
    """The token with this secret, or None. Raises TokenRefused for a revoked token, or one of
    a deactivated account or of one that must change its password (the caller audits it)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    hashed = digest(secret)
    # The token tells the office the request works for: its office first (a Core read, among
    # every office's tokens), then the token itself in that office.
    table = ApiToken.__table__
    office_id = db.session.execute(
        select(table.c.office_id).where(table.c.secret_hash == hashed)
    ).scalar()
    if office_id is None:
        return None
    tenancy.enter(office_id)
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == hashed))
    # The lookup is by hash already; compare again in constant time for good measure.
    if token is None or not hmac.compare_digest(token.secret_hash, hashed):
        return None
    if token.revoked_at is not None:
        raise TokenRefused(token, "revoked")
    if not token.user.active:
        raise TokenRefused(token, "account disabled")
    if token.user.must_change_password:
        raise TokenRefused(token, "password change required")
    if token.user.role is None:
        raise TokenRefused(token, "no role in the token's office")
    return token


def _target(token: ApiToken) -> str:
    return f"api_token:{token.id}"
