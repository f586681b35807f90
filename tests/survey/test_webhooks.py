"""Webhooks: events fired by the real code paths, posted after commit to a real HTTP receiver
on 127.0.0.1 that verifies the signature as the README tells receivers to; retries, permanent
failures, redelivery; what payloads never say; the admin pages and who may use them."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from survey import corrective, jobs, rounds, webhooks
from survey.extensions import db
from survey.models import AuditEvent, Unit, WebhookDelivery, WebhookEndpoint, utcnow
from tests.survey.respond.test_views import complete_answers, response_count, submit


class Receiver:
    """A webhook receiver: answers each POST with the next of ``codes`` (then 204) and keeps
    what came, with whether the signature verified, by the README's five lines."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.codes: list[int] = []
        self.secret = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Survey-Timestamp"]
                signed = hmac.new(
                    receiver.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                receiver.received.append(
                    {
                        "body": json.loads(body),
                        "verified": hmac.compare_digest(
                            "sha256=" + signed, self.headers["X-Survey-Signature"]
                        )
                        and abs(time.time() - int(stamp)) < 300,
                        "delivery": self.headers["X-Survey-Delivery"],
                        "host": self.headers["Host"],
                    }
                )
                self.send_response(receiver.codes.pop(0) if receiver.codes else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [r["body"]["event"] for r in self.received]


@pytest.fixture(autouse=True)
def english(app):
    """The reasons these tests read, in English: outside a request (a job, a direct call) the
    app speaks its default language, Chinese, and the delivery log keeps what was said."""
    with force_locale("en"):
        yield


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def app_config() -> dict:
    # The receiver is on 127.0.0.1, which a real site refuses (see test_private_*).
    return {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 2}


@pytest.fixture
def hook(app, receiver, make_user):
    def make(events=tuple(webhooks.EVENTS)) -> WebhookEndpoint:
        endpoint = webhooks.create_endpoint(receiver.url, list(events), "OA", make_user("admin"))
        db.session.commit()
        receiver.secret = endpoint.secret
        return endpoint

    return make


def _deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _run_retries() -> None:
    """Run the retries Huey holds in the schedule (immediate mode), as the worker would."""
    for _ in range(10):
        waiting = jobs.huey.scheduled()
        if not waiting:
            return
        latest = max(task.eta for task in waiting)
        for task in jobs.huey.read_schedule(latest):
            jobs.huey.execute(task, timestamp=latest)


# --- events from the real code paths ------------------------------------------------------


def test_a_submitted_response_is_posted_signed_with_the_count_and_no_unit_or_group(
    hook, receiver, client, make_invitation
):
    hook()
    invitation = make_invitation(group="mayors")
    assert submit(client, invitation, complete_answers("mayors")).status_code == 303
    (got,) = receiver.received
    assert got["verified"]
    body = got["body"]
    assert body["event"] == "response.submitted"
    assert body["data"] == {
        "round": {"id": invitation.round_id, "name": "2004 autumn"},
        "responses": 1,
    }
    text = json.dumps(body, ensure_ascii=False)
    unit = db.session.get(Unit, invitation.unit_id)
    for secret in ("mayors", unit.code, unit.name_zh, "q_", "group", "unit", "answers"):
        assert secret not in text
    (delivery,) = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 204)
    assert got["delivery"] == delivery.uid


def test_an_anonymous_round_sends_no_response_event(hook, receiver, client, make_invitation):
    hook()
    invitation = make_invitation(group="mayors", anonymous=True)
    assert submit(client, invitation, complete_answers("mayors")).status_code == 303
    assert receiver.received == [] and _deliveries() == []


def test_closing_a_round_opens_actions_and_posts_both_after_commit(
    hook, receiver, client, login_as, make_user, low_round
):
    hook()
    login_as(make_user("designer"))
    assert client.post(f"/design/rounds/{low_round.id}/close").status_code == 302
    assert sorted(receiver.events()) == ["action.opened", "round.closed"]
    closed = next(r["body"] for r in receiver.received if r["body"]["event"] == "round.closed")
    assert closed["data"]["round"]["id"] == low_round.id
    assert closed["data"]["responses"] == 10
    opened = next(r["body"] for r in receiver.received if r["body"]["event"] == "action.opened")
    action = opened["data"]["action"]
    assert action["question_code"] == "doc_timeliness" and action["status"] == "open"
    assert "group" not in action and "n" not in action and "observed" not in action
    assert all(r["verified"] for r in receiver.received)


def test_round_closed_says_whether_the_close_held_the_figures(hook, receiver, low_round, answer):
    """A receiver learns from the event itself that a reopened round's figures are held back
    (too few new answers since the last release), instead of a 403 when it asks for them."""
    hook(events=["round.closed"])
    rounds.close_round(low_round, utcnow())
    db.session.commit()
    rounds.open_round(low_round, utcnow())
    db.session.commit()
    answer(low_round, "departments", {"doc_timeliness": 4})
    rounds.close_round(low_round, utcnow())
    db.session.commit()
    held = [r["body"]["data"]["round"]["results_held"] for r in receiver.received]
    assert held == [False, True]


def test_nothing_is_posted_when_the_transaction_rolls_back(hook, receiver, low_round):
    hook()
    rounds.close_round(low_round, utcnow())
    db.session.flush()
    assert receiver.received == []  # not before the commit
    db.session.rollback()
    db.session.commit()
    assert receiver.received == [] and _deliveries() == []


def test_closing_and_cancelling_an_action_are_posted(hook, receiver, ready, owner, lead):
    hook(events=["action.closed"])
    now = utcnow()
    for name in ("start_investigation", "plan", "implement", "request_verification"):
        corrective.move(ready, name, owner, now)
    db.session.commit()
    assert receiver.received == []  # not subscribed to the other moves
    corrective.move(ready, "close", lead, now)
    db.session.commit()
    (got,) = receiver.received
    assert got["body"]["data"]["action"]["status"] == "closed"
    assert got["body"]["data"]["action"]["result"] == "effective"
    corrective.move(ready, "reopen", lead, now, "Again.")
    corrective.move(ready, "cancel", lead, now, "Merged.")
    db.session.commit()
    assert [r["body"]["data"]["action"]["status"] for r in receiver.received] == [
        "closed",
        "cancelled",
    ]


def test_reopening_an_action_is_an_opened_event(hook, receiver, action, lead, force):
    force(action, "closed")
    hook(events=["action.opened"])
    corrective.move(action, "reopen", lead, utcnow(), "Complaints again.")
    db.session.commit()
    (got,) = receiver.received
    assert got["body"]["data"]["reopened"] is True


def test_a_deactivated_endpoint_gets_nothing(hook, receiver, client, make_invitation):
    webhooks.set_active(hook(), False)
    db.session.commit()
    submit(client, make_invitation(), complete_answers())
    assert receiver.received == []


def test_an_endpoint_subscribed_to_other_events_gets_no_response_event(
    hook, receiver, client, make_invitation
):
    # The submit asks in SQL whether any active endpoint subscribes (survey.webhooks
    # _subscribed_in_sql): names that merely resemble the event's are not it.
    hook(["round.closed", "action.opened"])
    submit(client, make_invitation(), complete_answers())
    assert receiver.received == [] and _deliveries() == []
    assert response_count() == 1


def test_a_delivery_waiting_when_its_webhook_is_deactivated_is_not_sent(hook, receiver, low_round):
    endpoint = hook(events=["round.closed"])
    jobs.huey.immediate = False  # the job waits in the queue meanwhile
    try:
        rounds.close_round(low_round, utcnow())
        db.session.commit()
    finally:
        jobs.huey._immediate = True
        jobs.huey.storage = jobs.huey.create_storage()
    webhooks.set_active(endpoint, False)
    db.session.commit()
    (delivery,) = _deliveries()
    webhooks.deliver.call_local(delivery.id)
    db.session.expire_all()
    assert receiver.received == [] and jobs.huey.scheduled() == []
    assert "deactivated" in _deliveries()[0].error
    with pytest.raises(webhooks.WebhookError):
        webhooks.redeliver(_deliveries()[0])
    with pytest.raises(webhooks.WebhookError):
        webhooks.send_test(endpoint)


# --- retries and failures -------------------------------------------------------------------


def test_a_500_is_retried_with_a_growing_delay_until_it_is_delivered(hook, receiver, low_round):
    hook(events=["round.closed"])
    receiver.codes = [500, 503]
    rounds.close_round(low_round, utcnow())
    db.session.commit()
    (delivery,) = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 500)
    assert delivery.error == "HTTP 500"
    (retry,) = jobs.huey.scheduled()
    assert retry.retry_delay == webhooks.RETRY_DELAY * webhooks.BACKOFF  # the next one's
    _run_retries()
    db.session.expire_all()
    delivery = _deliveries()[0]
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 204)
    # The same delivery id on every attempt: the receiver's idempotency key.
    assert len({r["delivery"] for r in receiver.received}) == 1


def test_a_receiver_that_never_answers_well_is_a_logged_permanent_failure(
    hook, receiver, low_round, client, login_as, make_user
):
    endpoint = hook(events=["round.closed"])
    receiver.codes = [500] * 10
    rounds.close_round(low_round, utcnow())
    db.session.commit()
    _run_retries()
    db.session.expire_all()
    (delivery,) = _deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.RETRIES + 1)
    assert jobs.huey.scheduled() == []
    login_as(make_user("admin"))
    page = client.get(f"/admin/webhooks/{endpoint.id}?lang=en").text
    assert "HTTP 500" in page and "Failed" in page

    # The redelivery button, once the receiver is fixed.
    receiver.codes = []
    assert client.post(f"/admin/webhooks/deliveries/{delivery.id}/redeliver").status_code == 302
    db.session.expire_all()
    assert _deliveries()[0].status == "delivered"
    assert receiver.received[-1]["body"]["id"] == delivery.uid


def test_an_unreachable_receiver_is_recorded_with_the_reason(app, make_user, low_round):
    endpoint = webhooks.create_endpoint(
        "http://127.0.0.1:9/none", ["round.closed"], "", make_user("admin")
    )
    db.session.commit()
    rounds.close_round(low_round, utcnow())
    db.session.commit()
    (delivery,) = _deliveries()
    assert delivery.status == "failed" and "refused" in delivery.error.lower()
    assert delivery.endpoint_id == endpoint.id


def test_a_delivery_is_never_sent_twice_by_two_jobs(hook, receiver, low_round):
    hook(events=["round.closed"])
    jobs.huey.immediate = False  # hold the job, then run it twice
    try:
        rounds.close_round(low_round, utcnow())
        db.session.commit()
    finally:
        jobs.huey._immediate = True
        jobs.huey.storage = jobs.huey.create_storage()
    (delivery,) = _deliveries()
    webhooks.deliver.call_local(delivery.id)
    webhooks.deliver.call_local(delivery.id)
    assert len(receiver.received) == 1


def test_the_signature_helper_refuses_a_changed_body_or_an_old_timestamp():
    now = str(int(time.time()))
    signature = webhooks.sign("s", now, b"{}")
    assert webhooks.verify("s", now, b"{}", signature)
    assert not webhooks.verify("s", now, b"{ }", signature)
    assert not webhooks.verify("t", now, b"{}", signature)
    old = str(int(time.time()) - 3600)
    assert not webhooks.verify("s", old, b"{}", webhooks.sign("s", old, b"{}"))


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "example.com/hook", "https://user:pw@example.com/", ""]
)
def test_only_http_and_https_addresses_are_taken(app, url):
    with pytest.raises(webhooks.WebhookError):
        webhooks.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.0.5/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
    ],
)
def test_private_addresses_are_refused_unless_allowed(app, url):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    with pytest.raises(webhooks.WebhookError, match="private network"):
        webhooks.check_url(url)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert webhooks.check_url(url) == url


def test_a_delivery_to_an_address_refused_since_is_not_sent_nor_retried(
    hook, receiver, app, low_round
):
    hook(events=["round.closed"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    rounds.close_round(low_round, utcnow())
    db.session.commit()
    (delivery,) = _deliveries()
    # Refused for its address (the job writes the reason in the app's default language).
    assert delivery.status == "failed" and delivery.error.startswith("refused: ")
    assert "127.0.0.1" in delivery.error
    assert receiver.received == [] and jobs.huey.scheduled() == []


def _resolving(monkeypatch, name: str, *answers: str) -> list[str]:
    """Make ``name`` resolve to the next of ``answers`` at each lookup (the last one from then
    on), as a DNS server an attacker runs would; returns the lookups made."""
    real, lookups = socket.getaddrinfo, []

    def getaddrinfo(host, *args, **kwargs):
        if host != name:
            return real(host, *args, **kwargs)
        lookups.append(host)
        return real(answers[min(len(lookups), len(answers)) - 1], *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def _connecting(monkeypatch, public: str, port: int) -> list[tuple]:
    """Record where the app connects; ``public`` (a stand-in for a real receiver's address)
    is served by the receiver on 127.0.0.1, so nothing leaves the machine."""
    real, made = socket.create_connection, []

    def create_connection(address, *args, **kwargs):
        made.append(tuple(address[:2]))
        if address[0] == public:
            address = ("127.0.0.1", port)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return made


def test_a_name_that_answers_loopback_after_its_check_is_not_posted_to(
    app, receiver, make_user, monkeypatch
):
    # DNS rebinding: a public address for the check, then 127.0.0.1 for the connection.
    port = receiver.server.server_port
    endpoint = webhooks.create_endpoint(
        f"http://rebind.example:{port}/hook", ["round.closed"], "OA", make_user("admin")
    )
    db.session.commit()
    receiver.secret = endpoint.secret
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    lookups = _resolving(monkeypatch, "rebind.example", "93.184.216.34", "127.0.0.1")
    made = _connecting(monkeypatch, "93.184.216.34", port)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # ignored: no detour via a proxy
    webhooks.send_test(endpoint)
    db.session.commit()
    # Resolved once, and the checked address is the one connected to (served here by the
    # receiver): never a second lookup's loopback.
    assert lookups == ["rebind.example"] and made == [("93.184.216.34", port)]
    (got,) = receiver.received
    assert got["verified"] and got["host"] == f"rebind.example:{port}"
    # The next attempt looks again, and refuses the loopback it now gets.
    webhooks.redeliver(_deliveries()[0])
    db.session.commit()
    (delivery,) = _deliveries()
    assert len(receiver.received) == 1 and delivery.error.startswith("refused: ")
    assert "127.0.0.1" in delivery.error


def test_a_name_with_one_private_address_among_public_ones_is_refused(app, monkeypatch):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("93.184.216.34", *a, **k) + real("10.0.0.7", *a, **k),
    )
    with pytest.raises(webhooks.WebhookError, match="10.0.0.7"):
        webhooks.check_url("https://two.example/hook")


@pytest.fixture
def tls_receiver(receiver, tmp_path, monkeypatch):
    """The receiver behind TLS with a certificate for "hook.example" only, trusted by the app
    (SSL_CERT_FILE) as a public CA's would be."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=hook.example"]
        + ["-addext", "subjectAltName=DNS:hook.example"],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return receiver


@pytest.mark.parametrize("name, delivered", [("hook.example", True), ("other.example", False)])
def test_https_connects_to_the_checked_address_and_checks_the_certificate_for_the_name(
    app, tls_receiver, make_user, monkeypatch, name, delivered
):
    port = tls_receiver.server.server_port
    endpoint = webhooks.create_endpoint(
        f"https://{name}:{port}/hook", ["round.closed"], "", make_user("admin")
    )
    db.session.commit()
    tls_receiver.secret = endpoint.secret
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    _resolving(monkeypatch, name, "93.184.216.34", "127.0.0.1")
    made = _connecting(monkeypatch, "93.184.216.34", port)
    webhooks.send_test(endpoint)
    db.session.commit()
    assert made == [("93.184.216.34", port)]
    (delivery,) = _deliveries()
    if delivered:
        (got,) = tls_receiver.received
        assert got["verified"] and got["host"] == f"hook.example:{port}"
        assert delivery.status == "delivered"
    else:  # the certificate names another host: nothing sent
        assert tls_receiver.received == [] and "certificate" in delivery.error.lower()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:99999/hook",
        "http://example.com:abc/",
        "http://[::1/hook",
        "http://a.example:0/",
    ],
)
def test_an_address_with_a_bad_port_or_host_is_refused_with_a_reason(app, url):
    with pytest.raises(webhooks.WebhookError, match="host or port"):
        webhooks.check_url(url)


@pytest.mark.parametrize(
    "url", ["http://example.com:99999/hook", "http://example.com:abc/", "http://[::1/hook"]
)
def test_the_form_shows_a_bad_port_or_host_as_the_address_error(client, login_as, make_user, url):
    login_as(make_user("admin"))
    response = client.post(
        "/admin/webhooks/new?lang=en", data={"url": url, "events": ["round.closed"]}
    )
    assert response.status_code == 200 and "host or port" in response.text
    assert db.session.scalar(select(WebhookEndpoint)) is None


# --- the admin pages ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["designer", "quality_lead", "respondent"])
def test_only_admins_reach_the_webhook_pages(client, login_as, quick_user, hook, role):
    endpoint = hook()
    login_as(quick_user(role))
    assert client.get("/admin/webhooks").status_code == 403
    assert client.get("/admin/webhooks/new").status_code == 403
    assert client.post(f"/admin/webhooks/{endpoint.id}/secret").status_code == 403
    assert client.post(f"/admin/webhooks/{endpoint.id}/test").status_code == 403


def test_logged_out_visitors_are_sent_to_login(client):
    assert client.get("/admin/webhooks").status_code == 302


def test_an_admin_creates_tests_and_deactivates_a_webhook(client, login_as, make_user, receiver):
    admin = make_user("admin")
    login_as(admin)
    page = client.get("/admin/webhooks/new?lang=en").text
    assert "Response submitted" in page and "Corrective action opened" in page
    response = client.post(
        "/admin/webhooks/new",
        data={"url": receiver.url, "description": "OA", "events": ["round.closed"]},
    )
    assert response.status_code == 302
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.events == ["round.closed"] and endpoint.created_by_id == admin.id
    assert (
        endpoint.secret.startswith("whsec_")
        and endpoint.secret not in client.get(response.location).text
    )  # shown only on demand

    shown = client.post(f"/admin/webhooks/{endpoint.id}/secret").text
    assert endpoint.secret in shown
    receiver.secret = endpoint.secret
    client.post(f"/admin/webhooks/{endpoint.id}/test")
    (got,) = receiver.received
    assert got["verified"] and got["body"]["event"] == "ping"
    assert "Test event" in client.get(f"/admin/webhooks/{endpoint.id}?lang=en").text
    listed = client.get("/admin/webhooks?lang=en").text
    assert "OA" in listed and receiver.url in listed and "Delivered" in listed

    client.post(f"/admin/webhooks/{endpoint.id}/deactivate")
    db.session.expire_all()
    assert not db.session.get(WebhookEndpoint, endpoint.id).active
    audited = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    for action in (
        "webhook_created",
        "webhook_secret_shown",
        "webhook_test_sent",
        "webhook_disabled",
    ):
        assert action in audited


def test_the_form_refuses_a_bad_address_and_no_event(client, login_as, make_user):
    login_as(make_user("admin"))
    page = client.post(
        "/admin/webhooks/new?lang=en",
        data={"url": "ftp://x.example/", "events": ["round.closed"]},
    ).text
    assert "http:// or https://" in page
    page = client.post(
        "/admin/webhooks/new?lang=en", data={"url": "https://x.example/", "events": []}
    ).text
    assert "Choose at least one event" in page
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_editing_the_events_changes_what_is_sent(client, login_as, make_user, hook, receiver):
    endpoint = hook()
    login_as(make_user("admin"))
    client.post(
        f"/admin/webhooks/{endpoint.id}",
        data={"url": endpoint.url, "description": "OA", "events": ["action.closed"]},
    )
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).events == ["action.closed"]
    assert "webhook_changed" in db.session.scalars(select(AuditEvent.action)).all()
    trail = client.get("/admin/audit?lang=en")
    assert trail.status_code == 200 and "Webhook changed" in trail.text


def test_the_buttons_need_the_csrf_token(app, client, login_as, make_user, hook):
    endpoint = hook()
    login_as(make_user("admin"))
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/admin/webhooks/{endpoint.id}/secret").status_code == 400
    assert client.post(f"/admin/webhooks/{endpoint.id}/deactivate").status_code == 400


def test_a_round_closed_by_its_date_is_posted_by_the_job(hook, receiver, make_round):
    hook(events=["round.closed"])
    past = make_round(closes_at=utcnow() - timedelta(minutes=1))
    rounds.close_due_rounds_job.call_local()
    assert [r["body"]["data"]["round"]["id"] for r in receiver.received] == [past.id]


def test_delivered_deliveries_are_pruned_after_ninety_days_failed_ones_kept(hook, receiver):
    endpoint = hook()
    receiver.codes = [500] * 10
    webhooks.send_test(endpoint)
    db.session.commit()
    receiver.codes = []
    webhooks.send_test(endpoint)
    db.session.commit()
    later = utcnow() + timedelta(days=webhooks.KEEP_DAYS)
    assert webhooks.prune(later - timedelta(days=1)) == 0
    assert webhooks.prune(later + timedelta(minutes=1)) == 1
    db.session.commit()
    assert [d.status for d in _deliveries()] == ["failed"]
    (task,) = [t for t in jobs.huey._registry._periodic_tasks if t.__name__ == "prune_job"]
    assert task().validate_datetime(datetime(2026, 12, 5, 19, 40))  # 03:40 in Shanghai
