"""Run every benchmark in bench/ (``*_bench.py`` and the load generators ``LOAD_GENERATORS``
names), print one table of their figures and keep them in ``bench/results/<timestamp>.json``
with the machine's core count.

Each benchmark runs in its own process (so its peak memory is its own), once the machine has
settled (``settle``: the page cache written back, PostgreSQL checkpointed). One that accepts
``--json`` prints its rows as JSON on its last line (benchmark, step, seconds, target and
optional figures) and joins the table; the output of one that does not is printed after the
table as it is. Benchmarks print figures; they assert nothing about time.

How often a benchmark runs is its module-level ``BENCH_RUNS`` (read from its text, the module
is not imported):

- ``"once"`` (or none): once, with ``--responses 10000`` under ``--quick``;
- ``"per scale and database"``: once for each scale (``--responses S --previous S/10``: the
  previous round is a tenth of the current one) on each database: SQLite in a temporary folder,
  PostgreSQL in a scratch database made on 127.0.0.1:5432 (user postgres) and dropped after
  (``BENCH_DATABASE_URL``);
- ``"once, on each database"``: once; it makes its own databases, told which by
  ``--no-sqlite``, ``--no-postgres`` and ``--postgres-url`` (a scratch name, dropped after).

When no PostgreSQL server answers, the table says so and the SQLite figures are still made.
Rows made on several scales or databases gain two ratios in the same run: the cost per
response (hence per answer: about 23 each) at this scale over the same step's at the smallest
scale on the same database (flat or falling is <= 1), and PostgreSQL's seconds over SQLite's
at the same scale.

    .venv/bin/python bench/run.py [--quick] [--scales 10000,100000,1000000]
        [--databases sqlite,postgresql] [--only dashboard,growth]
    # --quick: 10,000 responses, both databases
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# From 10,000: the issue asks that the cost per answer be flat or falling from 10,000 to
# 1,000,000 responses, and the ratio is taken over the smallest scale measured.
SCALES = (10_000, 100_000, 1_000_000)
QUICK_SCALES = (10_000,)
DATABASES = ("sqlite", "postgresql")
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_ADMIN = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"
ONCE, PER_SCALE, OWN_DATABASES = "once", "per scale and database", "once, on each database"
# Load generators that run as benchmarks too (their figures join the table; --only public_load).
LOAD_GENERATORS = ("public_load.py",)


def runs_of(source: str) -> str:
    """The benchmark's ``BENCH_RUNS`` (a module-level string), ``"once"`` without one."""
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "BENCH_RUNS" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            if node.value.value not in (ONCE, PER_SCALE, OWN_DATABASES):
                raise ValueError(f"unknown BENCH_RUNS {node.value.value!r}")
            return node.value.value
    return ONCE


def scale_args(scale: int) -> list[str]:
    """A per-scale benchmark's arguments: the previous round is a tenth of the current one."""
    return ["--responses", str(scale), "--previous", str(scale // 10)]


def database_args(databases: list[str], postgres_url: str | None) -> list[str]:
    """Arguments of a benchmark that makes its own databases, for the chosen ones
    (``postgres_url`` None: PostgreSQL is not chosen or does not answer)."""
    args = [] if "sqlite" in databases else ["--no-sqlite"]
    if postgres_url is None:
        return [*args, "--no-postgres"]
    return [*args, "--postgres-url", postgres_url]


def run(script: Path, extra: list[str], env: dict | None = None) -> tuple[list[dict], str, float]:
    """The benchmark's rows (when it speaks ``--json``) or its printed output as it is."""
    speaks_json = '"--json"' in script.read_text()
    args = ["--json", *extra] if speaks_json else []
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        cwd=BENCH.parent,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return (
            [
                {
                    "benchmark": script.stem.removesuffix("_bench"),
                    "step": "FAILED",
                    "seconds": None,
                    "target": None,
                    "error": done.stderr.strip().splitlines()[-1:],
                }
            ],
            "",
            seconds,
        )
    if not speaks_json:
        return [], done.stdout, seconds
    return json.loads(done.stdout.strip().splitlines()[-1]), "", seconds


def output_only(script: Path) -> bool:
    """A benchmark without ``--json`` takes none of the options of this runner either."""
    return '"--json"' not in script.read_text()


def met(row: dict) -> str:
    """ "yes" when every target the row carries is met, "NO" when one is not, "" without any:
    seconds <= target, x_reference <= x_target (times a bare groupby), ratio >= ratio_target
    (share of the ceiling app's throughput)."""
    checks = [
        (row.get(a), row.get(b), better)
        for a, b, better in (
            ("seconds", "target", lambda v, t: v <= t),
            ("x_reference", "x_target", lambda v, t: v <= t),
            ("ratio", "ratio_target", lambda v, t: v >= t),
        )
        if row.get(a) is not None and row.get(b) is not None
    ]
    if not checks:
        return ""
    return "yes" if all(better(value, goal) for value, goal, better in checks) else "NO"


def step_key(step: str) -> str:
    """The step without its numbers, so that the same step matches across scales ("answer
    frame (1,797,683 answers)" and "answer frame (17,976,830 answers)")."""
    return re.sub(r"\d[\d,.]*", "N", step)


def with_ratios(rows: list[dict]) -> list[dict]:
    """The rows, those made on several scales or databases with their ratios (copies):
    ``per_answer_x``, the seconds per response at this scale over the same step's at the
    smallest scale measured on the same database; ``pg_x_sqlite``, PostgreSQL's seconds over
    SQLite's for the same step and scale."""
    timed = [r for r in rows if _placed(r)]
    smallest: dict[tuple, dict] = {}
    sqlite: dict[tuple, dict] = {}
    for r in timed:
        key = (r["benchmark"], step_key(r["step"]), r["database"])
        if key not in smallest or r["responses"] < smallest[key]["responses"]:
            smallest[key] = r
        if r["database"] == "sqlite":
            sqlite[(r["benchmark"], step_key(r["step"]), r["responses"])] = r
    out = []
    for r in rows:
        r = dict(r)
        if _placed(r):
            base = smallest[(r["benchmark"], step_key(r["step"]), r["database"])]
            if base["responses"] < r["responses"]:
                r["per_answer_x"] = round(
                    (r["seconds"] / r["responses"]) / (base["seconds"] / base["responses"]), 2
                )
            other = sqlite.get((r["benchmark"], step_key(r["step"]), r["responses"]))
            if r["database"] == "postgresql" and other:
                r["pg_x_sqlite"] = round(r["seconds"] / other["seconds"], 2)
        out.append(r)
    return out


def _placed(row: dict) -> bool:
    """A timed row of a database and scale."""
    return bool(row.get("seconds") and row.get("responses") and row.get("database"))


PLACED = ("benchmark", "database", "responses", "step", "seconds", "target")
PLACED_RATIOS = ("per_answer_x", "pg_x_sqlite")


def table(rows: list[dict]) -> str:
    """The rows as one table: benchmark, database and scale (responses) of each row, its step,
    seconds and target, whether the targets are met, the two ratios, the other figures."""

    def ratio(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}"

    lines = [
        f"{'benchmark':<10} {'database':<10} {'responses':>9} {'step':<52} {'seconds':>9} "
        f"{'target':>7} {'ok':>3} {'x/answer':>8} {'pg/sqlite':>9}  notes"
    ]
    for r in rows:
        seconds = "" if r.get("seconds") is None else f"{r['seconds']:.3f}"
        target = "" if r.get("target") is None else f"{r['target']:.3f}"
        scale = "" if r.get("responses") is None else f"{r['responses']:,}"
        notes = ", ".join(
            f"{k} {v:,}" if isinstance(v, int | float) else f"{k} {v}"
            for k, v in r.items()
            if k not in PLACED + PLACED_RATIOS and v is not None
        )
        lines.append(
            f"{r['benchmark']:<10} {r.get('database') or '':<10} {scale:>9} {r['step']:<52} "
            f"{seconds:>9} {target:>7} {met(r):>3} {ratio(r.get('per_answer_x')):>8} "
            f"{ratio(r.get('pg_x_sqlite')):>9}  {notes}"
        )
    lines.append(
        "x/answer: seconds per response (about 23 answers each) over the same step's at the "
        "smallest scale on that database (<= 1: flat or falling); pg/sqlite: PostgreSQL's "
        "seconds over SQLite's at that scale"
    )
    return "\n".join(lines)


def dirty_mb() -> float | None:
    """The page cache's data not yet written to disk (Linux), in MB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Dirty:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def settle(checkpoint_postgres: bool, wait: float = 30.0) -> dict:
    """Let the machine settle before a benchmark: what the previous one wrote (gigabytes at a
    million responses, or a fresh install's venv) written to disk, and PostgreSQL checkpointed,
    so that one step's write-back is not timed in the next benchmark. Returns what it found and
    how long it took."""
    start, before = time.perf_counter(), dirty_mb()
    os.sync()
    checkpoint = None
    if checkpoint_postgres:
        import psycopg

        try:
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute("CHECKPOINT")
            checkpoint = "done"
        except psycopg.Error as error:  # settling is a courtesy: the benchmark runs anyway
            checkpoint = f"failed: {type(error).__name__}"
    while (dirty_mb() or 0) > 64 and time.perf_counter() - start < wait:
        time.sleep(0.5)
    return {
        "dirty_mb_before": before,
        "checkpoint": checkpoint,
        "seconds": round(time.perf_counter() - start, 1),
    }


def postgres_answers() -> bool:
    with closing(socket.socket()) as s:
        s.settimeout(1)
        return s.connect_ex((POSTGRES_HOST, POSTGRES_PORT)) == 0


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty database on the local server (its SQLAlchemy URL), dropped afterwards."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_scales(text: str) -> tuple[int, ...]:
    """ "100000,1000000" or "100_000, 1e6" -> (100000, 1000000), smallest first."""
    scales = {int(float(part.strip().replace("_", ""))) for part in text.split(",") if part.strip()}
    if not scales or min(scales) < 1:
        raise argparse.ArgumentTypeError(f"scales must be positive numbers: {text!r}")
    return tuple(sorted(scales))


def parse_databases(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [d for d in chosen if d not in DATABASES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"databases are sqlite and postgresql, not {unknown}")
    return chosen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10,000 responses per round, both databases"
    )
    parser.add_argument(
        "--scales",
        type=parse_scales,
        help="responses of the current round, comma-separated (default 100000,1000000)",
    )
    parser.add_argument(
        "--databases",
        type=parse_databases,
        default=DATABASES,
        help="sqlite, postgresql or both (default)",
    )
    parser.add_argument("--only", help="benchmarks to run, comma-separated (e.g. dashboard)")
    args = parser.parse_args(argv)
    scales = args.scales or (QUICK_SCALES if args.quick else SCALES)
    once_args = ["--responses", "10000"] if args.quick else []
    databases = list(args.databases)
    rows: list[dict] = []
    printed, durations, settled = {}, {}, {}
    if "postgresql" in databases and not postgres_answers():
        databases.remove("postgresql")
        rows.append(
            {
                "benchmark": "postgresql",
                "database": "postgresql",
                "step": f"no server answers on {POSTGRES_HOST}:{POSTGRES_PORT}: left out",
                "seconds": None,
                "target": None,
            }
        )
    scripts = sorted([*BENCH.glob("*_bench.py"), *(BENCH / name for name in LOAD_GENERATORS)])
    if args.only:
        wanted = {name.strip().removesuffix("_bench") for name in args.only.split(",")}
        scripts = [s for s in scripts if s.stem.removesuffix("_bench") in wanted]
    for script in scripts:
        runs = runs_of(script.read_text())
        if output_only(script):
            plan = [(None, None, [])]
        elif runs == PER_SCALE:
            plan = [(d, s, scale_args(s)) for s in scales for d in databases]
        else:
            plan = [(None, None, once_args)]
        for database, scale, extra in plan:
            label = f"{script.name} {database or ''} {scale or ''}".rstrip()
            settled[label] = settle("postgresql" in databases)
            print(f"== {label} ... (settled: {settled[label]})", file=sys.stderr, flush=True)
            env = {k: v for k, v in os.environ.items() if k != "BENCH_DATABASE_URL"}
            needs_postgres = database == "postgresql" or (
                runs == OWN_DATABASES and "postgresql" in databases
            )
            with scratch_postgres() if needs_postgres else _nothing() as url:
                if database == "postgresql":
                    env["BENCH_DATABASE_URL"] = url
                if runs == OWN_DATABASES:
                    extra = [*extra, *database_args(databases, url)]
                found, output, seconds = run(script, extra, env)
            for r in found:
                if database:
                    r.setdefault("database", database)
                    r.setdefault("responses", scale)
            rows.extend(found)
            if output:
                printed[label] = output
            durations[label] = round(seconds, 1)
    rows = with_ratios(rows)
    print(table(rows))
    for name, output in printed.items():
        print(f"\n== {name}\n{output.rstrip()}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = BENCH / "results" / f"{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "when": stamp,
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "machine": platform.machine(),
                "system": platform.system(),
                "quick": args.quick,
                "scales": list(scales),
                "databases": databases,
                "durations": durations,
                "settled": settled,
                "rows": rows,
                "printed": printed,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"cores {os.cpu_count()}; figures kept in {out.relative_to(BENCH.parent)}")


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
