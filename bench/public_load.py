"""Public ratings under load: simulated citizens rate service points through their public links,
paced to the submission benchmark's rate, and every rating is accounted for in the database.

The real app is served by gunicorn (2 workers per core, bench/load.py's Server) on a fresh
SQLite database and on PostgreSQL, behind one trusted proxy hop (SURVEY_PROXY_HOPS=1): each
citizen sends its own X-Forwarded-For address in a /24 of its own, so that the per-network
limit (PUBLIC_RATING_RATE_LIMIT, left at its default) is the one real citizens meet, not that
of one machine sending everything. A setup step (the app's code, as the operator's `flask`
commands would) makes a few service points in the first office.

Each citizen has its own cookie jar (the server sets its device cookie): it GETs
/s/<link_key>, reads the signed nonce_token, POSTs a rating (about 20% poor with reasons, about
half with a phone number or an e-mail address, some with a comment) and expects 303 to
/s/<link_key>/thanks. Besides, about 5% send the same form twice (a double tap: half of them
both at the same moment, half once the first was answered) and about 5% come back the same
day and rate the same point again from the same device (a new form): neither may add a row.
Citizens start on a schedule (--rate per second; by default the submission benchmark's figure
on that database), taken by --clients threads; --unpaced starts each as soon as a thread is
free, to find the maximum.

Afterwards the ledger (every request, its status, latency, the nonce it carried and the
outcome the server put in the session: stored, again or today) is compared with public_rating
and feedback_case: one row per citizen whose rating was accepted (0 lost, 0 duplicated), none
for a resent form or a second rating, the score sent, and one case per poor rating stored.
Prints ratings/s, POST p50/p95/p99, errors by status, lost and duplicated; exits 1 when
anything was lost or duplicated, a request failed (5xx, an unexpected status, no answer) or a
check did not hold.

    .venv/bin/python bench/public_load.py [--citizens 2000] [--clients 8]
        [--rate 185 | --unpaced] [--points 4] [--no-postgres | --no-sqlite]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/public_bench]
        [--json] [--json-out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

from itsdangerous import BadData, URLSafeSerializer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (
    ATTR,
    INPUT,
    PG_DEFAULT,
    REQUEST_TIMEOUT,
    ROOT,
    Server,
    _NoRedirect,
    flask_cli,
    free_port,
    fresh_postgres,
    percentile,
    print_figures,
    survey_env,
)

# It makes its own databases: bench/run.py runs it once, saying which (--no-sqlite,
# --no-postgres, --postgres-url).
BENCH_RUNS = "once, on each database"
CITIZENS = 2000
CLIENTS = 8
POINTS = 4
WARMUP = 40
# Responses per second of bench/submission_bench.py (8 clients, gunicorn with 2 workers per
# core), the rate the public ratings are paced to unless --rate or --unpaced says otherwise.
SUBMISSION_RATE = {"sqlite": 185.0, "postgresql": 153.0}
# The share of the paced rate that counts as keeping up (the last citizens' latency, the
# threads' scheduling).
RATE_TARGET = 0.95
DOUBLE_TAPS = 0.05
SECOND_RATINGS = 0.05
POOR_SHARE = 0.20
CONTACT_SHARE = 0.5
COMMENT_SHARE = 0.15
POOR_AT_MOST = 2  # survey.models.feedback.POOR_AT_MOST
REASONS = ("waiting", "attitude", "information", "result", "other")
PG_PUBLIC = PG_DEFAULT.rsplit("/", 1)[0] + "/public_bench"

# The service points, made with the app's own code in the first office (init-db made it).
SETUP = """
import sys
from sqlalchemy import select
from survey import create_app, service_points, tenancy
from survey.extensions import db
from survey.models import Office

app = create_app()
with app.app_context():
    tenancy.enter(db.session.scalar(select(Office.id).order_by(Office.id)))
    points = [
        service_points.create(f"bench-{n}", f"{n} 号窗口", f"Counter {n}", "counter")
        for n in range(1, int(sys.argv[1]) + 1)
    ]
    db.session.commit()
    for point in points:
        print(point.link_key)
"""

# Signed, not encrypted: the nonce in a form's token and the outcome in the session cookie
# can be read without the key (itsdangerous: base64 JSON, zlib when it starts with ".").
_PAYLOAD = URLSafeSerializer("only-reads-payloads")


def payload(signed: str) -> dict | None:
    """The data of an itsdangerous timed token or of Flask's session cookie, unverified."""
    try:
        data = _PAYLOAD.load_payload(signed.strip('"').rsplit(".", 2)[0].encode())
    except (BadData, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --------------------------------------------------------------------------- the citizens


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body: str
    cookies: list[str]  # its Set-Cookie headers
    seconds: float


class Citizen:
    """One citizen's phone: its own cookie jar, its own address (X-Forwarded-For), no
    redirects followed."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(CookieJar()),
            _NoRedirect,
        )

    def request(self, url: str, data: list[tuple[str, str]] | None = None) -> Reply:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(
            url,
            data=body,
            method="GET" if data is None else "POST",
            headers={"X-Forwarded-For": self.address},
        )
        start = time.perf_counter()
        try:
            resp = self.opener.open(req, timeout=REQUEST_TIMEOUT)
        except urllib.error.HTTPError as e:
            resp = e
        try:
            text = resp.read().decode("utf-8", "replace")
            return Reply(
                resp.status if hasattr(resp, "status") else resp.code,
                resp.headers.get("Location", ""),
                text,
                resp.headers.get_all("Set-Cookie") or [],
                time.perf_counter() - start,
            )
        finally:
            resp.close()


def nonce_token(page: str) -> str | None:
    for tag in INPUT.findall(page):
        attrs = dict(ATTR.findall(tag))
        if attrs.get("name") == "nonce_token":
            return attrs.get("value") or None
    return None


def outcome_of(cookies: list[str]) -> str | None:
    """The outcome (stored, again, today) the rating view put in the session cookie."""
    for header in cookies:
        value = header.split(";", 1)[0].partition("=")[2]
        data = payload(value) or {}
        if isinstance(data.get("public_rated"), dict):
            return data["public_rated"].get("outcome")
    return None


@dataclass(frozen=True)
class Plan:
    """What one citizen will do."""

    number: int
    address: str  # in a /24 of its own
    link_key: str
    answer: tuple[tuple[str, str], ...]
    score: int
    tap: str | None  # None, "together" (two POSTs at once) or "after" (once answered)
    second: tuple[tuple[str, str], ...] | None  # a second rating the same day


def answer(rng: random.Random, number: int) -> tuple[int, tuple[tuple[str, str], ...]]:
    poor = rng.random() < POOR_SHARE
    score = rng.choice((1, 2)) if poor else rng.choices((3, 4, 5), weights=(2, 3, 5))[0]
    fields = [("score", str(score))]
    if poor:
        fields += [("reasons", r) for r in rng.sample(REASONS, rng.choice((1, 1, 2)))]
    if rng.random() < COMMENT_SHARE:
        fields.append(("comment", f"Citizen {number}: {rng.choice(('quick', 'slow', 'fine'))}."))
    if rng.random() < CONTACT_SHARE:
        fields.append(("contact_name", f"Citizen {number}"))
        fields.append(
            ("contact", f"139{number:08d}" if number % 2 else f"citizen{number}@example.cn")
        )
    return score, tuple(fields)


def plans(
    first: int,
    count: int,
    link_keys: list[str],
    seed: int,
    double_taps: float = DOUBLE_TAPS,
    second_ratings: float = SECOND_RATINGS,
) -> list[Plan]:
    """Citizens `first` .. `first + count - 1`: citizen n comes from 10.x.y.z with x.y = n
    (a /24 each, 65,536 of them before the next /8)."""
    rng = random.Random(seed)
    taps = set(rng.sample(range(count), round(count * double_taps)))
    together = set(sorted(taps)[::2])  # the other half resend once the first was answered
    seconds = set(rng.sample(range(count), round(count * second_ratings)))
    out = []
    for i in range(count):
        n = first + i
        score, fields = answer(rng, n)
        address = ".".join(str(b) for b in ((10 << 24) + (n << 8) + 7).to_bytes(4, "big"))
        out.append(
            Plan(
                number=n,
                address=address,
                link_key=link_keys[n % len(link_keys)],
                answer=fields,
                score=score,
                tap=("together" if i in together else "after") if i in taps else None,
                second=answer(rng, n)[1] if i in seconds else None,
            )
        )
    return out


@dataclass
class Entry:
    citizen: int
    kind: str  # first (the citizen's form), again (the same form resent), second (a new form)
    step: str  # form (GET), post
    status: int  # 0: no answer
    seconds: float
    nonce: str = ""
    outcome: str | None = None
    error: str = ""


@dataclass
class Ledger:
    entries: list[Entry] = field(default_factory=list)
    wall_seconds: float = 0.0
    behind_seconds: float = 0.0  # the latest start behind its schedule
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, entry: Entry) -> None:
        with self.lock:
            self.entries.append(entry)

    def posts(self) -> list[Entry]:
        return [e for e in self.entries if e.step == "post"]


def _form(citizen: Citizen, url: str, plan: Plan, kind: str, ledger: Ledger) -> str | None:
    try:
        reply = citizen.request(url)
    except (OSError, urllib.error.URLError) as e:
        ledger.add(Entry(plan.number, kind, "form", 0, 0.0, error=repr(e)))
        return None
    token = nonce_token(reply.body) if reply.status == 200 else None
    nonce = (payload(token) or {}).get("n", "") if token else ""
    error = "" if nonce or reply.status != 200 else "no nonce_token on the page"
    ledger.add(Entry(plan.number, kind, "form", reply.status, reply.seconds, nonce, error=error))
    return token if nonce else None


def _post(
    citizen: Citizen, url: str, plan: Plan, kind: str, data: list, nonce: str, ledger: Ledger
) -> None:
    try:
        reply = citizen.request(url, data)
    except (OSError, urllib.error.URLError) as e:
        ledger.add(Entry(plan.number, kind, "post", 0, 0.0, nonce, error=repr(e)))
        return
    thanked = reply.status == 303 and reply.location.rstrip("/").endswith("/thanks")
    ledger.add(
        Entry(
            plan.number,
            kind,
            "post",
            reply.status,
            reply.seconds,
            nonce,
            outcome_of(reply.cookies),
            "" if thanked else f"{reply.location} {reply.body[:160]}".strip(),
        )
    )


def rate_once(plan: Plan, base_url: str, ledger: Ledger) -> None:
    citizen = Citizen(plan.address)
    url = f"{base_url}/s/{plan.link_key}"
    token = _form(citizen, url, plan, "first", ledger)
    if token is None:
        return
    nonce = payload(token)["n"]
    data = [("nonce_token", token), *plan.answer]
    if plan.tap == "together":
        barrier = threading.Barrier(2, timeout=REQUEST_TIMEOUT)

        def twin() -> None:
            barrier.wait()
            _post(citizen, url, plan, "again", data, nonce, ledger)

        helper = threading.Thread(target=twin)
        helper.start()
        barrier.wait()
        _post(citizen, url, plan, "first", data, nonce, ledger)
        helper.join()
    else:
        _post(citizen, url, plan, "first", data, nonce, ledger)
        if plan.tap == "after":
            _post(citizen, url, plan, "again", data, nonce, ledger)
    if plan.second:
        token = _form(citizen, url, plan, "second", ledger)
        if token is not None:
            data = [("nonce_token", token), *plan.second]
            _post(citizen, url, plan, "second", data, payload(token)["n"], ledger)


def run_citizens(citizens: list[Plan], base_url: str, clients: int, rate: float | None) -> Ledger:
    """`clients` threads work through the citizens; citizen i starts at i / `rate` seconds
    (as soon as a thread is free when `rate` is None)."""
    ledger = Ledger()
    lock = threading.Lock()
    queue = iter(range(len(citizens)))
    start = time.perf_counter()

    def worker() -> None:
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                return
            if rate:
                wait = start + i / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                else:
                    with lock:
                        ledger.behind_seconds = max(ledger.behind_seconds, -wait)
            rate_once(citizens[i], base_url, ledger)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger.wall_seconds = time.perf_counter() - start
    return ledger


# --------------------------------------------------------------------------- the server side


def setup(database: str, points: int, workdir: Path) -> tuple[str, dict, int, list[str]]:
    """A fresh database ("sqlite" or a PostgreSQL URL) at the newest schema with `points`
    service points: (database URL, the server's environment, its port, the link keys)."""
    port = free_port()
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    if database == "sqlite":
        url = f"sqlite:///{instance / 'survey.sqlite'}"
        (instance / "survey.sqlite").unlink(missing_ok=True)
    else:
        url = fresh_postgres(database)
    env = {**survey_env(url, instance, port), "SURVEY_PROXY_HOPS": "1"}
    flask_cli(env, "init-db")
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(points)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"making the service points failed:\n{done.stderr[-3000:]}")
    keys = done.stdout.split()
    if len(keys) != points:
        raise RuntimeError(f"{len(keys)} service points made, {points} wanted: {done.stdout}")
    return url, env, port, keys


@dataclass(frozen=True)
class Stored:
    ratings: dict[str, tuple[int, int, str | None]]  # nonce: (rating id, score, flag)
    case_ratings: list[int]  # the rating of each feedback case


def stored(url: str) -> Stored:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ratings = conn.execute(text("SELECT nonce, id, score, flag FROM public_rating")).all()
            cases = conn.execute(text("SELECT rating_id FROM feedback_case")).scalars().all()
    finally:
        engine.dispose()
    return Stored({nonce: (id_, score, flag) for nonce, id_, score, flag in ratings}, list(cases))


# --------------------------------------------------------------------------- the check


def check(ledger: Ledger, citizens: list[Plan], found: Stored) -> dict:
    """The ledger and the plans against the database."""
    plan_of = {p.number: p for p in citizens}
    owner: dict[str, tuple[int, str]] = {}  # nonce: (citizen, "first" or "second")
    for e in ledger.entries:
        if e.step == "form" and e.nonce:
            owner[e.nonce] = (e.citizen, "second" if e.kind == "second" else "first")
    posts = ledger.posts()
    accepted = {e.citizen for e in posts if e.kind != "second" and e.status == 303}
    first_nonce = {c: n for n, (c, kind) in owner.items() if kind == "first"}
    rows_of: Counter = Counter()
    unknown = second_stored = wrong_score = 0
    for nonce, (_, score, _flag) in found.ratings.items():
        citizen, kind = owner.get(nonce, (None, ""))
        if citizen is None:
            unknown += 1
            continue
        rows_of[citizen] += 1
        if kind == "second":
            second_stored += 1
        elif score != plan_of[citizen].score:
            wrong_score += 1
    lost = sorted(c for c in accepted if first_nonce.get(c) not in found.ratings)
    poor_ids = {i for i, score, _ in found.ratings.values() if score <= POOR_AT_MOST}
    case_of = Counter(found.case_ratings)
    # The outcome the server told each POST: one "stored" per accepted form, "again" for
    # every other sending of it, "today" for a second rating.
    told: dict[int, list[str | None]] = {}
    wrong_outcomes = []
    for e in posts:
        if e.status != 303:
            continue
        if e.kind == "second":
            if e.outcome != "today":
                wrong_outcomes.append(f"citizen {e.citizen} second: {e.outcome}")
        else:
            told.setdefault(e.citizen, []).append(e.outcome)
    for citizen, outcomes in told.items():
        if sorted(outcomes, key=str) != ["again"] * (len(outcomes) - 1) + ["stored"]:
            tap = plan_of[citizen].tap or "sent once"
            wrong_outcomes.append(f"citizen {citizen} ({tap}): {', '.join(map(str, outcomes))}")
    unexpected = [
        e for e in ledger.entries if e.error or e.status != (200 if e.step == "form" else 303)
    ]
    statuses = Counter(f"{e.step} {e.status or 'no answer'}" for e in unexpected)
    return {
        "citizens": len(citizens),
        "double_taps": sum(1 for p in citizens if p.tap),
        "second_ratings": sum(1 for p in citizens if p.second),
        "accepted": len(accepted),
        "stored": len(found.ratings),
        "lost": len(lost),
        "duplicated": unknown + second_stored + sum(n - 1 for n in rows_of.values() if n > 1),
        # Stored though no sending of its form was answered 303 (e.g. it timed out).
        "stored_unaccepted": sum(1 for c in rows_of if c not in accepted),
        "second_stored": second_stored,
        "wrong_score": wrong_score,
        "wrong_outcome": len(wrong_outcomes),
        "wrong_outcome_samples": wrong_outcomes[:5],
        "poor_stored": len(poor_ids),
        "cases": len(found.case_ratings),
        "case_mismatch": len(poor_ids ^ set(case_of)) + sum(n - 1 for n in case_of.values()),
        "flagged_burst": sum(1 for _, _, flag in found.ratings.values() if flag == "burst"),
        "errors": len(unexpected),
        "http_5xx": sum(1 for e in unexpected if e.status >= 500),
        "no_answer": sum(1 for e in unexpected if e.status == 0),
        "errors_by_status": dict(sorted(statuses.items())) or "none",
        "error_samples": [f"{e.step} {e.status} {e.error[:140]}" for e in unexpected[:5]],
        "lost_citizens": lost[:10],
    }


def failures(figures: dict) -> list[str]:
    out = []
    if figures["stored"] != figures["accepted"]:
        out.append(f"{figures['stored']} ratings stored, {figures['accepted']} accepted")
    for key in (
        "lost",
        "duplicated",
        "errors",
        "wrong_score",
        "wrong_outcome",
        "case_mismatch",
    ):
        if figures[key]:
            out.append(f"{key}: {figures[key]}")
    if figures["cases"] != figures["poor_stored"]:
        out.append(f"{figures['cases']} cases for {figures['poor_stored']} poor ratings")
    return out


def latency(values: list[float]) -> dict:
    return {
        "p50_ms": 1000 * (statistics.median(values) if values else 0.0),
        "p95_ms": 1000 * (percentile(values, 95) or 0.0),
        "p99_ms": 1000 * (percentile(values, 99) or 0.0),
    }


def public_load(
    database: str,
    citizens: int,
    clients: int,
    rate: float | None,
    points: int,
    workdir: Path,
    warmup: int = WARMUP,
    seed: int = 2026,
    double_taps: float = DOUBLE_TAPS,
    second_ratings: float = SECOND_RATINGS,
) -> dict:
    """Serve the app on a fresh database, let the citizens rate, check the database."""
    name = "sqlite" if database == "sqlite" else "postgresql"
    url, env, port, keys = setup(database, points, workdir)
    warm = plans(0, warmup, keys, seed)
    measured = plans(warmup, citizens, keys, seed + 1, double_taps, second_ratings)
    log = workdir / "gunicorn.log"
    with Server("survey:create_app()", port, env, log) as server:
        base = server.url
        warm_ledger = run_citizens(warm, base, clients, None)
        cpu = server.cpu_seconds()
        client_cpu = time.process_time()
        ledger = run_citizens(measured, base, clients, rate)
        client_cpu = time.process_time() - client_cpu
        after = server.cpu_seconds()
    found = stored(url)
    everything = Ledger(warm_ledger.entries + ledger.entries)
    checked = check(everything, warm + measured, found)
    accepted = len({e.citizen for e in ledger.posts() if e.kind != "second" and e.status == 303})
    posts = [e.seconds for e in ledger.posts() if e.status]
    forms = [e.seconds for e in ledger.entries if e.step == "form" and e.status]
    figures = {
        "database": name,
        "workers": server.workers,
        "clients": clients,
        "paced_rate": rate or "unpaced",
        "ratings_per_s": accepted / ledger.wall_seconds if ledger.wall_seconds else 0.0,
        "requests_per_s": len(ledger.entries) / ledger.wall_seconds if ledger.wall_seconds else 0.0,
        "wall_s": ledger.wall_seconds,
        "behind_schedule_s": ledger.behind_seconds if rate else None,
        "posts": len(posts),
        **{f"post_{k}": v for k, v in latency(posts).items()},
        "form_p95_ms": latency(forms)["p95_ms"],
        "server_cpu_ms_per_rating": 1000 * (after - cpu) / accepted
        if cpu is not None and after is not None and accepted
        else None,
        "client_cpu_ms_per_rating": 1000 * client_cpu / accepted if accepted else None,
        "warmup_citizens": warmup,
        **checked,
    }
    if checked["errors"] and log.exists():
        figures["server_log_tail"] = log.read_text(errors="replace")[-2000:]
    return figures


def rows_for(f: dict) -> list[dict]:
    notes = {
        "ratings_per_s": round(f["ratings_per_s"], 1),
        "paced_rate": f["paced_rate"],
        "p50_ms": round(f["post_p50_ms"], 1),
        "p99_ms": round(f["post_p99_ms"], 1),
        "server_cpu_ms": None
        if f["server_cpu_ms_per_rating"] is None
        else round(f["server_cpu_ms_per_rating"], 1),
        "stored": f["stored"],
        "of": f["accepted"],
        "lost": f["lost"],
        "duplicated": f["duplicated"],
        "cases": f["cases"],
        "poor": f["poor_stored"],
        "errors": f["errors"],
        "http_5xx": f["http_5xx"],
    }
    rows = [
        {
            "benchmark": "public_load",
            "step": f"{f['database']}: public rating, p95 of the POST",
            "seconds": f["post_p95_ms"] / 1000,
            "target": None,
            **notes,
        }
    ]
    if isinstance(f["paced_rate"], float | int):
        ratio = f["ratings_per_s"] / f["paced_rate"]
        rows.append(
            {
                "benchmark": "public_load",
                "step": f"{f['database']}: public ratings/s over the paced rate",
                "seconds": None,
                "target": None,
                "ratio": round(ratio, 3),
                "ratio_target": RATE_TARGET,
                "ratio_ok": "yes" if ratio >= RATE_TARGET else "NO",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=CITIZENS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--rate",
        type=float,
        help="citizens started per second (default: the submission benchmark's "
        + ", ".join(f"{v:g} on {k}" for k, v in SUBMISSION_RATE.items())
        + ")",
    )
    pace.add_argument("--unpaced", action="store_true", help="as fast as the clients go")
    parser.add_argument("--points", type=int, default=POINTS, help="service points")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="citizens before measuring")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--double-taps", type=float, default=DOUBLE_TAPS, help="share of forms sent twice"
    )
    parser.add_argument(
        "--second-ratings",
        type=float,
        default=SECOND_RATINGS,
        help="share of citizens who rate the same point again the same day",
    )
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", PG_PUBLIC))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", action="store_true", help="rows as JSON on the last line")
    parser.add_argument("--json-out", type=Path, help="write the rows as JSON to this file")
    parser.add_argument("--responses", type=int, help="(bench/run.py --quick; ignored here)")
    args = parser.parse_args(argv)

    databases = ([] if args.no_sqlite else ["sqlite"]) + (
        [] if args.no_postgres else [args.postgres_url]
    )
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="public-load-") as tmp:
        for database in databases:
            name = "sqlite" if database == "sqlite" else "postgresql"
            work = Path(tmp) / name
            work.mkdir()
            rate = None if args.unpaced else (args.rate or SUBMISSION_RATE[name])
            figures = public_load(
                database,
                args.citizens,
                args.clients,
                rate,
                args.points,
                work,
                args.warmup,
                args.seed,
                args.double_taps,
                args.second_ratings,
            )
            print_figures(f"public ratings on {name}", figures, file=sys.stderr)
            rows.extend(rows_for(figures))
            problems = failures(figures)
            if problems:
                failed.append(name)
                print(f"FAILED on {name}: " + "; ".join(problems), file=sys.stderr)
    print(
        f"cores {os.cpu_count()}, gunicorn workers {2 * (os.cpu_count() or 1)}, "
        f"{args.clients} clients, {args.citizens} citizens per database"
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")
    if args.json:
        print(json.dumps(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
