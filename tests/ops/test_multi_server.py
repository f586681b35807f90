"""The multi-server recipe (scripts/multi_server.py, README "Production"): PostgreSQL, Redis, two
gunicorn app servers with their own instance folders (as on two machines) and, when the release
has one, a background worker, all started by the script on one machine and reached over HTTP as
browsers reach them. Needs PostgreSQL and Redis: CI has both; elsewhere without them the tests
are skipped, saying so (tests/system.py, require_server)."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.load import Browser, free_port
from tests.ops.runbook import (
    REDIS_URL,
    ROOT,
    demo_lines,
    filled_survey,
    flask,
    operator_env,
    scratch_postgres,
)
from tests.system import require_server

pytestmark = pytest.mark.processes

SCRIPT = ROOT / "scripts" / "multi_server.py"
EVIDENCE = b"%PDF-1.4\n% minutes of the counter staff meeting\n"


@dataclass
class Mailbox:
    """What the local SMTP server (aiosmtpd) received: the raw message bytes."""

    messages: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 60.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        return list(self.messages)


@dataclass
class Recipe:
    a: str  # server A's address
    b: str  # server B's address
    env: dict[str, str]
    run_dir: Path
    database_url: str
    logins: dict[str, tuple[str, str]]
    links: list[str]
    round_id: int
    mailbox: Mailbox

    def sql(self, statement: str, *params):
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(statement, params).fetchall()

    def script(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args, "--run-dir", str(self.run_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Recipe:
    from aiosmtpd.controller import Controller

    require_server("127.0.0.1", 6379, "Redis")
    tmp = tmp_path_factory.mktemp("multi")
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    prefix = f"survey-test-{uuid.uuid4().hex}"
    ports = free_port(), free_port()
    (tmp / "shared").mkdir()
    try:
        with scratch_postgres("multi") as url:
            env = operator_env(
                url,
                tmp / "operator",  # the instance folder of the operator's own commands
                BASE_URL=f"http://127.0.0.1:{ports[0]}",
                SURVEY_RATELIMIT_KEY_PREFIX=prefix,
                SURVEY_LOGIN_RATE_LIMIT="3 per hour",
                SURVEY_LOGIN_ADDRESS_RATE_LIMIT="100 per hour",
                MAIL_SERVER="127.0.0.1",
                MAIL_PORT=str(smtp.port),
                MAIL_SENDER="survey@office.test",
                # For the shared storage when it is a folder (the recipe passes SURVEY_* on).
                SURVEY_SHARED_FOLDER=str(tmp / "shared"),
            )
            run_dir = tmp / "run"
            start = subprocess.run(
                [sys.executable, str(SCRIPT), "start", "--run-dir", str(run_dir)]
                + ["--database-url", url, "--redis-url", REDIS_URL, "--workers", "1"]
                + ["--ports", *map(str, ports)],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert start.returncode == 0, start.stdout + start.stderr
            recipe = None
            try:
                demo = flask(env, "demo", "--responses", "12").stdout
                ((round_id, *_name),) = demo_lines(demo, "round")
                recipe = Recipe(
                    a=f"http://127.0.0.1:{ports[0]}",
                    b=f"http://127.0.0.1:{ports[1]}",
                    env=env,
                    run_dir=run_dir,
                    database_url=url,
                    logins={role: (e, p) for role, e, p in demo_lines(demo, "login")},
                    links=[link for _group, link in demo_lines(demo, "invite")],
                    round_id=int(round_id),
                    mailbox=mailbox,
                )
                yield recipe
            finally:
                started = _pids(run_dir)
                stop = subprocess.run(
                    [sys.executable, str(SCRIPT), "stop", "--run-dir", str(run_dir)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert stop.returncode == 0, stop.stderr
                # Stopped cleanly: every process gone, the run's record removed.
                assert not [pid for pid in started if _running(pid)]
                assert not (run_dir / "processes.json").exists()
    finally:
        smtp.stop()
        _forget_redis_keys(prefix)


def _pids(run_dir: Path) -> list[int]:
    import json

    try:
        return [p["pid"] for p in json.loads((run_dir / "processes.json").read_text())]
    except FileNotFoundError:
        return []


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _forget_redis_keys(prefix: str) -> None:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)
    server.close()


# --------------------------------------------------------------------------- a browser


def _csrf(page: str) -> str:
    from bench.load import ATTR, INPUT

    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("name") == "csrf_token":
            return attrs["value"]
    raise AssertionError(f"no CSRF token on the page:\n{page[:1500]}")


def log_in(browser: Browser, server: str, email_: str, password: str) -> int:
    """The login form, as a browser fills it: its CSRF token first. The status of the POST."""
    _status, _location, page, _ = browser.request(f"{server}/login")
    data = {"csrf_token": _csrf(page), "email": email_, "password": password}
    return browser.request(f"{server}/login", data)[0]


def post_form(browser: Browser, server: str, page_path: str, action: str, data: dict) -> int:
    _status, _location, page, _ = browser.request(f"{server}{page_path}")
    return browser.request(f"{server}{action}", {"csrf_token": _csrf(page), **data})[0]


def respond(browser: Browser, server: str, link: str) -> int:
    """A respondent opens the personal link on `server` and submits the whole form."""
    path = urllib.parse.urlsplit(link).path
    status, location, _page, _ = browser.request(f"{server}{path}")
    assert status in (302, 303), status
    status, _location, page, _ = browser.request(urllib.parse.urljoin(f"{server}{path}", location))
    assert status == 200, page[:1500]
    action, data = filled_survey(page)
    return browser.request(urllib.parse.urljoin(f"{server}{path}", action), data)[0]


def upload(browser: Browser, server: str, action_id: int, name: str, content: bytes) -> int:
    """The evidence-file form of an action page, sent as multipart/form-data."""
    _status, _location, page, _ = browser.request(f"{server}/actions/{action_id}")
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for key, value in (("csrf_token", _csrf(page)),):
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode())
        body.write(f"{value}\r\n".encode())
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    body.write(content + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        f"{server}/actions/{action_id}/attachments",
        data=body.getvalue(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def download(browser: Browser, url: str) -> tuple[int, bytes]:
    try:
        with browser.opener.open(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


# --------------------------------------------------------------------------- the checks


def test_every_server_answers_its_health_check(recipe):
    for server in (recipe.a, recipe.b):
        status, _location, body, _ = Browser().request(f"{server}/healthz")
        assert (status, body.strip()) == (200, '{"database":"ok","queue":"ok"}')
    status = recipe.script("status")
    assert status.returncode == 0, status.stdout
    assert status.stdout.count("/healthz 200") == 2


def test_a_session_begun_on_one_server_works_on_the_other(recipe):
    browser = Browser()
    assert log_in(browser, recipe.a, *recipe.logins["quality_lead"]) == 302
    assert browser.request(f"{recipe.b}/review/")[0] == 200  # B knows the session A signed
    # Logging out on A ends the session on B too: its version is in the database, not the server.
    stolen = Browser()
    for cookie in browser.jar:
        stolen.jar.set_cookie(cookie)
    assert post_form(browser, recipe.a, "/review/", "/logout", {}) in (302, 303)
    status, location, _page, _ = stolen.request(f"{recipe.b}/review/")
    assert status == 302 and "/login" in location


def _responses_on_results(browser: Browser, server: str, round_id: int) -> int:
    status, _location, body, _ = browser.request(f"{server}/review/rounds/{round_id}/answers.csv")
    assert status == 200, body[:500]
    return len(list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")))))  # a row per response


def test_a_response_submitted_on_one_server_counts_in_the_results_of_the_other(recipe):
    lead = Browser()
    assert log_in(lead, recipe.b, *recipe.logins["quality_lead"]) == 302
    before = _responses_on_results(lead, recipe.b, recipe.round_id)
    assert respond(Browser(), recipe.a, recipe.links[0]) == 303
    assert _responses_on_results(lead, recipe.b, recipe.round_id) == before + 1


def test_failed_logins_are_counted_across_servers_through_redis(recipe):
    attacked, password = recipe.logins["designer"]
    attacker = Browser()
    for _ in range(3):  # the account's limit in this recipe: 3 per hour
        assert log_in(attacker, recipe.a, attacked, "wrong password") == 401
    # Server B refuses the attacked account, even with its right password, and lets a
    # colleague in: the counts are in Redis, not in A's memory.
    assert log_in(Browser(), recipe.b, attacked, password) == 429
    assert log_in(Browser(), recipe.b, *recipe.logins["admin"]) == 302


def test_a_file_uploaded_on_one_server_downloads_from_the_other(recipe):
    # Each server has its own instance folder here, as on two machines: the file must be in
    # storage they share (the database, or SURVEY_SHARED_FOLDER passed on by the recipe).
    ((action_id,),) = recipe.sql("SELECT min(id) FROM corrective_action")
    lead = Browser()
    assert log_in(lead, recipe.a, *recipe.logins["quality_lead"]) == 302
    assert upload(lead, recipe.a, action_id, "minutes.pdf", EVIDENCE) in (302, 303)
    ((attachment_id,),) = recipe.sql(
        "SELECT max(id) FROM action_attachment WHERE action_id = %s", action_id
    )
    url = f"/actions/{action_id}/attachments/{attachment_id}"
    assert download(lead, recipe.a + url) == (200, EVIDENCE)
    assert download(lead, recipe.b + url) == (200, EVIDENCE)  # on its own disk: 500


def test_a_mail_sent_by_the_worker_reaches_the_smtp_server_as_a_standard_message(recipe):
    processes = recipe.script("status").stdout
    assert "worker" in processes and "running" in processes.split("worker", 1)[1]
    address, _password = recipe.logins["quality_lead"]
    already = len(recipe.mailbox.messages)
    status = post_form(
        Browser(), recipe.a, "/password/forgot", "/password/forgot", {"email": address}
    )
    assert status in (302, 303)
    received = recipe.mailbox.wait(already + 1)
    assert len(received) == already + 1, "no mail reached the SMTP server"
    message = email.message_from_bytes(received[-1], policy=email.policy.default)
    assert message["To"] == address and "survey@office.test" in message["From"]
    # The hand-written smtplib message had no Date nor Message-ID (issue 18, item 3).
    assert message["Date"] and message["Message-ID"] and message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"{recipe.a}/password/reset/" in body
