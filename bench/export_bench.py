"""Benchmark of the round's downloads at any size: the raw answers CSV, the Excel workbook and
the PDF report, each in a process of its own (so that its peak memory is its own).

Builds a round of ``--responses`` responses (about 23 answers each) with bulk inserts
(bench/dataset.py), or reuses one built before (``--reuse FOLDER``: the folder a previous run
kept with ``--keep``, or any folder dataset.build wrote). A round built by bulk inserts has no
saved tally (the submits that keep one never ran): its answers are first counted once and the
tally saved, in a process of its own and timed apart, so that each export below begins as a
worker's does for a round whose tally is kept. Then per export:

- raw answers CSV: first the responses not packed yet are packed (``raw_store.fold``, what
  the worker's export does first: all of them at a dataset's first run, none at a ``--reuse``
  of it, the steady state of a round exported before), timed apart; then the bytes the
  download sends, read to the end; MB/s of output;
- Excel workbook: the results computed (cold, as a new round's first download: the results
  cache's work, not the export's) and then the workbook written to a file, timed apart;
- PDF report: the results computed, then the report.

Peak memory: ``peak_mb`` is the whole export process's peak RSS (VmHWM) from its start to the
end of the export: the app and its imports, the results (from the round's saved tally, as a
worker's process would read them) and the export; this is the figure the target is about.
``export_peak_mb`` is the peak from the export's start only (Linux's peak RSS reset after the
results), ``base_mb`` what the process held when the export began.

Each row carries the seconds, the target, the output's size, microseconds per answer (flat or
falling from 10,000 to 1,000,000 responses is the target) and the process's peak RSS beside
what it held before the export began. Prints figures; asserts nothing.
Targets (2 cores): CSV >= 50 MB/s at 1,000,000 responses; the workbook of 100,000 responses
<= 5 s; peak memory of any export <= 300 MB at 1,000,000 responses.

    .venv/bin/python bench/export_bench.py [--responses N] [--previous N] [--json]
        [--reuse FOLDER] [--keep FOLDER] [--only csv,xlsx,pdf] [--profile KIND] [--anonymous]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset

# bench/run.py runs it at each scale on each database (BENCH_DATABASE_URL: PostgreSQL).
BENCH_RUNS = "per scale and database"
TARGET_CSV_MB_PER_S = 50.0
TARGET_XLSX_SECONDS = 5.0  # at 100,000 responses
TARGET_PEAK_MB = 300.0  # at 1,000,000 responses
KINDS = ("csv", "xlsx", "pdf")
# Not an export: the first count of a bulk-built round, before the exports (_count_once).
PREPARE = "tally"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_mb() -> float:
    """The process's peak RSS since ``reset_peak`` (VmHWM), else since it began."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return rss_mb()


def reset_peak() -> None:
    """Start the peak RSS afresh (Linux: 5 to clear_refs), so that the export's peak is not
    the results computation's before it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def current_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


# --- one export, in a process of its own -------------------------------------------------


def child(kind: str, folder: Path, profile: bool, anonymous: bool = False) -> dict:
    """Time one export of the folder's current round; the figures as a dict. `anonymous`: as
    an anonymous round's (see ``--anonymous``). Kind "tally": count the round's answers and
    save its tally, if no saved tally covers it yet (see ``_count_once``)."""
    from sqlalchemy import func, select

    from survey.cli import demo
    from survey.extensions import db
    from survey.models import Answer, Response, Round

    app = dataset.make_app(folder)
    with app.test_request_context("/?lang=zh"):
        round_ = db.session.scalar(select(Round).where(Round.name == demo.ROUND_NAME))
        if kind == PREPARE:
            return _count_once(round_)
        # Before the round is made anonymous: the packing commits.
        packing = _pack(round_) if kind == "csv" else {}
        if anonymous:
            _as_anonymous(round_)
        responses = db.session.scalar(
            select(func.count(Response.id)).where(Response.round_id == round_.id)
        )
        answers = db.session.scalar(
            select(func.count(Answer.id))
            .join(Response, Answer.response_id == Response.id)
            .where(Response.round_id == round_.id)
        )
        from survey.results import file_cache

        file_cache.clear(round_.id)  # charts drawn afresh: a cold report, whatever ran before
        from survey.models.tallies import TallySnapshot

        # Whether the results grow a saved tally (a worker's usual case) or count every
        # answer (a dataset's first run: its peak is the count's, gigabytes at a million).
        saved = db.session.get(TallySnapshot, round_.id) is not None
        results_seconds = _results(round_) if kind != "csv" else None
        results_peak = peak_mb()
        reset_peak()
        before = current_mb()
        cpu = time.process_time()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        figures = EXPORTS[kind](round_)
        figures["cpu_seconds"] = round(time.process_time() - cpu, 3)
        if profiler:
            profiler.disable()
            path = Path(tempfile.gettempdir()) / f"export-bench-{kind}.prof"
            profiler.dump_stats(path)
            figures["profile"] = str(path)
    export_peak = peak_mb()
    figures.update(
        answers=answers,
        responses=responses,
        base_mb=round(before),
        # The whole process's peak: before the reset (app, results) or after it (export).
        peak_mb=round(max(results_peak, export_peak)),
        export_peak_mb=round(export_peak),
        results_seconds=results_seconds,
        results_peak_mb=round(results_peak),
        results_from="saved tally" if saved else "every answer counted",
        **packing,
    )
    return figures


def _count_once(round_) -> dict:
    """A round built by bulk inserts has no saved tally: the submits that keep one up to date
    never ran. Its first results count every answer (gigabytes at a million responses, the
    dashboard benchmark's "nothing saved" row) and save the tally; done here, in a process of
    its own, so that each export begins as a worker's does for a round whose tally is kept,
    instead of the first export's process holding what that count left behind."""
    from sqlalchemy import func, select

    from survey.extensions import db
    from survey.models import Response
    from survey.models.tallies import TallySnapshot
    from survey.results import round_results

    responses = db.session.scalar(
        select(func.count(Response.id)).where(Response.round_id == round_.id)
    )
    saved = db.session.get(TallySnapshot, round_.id)
    if saved is not None and saved.responses == responses:
        return {"counted": False, "responses": responses}
    start, cpu = time.perf_counter(), time.process_time()
    round_results(round_)
    db.session.commit()  # the tally is saved once the transaction ends
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.session.expire_all()
    saved = db.session.get(TallySnapshot, round_.id)
    return {
        "counted": True,
        "responses": responses,
        "seconds": seconds,
        "cpu_seconds": round(cpu, 3),
        "peak_mb": round(peak_mb()),
        "saved_responses": None if saved is None else saved.responses,
    }


def _as_anonymous(round_) -> None:
    """The round as an anonymous one for this process only (nothing commits it after): its raw rows
    numbered in the secret order, the day only, no unit; "mayors" (2 % of the rows) merged into
    "other groups" as a group of too few units would be, whose rows are made from their
    answers (the results that tell which groups merge are not computed here)."""
    from survey.results import exports

    round_.anonymous = True
    exports.unnamed_groups = lambda _round: frozenset({"mayors"})


def _pack(round_) -> dict:
    """What the worker's export does first (``raw_store.fold``): pack the responses that have
    no packed row yet. A dataset's first run packs them all (the round's first export); a
    ``--reuse`` of it finds them packed, the steady state of a round exported before."""
    from survey.extensions import db
    from survey.results import raw_store

    start, cpu = time.perf_counter(), time.process_time()
    packed = raw_store.fold(round_)
    if packed and db.engine.dialect.name == "postgresql":
        # As autovacuum does soon after a table's rows are written or replaced (dataset.py
        # does it after the build): the steady state's statistics, no dead rows left.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE raw_line")
    return {
        "pack_seconds": round(time.perf_counter() - start, 3),
        "pack_cpu_seconds": round(time.process_time() - cpu, 3),
        "packed": packed,
    }


def _csv(round_) -> dict:
    from survey.results import exports

    start = time.perf_counter()
    size = 0
    for chunk in exports.answers_csv(round_, "zh"):
        size += len(chunk.encode("utf-8"))
    return {"seconds": time.perf_counter() - start, "bytes": size}


def _results(round_) -> float:
    from survey.results import round_results

    start = time.perf_counter()
    round_results(round_)
    return time.perf_counter() - start


def _xlsx(round_) -> dict:
    from survey.results import round_results, workbook

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "results.xlsx"
        start = time.perf_counter()
        workbook.write_workbook(round_, round_results(round_), "zh", path, raw=True)
        seconds = time.perf_counter() - start
        size = path.stat().st_size
    return {"seconds": seconds, "bytes": size}


def _pdf(round_) -> dict:
    from survey.results import report

    start = time.perf_counter()
    # As the background worker builds it (export_jobs: the language was settled when the
    # report was asked for; the answers let go before drawing).
    data = report.build(round_, "zh", forget_answers=True)
    return {"seconds": time.perf_counter() - start, "bytes": len(data)}


EXPORTS = {"csv": _csv, "xlsx": _xlsx, "pdf": _pdf}


# --- the parent: dataset, one process per export, the rows --------------------------------


def run_child(kind: str, folder: Path, profile: bool, anonymous: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--reuse", str(folder)]
    command += ["--anonymous"] if anonymous else []
    done = subprocess.run(
        command + (["--profile", kind] if profile else []),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(args: argparse.Namespace) -> list[dict]:
    rows: list[dict] = []
    responses = args.responses

    def row(step: str, seconds: float | None, target: float | None = None, **extra) -> None:
        seconds = None if seconds is None else round(seconds, 4)
        rows.append(
            {"benchmark": "exports", "step": step, "seconds": seconds, "target": target, **extra}
        )

    with tempfile.TemporaryDirectory(prefix="survey-export-bench-") as scratch:
        folder = Path(args.reuse or args.keep or scratch)
        if args.reuse:
            # Brought to the current schema first (as the dashboard's --reuse does): the
            # children only open it, and a dataset built before a migration lacks its columns.
            dataset.reopen(folder).app = None
        else:
            folder.mkdir(parents=True, exist_ok=True)
            data = dataset.build(folder, responses, args.previous)
            data.app = None
            row(f"build {responses:,} + {args.previous:,} responses", data.seconds)
        kinds = args.only.split(",")
        if set(kinds) & {"xlsx", "pdf"}:
            counted = run_child(PREPARE, folder, False)
            if "error" in counted:
                row("results counted, tally saved: FAILED", None, error=counted["error"])
            elif counted["counted"]:
                row(
                    f"results of a round never counted (every answer), tally saved, "
                    f"{counted['responses']:,}",
                    counted["seconds"],
                    cpu_seconds=counted["cpu_seconds"],
                    peak_mb=counted["peak_mb"],
                    saved_responses=counted["saved_responses"],
                )
        for kind in kinds:
            got = run_child(kind, folder, args.profile == kind, args.anonymous)
            if "error" in got:
                row(f"{kind}: FAILED", None, error=got["error"])
                continue
            seconds, size, answers = got["seconds"], got["bytes"], got["answers"]
            responses = got["responses"]  # the dataset's (--reuse: whatever --responses says)
            # CPU seconds beside the wall clock's: the machine is shared with other work.
            memory = {
                "peak_mb": got["peak_mb"],
                "export_peak_mb": got["export_peak_mb"],
                "base_mb": got["base_mb"],
                "cpu_seconds": got["cpu_seconds"],
            }
            per_answer = {
                "us_per_answer": round(seconds / max(answers, 1) * 1e6, 3),
                "cpu_us_per_answer": round(got["cpu_seconds"] / max(answers, 1) * 1e6, 3),
            }
            if kind == "csv":
                row(
                    f"pack the responses not packed yet, {got['packed']:,}",
                    got["pack_seconds"],
                    cpu_seconds=got["pack_cpu_seconds"],
                )
                row(
                    f"raw answers CSV{', anonymous' if args.anonymous else ''}, {responses:,} responses",
                    seconds,
                    size / 1e6 / TARGET_CSV_MB_PER_S,  # the seconds 50 MB/s would take
                    bytes=size,
                    mb_per_s=round(size / 1e6 / seconds, 1),
                    mb_per_s_target=TARGET_CSV_MB_PER_S,
                    **per_answer,
                    **memory,
                )
            else:
                name = {"xlsx": "Excel workbook", "pdf": "PDF report"}[kind]
                target = TARGET_XLSX_SECONDS * responses / 100_000 if kind == "xlsx" else None
                row(
                    f"{name}: results (cold), {responses:,}",
                    got["results_seconds"],
                    peak_mb=got["results_peak_mb"],
                    results_from=got["results_from"],
                )
                row(
                    f"{name}: writing, {responses:,} responses",
                    seconds,
                    target,
                    bytes=size,
                    **per_answer,
                    **memory,
                )
            if got.get("profile"):
                row(f"{kind}: profile in {got['profile']}", None)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--previous", type=int, default=10_000)
    parser.add_argument("--reuse", help="a folder holding a dataset built before")
    parser.add_argument("--keep", help="build the dataset into this folder and keep it")
    parser.add_argument("--only", default=",".join(KINDS), help="csv,xlsx,pdf")
    parser.add_argument("--profile", choices=KINDS, help="cProfile this export")
    parser.add_argument("--child", choices=(*KINDS, PREPARE), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--anonymous",
        action="store_true",
        help="export the round as an anonymous one (secret order), without changing it",
    )
    args = parser.parse_args(argv)
    if args.child:
        profile = args.profile == args.child
        print(json.dumps(child(args.child, Path(args.reuse), profile, args.anonymous)))
        return
    rows = measure(args)
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'step':<52} {'seconds':>9} {'target':>8}  notes")
    for r in rows:
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.3f}"
        target = "" if r["target"] is None else f"{r['target']:.3f}"
        keys = (
            "bytes", "mb_per_s", "us_per_answer", "cpu_us_per_answer", "cpu_seconds",
            "peak_mb", "export_peak_mb", "base_mb", "results_from", "error",
        )  # fmt: skip
        notes = ", ".join(f"{k} {v}" for k, v in r.items() if k in keys)
        print(f"{r['step']:<52} {seconds:>9} {target:>8}  {notes}")


if __name__ == "__main__":
    main()
