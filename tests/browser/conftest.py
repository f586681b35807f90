"""Real-browser tests: the real app, served by its own server in a subprocess, driven through
Playwright by Debian's Chromium (Playwright's own browser download cannot be fetched here).

One server per test session, on a fresh SQLite database in a temporary instance folder, filled
by `flask init-db` and `flask demo`; each test gets fresh browser contexts (no shared cookies)
and its own unused invitation. Screenshots of the steps go to test-artifacts/browser/, and a
failed test leaves a screenshot of each page it had open (FAILED-*.png).

Chromium is looked for at /usr/bin/chromium (SURVEY_CHROMIUM overrides); `make test` runs
scripts/system-deps.sh, which installs it. A missing browser fails these tests, it never skips
them: CI must prove the respondent's journey.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("SURVEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# 200% browser zoom of a 1280 px wide window: 640 CSS pixels, each drawn as 2 device pixels.
ZOOM_200 = {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2}
INVITE_LINE = re.compile(r"^invite (\S+) (http\S+/r/(\S+))$", re.MULTILINE)
LOGIN_LINE = re.compile(r"^login (\S+) (\S+) (\S+)$", re.MULTILINE)
OFFICE_LOGIN_LINE = re.compile(r"^login (\S+) (\S+) (\S+) (\S+)$", re.MULTILINE)
ROUND_LINE = re.compile(r"^round (\d+) ", re.MULTILINE)
POINT_LINE = re.compile(r"^point (\S+) (http\S+/s/\S+)$", re.MULTILINE)
OFFICE_POINT_LINE = re.compile(r"^point (\S+) (\S+) (http\S+/s/\S+)$", re.MULTILINE)
# With 100+ responses the demo adds a closed earlier round, runs the low-score rules (so results,
# charts and corrective actions exist) and makes accounts for the served units to own actions.
DEMO_RESPONSES = "120"
PAGES = pytest.StashKey[list]()


@dataclass
class LiveServer:
    url: str
    instance: Path
    log_path: Path
    # Unopened invitation links by respondent group; the demo's printed link comes first.
    unused: dict[str, list[str]] = field(default_factory=dict)
    # The demo's `login ROLE EMAIL PASSWORD` lines: role -> (email, password).
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    round_id: int = 0
    # `flask demo-offices`' `login OFFICES ROLE EMAIL PASSWORD`: (offices, role) -> (email,
    # password); the provincial lead's offices are "shaoxing,ningbo,xiacheng,jiaxing,huzhou,shangyu".
    office_accounts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    database: Path | None = None
    # The demo's `point CODE URL` lines: code -> the service point's public link (its QR code).
    points: dict[str, str] = field(default_factory=dict)
    # `flask demo-offices`' `point OFFICE CODE URL`: (office, code) -> public link.
    office_points: dict[tuple[str, str], str] = field(default_factory=dict)

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open(encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            return f.read()


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "survey", *args]


def _wait_for_port(port: int, process: subprocess.Popen, log_path: Path, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")[-3000:],
                pytrace=False,
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(
        f"the server did not answer on port {port} within {timeout:.0f} s:\n"
        + log_path.read_text(errors="replace")[-3000:],
        pytrace=False,
    )


def _unused_invitations(database: Path, base_url: str, printed: dict[str, str], round_id: int):
    """The demo prints one unused link per group; the other never-opened invitations of the demo
    round are read from the database, so that every test can have a link of its own."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT g.code, i.token FROM invitation i JOIN respondent_group g ON g.id = i.group_id"
            " WHERE i.status = 'sent' AND i.round_id = ? ORDER BY i.id",
            (round_id,),
        ).fetchall()
    unused = {group: [url] for group, url in printed.items()}
    for group, token in rows:
        url = f"{base_url}/r/{token}"
        if url not in unused.setdefault(group, []):
            unused[group].append(url)
    return unused


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("browser-instance")
    database = instance / "survey.sqlite"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SURVEY_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{database}",
        "BASE_URL": base_url,
        "SECRET_KEY": "test",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_DEBUG", None)
    for args in (("init-db",), ("demo", "--responses", DEMO_RESPONSES)):
        done = subprocess.run(
            _flask(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        if done.returncode:
            pytest.fail(
                f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False
            )
    printed = {m[1]: m[2] for m in INVITE_LINE.finditer(done.stdout)}
    assert printed, f"the demo printed no `invite GROUP URL` line:\n{done.stdout}"
    assert all(url.startswith(base_url + "/r/") for url in printed.values())
    round_id = int(ROUND_LINE.search(done.stdout)[1])
    # As `make run`: five more offices, and the provincial lead who works for all six. With
    # 100+ responses each has a closed earlier round: final figures the provincial view compares.
    others = subprocess.run(
        _flask("demo-offices", "--responses", "100"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if others.returncode:
        pytest.fail(f"flask demo-offices failed:\n{others.stdout}\n{others.stderr}", pytrace=False)
    server = LiveServer(
        base_url,
        instance,
        instance / "server.log",
        _unused_invitations(database, base_url, printed, round_id),
        {m[1]: (m[2], m[3]) for m in LOGIN_LINE.finditer(done.stdout)},
        round_id,
        {(m[1], m[2]): (m[3], m[4]) for m in OFFICE_LOGIN_LINE.finditer(others.stdout)},
        database,
        points={m[1]: m[2] for m in POINT_LINE.finditer(done.stdout)},
        office_points={(m[1], m[2]): m[3] for m in OFFICE_POINT_LINE.finditer(others.stdout)},
    )
    # As `make run`: the server, and the background worker beside it (mail goes through it).
    with server.log_path.open("w") as log:
        processes = [
            subprocess.Popen(
                _flask(*args),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            for args in (
                ("run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"),
                ("worker",),
            )
        ]
        try:
            _wait_for_port(port, processes[0], server.log_path)
            yield server
        finally:
            for process in processes:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def invitation(live_server: LiveServer) -> Callable[[str], str]:
    """`invitation("departments")`: a link of that group that no test has opened yet."""

    def take(group: str = "departments") -> str:
        links = live_server.unused.get(group)
        assert links, f"no unused invitation of group {group!r} is left for the browser tests"
        return links.pop(0)

    return take


@pytest.fixture
def login(live_server: LiveServer) -> Callable[[Page, str], None]:
    """`login(page, "designer")`: logs in on /login with the demo's account of that role."""

    def log_in(page: Page, role: str) -> None:
        email, password = live_server.accounts[role]
        page.goto(f"{live_server.url}/login")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.locator("form [type=submit]").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"the {role} could not log in"

    return log_in


@pytest.fixture(autouse=True)
def no_server_errors(live_server: LiveServer) -> Iterator[None]:
    """Any traceback the server logs while a test runs fails that test."""
    start = live_server.log_size()
    yield
    logged = live_server.log_since(start)
    if "Traceback" in logged:
        pytest.fail("the server logged an error:\n" + logged[-4000:], pytrace=False)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is needed for the browser tests and was not found at {CHROMIUM}. "
            "Install it with `sudo bash scripts/system-deps.sh` (Debian package "
            "`chromium`) or point SURVEY_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, request) -> Iterator[Callable[..., Page]]:
    """`new_page(locale="en-US", **PHONE)`: a page in a fresh browser context (no cookies, no
    storage). Contexts left open are closed after the test."""
    contexts: list[BrowserContext] = []
    pages = request.node.stash.setdefault(PAGES, [])
    for stale in ARTIFACTS.glob(f"FAILED-{_file_name(request.node)}-*.png"):
        stale.unlink()

    def make(locale: str = "zh-CN", **options) -> Page:
        context = browser.new_context(locale=locale, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    for context in contexts:
        context.close()


def _file_name(item: pytest.Item) -> str:
    return re.sub(r"[^\w.-]+", "_", item.name).strip("_")


@pytest.fixture
def shot(request) -> Callable[[Page, str], Path]:
    """`shot(page, "opened")`: a numbered screenshot of the viewport under test-artifacts/."""
    folder = ARTIFACTS / _file_name(request.node)
    shutil.rmtree(folder, ignore_errors=True)
    counter = iter(range(1, 100))

    def take(page: Page, name: str, full_page: bool = False) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=path, full_page=full_page, scale="css")
        return path

    return take


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed:
        name = _file_name(item)
        for number, page in enumerate(item.stash.get(PAGES, []), start=1):
            if page.is_closed():
                continue
            path = ARTIFACTS / f"FAILED-{name}-{number}.png"
            try:
                page.screenshot(path=path, full_page=True, scale="css")
            except Exception as error:
                report.sections.append(("screenshot", f"no screenshot of {page.url}: {error}"))
            else:
                report.sections.append(("screenshot", f"{page.url} -> {path}"))
    return report
