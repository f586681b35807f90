"""Who is calling the API: a browser session or an API token, checked before every view.

- ``Authorization: Bearer <token>``: the token's user is the request's user (no session is
  read or written); the token must carry the operation's scope (403 otherwise), and must be
  neither revoked nor of a disabled account (401). No CSRF token: a cross-site form cannot
  set that header.
- Neither: 401 before anything else (but for the public document and its page).
- No Authorization header: the browser session, as on the pages; its POSTs need the CSRF
  token (``X-CSRFToken``), checked here because the blueprint is exempt from the global check
  (which cannot tell the two kinds of request apart).

Every request with a known token is audited, one event per request (``api_token_used``, or
``api_token_refused`` with the reason), committed before the view runs, so that a use is
recorded even when the view then fails. One row per request is what the office's scripts
make (a few hundred a day; a script polling every minute, 1,440) and keeps the trail
append-only; an aggregate per hour would have to update its row. Unknown tokens are not
audited (there is no account to name) but throttled per address like wrong invitation links.
"""

from __future__ import annotations

from flask import abort, current_app, g, request
from flask_login import current_user

from survey import api_tokens
from survey.api import bp
from survey.api.spec import Operation, operation_of, parsed
from survey.audit import record
from survey.database import begin_write
from survey.extensions import csrf, db, login_manager
from survey.models import utcnow
from survey.security import limiter

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def api_token_limit() -> str:
    return current_app.config["API_TOKEN_RATE_LIMIT"]


def _refused_token(response) -> bool:
    return response.status_code == 401 and "Authorization" in request.headers


# Counts only the refused tokens of an address; past the limit every API request from that
# address is 429 for a while (as wrong invitation links).
limiter.limit(api_token_limit, deduct_when=_refused_token, scope="api-token")(bp)


@bp.before_request
def authenticate():
    op = operation_of(current_app, request.endpoint)
    header = request.headers.get("Authorization")
    if header is not None:
        _bearer(header, op)
    elif request.method in UNSAFE and _csrf_checked() and current_user.is_authenticated:
        # A session's POST (without one, the view answers 401 rather than a CSRF 400).
        csrf.protect()
    if op is not None and not op.public and not current_user.is_authenticated:
        abort(401)
    if op is not None and op.query is not None:
        g.api_query = parsed(op.query, request.args.to_dict(), "query")


def _csrf_checked() -> bool:
    config = current_app.config
    return config.get("WTF_CSRF_ENABLED", True) and config.get("WTF_CSRF_CHECK_DEFAULT", True)


def _bearer(header: str, op: Operation | None) -> None:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        abort(401, description="Send the token as 'Authorization: Bearer <token>'.")
    try:
        token = api_tokens.find(secret.strip())
    except api_tokens.TokenRefused as refused:
        _audit("api_token_refused", refused.token, reason=refused.reason)
        abort(401, description=f"This token cannot be used: {refused.reason}.")
    if token is None:
        abort(401, description="Unknown token.")
    g.api_token = token
    # The token's user for this request only: Flask-Login's own step when it loads a user,
    # here without the session (nothing is written to it, no cookie is sent back).
    login_manager._update_request_context_with_user(token.user)
    if op is not None and op.scope and op.scope not in token.scopes:
        _audit("api_token_refused", token, reason=f"scope {op.scope} missing")
        abort(403, description=f"This token does not have the scope {op.scope}.")
    token.last_used_at = utcnow()
    _audit("api_token_used", token)


def _audit(action: str, token, **detail) -> None:
    begin_write(db.session)
    record(
        action,
        f"api_token:{token.id}",
        actor=token.user,
        token=token.prefix,
        method=request.method,
        path=request.path,
        **detail,
    )
    db.session.commit()


def body(model):
    """The request's JSON body validated by ``model`` (400 naming the problem otherwise); a view
    calls it after its permission check, so that who may not act learns nothing more."""
    return parsed(model, request.get_json(silent=True), "body")


def by_token() -> bool:
    """Whether this request authenticated with a token (no session, no CSRF token to send)."""
    return g.get("api_token") is not None


def user():
    """The request's user, 401 when there is none."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user
