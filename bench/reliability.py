"""Nothing lost under load (issue 6, item 4, full size): the survey served by gunicorn (2 workers
per core) on a fresh SQLite (WAL) database and on PostgreSQL; 8 clients submit 2,000 distinct
invitations, 200 of them twice at the same moment from two browsers. Afterwards exactly 2,000
responses must exist, each with all its answers, no duplicates and no 5xx answer; the client-side
ledger (token, status, latency) is compared with the database. Exits 1 if anything fails.

    .venv/bin/python bench/reliability.py [--invitations 2000] [--duplicates 200] [--no-postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import PG_DEFAULT, print_figures, reliability_failures, survey_load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=2000)
    parser.add_argument("--duplicates", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", PG_DEFAULT))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    databases = ["sqlite"] + ([] if args.no_postgres else [args.postgres_url])
    failed = False
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        for database in databases:
            work = Path(tmp) / ("sqlite" if database == "sqlite" else "postgresql")
            work.mkdir()
            figures = survey_load(
                database, args.invitations, args.duplicates, args.clients, work, time_limit=3600
            )
            print_figures(
                f"{figures['database']}: {args.invitations} invitations + "
                f"{args.duplicates} simultaneous duplicate submits, "
                f"{args.clients} clients",
                figures,
            )
            failures = reliability_failures(figures, args.invitations)
            for failure in failures:
                print(f"  FAILED: {failure}")
            print(f"  verdict              {'FAILED' if failures else 'ok'}", flush=True)
            failed = failed or bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
