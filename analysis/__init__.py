"""Pure analysis of satisfaction surveys: pandas, numpy and matplotlib in; DataFrames, plain
dataclasses and matplotlib Figures out. Never imports Flask, SQLAlchemy or the app.

Typical use, on the tidy answer frame the app builds (see ``analysis.frames``)::

    frame = analysis.answer_frame(records)
    counts = analysis.rating_counts(frame)      # optional: reduce once, reuse below
    items = analysis.item_table(counts)
    groups = analysis.by_group_category(counts, anonymity_threshold=5)
    drivers = analysis.driver_table(counts)
    candidates = analysis.run_rules(counts, previous=previous_frame)
    png = analysis.charts.to_png(analysis.charts.rate_chart(items, lang="zh"))
"""

from analysis.alerts import (
    RULES,
    ActionCandidate,
    Rule,
    Thresholds,
    action_key,
    measures,
    one_per_action_key,
    run_rules,
    source_of,
)
from analysis.breakdowns import (
    breakdown,
    by_category,
    by_group,
    by_group_category,
    by_group_question,
    by_question,
    by_served_unit,
    suppress,
)
from analysis.choices import choice_table
from analysis.counts import RatingCounts, rating_counts
from analysis.disclosure import Disclosure, disclose
from analysis.drivers import driver_table
from analysis.frames import answer_frame, empty_frame
from analysis.metrics import (
    Z95,
    Summary,
    below,
    category_table,
    distribution,
    item_table,
    summary,
    wilson_interval,
    wilson_intervals,
)
from analysis.report import below_threshold_table, headline_table, trend_summary
from analysis.scorecards import scorecard, scorecard_table, scorecards
from analysis.trends import (
    compare_rounds,
    trend_table,
    two_proportion_z_test,
    two_proportion_z_tests,
)
from analysis.weights import weighted_table

__all__ = [
    "choice_table",
    "RULES", "Z95", "ActionCandidate", "Disclosure", "disclose", "RatingCounts", "Rule", "Summary", "Thresholds",
    "action_key", "answer_frame", "below", "measures", "below_threshold_table", "breakdown", "by_category",
    "by_group", "by_group_category", "by_group_question", "by_question", "by_served_unit",
    "category_table", "charts", "compare_rounds", "distribution", "driver_table",
    "empty_frame", "headline_table", "item_table", "one_per_action_key", "rating_counts",
    "run_rules", "source_of", "scorecard", "scorecard_table", "scorecards", "summary", "suppress",
    "trend_summary", "trend_table", "two_proportion_z_test", "two_proportion_z_tests",
    "weighted_table", "wilson_interval", "wilson_intervals",
]  # fmt: skip


def __getattr__(name: str) -> object:
    # charts pulls in matplotlib (~23 MB resident); loaded on first use of
    # ``analysis.charts`` so the app and the CSV/workbook exports never pay for it.
    if name == "charts":
        import importlib

        return importlib.import_module("analysis.charts")
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
