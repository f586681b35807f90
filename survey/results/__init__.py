"""The only place where database rows become DataFrames for `analysis`.

Besides the answer frame of a round, this module keeps each round's analysed results in a
per-process cache (``round_results``) keyed by the round's *data version*: the count and the
highest id of its responses, and of the earlier rounds it is compared with, plus the round's
settings. A new response changes the version, so the next request recomputes; every other
request reads the cached tables.

The package: ``frames`` (database rows to the answer frame), ``tally`` (a round's answers
reduced to sums, grown by new responses), ``snapshots`` (tallies saved in the database for a
fresh process), ``tables`` (``round_results``: every table of a round, computed once per data
version from its tally), ``cache`` (the per-process caches and data versions), ``labels``
(display texts of codes), ``comments``, ``charts`` (the chart kinds of the review pages and the
report), ``files`` (rendered charts and documents kept on disk), ``exports`` and ``workbook``
(CSV and Excel), ``report/`` (the PDF), and ``sealing`` (an open round's figures are kept
from readers who could otherwise read a response by subtracting two views).
"""

from survey.results.cache import clear_cache, data_versions
from survey.results.comments import comments_query
from survey.results.frames import answers_frame, lowest_first, plain_rows
from survey.results.labels import Labels, labels_for, rating_scale, short_label
from survey.results.sealing import sealed
from survey.results.tables import (
    Comparison,
    RoundResults,
    round_progress,
    round_results,
    satisfaction_table,
)

__all__ = [
    "Comparison",
    "Labels",
    "RoundResults",
    "answers_frame",
    "clear_cache",
    "comments_query",
    "data_versions",
    "labels_for",
    "lowest_first",
    "plain_rows",
    "rating_scale",
    "round_progress",
    "round_results",
    "satisfaction_table",
    "sealed",
    "short_label",
]
