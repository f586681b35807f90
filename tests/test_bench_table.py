"""The table of `make bench` (bench/run.py): which targets a row carries and meets, how often
each benchmark runs, and the ratios between scales and databases."""

import argparse
import runpy
from pathlib import Path

import pytest

met = runpy.run_path(str(Path(__file__).resolve().parents[1] / "bench" / "run.py"))["met"]


def test_a_row_without_targets_has_no_verdict():
    assert met({"seconds": 0.5, "target": None, "ratio": 0.7}) == ""


def test_seconds_meet_their_target_at_or_below_it():
    assert met({"seconds": 2.0, "target": 2.0}) == "yes"
    assert met({"seconds": 2.01, "target": 2.0}) == "NO"


def test_times_a_bare_groupby_must_stay_within_its_target():
    row = {"seconds": 0.08, "target": 2.0, "x_reference": 3.2, "x_target": 3.0}
    assert met(row) == "NO"
    assert met({**row, "x_reference": 2.9}) == "yes"


def test_a_share_of_the_ceiling_must_reach_its_target():
    assert met({"seconds": None, "ratio": 0.59, "ratio_target": 0.6}) == "NO"
    assert met({"seconds": None, "ratio": 0.6, "ratio_target": 0.6}) == "yes"


# How often a benchmark runs, and the ratios of the rows made on several scales and databases.

bench = runpy.run_path(str(Path(__file__).resolve().parents[1] / "bench" / "run.py"))


def test_a_benchmark_runs_once_unless_its_marker_says_otherwise():
    runs_of = bench["runs_of"]
    assert runs_of('"""A benchmark."""\nimport sys\n') == "once"
    assert runs_of('BENCH_RUNS = "per scale and database"\n') == "per scale and database"
    assert runs_of('x = 1\nBENCH_RUNS = "once, on each database"\n') == "once, on each database"
    with pytest.raises(ValueError):
        runs_of('BENCH_RUNS = "per moon phase"\n')


def test_the_shipped_benchmarks_say_how_they_run():
    folder = Path(__file__).resolve().parents[1] / "bench"
    runs = {p.stem: bench["runs_of"](p.read_text()) for p in folder.glob("*_bench.py")}
    assert runs["dashboard_bench"] == "per scale and database"
    assert runs["submission_bench"] == "once, on each database"
    assert runs["growth_bench"] == "once"


def test_a_benchmark_with_its_own_databases_is_told_which():
    database_args = bench["database_args"]
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_x"
    assert database_args(["sqlite", "postgresql"], url) == ["--postgres-url", url]
    assert database_args(["sqlite"], None) == ["--no-postgres"]
    assert database_args(["postgresql"], url) == ["--no-sqlite", "--postgres-url", url]


def test_the_previous_round_is_a_tenth_of_the_scale():
    assert bench["scale_args"](1_000_000) == ["--responses", "1000000", "--previous", "100000"]


def test_scales_and_databases_are_read_from_the_command_line():
    assert bench["parse_scales"]("1000000, 100_000") == (100_000, 1_000_000)
    assert bench["parse_scales"]("1e4") == (10_000,)
    assert bench["parse_databases"]("postgresql") == ("postgresql",)
    with pytest.raises(argparse.ArgumentTypeError):
        bench["parse_databases"]("mysql")
    with pytest.raises(argparse.ArgumentTypeError):
        bench["parse_scales"]("0")


def _row(step, database, responses, seconds):
    return {
        "benchmark": "dashboard",
        "step": step,
        "database": database,
        "responses": responses,
        "seconds": seconds,
        "target": None,
    }


def test_cost_per_answer_is_compared_with_the_smallest_scale_on_the_same_database():
    rows = bench["with_ratios"](
        [
            _row("answer frame (1,797,683 answers)", "sqlite", 100_000, 2.0),
            _row("answer frame (17,976,830 answers)", "sqlite", 1_000_000, 30.0),
            _row("answer frame (1,797,683 answers)", "postgresql", 100_000, 1.0),
            _row("answer frame (17,976,830 answers)", "postgresql", 1_000_000, 9.0),
        ]
    )
    assert "per_answer_x" not in rows[0] and "per_answer_x" not in rows[2]
    assert rows[1]["per_answer_x"] == 1.5  # 30 s / 1M over 2 s / 100k
    assert rows[3]["per_answer_x"] == 0.9
    assert "pg_x_sqlite" not in rows[0] and "pg_x_sqlite" not in rows[1]
    assert rows[2]["pg_x_sqlite"] == 0.5
    assert rows[3]["pg_x_sqlite"] == 0.3


def test_rows_without_a_scale_or_a_time_get_no_ratios():
    once = {"benchmark": "growth", "step": "full analysis (10,000 responses)", "seconds": 0.02}
    rss = _row("peak RSS (MB)", "sqlite", 100_000, None)
    alone = _row("dashboard warm (median of 20)", "postgresql", 100_000, 0.03)
    rows = bench["with_ratios"]([once, rss, alone])
    assert rows == [once, rss, alone]


def test_the_table_shows_database_scale_and_ratios_of_each_row():
    rows = bench["with_ratios"](
        [
            _row("answer frame (1,797,683 answers)", "sqlite", 100_000, 2.0),
            _row("answer frame (1,797,683 answers)", "postgresql", 100_000, 1.0),
        ]
    )
    lines = bench["table"](rows).splitlines()
    assert lines[0].split()[:4] == ["benchmark", "database", "responses", "step"]
    assert lines[2].split()[:3] == ["dashboard", "postgresql", "100,000"]
    assert lines[2].split()[-1] == "0.50"
    assert "pg_x_sqlite" not in lines[2]  # in its column, not repeated among the notes
