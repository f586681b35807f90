"""The ok column of `make bench` (bench/run.py): which targets a row carries and meets."""

import runpy
from pathlib import Path

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
