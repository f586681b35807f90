"""Webhooks: a round's events posted, signed, to the URLs an administrator registers.

Events are raised where they happen and heard here through signals, so that no lower module
imports this one: ``responses.response_submitted``, ``rounds.round_closed``,
``corrective.signals.action_opened`` and ``action_closed``. A listener adds one
``WebhookDelivery`` per subscribed endpoint to the caller's transaction (the outbox pattern: an
event rolled back sends nothing, one committed is never lost), and the deliveries are enqueued
only once that transaction has committed (``_after_commit``): nothing is posted from inside a
request's transaction, and a receiver that calls back finds the change committed.

A delivery is one job (``deliver``): it claims the record with a conditional UPDATE, posts the
stored body with no transaction held, and records the outcome; Huey retries it with a growing
delay (``RETRIES``, ``RETRY_DELAY`` x ``BACKOFF``). Each request carries
``X-Survey-Signature: sha256=HMAC(secret, timestamp + "." + body)`` and
``X-Survey-Timestamp`` (the receiver refuses an old timestamp: a replayed request), as Stripe
and GitHub do, and ``X-Survey-Delivery`` (the same on every attempt: the receiver's
idempotency key).

What a payload may say (README, "Webhooks"): never a respondent's unit, group or answers. An
anonymous round sends no "response submitted" at all: the time of each submission with the
running count would give the submission's place in the round's order of responses, which the
raw-answer export keeps (its response ids), and so pair a respondent seen submitting with their
answers. Its count arrives with "round closed".
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, delete, event, exists, func, select, update
from sqlalchemy.orm import Session

from survey import audit, jobs
from survey.corrective.signals import action_closed, action_opened
from survey.database import begin_write
from survey.extensions import db
from survey.models import (
    CorrectiveAction,
    Response,
    Round,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from survey.responses import asks_first, response_submitted
from survey.rounds import round_closed

# The events an endpoint may subscribe to, and how pages name them.
EVENTS = {
    "response.submitted": _l("Response submitted"),
    "round.closed": _l("Round closed"),
    "action.opened": _l("Corrective action opened"),
    "action.closed": _l("Corrective action closed or cancelled"),
}
# The "send test event" button's, sent to one endpoint whatever it subscribes to.
PING = "ping"
STATUS_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
}
# Five attempts in all, 30 s, 1 min, 2 min and 4 min apart: a receiver restarting or briefly
# overloaded gets the event; one down for longer is the redelivery button's.
RETRIES, RETRY_DELAY, BACKOFF = 4, 30, 2
KEEP_DAYS = 90  # how long the log keeps a delivered delivery
TIMEOUT = 10  # seconds: a silent receiver must not hold a worker thread
SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER = (
    "X-Survey-Signature",
    "X-Survey-Timestamp",
    "X-Survey-Delivery",
)
_PENDING = "webhook_deliveries"  # Session.info key: ids to enqueue once the session commits


class WebhookError(ValueError):
    """A URL or a setting refused, with the reason to show and the form field it concerns."""

    def __init__(self, message: object, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


class DeliveryFailed(Exception):
    """An attempt failed: its record says why; the job is retried."""


# --- endpoints ---------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    """``url`` stripped, or WebhookError: http or https with a host, and unless
    WEBHOOK_ALLOW_PRIVATE is set, no host that resolves to a loopback, private, link-local or
    reserved address (the app must not be made to post into its own network: SSRF)."""
    url = (url or "").strip()
    parts = _split(url)
    _addresses(parts.hostname, parts.port)
    return url


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port out of range or not a number
    except ValueError:  # also "http://[::1/": an unclosed IPv6 bracket
        raise WebhookError(_l("The host or port of this address is not valid.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(_l("Give an address starting with http:// or https://."))
    if parts.username or parts.password:
        raise WebhookError(_l("The address must not contain a user name or password."))
    if port == 0:
        raise WebhookError(_l("The host or port of this address is not valid."))
    return parts


def _addresses(host: str, port: int | None) -> list[str] | None:
    """The addresses ``host`` resolves to, all checked, or None when WEBHOOK_ALLOW_PRIVATE is
    set (then any address goes, and the connection resolves the name itself)."""
    if current_app.config.get("WEBHOOK_ALLOW_PRIVATE"):
        return None
    try:
        found = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise WebhookError(_l("The host name of this address cannot be found.")) from None
    addresses = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise WebhookError(
                _l(
                    "This address is inside a private network (%(address)s); this server "
                    "only posts to public addresses.",
                    address=str(address),
                )
            )
        addresses.append(str(address))
    return addresses


def _checked_events(events: list[str]) -> list[str]:
    unknown = set(events) - set(EVENTS)
    if unknown or not events:
        raise WebhookError(_l("Choose at least one event."), field="events")
    return [name for name in EVENTS if name in events]


def create_endpoint(url: str, events: list[str], description: str, actor: User) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        url=check_url(url),
        events=_checked_events(events),
        description=description.strip()[:200],
        secret=new_secret(),
        active=True,
        created_by=actor,
        created_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook_created", target=_target(endpoint), url=endpoint.url)
    return endpoint


def update_endpoint(
    endpoint: WebhookEndpoint, url: str, events: list[str], description: str
) -> None:
    url, events = check_url(url), _checked_events(events)
    changes = {
        name: [getattr(endpoint, name), value]
        for name, value in (("url", url), ("events", events), ("description", description))
        if getattr(endpoint, name) != value
    }
    endpoint.url, endpoint.events, endpoint.description = url, events, description.strip()[:200]
    if changes:
        audit.record("webhook_changed", target=_target(endpoint), changes=changes)


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    if endpoint.active != active:
        endpoint.active = active
        audit.record("webhook_enabled" if active else "webhook_disabled", target=_target(endpoint))


def reveal_secret(endpoint: WebhookEndpoint) -> str:
    """The secret, for an administrator to copy into the receiver: audited, since whoever
    holds it can forge events."""
    audit.record("webhook_secret_shown", target=_target(endpoint))
    return endpoint.secret


def rotate_secret(endpoint: WebhookEndpoint) -> None:
    endpoint.secret = new_secret()
    audit.record("webhook_secret_changed", target=_target(endpoint))


def _target(endpoint: WebhookEndpoint) -> str:
    return f"webhook:{endpoint.id}"


def endpoints() -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint).order_by(WebhookEndpoint.active.desc(), WebhookEndpoint.id)
        )
    )


def latest_deliveries() -> dict[int, WebhookDelivery]:
    """Each endpoint's latest delivery, for the list's "latest delivery" column."""
    latest = (
        select(func.max(WebhookDelivery.id)).group_by(WebhookDelivery.endpoint_id).scalar_subquery()
    )
    found = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(latest)))
    return {d.endpoint_id: d for d in found}


def deliveries_of(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


# --- events ------------------------------------------------------------------------------


def emit(name: str, data: dict[str, Any], only: WebhookEndpoint | None = None) -> list[int]:
    """A delivery of event ``name`` for each active endpoint subscribed to it (or for ``only``),
    added to the session and enqueued once it commits; returns their ids."""
    if only is not None:
        targets = [only]
    else:
        # The subscription list is JSON, filtered here: a site has a handful of endpoints.
        active = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active))
        targets = [e for e in active if name in (e.events or [])]
    if not targets:
        return []
    now = utcnow()
    made = []
    for endpoint in targets:
        uid = secrets.token_hex(16)
        body = {"id": uid, "event": name, "created": _iso(now), "data": data}
        made.append(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event=name,
                uid=uid,
                payload=json.dumps(body, ensure_ascii=False, sort_keys=True),
                status="pending",
                attempts=0,
                created_at=now,
            )
        )
    db.session.add_all(made)
    db.session.flush()
    ids = [d.id for d in made]
    db.session.info.setdefault(_PENDING, []).extend(ids)
    return ids


def send_test(endpoint: WebhookEndpoint) -> int:
    if not endpoint.active:
        raise WebhookError(_l("The webhook is deactivated: activate it first."), field="")
    (delivery_id,) = emit(
        PING,
        {"endpoint_id": endpoint.id, "message": "A test event from the survey platform."},
        only=endpoint,
    )
    audit.record("webhook_test_sent", target=_target(endpoint))
    return delivery_id


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else None


def _count(round_id: int) -> int:
    return db.session.scalar(select(func.count(Response.id)).where(Response.round_id == round_id))


def _subscribed_in_sql(name: str):
    """``_subscribed(name)`` as a boolean SQL expression, for a statement that asks it with
    others. The events are a JSON list of EVENTS' names (plain ASCII, no quotes): the name in
    quotes occurs in its text exactly when it is one of the list's strings, on SQLite and
    PostgreSQL alike."""
    events = cast(WebhookEndpoint.events, Text)
    return exists().where(
        WebhookEndpoint.active, events.contains(json.dumps(name), autoescape=True)
    )


@response_submitted.connect
# Asked in the statement that reads the submit's round (survey.responses.asks_first), before
# anything is written; the savepoint, the round's name and its count only when someone listens.
@asks_first(_subscribed_in_sql("response.submitted"))
def _on_response(round_id: int, anonymous: bool, **_: object) -> None:
    if anonymous:
        return  # see the module's docstring: no running count with times for these
    name = db.session.scalar(select(Round.name).where(Round.id == round_id))
    emit(
        "response.submitted",
        {"round": {"id": round_id, "name": name}, "responses": _count(round_id)},
    )


# Built once, run on the session's connection: it is asked on every submit, and an ORM query
# (its compile-cache lookup, its autoflush) cost more than the statement itself.
_ACTIVE_EVENTS = select(WebhookEndpoint.events).where(WebhookEndpoint.active)


def _subscribed(name: str) -> bool:
    active = db.session.connection().execute(_ACTIVE_EVENTS).scalars()
    return any(name in (events or []) for events in active)


@round_closed.connect
def _on_round_closed(round_: Round, now: datetime, **_: object) -> None:
    if not _subscribed("round.closed"):
        return
    round_data = {
        "id": round_.id,
        "name": round_.name,
        "anonymous": bool(round_.anonymous),
        "closed_at": _iso(round_.closed_at),
        # Held back: a reopened round closed after too few new answers (rounds.release).
        "results_held": bool(round_.results_held),
    }
    emit("round.closed", {"round": round_data, "responses": _count(round_.id)})


def action_data(action: CorrectiveAction) -> dict[str, Any]:
    """What an action's events say: a part of what the API's action list shows (no respondent
    group, no figures: a receiver with a token reads those at ``api_url``, under the API's
    permission rules)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return {
        "id": action.id,
        "status": action.status,
        "round_id": action.round_id,
        "round": action.round.name if action.round else None,
        "question_code": action.question_code,
        "category": action.category,
        "served_unit": action.served_unit,
        "rule": action.rule,
        "due_date": action.due_date.isoformat() if action.due_date else None,
        "result": action.result,
        "url": f"{base}/actions/{action.id}",
        "api_url": f"{base}/api/v1/actions/{action.id}",
    }


@action_opened.connect
def _on_action_opened(action: CorrectiveAction, reopened: bool = False, **_: object) -> None:
    if _subscribed("action.opened"):
        emit("action.opened", {"action": action_data(action), "reopened": reopened})


@action_closed.connect
def _on_action_closed(action: CorrectiveAction, **_: object) -> None:
    if _subscribed("action.closed"):
        emit("action.closed", {"action": action_data(action)})


# --- after commit: the queue ---------------------------------------------------------------


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (responses._tell_listeners): the transaction goes on
    ids = session.info.pop(_PENDING, None)
    if not ids:
        return
    if jobs.huey.immediate and has_app_context():
        # The job runs here and now (tests, SURVEY_QUEUE_IMMEDIATE): in an app context of its
        # own, so with a session of its own; this one may emit no SQL until its next begin.
        with current_app.app_context():
            _enqueue(ids)
        return
    _enqueue(ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _enqueue(ids: list[int]) -> None:
    # Huey takes a failed attempt's exception (immediate mode too): the record says why, and
    # the retry waits in the schedule.
    for delivery_id in ids:
        deliver(delivery_id)


# --- delivery ------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over "timestamp.body"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance: int = 300) -> bool:
    """What a receiver does (written out in the README): the signature matches and the
    timestamp is recent."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


@jobs.task(retries=RETRIES, retry_delay=RETRY_DELAY, retry_backoff=BACKOFF)
def deliver(delivery_id: int) -> bool:
    """One attempt at the delivery, if it is still to send; raises DeliveryFailed (Huey
    retries the job) when it failed. Returns whether this job sent it."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return False
    code, error = _post(delivery)
    begin_write(db.session)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    delivery.response_code, delivery.error = code, error
    if error is None:
        delivery.status, delivery.delivered_at = "delivered", utcnow()
    else:
        delivery.status = "failed"
        current_app.logger.warning("webhook delivery %s failed: %s", delivery_id, error)
    db.session.commit()
    if error is not None and not error.startswith(_REFUSED):
        raise DeliveryFailed(error)
    return True


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """pending or failed -> sending, committed: of two jobs (a retry, a redelivery) only one
    posts."""
    claimed = (
        begin_write(db.session)
        .execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status.in_(("pending", "failed")),
            )
            .values(
                status="sending", attempts=WebhookDelivery.attempts + 1, last_attempt_at=utcnow()
            )
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    db.session.commit()
    if not claimed:
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    db.session.refresh(delivery)
    return delivery


_REFUSED = "refused:"
_DEACTIVATED = _l("the webhook is deactivated")


# The connection goes to the addresses the check passed, not to the name: resolving it again
# would let a DNS server answer a public address to the check and 127.0.0.1 to the connection
# (DNS rebinding). http.client follows no redirect (one could lead into the private network)
# and reads no proxy setting.
class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, addresses: list[str] | None, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _open(self.host, self.port, self.addresses, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, addresses: list[str] | None, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        sock = _open(self.host, self.port, self.addresses, self.timeout)
        # The certificate is checked for the name in the URL, whatever address was dialled.
        self.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)


def _open(host: str, port: int, addresses: list[str] | None, timeout: float) -> socket.socket:
    if addresses is None:  # WEBHOOK_ALLOW_PRIVATE: nothing to keep out
        return socket.create_connection((host, port), timeout)
    error: OSError | None = None
    for address in addresses:  # each one checked; the first that answers, as a browser does
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as failed:
            error = failed
    raise error or OSError("no address")


def _post(delivery: WebhookDelivery) -> tuple[int | None, str | None]:
    """Post the delivery's body to its endpoint: (response code, error or None)."""
    url, secret = delivery.endpoint.url, delivery.endpoint.secret
    body, uid, name = delivery.payload.encode(), delivery.uid, delivery.event
    active = delivery.endpoint.active
    timestamp = str(int(time.time()))
    db.session.commit()  # no transaction held while the receiver answers
    if not active:  # deactivated since the event: its receiver is to hear nothing more
        return None, f"{_REFUSED} {_DEACTIVATED}"
    try:
        # Again at each attempt: the name may resolve elsewhere by now.
        parts = _split(url)
        addresses = _addresses(parts.hostname, parts.port)
    except WebhookError as error:
        return None, f"{_REFUSED} {error}"
    https = parts.scheme == "https"
    connection = (_PinnedHTTPS if https else _PinnedHTTP)(
        parts.hostname,
        parts.port or (443 if https else 80),
        addresses,
        current_app.config.get("WEBHOOK_TIMEOUT", TIMEOUT),
    )
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "survey-webhooks/1",
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        TIMESTAMP_HEADER: timestamp,
        DELIVERY_HEADER: uid,
        "X-Survey-Event": name,
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    except Exception as error:  # timeouts, refused connections, TLS: recorded, and retried
        return None, f"{type(error).__name__}: {error}"[:500]
    finally:
        connection.close()
    if not 200 <= status < 300:  # a redirect too: not followed
        return status, f"HTTP {status}"
    return status, None


def prune(now: datetime) -> int:
    """Delete the deliveries delivered more than ``KEEP_DAYS`` ago (one a response in a named
    round: the log would grow with every answer); failed ones stay for someone to look at.
    Returns how many went."""
    gone = db.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status == "delivered",
            WebhookDelivery.delivered_at < now - timedelta(days=KEEP_DAYS),
        )
    ).rowcount
    return gone


@jobs.periodic_task(jobs.crontab(hour="19", minute="40"))  # 03:40 in Shanghai
def prune_job() -> None:
    prune(utcnow())
    db.session.commit()


def redeliver(delivery: WebhookDelivery) -> None:
    """Send a delivery again (the button), whatever became of it, unless it is in flight;
    enqueued once the session commits."""
    if delivery.status == "sending":
        raise WebhookError(_l("This delivery is being sent right now."), field="")
    if not delivery.endpoint.active:
        raise WebhookError(_l("The webhook is deactivated: activate it first."), field="")
    delivery.status = "pending"
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(delivery.id)
    audit.record("webhook_redelivered", target=_target(delivery.endpoint), delivery=delivery.id)
