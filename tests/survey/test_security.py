"""Headers on every page, throttled logins and links, a new session at login."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from itsdangerous import BadSignature

from tests.factories import PASSWORD


@pytest.fixture
def app_config():
    return {
        "LOGIN_RATE_LIMIT": "3 per minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "6 per minute",
        "TOKEN_RATE_LIMIT": "4 per minute",
    }


BEHIND_PROXY = {
    "LOGIN_RATE_LIMIT": "3 per minute",
    "LOGIN_ADDRESS_RATE_LIMIT": "6 per minute",
    "TOKEN_RATE_LIMIT": "4 per minute",
    "PROXY_HOPS": 1,
}
PROXY = {"REMOTE_ADDR": "10.0.0.2"}  # every request reaches the app from the proxy's address


def _from(client_address: str, spoofed: str | None = None) -> dict:
    """What the proxy adds: the address it saw, after whatever the client itself sent."""
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return {"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"}


def _login(client, email: str, password: str, **kwargs) -> int:
    return client.post("/login", data={"email": email, "password": password}, **kwargs).status_code


def test_every_page_sends_the_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_template_needs_inline_script_or_style():
    from pathlib import Path

    for template in Path("templates").rglob("*.html"):
        text = template.read_text("utf-8")
        assert "<script>" not in text and " style=" not in text, template
        assert "onclick=" not in text and "onchange=" not in text, template


def test_failed_logins_are_throttled_per_account(app, client, make_user):
    user = make_user()
    for _ in range(3):
        assert client.post("/login", data={"email": user.email, "password": "x"}).status_code == 401
    blocked = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    # The same account from another browser too: the count is the account's.
    assert _login(app.test_client(), user.email, PASSWORD) == 429


def test_one_accounts_failures_do_not_refuse_another_accounts_login(app, client, make_user):
    attacked, colleague = make_user(), make_user()
    for _ in range(10):  # the attacked account is locked after 3; the rest are refused unheard
        assert _login(client, attacked.email, "x") in (401, 429)
    assert _login(client, attacked.email, PASSWORD) == 429
    # A colleague at the same address (an office behind one NAT) still logs in.
    assert _login(app.test_client(), colleague.email, PASSWORD) == 302


def test_failures_across_accounts_are_throttled_per_address(app, client, make_user):
    user = make_user()
    for n in range(6):  # spraying: few tries per account, many from one address
        assert _login(client, f"guess-{n}@office.test", "x") == 401
    assert _login(client, "guess-x@office.test", "x") == 429
    assert _login(client, user.email, PASSWORD) == 429


@pytest.mark.parametrize("app_config", [BEHIND_PROXY])
def test_behind_a_proxy_one_attacker_does_not_lock_out_the_office(app, make_user):
    colleague = make_user()
    attacker = app.test_client()
    for n in range(6):
        status = _login(
            attacker,
            f"guess-{n}@office.test",
            "x",
            environ_base=PROXY,
            headers=_from("203.0.113.9"),
        )
        assert status == 401
    # Forged X-Forwarded-For values of its own do not give the attacker a fresh count.
    for n in range(3):
        status = _login(
            attacker,
            f"more-{n}@office.test",
            "x",
            environ_base=PROXY,
            headers=_from("203.0.113.9", spoofed=f"192.0.2.{n}"),
        )
        assert status == 429
    # Everyone else reaches the app from the same proxy address and still logs in.
    status = _login(
        app.test_client(),
        colleague.email,
        PASSWORD,
        environ_base=PROXY,
        headers=_from("198.51.100.7"),
    )
    assert status == 302


def test_without_a_proxy_forwarded_headers_are_not_believed(app, client, make_user):
    for n in range(6):
        status = _login(client, f"guess-{n}@office.test", "x", headers=_from(f"192.0.2.{n}"))
        assert status == 401
    assert _login(client, "guess-x@office.test", "x", headers=_from("192.0.2.99")) == 429


@pytest.mark.parametrize("app_config", [BEHIND_PROXY])
def test_behind_a_proxy_the_app_sees_the_clients_address_and_scheme(app):
    seen = {}

    @app.get("/_probe")
    def probe():
        from flask import request

        seen.update(address=request.remote_addr, scheme=request.scheme)
        return ""

    app.test_client().get("/_probe", environ_base=PROXY, headers=_from("198.51.100.7"))
    assert seen == {"address": "198.51.100.7", "scheme": "https"}


def test_successful_logins_are_not_counted(client, make_user):
    user = make_user()
    for _ in range(5):
        assert (
            client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        client.post("/logout")


def test_the_pages_by_id_are_never_throttled_only_the_link(client, make_invitation):
    # survey.respond.views tells the limiter to skip them (survey.security.never_limited): the personal
    # link must still be counted, and a wrong id must not be (it is answered like any other).
    invitation = make_invitation()
    assert client.get(f"/r/{invitation.token}").status_code == 303
    for n in range(8):
        assert client.get(f"/r/i/{invitation.id}").status_code == 200
        assert client.get(f"/r/i/{invitation.id + 1000 + n}").status_code == 404
    for n in range(4):
        client.get(f"/r/wrong-token-{n}")
    assert client.get(f"/r/{invitation.token}").status_code == 429


def test_the_limiter_does_not_even_look_at_the_pages_by_id(client, make_invitation, monkeypatch):
    from flask import request

    from survey.security import limiter

    checked: list[str] = []
    identify = limiter.identify_request  # the first thing the limiter's check does

    def counted():
        checked.append(request.endpoint)
        return identify()

    monkeypatch.setattr(limiter, "identify_request", counted)
    invitation = make_invitation()
    assert client.get(f"/r/{invitation.token}").status_code == 303
    assert client.get(f"/r/i/{invitation.id}").status_code == 200
    assert client.get(f"/r/i/{invitation.id}/done").status_code == 302
    assert "respond.enter" in checked  # the personal link is counted
    assert not {"respond.page", "respond.done"} & set(checked)


def test_the_limiter_is_set_up_once_however_often_it_is_asked(app):
    from survey import security

    security._skip_never_limited(app)  # again: nothing to replace, nothing raised
    hooks = app.before_request_funcs[None]
    assert hooks.count(security._check_limits_unless_never_limited) == 1
    assert security.limiter._check_request_limit not in hooks


def test_wrong_links_are_throttled_on_their_own_counter(client, make_user, make_invitation):
    invitation = make_invitation()
    for n in range(4):
        assert client.get(f"/r/wrong-token-{n}").status_code == 404
    assert client.get("/r/wrong-token-x").status_code == 429
    assert client.get(f"/r/{invitation.token}").status_code == 429
    user = make_user()  # staff logins from the same address still work
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )


@pytest.mark.parametrize("app_config", [BEHIND_PROXY])
def test_behind_a_proxy_wrong_links_do_not_lock_out_other_respondents(app, make_invitation):
    invitation = make_invitation()
    scanner, respondent = app.test_client(), app.test_client()
    for n in range(4):
        status = scanner.get(
            f"/r/wrong-token-{n}", environ_base=PROXY, headers=_from("203.0.113.9")
        ).status_code
        assert status == 404
    blocked = scanner.get("/r/wrong-token-x", environ_base=PROXY, headers=_from("203.0.113.9"))
    assert blocked.status_code == 429
    opened = respondent.get(
        f"/r/{invitation.token}", environ_base=PROXY, headers=_from("198.51.100.7")
    )
    assert opened.status_code == 303


def test_login_starts_a_new_session(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"] == str(user.id)


def test_session_cookie_is_httponly_and_lax(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_current_passwords_are_throttled_per_account(client, make_user):
    user = make_user()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    wrong = {"current": "guess", "new": "tea kettle under the bridge"}
    wrong["again"] = wrong["new"]
    for _ in range(3):
        assert client.post("/account/password", data=wrong).status_code == 401
    right = {**wrong, "current": PASSWORD}
    assert client.post("/account/password", data=right).status_code == 429


def test_the_number_of_proxies_is_read_from_the_environment(monkeypatch, tmp_path):
    from survey import create_app

    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SURVEY_PROXY_HOPS", "2")
    app = create_app()
    seen = {}

    @app.get("/_probe")
    def probe():
        from flask import request

        seen["address"] = request.remote_addr
        return ""

    # Two proxies: the client's address is the second from the right.
    headers = {"X-Forwarded-For": "192.0.2.1, 198.51.100.7, 10.0.0.1"}
    app.test_client().get("/_probe", environ_base=PROXY, headers=headers)
    assert seen["address"] == "198.51.100.7"


def test_a_negative_number_of_proxies_is_refused():
    from survey import create_app

    with pytest.raises(ValueError, match="PROXY_HOPS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "PROXY_HOPS": -1})


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SHARED_PREFIX = f"survey-test-{uuid.uuid4().hex}"
ON_REDIS = {  # an hour: the second server's start takes seconds
    "LOGIN_RATE_LIMIT": "3 per hour",
    "LOGIN_ADDRESS_RATE_LIMIT": "6 per hour",
    "RATELIMIT_STORAGE_URI": REDIS_URL,
    "RATELIMIT_KEY_PREFIX": SHARED_PREFIX,
}
# A second server: another process, so that nothing in memory is shared with this one.
SECOND_SERVER = """
import json, sys
from survey import create_app
app = create_app(json.loads(sys.argv[1]))
for email, password in json.loads(sys.argv[2]):
    print(app.test_client().post("/login", data={"email": email, "password": password}).status_code)
"""


@pytest.fixture
def redis_keys():
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    yield lambda: server.keys(f"*{SHARED_PREFIX}*")
    for key in server.scan_iter(f"*{SHARED_PREFIX}*"):
        server.delete(key)


@pytest.mark.parametrize("app_config", [ON_REDIS])
def test_two_servers_share_the_limits_through_redis(app, client, make_user, redis_keys):
    attacked, colleague = make_user(), make_user()
    for _ in range(3):
        assert _login(client, attacked.email, "x") == 401
    assert redis_keys()  # the counts are on the Redis server, not in this process
    config = {k: v for k, v in app.config.items() if k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}
    config |= {"TESTING": True, "WTF_CSRF_ENABLED": False, **ON_REDIS}
    tries = [[attacked.email, PASSWORD], [colleague.email, PASSWORD]]
    second = subprocess.run(
        [sys.executable, "-c", SECOND_SERVER, json.dumps(config), json.dumps(tries)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SURVEY_INSTANCE_PATH": app.instance_path},
    )
    # The other server refuses the attacked account and lets the colleague in.
    assert second.stdout.split() == ["429", "302"]


def test_redis_storage_without_the_redis_package_says_how_to_install_it(monkeypatch):
    from survey import create_app

    monkeypatch.setitem(sys.modules, "redis", None)  # as if not installed
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", **ON_REDIS}
    with pytest.raises(RuntimeError, match=r"\.\[redis\]"):
        create_app(config)


def test_session_cookies_are_flasks_own_and_follow_a_changed_secret_key(app):
    # survey.security.SessionCookies keeps one serializer per secret key and each derived
    # signing key: the cookies are Flask's (either reads the other's), a key moved to
    # SECRET_KEY_FALLBACKS still opens its cookies, and a key dropped opens none.
    from flask.sessions import SecureCookieSessionInterface

    from survey.security import SessionCookies

    ours, flasks = app.session_interface, SecureCookieSessionInterface()
    assert isinstance(ours, SessionCookies)
    data = {"invitations": [7], "invitation_refs": {"7": "0123456789abcdef"}, "lang": "en"}
    cookie = ours.get_signing_serializer(app).dumps(data)
    assert flasks.get_signing_serializer(app).loads(cookie) == data
    assert ours.get_signing_serializer(app).loads(flasks.get_signing_serializer(app).dumps(data))

    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a new key, rotated"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert ours.get_signing_serializer(app).loads(cookie) == data
    newer = ours.get_signing_serializer(app).dumps(data)
    assert flasks.get_signing_serializer(app).loads(newer) == data

    app.config["SECRET_KEY_FALLBACKS"] = []
    with pytest.raises(BadSignature):
        ours.get_signing_serializer(app).loads(cookie)
    assert ours.get_signing_serializer(app).loads(newer) == data
    app.config["SECRET_KEY"] = "yet another key"
    with pytest.raises(BadSignature):
        ours.get_signing_serializer(app).loads(newer)
