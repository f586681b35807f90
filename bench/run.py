"""Run every benchmark in bench/ (``*_bench.py``), print one table of their figures and keep
them in ``bench/results/<timestamp>.json`` with the machine's core count.

Each benchmark runs in its own process (so its peak memory is its own). One that accepts
``--json`` prints its rows as JSON on its last line (benchmark, step, seconds, target and
optional figures) and joins the table; the output of one that does not is printed after the
table as it is. Benchmarks print figures; they assert nothing about time.

    .venv/bin/python bench/run.py [--quick]      # --quick: 10,000 responses instead of 100,000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
QUICK_ARGS = ["--responses", "10000"]


def run(script: Path, extra: list[str]) -> tuple[list[dict], str, float]:
    """The benchmark's rows (when it speaks ``--json``) or its printed output as it is."""
    speaks_json = '"--json"' in script.read_text()
    args = ["--json", *extra] if speaks_json else []
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        cwd=BENCH.parent,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return (
            [
                {
                    "benchmark": script.stem,
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


def table(rows: list[dict]) -> str:
    lines = [f"{'benchmark':<10} {'step':<56} {'seconds':>9} {'target':>7} {'ok':>3}  notes"]
    for r in rows:
        seconds = "" if r.get("seconds") is None else f"{r['seconds']:.3f}"
        target = "" if r.get("target") is None else f"{r['target']:.3f}"
        ok = met(r)
        notes = ", ".join(
            f"{k} {v:,}" if isinstance(v, int | float) else f"{k} {v}"
            for k, v in r.items()
            if k not in ("benchmark", "step", "seconds", "target") and v is not None
        )
        lines.append(
            f"{r['benchmark']:<10} {r['step']:<56} {seconds:>9} {target:>7} {ok:>3}  {notes}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 responses per round")
    args = parser.parse_args(argv)
    extra = QUICK_ARGS if args.quick else []
    rows, printed, durations = [], {}, {}
    for script in sorted(BENCH.glob("*_bench.py")):
        print(f"== {script.name} ...", file=sys.stderr, flush=True)
        found, output, seconds = run(script, [] if output_only(script) else extra)
        rows.extend(found)
        if output:
            printed[script.name] = output
        durations[script.name] = round(seconds, 1)
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
                "durations": durations,
                "rows": rows,
                "printed": printed,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"cores {os.cpu_count()}; figures kept in {out.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
