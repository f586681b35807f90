"""Benchmark of the review dashboard on a round of 100,000 responses (about 2 million answers).

Builds the round in a fresh SQLite database (or the empty database BENCH_DATABASE_URL names,
e.g. PostgreSQL) with bulk inserts (bench/dataset.py), with a previous round to compare with
(``--previous``; ``make bench`` makes it a tenth of the round), then times through the Flask test client, logged in as the
quality lead:

- the answer frame of the round (the one big query: what a count of every answer reads);
- the dashboard /review/rounds/<id> cold with nothing saved (both rounds counted from their
  answers); then, in a fresh process as a server's worker is (nothing in memory, frozen for the
  collector): cold (the saved tally and the responses since: survey.results.snapshots), warm
  once the round's count has settled, and after one new response (the kept tally grown by that
  response only: survey.results.tally). The warm and after-one pages are also timed in the
  process that built and counted the round, as the runs before 7 December 2026 did, for
  comparison: its heap of gigabytes at a million responses makes them a third slower there;
- a chart cold and warm, and the API's results. (Exports: bench/export_bench.py.)

Prints the figures and peak memory; asserts nothing. Targets (issue 20): warm <= 200 ms; after
one new response <= 100 ms and <= 3x warm; cold in a fresh process <= 1 s.

With ``--keep FOLDER`` the dataset is built into FOLDER and kept; ``--reuse FOLDER`` times a
dataset kept before (each run adds its few new responses to it). ``--fresh N`` starts the
fresh process N times (the median is the row).

    .venv/bin/python bench/dashboard_bench.py [--responses N] [--previous N] [--json]
        [--reuse FOLDER] [--keep FOLDER] [--fresh N] [--skip-full]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset
from sqlalchemy import delete, select

from survey import responses
from survey.extensions import db
from survey.models import Invitation, Round, TallySnapshot, utcnow
from survey.results import answers_frame, cache, clear_cache, file_cache

# bench/run.py runs it at each scale on each database (a fresh database each time).
BENCH_RUNS = "per scale and database"
WARM_REPEATS = 20
AFTER_REPEATS = 5
TARGET_WARM = 0.200
# Issue 20: after one new response <= 0.1 s and <= 3x the warm dashboard; cold <= 1 s.
TARGET_AFTER = 0.100
TARGET_AFTER_X_WARM = 3.0
TARGET_COLD = 1.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# CPU seconds of the last timed_get: on a shared machine the wall clock also counts the
# other work's turns, the CPU seconds count this process's own work only.
LAST_CPU = [0.0]


def timed_get(client, path: str) -> tuple[float, int, int]:
    start, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    body = response.get_data()  # a streamed body is read to its end
    LAST_CPU[0] = time.process_time() - cpu
    return time.perf_counter() - start, response.status_code, len(body)


def add_one_response(app, round_id: int) -> None:
    """One more response through the normal submit, as a respondent would add it."""
    with app.app_context():
        invitation = db.session.scalar(
            select(Invitation).where(
                Invitation.round_id == round_id, Invitation.status.in_(("sent", "started"))
            )
        )
        if invitation is None:  # a kept dataset whose open invitations earlier runs used up
            model = db.session.scalar(
                select(Invitation).where(Invitation.round_id == round_id).limit(1)
            )
            invitation = Invitation(
                round_id=round_id, unit_id=model.unit_id, group_id=model.group_id
            )
            db.session.add(invitation)
            db.session.commit()
        responses.submit(
            invitation, {"doc_timeliness": 5, "overall": 4}, {}, f"bench-{time.time_ns()}", utcnow()
        )


def fresh_process_get(folder: str, path: str, queue, round_id: int | None = None) -> None:
    """In a new process (nothing in memory, as after a restart): the app, a login, one GET.

    With ``round_id``, the process then serves the round as a worker does for a while: it
    waits until the round's count has settled (``cache.SETTLE_SECONDS``), then times the
    dashboard warm and after each of ``AFTER_REPEATS`` new responses. A served worker never
    built a million responses in its own heap: timed in the process that did (the parent),
    the same pages cost a third more CPU at a million responses (its heap of gigabytes)."""
    app = dataset.make_app(Path(folder))
    dataset.as_served()
    client = app.test_client()
    client.post(
        "/login", data={"email": "quality@shaoxing.example", "password": "demo-quality-2004"}
    )
    seconds, status, _ = timed_get(client, path)
    cpu = LAST_CPU[0]
    served = None
    if round_id is not None:
        time.sleep(cache.SETTLE_SECONDS + 1)
        timed_get(client, path)
        served = warm_and_after(app, client, path, round_id)
    queue.put((seconds, status, cpu, served))


def warm_and_after(app, client, path: str, round_id: int) -> dict[str, list[float]]:
    """The dashboard warm ``WARM_REPEATS`` times, then after each of ``AFTER_REPEATS`` new
    responses: wall and CPU seconds of each."""
    timed = {"warm": [], "warm_cpu": [], "after": [], "after_cpu": []}
    for _ in range(WARM_REPEATS):
        timed["warm"].append(timed_get(client, path)[0])
        timed["warm_cpu"].append(LAST_CPU[0])
    for _ in range(AFTER_REPEATS):
        add_one_response(app, round_id)
        timed["after"].append(timed_get(client, path)[0])
        timed["after_cpu"].append(LAST_CPU[0])
    return timed


def measure(
    responses_n: int,
    previous_n: int,
    reuse: str | None = None,
    keep: str | None = None,
    fresh: int = 1,
    skip_full: bool = False,
) -> list[dict]:
    rows: list[dict] = []

    def row(step: str, seconds: float, target: float | None = None, **extra) -> None:
        rows.append(
            {
                "benchmark": "dashboard",
                "step": step,
                "seconds": round(seconds, 4),
                "target": target,
                **extra,
            }
        )

    with tempfile.TemporaryDirectory(prefix="survey-bench-") as scratch:
        folder = reuse or keep or scratch
        if reuse:
            data = dataset.reopen(Path(folder))
        else:
            Path(folder).mkdir(parents=True, exist_ok=True)
            data = dataset.build(Path(folder), responses_n, previous_n)
            row(f"build {responses_n:,} + {previous_n:,} responses (bulk inserts)", data.seconds)
        app = data.app
        # From here on this process serves pages as a server's worker does (gunicorn.conf.py
        # freezes what the worker has loaded before its first request): otherwise every full
        # garbage collection of the timed pages also scans the app's and the build's objects,
        # which no served process does.
        dataset.as_served()
        with app.app_context():
            round_ = db.session.get(Round, data.round_id)
            if skip_full:
                answers = None
            else:
                start = time.perf_counter()
                frame = answers_frame(round_)
                answers = len(frame)
                row(f"answer frame ({answers:,} answers)", time.perf_counter() - start)
                del frame
        client = app.test_client()
        client.post(
            "/login", data={"email": "quality@shaoxing.example", "password": "demo-quality-2004"}
        )
        page = f"/review/rounds/{data.round_id}?lang=zh"
        if not skip_full:
            with app.app_context():
                clear_cache()
                file_cache.clear()
                db.session.execute(delete(TallySnapshot))
                db.session.commit()
        seconds, status, size = timed_get(client, page)
        if not skip_full:
            row(
                "dashboard cold, nothing saved (every answer counted)",
                seconds,
                status=status,
                bytes=size,
            )
        # A server that has watched the round for a minute: its count is settled up to the
        # highest id it saw then (survey.results.cache.SETTLE_SECONDS), so a view counts only
        # the responses above it. (A process younger than that counts the round's responses.)
        time.sleep(cache.SETTLE_SECONDS + 1)
        timed_get(client, page)
        # The same pages in this process, which built (or opened) the round and counted it:
        # shown for comparison with the earlier runs, which timed them here; the figures of
        # record come from a served process below.
        here = warm_and_after(app, client, page, data.round_id)
        row(
            f"(building process) after one new response, median of {AFTER_REPEATS}",
            statistics.median(here["after"]),
            cpu_seconds=round(statistics.median(here["after_cpu"]), 4),
        )
        row(
            f"(building process) warm, median of {WARM_REPEATS}",
            statistics.median(here["warm"]),
            cpu_seconds=round(statistics.median(here["warm_cpu"]), 4),
        )
        # A new process: the saved tally and the responses since it, nothing in memory; the
        # first one then serves the round for a while (warm, after new responses).
        with app.app_context():
            db.session.commit()
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        colds, cold_cpu, served = [], [], None
        for index in range(fresh):
            serve = data.round_id if index == 0 else None
            child = context.Process(target=fresh_process_get, args=(folder, page, queue, serve))
            child.start()
            seconds, status, cpu, timed = queue.get(timeout=900)
            child.join()
            colds.append(seconds)
            cold_cpu.append(cpu)
            served = served or timed
        warm_median = statistics.median(served["warm"])
        after_median = statistics.median(served["after"])
        row(
            f"dashboard after one new response (median of {AFTER_REPEATS})",
            after_median,
            TARGET_AFTER,
            x_reference=round(after_median / warm_median, 2),
            x_target=TARGET_AFTER_X_WARM,
            reference="warm dashboard",
            status=status,
            cpu_seconds=round(statistics.median(served["after_cpu"]), 4),
        )
        row(
            f"dashboard warm (median of {WARM_REPEATS})",
            warm_median,
            TARGET_WARM,
            cpu_seconds=round(statistics.median(served["warm_cpu"]), 4),
        )
        row(f"dashboard warm (max of {WARM_REPEATS})", max(served["warm"]), TARGET_WARM)
        row(
            "dashboard cold, fresh process (saved tally + responses since)"
            + (f" (median of {fresh})" if fresh > 1 else ""),
            statistics.median(colds),
            TARGET_COLD,
            status=status,
            cpu_seconds=round(statistics.median(cold_cpu), 4),
            each=[round(c, 3) for c in colds],
        )
        chart = f"/review/rounds/{data.round_id}/charts/rates.png?lang=zh"
        row("chart cold (draw + store)", timed_get(client, chart)[0])
        row("chart warm (from the cache)", timed_get(client, chart)[0])
        seconds, status, size = timed_get(client, f"/api/v1/rounds/{data.round_id}/results")
        row("API results (warm)", seconds, status=status, bytes=size)
    rows.append(
        {
            "benchmark": "dashboard",
            "step": "peak RSS (MB)",
            "seconds": None,
            "target": None,
            "peak_mb": round(rss_mb()),
        }
    )
    for r in rows:
        r.setdefault("answers", answers)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument(
        "--previous",
        type=int,
        default=None,
        help="responses of the previous round (default: as many)",
    )
    parser.add_argument("--reuse", help="a folder holding a dataset built before (--keep)")
    parser.add_argument("--keep", help="build the dataset into this folder and keep it")
    parser.add_argument("--fresh", type=int, default=1, help="fresh processes to time")
    parser.add_argument(
        "--skip-full",
        action="store_true",
        help="leave out the answer frame and the dashboard counted from nothing (minutes at 1M)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = measure(
        args.responses,
        args.previous if args.previous is not None else args.responses,
        args.reuse,
        args.keep,
        args.fresh,
        args.skip_full,
    )
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'step':<52} {'seconds':>9} {'target':>8}  notes")
    for r in rows:
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.3f}"
        target = "" if r["target"] is None else f"{r['target']:.3f}"
        shown = ("bytes", "peak_mb", "status", "cpu_seconds", "each")
        notes = ", ".join(
            f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in r.items() if k in shown
        )
        print(f"{r['step']:<52} {seconds:>9} {target:>8}  {notes}")


if __name__ == "__main__":
    main()
