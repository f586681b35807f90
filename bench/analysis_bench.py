"""Benchmark of the ``analysis`` package on a large synthetic round.

Generates N responses (default 100,000) x 20 rating items = 2 million answers across 4
respondent groups and 5 served units, then times frame construction, the full analysis, and as
the reference a bare pandas groupby over the same frame. Prints figures; asserts nothing.

The full analysis is what the review pages compute when the round's answers change: the round
reduced to counts, then every table, breakdown, driver and rule, against the previous round
(as many responses) whose counts the app keeps (``survey.results`` reduces an earlier round once
per change of its answers, which for a closed round is never). That is the figure measured
against the targets: the analysis of this round's 2 million answers. The cold row adds the
previous round's reduction, as on the first view after the app starts.

    .venv/bin/python bench/analysis_bench.py [--responses N] [--repeat K]

Targets (for tuning): full analysis of 2 million answers <= 2 s and <= 3x the bare groupby;
peak memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import analysis

# No database, and sizes of its own: bench/run.py runs it once (--responses 10000 under --quick).
BENCH_RUNS = "once"

GROUPS = {"mayors": 0.02, "departments": 0.70, "cppcc": 0.14, "congress": 0.14}
GROUP_SHIFT = {"mayors": 0.3, "departments": 0.0, "cppcc": -0.2, "congress": 0.1}
WEIGHTS = {"mayors": 0.4, "departments": 0.4, "cppcc": 0.1, "congress": 0.1}
SERVED_UNITS = ("secretariat", "documents", "meetings", "supervision", "reception")
COMMENTS = ("办理不够及时", "Minutes arrived late", "格式不规范", "No reply to our query")


def items() -> list[tuple[str, str, str]]:
    """20 items: (question, category, served_unit); the last one is the overall item."""
    result = []
    for i in range(19):
        unit = SERVED_UNITS[i % len(SERVED_UNITS)]
        result.append((f"q{i:02d}", f"services.{unit}", unit))
    result.append(("overall", "overall", "secretariat"))
    return result


def synthetic_round(responses: int, round_id: int = 2, seed: int = 1, drift: float = 0.0):
    """A tidy DataFrame of one round as the app's query returns it: plain string codes, not
    yet normalised by ``analysis.answer_frame``; vectorised generation.

    Each answer is a latent score (item level + group shift + the respondent's general mood +
    noise) cut into 1..5, so items correlate with the overall item; 3% are unanswered and a
    third of the 1s and 2s carry a comment.
    """
    rng = np.random.default_rng(seed)
    spec = items()
    k = len(spec)
    groups = np.array(list(GROUPS))
    group_of = rng.choice(len(groups), size=responses, p=list(GROUPS.values()))
    mood = rng.normal(0, 0.8, responses)
    level = rng.normal(0.9, 0.45, k) + drift
    shift = np.array([GROUP_SHIFT[g] for g in groups])[group_of]
    latent = level[None, :] + shift[:, None] + mood[:, None] + rng.normal(0, 0.9, (responses, k))
    latent[:, -1] = 0.7 * mood / 0.8 + 0.6 * latent[:, :-1].mean(axis=1)
    value = np.clip(np.round(latent + 3.6), 1, 5).ravel()
    value[rng.random(value.size) < 0.03] = np.nan
    n = value.size
    comment = np.full(n, None, dtype=object)
    low = (value <= 2) & (rng.random(n) < 0.33)
    comment[low] = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), low.sum())]
    item = np.tile(np.arange(k), responses)
    return pd.DataFrame(
        {
            "round_id": round_id,
            "response_id": np.repeat(np.arange(responses) + round_id * 10_000_000, k),
            "group": _strings(groups, np.repeat(group_of, k)),
            "unit": None,
            "served_unit": _strings([s[2] for s in spec], item),
            "question": _strings([s[0] for s in spec], item),
            "category": _strings([s[1] for s in spec], item),
            "type": "rating",
            "value": value,
            "scale_min": 1,
            "scale_max": 5,
            "text": None,
            "comment": pd.Series(comment, dtype="str"),
            "source": "web",
        }
    )


def _strings(codes: object, index: np.ndarray) -> pd.Series:
    """Plain string codes, as a database query returns them (not yet categoricals)."""
    return pd.Series(np.asarray(codes, dtype=object)[index], dtype="str")


def full_analysis(frame: pd.DataFrame, previous_counts: analysis.RatingCounts) -> None:
    """Everything the review pages compute for one round whose answers changed; the previous
    round comes as its counts, kept by the app."""
    counts = analysis.rating_counts(frame)
    analysis.item_table(counts)
    analysis.category_table(counts)
    analysis.summary(counts)
    analysis.by_category(counts)
    analysis.by_question(counts)
    analysis.by_group(counts)
    analysis.by_served_unit(counts)
    analysis.by_group_category(counts)
    analysis.weighted_table(counts, WEIGHTS)
    analysis.weighted_table(counts, WEIGHTS, by=("category",))
    analysis.scorecard_table(counts)
    analysis.compare_rounds(previous_counts, counts)
    analysis.driver_table(counts)
    analysis.run_rules(counts, previous=previous_counts)


def cold_analysis(frame: pd.DataFrame, previous: pd.DataFrame) -> None:
    """The same with the previous round reduced too (the first view after a start)."""
    full_analysis(frame, analysis.rating_counts(previous))


def reference(frame: pd.DataFrame) -> object:
    """The yardstick: one bare pandas groupby over the same frame."""
    return frame.groupby(["question"], observed=True)["value"].agg(["count", "mean"])


def timed(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_traced(fn: Callable[[], object]) -> float:
    """Peak Python-allocated memory (MB) while fn runs, numpy and pandas buffers included."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


TARGETS = {"full analysis": 2.0}
# The target on the ratio to the reference (bench/run.py prints it beside the figure).
RATIO_TARGETS = {"full analysis": 3.0}


def json_rows(rows: list[tuple[str, float, float]], responses: int, peak_rss: float) -> list:
    """The rows for bench/run.py's table: step, seconds, target, peak MB."""
    out = [
        {
            "benchmark": "analysis",
            "step": f"{name} ({responses:,} responses)",
            "seconds": round(seconds, 4),
            "target": TARGETS.get(name),
            "x_reference": round(seconds / rows[0][1], 2),
            "x_target": RATIO_TARGETS.get(name),
            "peak_mb": None if math.isnan(peak) else round(peak),
        }
        for name, seconds, peak in rows
    ]
    out.append(
        {
            "benchmark": "analysis",
            "step": "peak RSS (MB)",
            "seconds": None,
            "target": None,
            "peak_mb": round(peak_rss),
        }
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of K runs (default 3)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON (bench/run.py)")
    args = parser.parse_args(argv)

    raw = synthetic_round(args.responses, round_id=2, seed=1)
    raw_previous = synthetic_round(args.responses, round_id=1, seed=2, drift=0.1)
    frame = analysis.answer_frame(raw)
    previous = analysis.answer_frame(raw_previous)
    previous_counts = analysis.rating_counts(previous)
    rss_after_data = rss_mb()
    answers = int(frame["value"].notna().sum())

    rows = [
        ("bare groupby (reference)", timed(lambda: reference(frame), args.repeat), math.nan),
        (
            "answer_frame from DataFrame",
            timed(lambda: analysis.answer_frame(raw), args.repeat),
            peak_traced(lambda: analysis.answer_frame(raw)),
        ),
        (
            "full analysis",
            timed(lambda: full_analysis(frame, previous_counts), args.repeat),
            peak_traced(lambda: full_analysis(frame, previous_counts)),
        ),
        (
            "full analysis, cold",
            timed(lambda: cold_analysis(frame, previous), args.repeat),
            peak_traced(lambda: cold_analysis(frame, previous)),
        ),
    ]
    if args.json:
        print(json.dumps(json_rows(rows, args.responses, rss_mb())))
        return
    print(f"responses {args.responses:,}  rows {len(frame):,}  answered ratings {answers:,}")
    print(f"cores {os.cpu_count()}  pandas {pd.__version__}  numpy {np.__version__}")
    print(f"{'step':<30} {'seconds':>9} {'x reference':>12} {'peak MB':>9}")
    for name, seconds, peak in rows:
        print(f"{name:<30} {seconds:>9.3f} {seconds / rows[0][1]:>12.2f} {peak:>9.0f}")
    print("peak MB: tracemalloc peak of the step's own allocations (numpy buffers included)")
    print(
        "full analysis: this round reduced, every table against the previous round's kept "
        "counts; cold: the previous round reduced too"
    )
    print(
        f"process peak RSS after generating the data: {rss_after_data:,.0f} MB; "
        f"at the end: {rss_mb():,.0f} MB"
    )


if __name__ == "__main__":
    main()
