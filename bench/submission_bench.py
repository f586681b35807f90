"""Submission burst: 8 concurrent clients submit complete responses through the real form
(GET the link, GET the page with its CSRF token, POST) for distinct invitations, against the
survey served by gunicorn (2 workers per core) on a fresh SQLite (WAL) database and on
PostgreSQL, and against the ceiling app (bench/ceiling_app.py) served the same way.

Prints responses/s, p50/p95/p99 of the POST, errors, the stored count (nothing lost) and the
ratio ours/ceiling. Targets: ours >= 60% of the ceiling's responses/s, p95 <= 50 ms, 0 lost.

    .venv/bin/python bench/submission_bench.py [--invitations 400] [--no-postgres]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/bench] [--json]
        [--json-out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ceiling_app  # noqa: E402
from load import (  # noqa: E402
    PG_DEFAULT, Server, compare, free_port, latency_figures, print_figures, run_load,
    server_cpu_ms, survey_load,
)

BENCH = Path(__file__).resolve().parent
CLIENTS = 8
TARGET_RATIO = 0.60
TARGET_P95 = 0.050


def ceiling_load(invitations: int, clients: int, workdir: Path, warmup: int) -> dict:
    port = free_port()
    path = workdir / "ceiling.sqlite"
    tokens = ceiling_app.create_database(str(path), invitations + warmup)
    links = [f"http://127.0.0.1:{port}/r/{t}" for t in tokens]
    env = {**os.environ, "CEILING_DB": str(path), "PYTHONPATH": str(BENCH),
           "SECRET_KEY": "ceiling-secret"}
    with Server("ceiling_app:create_app()", port, env, workdir / "ceiling.log") as server:
        if warmup:
            run_load(links[:warmup], clients)
        _, before = ceiling_app.stored(str(path))
        cpu = server.cpu_seconds()
        ledger = run_load(links[warmup:], clients)
        cpu = server_cpu_ms(server, cpu, len(links) - warmup)
    found, after = ceiling_app.stored(str(path))
    found = {t: n for t, n in found.items() if t in ledger.tokens()}
    # The ceiling stores the 19 answers as one row; the ledger counts radio groups answered.
    check = compare(ledger, found, after - before)
    return {"database": "sqlite", "workers": server.workers, "clients": clients,
            **latency_figures(ledger), "server_cpu_ms_per_response": cpu, **check}


def rows_for(database: str, ours: dict, ceiling: dict) -> list[dict]:
    ratio = ours["responses_per_s"] / ceiling["responses_per_s"] if ceiling["responses_per_s"] \
        else 0.0

    def notes(f: dict) -> dict:
        return {"responses_per_s": round(f["responses_per_s"], 1),
                "p50_ms": round(f["p50_ms"], 1), "p99_ms": round(f["p99_ms"], 1),
                "errors": f["errors"], "http_5xx": f["http_5xx"], "stored": f["stored"],
                "of": f["invitations"], "lost": f["lost"], "duplicates": f["duplicates"]}

    return [
        {"benchmark": "submission", "step": f"{database}: ours, p95 of the POST",
         "seconds": ours["p95_ms"] / 1000, "target": TARGET_P95, **notes(ours)},
        {"benchmark": "submission", "step": f"{database}: ceiling app (sqlite3), p95 of the POST",
         "seconds": ceiling["p95_ms"] / 1000, "target": None, **notes(ceiling)},
        {"benchmark": "submission", "step": f"{database}: ours/ceiling responses per second",
         "seconds": None, "target": None, "ratio": round(ratio, 3), "ratio_target": TARGET_RATIO,
         "ratio_ok": "yes" if ratio >= TARGET_RATIO else "NO"},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=400, help="measured, per run")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", PG_DEFAULT))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="rows as JSON on the last line")
    parser.add_argument("--json-out", type=Path, help="write the rows as JSON to this file")
    parser.add_argument("--responses", type=int, help="(bench/run.py --quick; ignored here)")
    args = parser.parse_args(argv)

    rows, failed = [], []
    databases = ["sqlite"] + ([] if args.no_postgres else [args.postgres_url])
    with tempfile.TemporaryDirectory(prefix="submission-bench-") as tmp:
        (Path(tmp) / "ceiling").mkdir()
        ceiling = ceiling_load(args.invitations, args.clients, Path(tmp) / "ceiling", args.warmup)
        print_figures("ceiling app (bare Flask + sqlite3)", ceiling)
        for database in databases:
            work = Path(tmp) / ("sqlite" if database == "sqlite" else "postgresql")
            work.mkdir()
            ours = survey_load(database, args.invitations, 0, args.clients, work, args.warmup)
            print_figures(f"ours on {ours['database']}", ours)
            rows.extend(rows_for(ours["database"], ours, ceiling))
            if ours["lost"] or ours["stored"] != args.invitations:
                failed.append(ours["database"])
    for r in rows:
        print(f"{r['step']:<52} " + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in r.items() if k not in ("benchmark", "step") and v is not None),
            file=sys.stderr)
    print(f"cores {os.cpu_count()}, gunicorn workers {2 * (os.cpu_count() or 1)}, "
          f"{args.clients} clients")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")
    if args.json:
        print(json.dumps(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
