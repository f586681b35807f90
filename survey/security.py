"""Response headers and rate limits that every page gets, and the client's address behind a
reverse proxy.

The Content-Security-Policy allows scripts, styles and images from this site only: the
templates use no inline script or style, so an injected <script> or style attribute does
nothing even if it ever slipped past Jinja's escaping.
"""

from __future__ import annotations

import importlib.util

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

limiter = Limiter(get_remote_address, default_limits=[])

# Endpoints with no rate limit of any kind (see never_limited).
NEVER_LIMITED: set[str] = set()


def never_limited(*endpoints: str) -> None:
    """Tell the limiter that these endpoints have no limit, default, blueprint or decorated:
    its check before every request is then not run for them at all. A request filter would
    skip the limits too, but only after the limiter had looked up the view and its limits and
    evaluated the (empty) list: 0.5 ms of a respondent's 6.5 ms of CPU in process on
    PostgreSQL (bench/profile_submission.py). A limit given to one of them must take it out of
    here."""
    NEVER_LIMITED.update(endpoints)


def _check_limits_unless_never_limited() -> None:
    if request.endpoint in NEVER_LIMITED:
        return None
    return limiter._check_request_limit()


def _skip_never_limited(app: Flask) -> None:
    """Put the check above in place of the limiter's own before each request."""
    hooks = app.before_request_funcs.setdefault(None, [])
    if _check_limits_unless_never_limited in hooks:
        return  # this app's limiter is set up already
    for n, hook in enumerate(hooks):
        if hook == limiter._check_request_limit:  # a bound method: equal, not identical
            hooks[n] = _check_limits_unless_never_limited
            return
    raise RuntimeError("Flask-Limiter's check before each request was not found")


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def login_address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def token_limit() -> str:
    return current_app.config["TOKEN_RATE_LIMIT"]


def login_account() -> str:
    """Failed logins count per account as well as per address, so that guessing one account's
    password from many addresses is slowed down too, and the lock of an attacked account stays
    with that account."""
    return "account:" + request.form.get("email", "").strip().lower()


def failed_login(response) -> bool:
    return response.status_code == 401


def unknown_token(response) -> bool:
    return response.status_code == 404


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


def security_headers(response):
    """Each header unless the view set its own. The names present are read once: four
    Headers.setdefault calls scanned the headers four times, on every request."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_HOPS reverse proxies, the client's address and scheme are the ones the
    nearest proxies appended to X-Forwarded-For and X-Forwarded-Proto (what a client wrote
    there itself stays to the left and is ignored); without proxies the headers are ignored."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops < 0:
        raise ValueError(f"PROXY_HOPS must be 0 or more, not {hops}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


class _KeyKeptSigner(TimestampSigner):
    """itsdangerous' signer, deriving each signing key once: it derived it again (an HMAC) for
    every cookie signed or checked, with the same secret key, salt and method every time."""

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else secret_key
        key = (secret, self.salt, self.key_derivation, self.digest_method)
        derived = self._derived.get(key)
        if derived is None:
            derived = super().derive_key(secret_key)
            if len(self._derived) > 64:  # keys rotated many times (tests): start afresh
                self._derived.clear()
            self._derived[key] = derived
        return derived


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, the same cookies, with its serializer made once per
    secret key (and fallbacks) instead of twice per request (reading and writing the cookie):
    every request of a respondent reads the session and most write it."""

    def __init__(self) -> None:
        self._kept: tuple[tuple, URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config["SECRET_KEY_FALLBACKS"] or ())
        keys = (*fallbacks, app.secret_key)  # itsdangerous expects the current key last
        kept = self._kept
        if kept is not None and kept[0] == keys:
            return kept[1]
        serializer = URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer=_KeyKeptSigner,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._kept = (keys, serializer)
        return serializer


def check_storage(app: Flask) -> None:
    """Redis storage needs the optional `redis` package: say how to install it rather than
    the limiter's bare "prerequisite not available"."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.startswith("redis") and importlib.util.find_spec("redis") is None:
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI names a Redis server but the redis package is not installed:"
            " pip install -c constraints.txt '.[redis]'"
        )


def init_app(app: Flask) -> None:
    trust_proxies(app)
    check_storage(app)
    limiter.init_app(app)
    _skip_never_limited(app)
    app.session_interface = SessionCookies()
    app.after_request(security_headers)
