"""Where the dashboard after one new response spends its time, in-process, on a dataset kept by
bench/dashboard_bench.py (``--keep FOLDER``; ``BENCH_DATABASE_URL`` for PostgreSQL, as there).

Opens the kept dataset, logs in as the quality lead, lets the round settle (as a server that
has watched it for a while: ``survey.results.cache.SETTLE_SECONDS`` is shortened to a second
here), then ``--repeats`` times adds one response through the normal submit and times one
dashboard GET under cProfile, with every SQL statement it runs and its milliseconds. ``--cold``
profiles instead the first dashboard of this process (the saved tally and the responses since).

Prints the mean wall and CPU milliseconds, the statements (slowest first) and the functions
with the most cumulative time. Not a benchmark (its name does not end in ``_bench``); the
figures of record come from bench/dashboard_bench.py.

    .venv/bin/python bench/profile_dashboard.py FOLDER [--repeats 5] [--top 40]
        [--sort cumulative|tottime] [--callers PATTERN] [--callees PATTERN] [--save FILE]
        [--explain] [--cold]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from dashboard_bench import add_one_response
from profiling import print_profile
from sqlalchemy import event, text

from survey.extensions import db
from survey.results import cache


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--callers", help="who calls the functions matching this pattern")
    parser.add_argument("--callees", help="what the functions matching this pattern call")
    parser.add_argument("--save", metavar="FILE", help="also write the profile (pstats format)")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE each statement once (PostgreSQL)"
    )
    parser.add_argument(
        "--cold", action="store_true", help="profile this process's first dashboard instead"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = dataset.reopen(Path(args.folder))
    app = data.app
    page = f"/review/rounds/{data.round_id}?lang=zh"
    statements: dict[str, list[float]] = defaultdict(list)
    parameters_of: dict[str, object] = {}
    recording = [False]
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("query_start", []).append(time.perf_counter())

        @event.listens_for(db.engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            spent = time.perf_counter() - conn.info["query_start"].pop()
            if recording[0]:
                statements[statement].append(spent)
                parameters_of.setdefault(statement, parameters)

    client = app.test_client()
    client.post(
        "/login", data={"email": "quality@shaoxing.example", "password": "demo-quality-2004"}
    )
    profiler = cProfile.Profile()
    walls, cpus = [], []
    # The garbage collector's passes during the profiled requests, by generation: a full pass
    # over a big round's results is charged by cProfile to whatever function allocated.
    collections: dict[int, list[float]] = defaultdict(list)
    gc_started = [0.0]

    def _collected(phase: str, info: dict) -> None:
        if not recording[0]:
            return
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            collections[info["generation"]].append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(_collected)

    def profiled_get() -> None:
        recording[0] = True
        start, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        response = client.get(page)
        response.get_data()
        profiler.disable()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        recording[0] = False
        assert response.status_code == 200, response.status_code

    if args.cold:
        dataset.as_served()
        print(f"app made and logged in after {time.perf_counter() - started:.3f} s")
        profiled_get()
        repeats = 1
    else:
        dataset.as_served()
        cache.SETTLE_SECONDS = 1.0
        client.get(page)
        time.sleep(1.5)
        client.get(page)
        for _ in range(3):
            client.get(page)
        for _ in range(args.repeats):
            add_one_response(app, data.round_id)
            profiled_get()
        repeats = args.repeats

    print(
        f"{'cold' if args.cold else 'after one response'}: wall "
        + ", ".join(f"{1000 * w:.1f}" for w in walls)
        + " ms; cpu "
        + ", ".join(f"{1000 * c:.1f}" for c in cpus)
        + " ms"
    )
    for generation, spent in sorted(collections.items()):
        print(
            f"GC generation {generation}: {len(spent) / repeats:.1f} passes, "
            f"{1000 * sum(spent) / repeats:.1f} ms per request"
        )
    total = sum(sum(v) for v in statements.values()) / repeats
    count = sum(len(v) for v in statements.values()) / repeats
    print(f"SQL per request: {count:.1f} statements, {1000 * total:.1f} ms")
    for statement, times in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
        shown = " ".join(statement.split())[:160]
        print(f"  {1000 * sum(times) / repeats:7.2f} ms  x{len(times) / repeats:.1f}  {shown}")
    if args.explain:
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as connection:
                    for statement, parameters in parameters_of.items():
                        if not statement.lstrip().upper().startswith("SELECT"):
                            continue
                        plan = connection.exec_driver_sql(
                            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                        ).all()
                        print("\n" + " ".join(statement.split())[:300])
                        for (line,) in plan:
                            print("    " + line)
                    connection.execute(text("ROLLBACK"))
    print_profile(profiler, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
