"""Submission burst: 8 concurrent clients submit complete responses through the real form
(GET the link, GET the page with its CSRF token, POST) for distinct invitations, against the
survey served by gunicorn (2 workers per core) on a fresh SQLite (WAL) database and on
PostgreSQL, and against the ceiling app (bench/ceiling_app.py) served the same way.

Ours and the ceiling run side by side in alternating batches (ceiling, ours; then ours,
ceiling; ...), so that a shared machine's drift hits both alike; the ratio is the median of the
batches' ratios (five by default: on a shared machine one batch's ratio can be 0.1 off the
others, and a median of three then moved with a single one). Prints responses/s, p50/p95/p99 of the POST over all batches, the server's CPU
per response, errors, the stored count (nothing lost) and the ratio ours/ceiling.
Targets: ours >= 70% of the ceiling's responses/s, p95 <= 50 ms, 0 lost.

    .venv/bin/python bench/submission_bench.py [--invitations 300] [--batches 5]
        [--no-postgres | --no-sqlite] [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
        [--json] [--json-out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ceiling_app
from load import (
    PG_DEFAULT,
    Server,
    compare,
    cpu_of_processes,
    free_port,
    latency_figures,
    merged,
    print_figures,
    run_load,
    survey_database_state,
    survey_setup,
)

BENCH = Path(__file__).resolve().parent
# It makes its own databases: bench/run.py runs it once, saying which (--no-sqlite,
# --no-postgres, --postgres-url).
BENCH_RUNS = "once, on each database"
CLIENTS = 8
TARGET_RATIO = 0.70
TARGET_P95 = 0.050


def _batches(links: list[str], batches: int) -> list[list[str]]:
    size = len(links) // batches
    return [links[i * size : (i + 1) * size] for i in range(batches)]


def paired_load(
    database: str, invitations: int, batches: int, clients: int, workdir: Path, warmup: int
) -> tuple[dict, dict, list[float]]:
    """(our figures, the ceiling's figures, the ratio of each batch pair)."""
    total = invitations * batches + warmup
    url, env, port, links = survey_setup(database, total, workdir / "ours")
    (workdir / "ceiling").mkdir()
    ceiling_port, ceiling_db = free_port(), workdir / "ceiling" / "ceiling.sqlite"
    ceiling_links = [
        f"http://127.0.0.1:{ceiling_port}/r/{t}"
        for t in ceiling_app.create_database(str(ceiling_db), total)
    ]
    ceiling_env = {
        **os.environ,
        "CEILING_DB": str(ceiling_db),
        "PYTHONPATH": str(BENCH),
        "SECRET_KEY": "ceiling-secret",
    }
    with (
        Server("survey:create_app()", port, env, workdir / "ours.log") as ours,
        Server(
            "ceiling_app:create_app()", ceiling_port, ceiling_env, workdir / "ceiling.log"
        ) as ceiling,
    ):
        run_load(links[:warmup], clients)
        run_load(ceiling_links[:warmup], clients)
        _, ours_before = survey_database_state(url, set())
        _, ceiling_before = ceiling_app.stored(str(ceiling_db))
        runs: dict[str, list] = {"ours": [], "ceiling": []}
        cpu = {"ours": 0.0, "ceiling": 0.0}
        client_cpu = {"ours": 0.0, "ceiling": 0.0}  # the load generator's, on the same cores
        database_cpu = {"ours": 0.0, "ceiling": 0.0}  # PostgreSQL's, when it runs here
        ratios = []
        pairs = zip(
            _batches(links[warmup:], batches),
            _batches(ceiling_links[warmup:], batches),
            strict=True,
        )
        for n, (mine, theirs) in enumerate(pairs):
            order = [("ceiling", ceiling, theirs), ("ours", ours, mine)]
            for name, server, batch in order if n % 2 == 0 else order[::-1]:
                before, client_before = server.cpu_seconds(), time.process_time()
                database_before = cpu_of_processes("postgres")
                runs[name].append(run_load(batch, clients))
                after = server.cpu_seconds()
                client_cpu[name] += time.process_time() - client_before
                database_after = cpu_of_processes("postgres")
                if database_before is not None and database_after is not None:
                    database_cpu[name] += database_after - database_before
                if before is not None and after is not None:
                    cpu[name] += after - before
            rates = [latency_figures(runs[k][-1])["responses_per_s"] for k in ("ours", "ceiling")]
            ratios.append(rates[0] / rates[1] if rates[1] else 0.0)
    figures = {}
    for name, stored_now, before in (
        ("ours", lambda t: survey_database_state(url, t), ours_before),
        ("ceiling", lambda t: ceiling_app.stored(str(ceiling_db)), ceiling_before),
    ):
        ledger = merged(runs[name])
        found, after = stored_now(ledger.tokens())
        found = {t: n for t, n in found.items() if t in ledger.tokens()}
        measured = invitations * batches
        figures[name] = {
            "database": "sqlite" if database == "sqlite" or name == "ceiling" else "postgresql",
            "workers": (ours if name == "ours" else ceiling).workers,
            "clients": clients,
            "batches": batches,
            **latency_figures(ledger),
            "server_cpu_ms_per_response": 1000 * cpu[name] / measured if cpu[name] else None,
            "client_cpu_ms_per_response": 1000 * client_cpu[name] / measured,
            "database_cpu_ms_per_response": 1000 * database_cpu[name] / measured
            if database != "sqlite" and name == "ours"
            else None,
            **compare(ledger, found, after - before),
        }
    return figures["ours"], figures["ceiling"], ratios


def rows_for(database: str, ours: dict, ceiling: dict, ratios: list[float]) -> list[dict]:
    ratio = statistics.median(ratios)

    def notes(f: dict) -> dict:
        return {
            "responses_per_s": round(f["responses_per_s"], 1),
            "p50_ms": round(f["p50_ms"], 1),
            "p99_ms": round(f["p99_ms"], 1),
            "server_cpu_ms": round(f["server_cpu_ms_per_response"] or 0, 1),
            "client_cpu_ms": round(f["client_cpu_ms_per_response"], 1),
            "postgres_cpu_ms": None
            if f["database_cpu_ms_per_response"] is None
            else round(f["database_cpu_ms_per_response"], 1),
            "errors": f["errors"],
            "http_5xx": f["http_5xx"],
            "stored": f["stored"],
            "of": f["invitations"],
            "lost": f["lost"],
            "duplicates": f["duplicates"],
        }

    return [
        {
            "benchmark": "submission",
            "step": f"{database}: ours, p95 of the POST",
            "seconds": ours["p95_ms"] / 1000,
            "target": TARGET_P95,
            **notes(ours),
        },
        {
            "benchmark": "submission",
            "step": f"{database}: its ceiling app (sqlite3), p95 of POST",
            "seconds": ceiling["p95_ms"] / 1000,
            "target": None,
            **notes(ceiling),
        },
        {
            "benchmark": "submission",
            "step": f"{database}: ours/ceiling responses per second",
            "seconds": None,
            "target": None,
            "ratio": round(ratio, 3),
            "batch_ratios": " ".join(f"{r:.2f}" for r in ratios),
            "ratio_target": TARGET_RATIO,
            "ratio_ok": "yes" if ratio >= TARGET_RATIO else "NO",
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=300, help="per batch")
    parser.add_argument("--batches", type=int, default=5, help="pairs of ours and the ceiling")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", PG_DEFAULT))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", action="store_true", help="rows as JSON on the last line")
    parser.add_argument("--json-out", type=Path, help="write the rows as JSON to this file")
    parser.add_argument("--responses", type=int, help="(bench/run.py --quick; ignored here)")
    args = parser.parse_args(argv)

    rows, failed = [], []
    databases = ([] if args.no_sqlite else ["sqlite"]) + (
        [] if args.no_postgres else [args.postgres_url]
    )
    wanted = args.invitations * args.batches
    with tempfile.TemporaryDirectory(prefix="submission-bench-") as tmp:
        for database in databases:
            work = Path(tmp) / ("sqlite" if database == "sqlite" else "postgresql")
            work.mkdir()
            ours, ceiling, ratios = paired_load(
                database, args.invitations, args.batches, args.clients, work, args.warmup
            )
            print_figures(
                f"ceiling app (bare Flask + sqlite3), beside ours on {ours['database']}",
                ceiling,
                file=sys.stderr,
            )
            print_figures(f"ours on {ours['database']}", ours, file=sys.stderr)
            rows.extend(rows_for(ours["database"], ours, ceiling, ratios))
            if ours["lost"] or ours["stored"] != wanted or ours["errors"]:
                failed.append(ours["database"])
    for r in rows:
        print(
            f"{r['step']:<52} "
            + ", ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in r.items()
                if k not in ("benchmark", "step") and v is not None
            ),
            file=sys.stderr,
        )
    print(
        f"cores {os.cpu_count()}, gunicorn workers {2 * (os.cpu_count() or 1)}, "
        f"{args.clients} clients"
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")
    if args.json:
        print(json.dumps(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
