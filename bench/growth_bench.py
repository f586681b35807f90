"""Growth of the analysis cost with the size of a round: 1%, 10% and 100% of N responses
(default N = 1,000,000, so 10,000 / 100,000 / 1,000,000 responses x 20 rating items).

For each size: time of the tidy frame (``analysis.answer_frame``) and of the full analysis
(the same work as ``analysis_bench.full_analysis``: the round reduced, then every table,
breakdown, driver and rule, against the kept counts of a previous round of the same size),
the bare pandas groupby over the same frame as the reference, and the cost per answered
rating in nanoseconds, so that one can read off whether it stays flat or falls as rounds
grow. Prints figures; asserts nothing.

    .venv/bin/python bench/growth_bench.py [--responses N] [--repeat K]

The dashboard request is not grown to a million responses here: loading 20 million answers
into the database takes longer than the analysis it would time (see dashboard_bench.py for
10,000 and 100,000).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis_bench import full_analysis, reference, rss_mb, synthetic_round, timed

import analysis

# No database, and sizes of its own: bench/run.py runs it once (--responses 10000 under --quick).
BENCH_RUNS = "once"


def measure(responses: int, repeat: int) -> dict:
    """Figures for one size; the frames are freed before the next size is built."""
    raw = synthetic_round(responses, round_id=2, seed=1)
    previous = analysis.rating_counts(
        analysis.answer_frame(synthetic_round(responses, round_id=1, seed=2, drift=0.1))
    )
    start = time.perf_counter()
    frame = analysis.answer_frame(raw)
    frame_seconds = time.perf_counter() - start
    del raw
    gc.collect()
    answered = int(frame["value"].notna().sum())

    reference_seconds = timed(lambda: reference(frame), repeat)
    analysis_seconds = timed(lambda: full_analysis(frame, previous), repeat)
    return {
        "responses": responses,
        "answers": answered,
        "answer_frame_s": frame_seconds,
        "reference_s": reference_seconds,
        "analysis_s": analysis_seconds,
        "ns_per_answer": analysis_seconds / answered * 1e9,
        "x_reference": analysis_seconds / reference_seconds,
        "rss_mb": rss_mb(),
    }


def json_rows(results: list[dict]) -> list[dict]:
    rows = [
        {
            "benchmark": "growth",
            "step": f"full analysis ({r['responses']:,} responses)",
            "seconds": round(r["analysis_s"], 4),
            "target": None,
            "ns_per_answer": round(r["ns_per_answer"]),
            "x_reference": round(r["x_reference"], 1),
            "answer_frame_s": round(r["answer_frame_s"], 2),
            "peak_rss_mb": round(r["rss_mb"]),
        }
        for r in results
    ]
    first, last = results[0], results[-1]
    rows.append(
        {
            "benchmark": "growth",
            "step": "cost per answer, largest / smallest round",
            "seconds": None,
            "target": None,
            "ratio": round(last["ns_per_answer"] / first["ns_per_answer"], 2),
        }
    )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--responses",
        type=int,
        default=1_000_000,
        help="the largest round; the others are 1%% and 10%% of it",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of K runs for rounds below 1,000,000 responses (default 3)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON (bench/run.py)")
    args = parser.parse_args(argv)

    results = []
    for responses in (args.responses // 100, args.responses // 10, args.responses):
        repeat = 1 if responses >= 1_000_000 else args.repeat
        results.append(measure(responses, repeat))
        gc.collect()
    if args.json:
        print(json.dumps(json_rows(results)))
        return
    print(f"cores {os.cpu_count()}  pandas {pd.__version__}  numpy {np.__version__}")
    print(
        f"{'responses':>10} {'answers':>11} {'frame s':>8} {'groupby s':>10} {'analysis s':>11} "
        f"{'ns/answer':>10} {'x groupby':>10} {'peak RSS MB':>12}"
    )
    for r in results:
        print(
            f"{r['responses']:>10,} {r['answers']:>11,} {r['answer_frame_s']:>8.2f} "
            f"{r['reference_s']:>10.3f} {r['analysis_s']:>11.3f} {r['ns_per_answer']:>10.0f} "
            f"{r['x_reference']:>10.1f} {r['rss_mb']:>12,.0f}"
        )
    print("peak RSS: the process's high-water mark after that size (sizes run smallest first)")


if __name__ == "__main__":
    main()
