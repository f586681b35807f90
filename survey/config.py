"""Defaults only. The environment and instance/config.py override them (see create_app)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

DEFAULTS = {
    "BASE_URL": "http://127.0.0.1:5000",
    "LANGUAGES": ("zh", "en"),
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    # A survey page may stay open for hours while a secretary collects answers; a CSRF token
    # that expires after the default hour would throw those answers away on submit.
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # No pool_pre_ping: survey.database checks a pooled connection without a round trip.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "ANONYMITY_THRESHOLD": 5,
    # How many other offices must publish a figure on a shared item before an office sees
    # their distribution (unnamed: median and quartiles) beside its own
    # (survey.results.comparisons, analysis.benchmarks).
    "BENCHMARK_MIN_OFFICES": 5,
    # Who may download a named round's raw answers with unit codes (admins always may);
    # SURVEY_RAW_ANSWER_ROLES='[]' keeps them to admins.
    "RAW_ANSWER_ROLES": ("quality_lead",),
    # A round with more responses than this has its raw answers CSV, workbook and report built
    # by the background worker, with a progress page; a smaller one's are made in the request.
    "EXPORT_IN_REQUEST_RESPONSES": 10_000,
    # How long each worker keeps what a survey page builds from a frozen questionnaire version
    # (survey/respond/built.py): the lag of a renamed group or unit, or a new "you said, we did".
    "RESPONDENT_CACHE_SECONDS": 60.0,
    # How many reverse proxies in front of the app append to X-Forwarded-For/-Proto (0: none,
    # the headers are not believed). Throttling counts per client address, which behind a proxy
    # is only known from them.
    "PROXY_HOPS": 0,
    # Rate-limit counters live in each process; several servers share them through e.g.
    # RATELIMIT_STORAGE_URI = "redis://host:6379/0" (the optional "redis" extra).
    "RATELIMIT_STORAGE_URI": "memory://",
    # Failed logins per account (from anywhere), and per client address over all accounts:
    # a larger count, so that one account's attacker does not lock out its colleagues.
    "LOGIN_RATE_LIMIT": "10 per 15 minutes",
    "LOGIN_ADDRESS_RATE_LIMIT": "100 per 15 minutes",
    # Wrong invitation links per client address.
    "TOKEN_RATE_LIMIT": "30 per 5 minutes",
    # Refused API tokens per client address (survey.api.access).
    "API_TOKEN_RATE_LIMIT": "30 per 5 minutes",
    # Public ratings sent per network (an IPv4 /24, an IPv6 /56: survey.public_ratings.network),
    # whatever the device: a service hall's Wi-Fi puts its citizens behind one address, so the
    # limit is that of a busy hall, not of one person.
    "PUBLIC_RATING_RATE_LIMIT": "60 per hour",
    # The office's calendar beyond Monday to Friday, for the deadlines of public feedback
    # cases: public holidays, and the weekend days worked in their place (调休). ISO dates, as
    # a JSON list (SURVEY_OFFICE_HOLIDAYS='["2026-10-01", ...]') or separated by commas.
    "OFFICE_HOLIDAYS": [],
    "OFFICE_WORKDAYS": [],
    # How long an e-mailed link to set a password works: a reset, and a new account's first.
    "PASSWORD_RESET_SECONDS": 3600,
    "ACCOUNT_INVITE_SECONDS": 3 * 24 * 3600,
    # Where files every server must read are kept (evidence files, prepared exports): None for
    # the database, or a folder every server mounts (SURVEY_SHARED_FOLDER=/mnt/survey).
    "SHARED_FOLDER": None,
    # Webhooks post only to public addresses unless this is set (SURVEY_WEBHOOK_ALLOW_PRIVATE=
    # true): a receiver on the office's intranet needs it; see the README's note on SSRF.
    "WEBHOOK_ALLOW_PRIVATE": False,
    "WEBHOOK_TIMEOUT": 10,
}


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL if set, else SQLite in the instance folder.

    `postgres://` (Heroku style) and a bare `postgresql://` are pointed at psycopg 3, the only
    PostgreSQL driver we install.
    """
    if not raw:
        return "sqlite:///" + str(Path(instance_path) / "survey.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def instance_secret_key(instance_path: str) -> str:
    """A key kept in instance/secret_key, made on first use, so that sessions survive a restart
    and every worker process of one server signs cookies alike."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


# The settings the README names as plain environment variables (any other Flask setting takes
# the SURVEY_ prefix), with the type each is read as.
PLAIN_ENVIRONMENT = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "BASE_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    # The older name of MAIL_DEFAULT_SENDER, still read (survey.mail.init_app).
    "MAIL_SENDER": str,
}


def from_environment(environ: Mapping[str, str]) -> dict[str, object]:
    """The settings of ``PLAIN_ENVIRONMENT`` that ``environ`` sets (and not empty), typed: a
    port is a number, and TLS is on for 1, true, yes or on (so "false" turns it off)."""
    found: dict[str, object] = {}
    for name, kind in PLAIN_ENVIRONMENT.items():
        value = environ.get(name)
        if not value:
            continue
        if kind is bool:
            found[name] = value.strip().lower() in ("1", "true", "yes", "on")
        else:
            found[name] = kind(value)
    return found
