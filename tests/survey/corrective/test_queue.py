"""The register's figures: counts by state and the median days to close."""

from __future__ import annotations

from datetime import date, timedelta

from survey import corrective
from tests.factories import all_actions


def test_register_counts_and_median_days_to_close(ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, ready.created_at + timedelta(days=12))
    stats = corrective.register_stats(all_actions(), date.today())
    assert (stats.open, stats.closed, stats.median_days_to_close) == (0, 1, 12.0)
