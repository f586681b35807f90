"""Load generator for the respondent's form, with a client-side ledger checked against the database.

Each invitation is answered as a browser would: GET the personal link (303, the token is
exchanged for the session cookie), GET the survey page, read its csrf_token, submission_key and
radio groups, POST complete answers with action=submit (303 to .../done). Every invitation gets
its own cookie jar; N client threads work through the invitations over loopback only.

A "duplicate" invitation is answered by two browsers at once: both open the link and load the
form, then both POST at the same moment (a barrier): exactly one may be stored.

Every request goes into the ledger (token, kind, HTTP status, latency); `check_survey_database`
afterwards compares it with the database: responses per invitation, answers per response,
duplicates, responses lost after a 303, and 5xx answers.

The module also starts and stops the servers (gunicorn) and prepares the databases, for
bench/submission_bench.py, bench/reliability.py and tests/reliability/.

    .venv/bin/python bench/load.py --database sqlite --invitations 200 --duplicates 20
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
REQUEST_TIMEOUT = 30.0
HIGH_LIMIT = "1000000 per minute"

INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
ATTR = re.compile(r'([a-zA-Z_:-]+)="([^"]*)"')
FORM_ACTION = re.compile(r'<form\b[^>]*\baction="([^"]*)"', re.IGNORECASE)


# --------------------------------------------------------------------------- the client side


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is the answer we want to see, not to follow


class Browser:
    """One respondent's browser: its own cookie jar, no proxy, no redirects followed."""

    def __init__(self) -> None:
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect,
        )

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, str, float]:
        """(status, Location, body, seconds); HTTP errors are answers too."""
        body = None if data is None else urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(url, data=body, method="GET" if data is None else "POST")
        start = time.perf_counter()
        try:
            resp = self.opener.open(req, timeout=REQUEST_TIMEOUT)
        except urllib.error.HTTPError as e:
            resp = e
        try:
            text = resp.read().decode("utf-8", "replace")
            status = resp.status if hasattr(resp, "status") else resp.code
            location = resp.headers.get("Location", "")
        finally:
            resp.close()
        return status, location, text, time.perf_counter() - start


@dataclass
class Form:
    url: str
    fields: dict[str, str]
    radios: dict[str, list[str]]

    def answers(self, rng: random.Random) -> dict[str, str]:
        data = dict(self.fields)
        for name, values in self.radios.items():
            data[name] = rng.choice(values)
        data["action"] = "submit"
        return data


def parse_form(page: str, page_url: str) -> Form | None:
    action = FORM_ACTION.search(page)
    if not action:
        return None
    fields: dict[str, str] = {}
    radios: dict[str, list[str]] = {}
    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        name, kind = attrs.get("name"), attrs.get("type", "text").lower()
        if not name:
            continue
        if kind == "radio":
            radios.setdefault(name, []).append(attrs.get("value", ""))
        elif kind == "hidden" and name in ("csrf_token", "submission_key"):
            fields[name] = attrs.get("value", "")
    if "csrf_token" not in fields or not radios:
        return None
    return Form(urllib.parse.urljoin(page_url, action.group(1)), fields, radios)


@dataclass
class Entry:
    token: str
    kind: str  # "first" (a single submit or the first of a pair) or "duplicate"
    step: str  # link, page, post
    status: int  # 0: no answer (exception)
    seconds: float
    answers: int = 0  # radio groups answered (POST entries)
    error: str = ""


@dataclass
class Ledger:
    entries: list[Entry] = field(default_factory=list)
    wall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, entry: Entry) -> None:
        with self.lock:
            self.entries.append(entry)

    def posts(self) -> list[Entry]:
        return [e for e in self.entries if e.step == "post"]

    def tokens(self) -> set[str]:
        return {e.token for e in self.entries}

    def accepted(self) -> Counter:
        """303 answers to POSTs per token."""
        return Counter(e.token for e in self.posts() if e.status == 303)

    def expected_answers(self) -> dict[str, int]:
        return {e.token: e.answers for e in self.posts() if e.status == 303}


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def _open(browser: Browser, link: str, kind: str, ledger: Ledger) -> Form | None:
    token = token_of(link)
    try:
        status, location, _, seconds = browser.request(link)
        ledger.add(Entry(token, kind, "link", status, seconds))
        if status != 303:
            return None
        page_url = urllib.parse.urljoin(link, location)
        status, _, page, seconds = browser.request(page_url)
        form = parse_form(page, page_url) if status == 200 else None
        ledger.add(
            Entry(
                token,
                kind,
                "page",
                status,
                seconds,
                error="" if form or status != 200 else "no form on the page",
            )
        )
        return form
    except (OSError, urllib.error.URLError) as e:
        ledger.add(Entry(token, kind, "link/page", 0, 0.0, error=repr(e)))
        return None


def _post(browser: Browser, link: str, form: Form, data: dict, kind: str, ledger: Ledger) -> None:
    token = token_of(link)
    try:
        status, _, body, seconds = browser.request(form.url, data)
        error = "" if status in (303, 200) else body[:200]
        ledger.add(Entry(token, kind, "post", status, seconds, len(form.radios), error))
    except (OSError, urllib.error.URLError) as e:
        ledger.add(Entry(token, kind, "post", 0, 0.0, len(form.radios), repr(e)))


def submit_one(link: str, ledger: Ledger, rng: random.Random) -> None:
    browser = Browser()
    form = _open(browser, link, "first", ledger)
    if form is not None:
        _post(browser, link, form, form.answers(rng), "first", ledger)


def submit_twice(link: str, ledger: Ledger, rng: random.Random) -> None:
    """Two browsers open the same invitation and submit at the same moment."""
    first, second = Browser(), Browser()
    form1 = _open(first, link, "first", ledger)
    form2 = _open(second, link, "duplicate", ledger)
    if form1 is None:
        return
    if form2 is None:  # the rival never got a form: it replays the first browser's POST instead
        second, form2 = first, form1
    data1, data2 = form1.answers(rng), form2.answers(rng)
    barrier = threading.Barrier(2, timeout=REQUEST_TIMEOUT)

    def rival() -> None:
        barrier.wait()
        _post(second, link, form2, data2, "duplicate", ledger)

    helper = threading.Thread(target=rival)
    helper.start()
    barrier.wait()
    _post(first, link, form1, data1, "first", ledger)
    helper.join()


def run_load(
    links: list[str], clients: int, duplicates: int = 0, seed: int = 2004, time_limit: float = 900.0
) -> Ledger:
    """Submit every link once with `clients` threads; `duplicates` of them are submitted twice
    at the same moment by two browsers. Stops taking new work after `time_limit` seconds."""
    rng = random.Random(seed)
    doubled = set(rng.sample(range(len(links)), min(duplicates, len(links))))
    tasks = [(link, i in doubled) for i, link in enumerate(links)]
    ledger = Ledger()
    lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def worker(n: int) -> None:
        local = random.Random(seed * 1000 + n)
        while time.monotonic() < deadline:
            with lock:
                if not tasks:
                    return
                link, twice = tasks.pop(0)
            (submit_twice if twice else submit_one)(link, ledger, local)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger.wall_seconds = time.perf_counter() - start
    return ledger


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def latency_figures(ledger: Ledger) -> dict:
    posts = [e.seconds for e in ledger.posts() if e.status]
    accepted = sum(ledger.accepted().values())
    return {
        "responses_per_s": accepted / ledger.wall_seconds if ledger.wall_seconds else 0.0,
        "accepted": accepted,
        "posts": len(posts),
        "p50_ms": 1000 * (statistics.median(posts) if posts else 0.0),
        "p95_ms": 1000 * (percentile(posts, 95) or 0.0),
        "p99_ms": 1000 * (percentile(posts, 99) or 0.0),
        "wall_s": ledger.wall_seconds,
    }


def compare(ledger: Ledger, stored: dict[str, list[int]], new_responses: int) -> dict:
    """The ledger against what the database holds: `stored` maps each ledger token to the
    answer counts of its responses; `new_responses` is how many responses the run added."""
    tokens = ledger.tokens()
    accepted = ledger.accepted()
    expected = ledger.expected_answers()
    status_5xx = [e for e in ledger.entries if e.status >= 500]
    unexpected = [
        e
        for e in ledger.entries
        if e.status == 0
        or (e.step == "post" and e.kind == "first" and e.status not in (303, 200))
        or (e.step == "post" and e.kind == "duplicate" and e.status not in (303, 200))
        or (e.step == "link" and e.status != 303)
        or (e.step == "page" and (e.status != 200 or e.error))
    ]
    with_response = {t for t in tokens if stored.get(t)}
    return {
        "invitations": len(tokens),
        "submits": len(ledger.posts()),
        "duplicate_submits": sum(1 for e in ledger.posts() if e.kind == "duplicate"),
        "stored": len(with_response),
        "new_responses": new_responses,
        "lost": sum(1 for t in accepted if not stored.get(t)),
        "not_stored": len(tokens - with_response),
        "duplicates": sum(1 for t in tokens if len(stored.get(t, [])) > 1)
        + sum(1 for t, n in accepted.items() if n > 1),
        "incomplete": sum(1 for t in with_response if any(n != expected.get(t) for n in stored[t])),
        "http_5xx": len(status_5xx),
        "responses_with_5xx": len({e.token for e in status_5xx} & with_response),
        "errors": len(unexpected),
        "error_samples": [f"{e.step} {e.status} {e.error[:120]}" for e in unexpected[:5]],
    }


def reliability_failures(check: dict, wanted: int) -> list[str]:
    failures = []
    if check["stored"] != wanted or check["new_responses"] != wanted:
        failures.append(
            f"{check['stored']} invitations answered ({check['new_responses']} "
            f"responses added), {wanted} wanted"
        )
    for key in ("lost", "duplicates", "incomplete", "http_5xx", "errors"):
        if check[key]:
            failures.append(f"{key}: {check[key]}")
    return failures


# --------------------------------------------------------------------------- the server side


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_per_core() -> int:
    return 2 * (os.cpu_count() or 1)


class Server:
    """gunicorn serving `app` on 127.0.0.1:`port`; a context manager that always stops it."""

    def __init__(
        self, app: str, port: int, env: dict, log_path: Path, workers: int | None = None
    ) -> None:
        self.app, self.port, self.env, self.log_path = app, port, env, log_path
        self.workers = workers or workers_per_core()
        self.process: subprocess.Popen | None = None
        self.log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                self.app,
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            self._wait()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n"
                    + self.log_path.read_text(errors="replace")[-3000:]
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer on port {self.port} in {timeout:.0f} s")

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) gunicorn's master and workers have used so far; None where
        /proc is not there. Divided by the responses served it is the server's cost of one,
        which drifts far less between runs on a shared machine than responses per second."""
        if self.process is None:
            return None
        pid = self.process.pid
        return process_cpu_seconds(lambda p: pid in (p.pid, p.ppid))

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None


def survey_env(database_url: str, instance: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SURVEY_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SURVEY_INSTANCE_PATH": str(instance),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "SECRET_KEY": "load-test-secret",
            "SURVEY_TOKEN_RATE_LIMIT": HIGH_LIMIT,
            "SURVEY_LOGIN_RATE_LIMIT": HIGH_LIMIT,
            "SURVEY_LOGIN_ADDRESS_RATE_LIMIT": HIGH_LIMIT,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def flask_cli(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "survey", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def fresh_postgres(url: str) -> str:
    """Drop and create the database `url` names (never the one named `test`); the URL back."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if not name or name in ("test", "postgres", "template0", "template1"):
        raise RuntimeError(f"refusing to recreate the database {name!r}")
    admin = parsed.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def prepare_survey(env: dict, invitations: int) -> tuple[int, list[str]]:
    """init-db, demo and enough invitations per unit: (round id, `invitations` unused links)."""
    flask_cli(env, "init-db")
    out = flask_cli(env, "demo")
    round_id = int(re.search(r"^round (\d+) ", out, re.MULTILINE).group(1))
    per_unit = -(-invitations // 32)  # the demo's 32 respondent units
    rows = list(
        csv.DictReader(
            io.StringIO(
                flask_cli(env, "invite", str(round_id), "--count", str(per_unit), "--format", "csv")
            )
        )
    )
    links = [r["link"] for r in rows if r.get("status", "sent") == "sent"]
    if len(links) < invitations:
        raise RuntimeError(f"only {len(links)} invitations issued, {invitations} wanted")
    return round_id, links[:invitations]


def survey_database_state(database_url: str, tokens: set[str]) -> tuple[dict, int]:
    """({token: [answers per response]}, responses in total) from the app's database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT i.token, r.id, (SELECT count(*) FROM answer a WHERE a.response_id = r.id)"
                    " FROM response r JOIN invitation i ON i.id = r.invitation_id"
                )
            ).all()
            total = conn.execute(text("SELECT count(*) FROM response")).scalar_one()
    finally:
        engine.dispose()
    stored: dict[str, list[int]] = {}
    for token, _, answers in rows:
        if token in tokens:
            stored.setdefault(token, []).append(answers)
    return stored, total


def survey_setup(
    database: str, invitations: int, workdir: Path
) -> tuple[str, dict, int, list[str]]:
    """A fresh database (`database`: "sqlite" or a PostgreSQL URL) with the demo and
    `invitations` unused links: (database URL, the server's environment, its port, links)."""
    port = free_port()
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    if database == "sqlite":
        url = f"sqlite:///{instance / 'survey.sqlite'}"
        (instance / "survey.sqlite").unlink(missing_ok=True)
    else:
        url = fresh_postgres(database)
    env = survey_env(url, instance, port)
    _, links = prepare_survey(env, invitations)
    return url, env, port, links


def survey_load(
    database: str,
    invitations: int,
    duplicates: int,
    clients: int,
    workdir: Path,
    warmup: int = 0,
    workers: int | None = None,
    time_limit: float = 900.0,
) -> dict:
    """Serve the survey on a fresh database, run the load, compare the ledger with the database.
    `database`: "sqlite" or a PostgreSQL URL. Returns figures and the check."""
    url, env, port, links = survey_setup(database, invitations + warmup, workdir)
    warm, measured = links[:warmup], links[warmup:]
    with Server("survey:create_app()", port, env, workdir / "gunicorn.log", workers) as server:
        if warm:
            run_load(warm, clients)
        _, before = survey_database_state(url, set())
        cpu = server.cpu_seconds()
        ledger = run_load(measured, clients, duplicates, time_limit=time_limit)
        cpu = server_cpu_ms(server, cpu, len(measured))
    stored, after = survey_database_state(url, ledger.tokens())
    check = compare(ledger, stored, after - before)
    return {
        "database": "sqlite" if database == "sqlite" else "postgresql",
        "workers": server.workers,
        "clients": clients,
        **latency_figures(ledger),
        "server_cpu_ms_per_response": cpu,
        **check,
    }


def merged(ledgers: list[Ledger]) -> Ledger:
    """Several runs as one: their entries together, their wall times added."""
    return Ledger(
        entries=[e for ledger in ledgers for e in ledger.entries],
        wall_seconds=sum(ledger.wall_seconds for ledger in ledgers),
    )


@dataclass(frozen=True)
class ProcessStat:
    pid: int
    ppid: int
    name: str
    cpu_seconds: float  # user + system


def process_cpu_seconds(wanted: Callable[[ProcessStat], bool]) -> float | None:
    """CPU time used so far by the processes on this machine that `wanted` picks, read from
    /proc; None where there is no /proc."""
    if not Path("/proc/self/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # a process that ended meanwhile
        fields = text.rsplit(")", 1)[1].split()
        process = ProcessStat(
            int(stat.parent.name),
            int(fields[1]),
            text[text.index("(") + 1 : text.rindex(")")],
            (int(fields[11]) + int(fields[12])) / ticks,
        )
        if wanted(process):
            total += process.cpu_seconds
    return total


def cpu_of_processes(name: str) -> float | None:
    """CPU time of every process called `name` (e.g. the PostgreSQL server's, "postgres")."""
    return process_cpu_seconds(lambda p: p.name == name)


def server_cpu_ms(server: Server, before: float | None, responses: int) -> float | None:
    """Milliseconds of server CPU per response since `before` (Server.cpu_seconds)."""
    after = server.cpu_seconds()
    if before is None or after is None or not responses:
        return None
    return 1000 * (after - before) / responses


def print_figures(title: str, figures: dict, file=None) -> None:
    print(f"== {title}", file=file)
    for key, value in figures.items():
        if isinstance(value, float):
            value = f"{value:,.1f}"
        print(f"  {key:<20} {value}", file=file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help=f"sqlite or a URL ({PG_DEFAULT})")
    parser.add_argument("--invitations", type=int, default=200)
    parser.add_argument("--duplicates", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="survey-load-") as tmp:
        figures = survey_load(
            args.database, args.invitations, args.duplicates, args.clients, Path(tmp)
        )
    print_figures(f"load on {figures['database']}", figures)
    return 1 if reliability_failures(figures, args.invitations) else 0


if __name__ == "__main__":
    sys.exit(main())
