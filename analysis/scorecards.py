"""Scorecards: each served unit (the office whose service is rated) sees its own results.

Rule: every row (a served unit's item, or category) is judged against the satisfaction
threshold (default 0.80):

- ``below``: the whole 95% Wilson interval lies below the threshold (ci_high < threshold);
- ``possibly_below``: the rate is below the threshold but the interval reaches it;
- ``meets``: the rate is at or above the threshold (exact: 4 of 5 meets 0.80).

``gap`` is rate - threshold. Answers without a served unit form their own scorecard (NaN).
All respondent groups count: a scorecard reports an office, not its respondents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, as_counts
from analysis.metrics import below, metrics_of

DEFAULT_THRESHOLD = 0.80
LEVELS = {
    "question": ("served_unit", "category", "question"),
    "category": ("served_unit", "category"),
    "unit": ("served_unit",),
}
STATUSES = ("below", "possibly_below", "meets")


def scorecard_table(
    data: pd.DataFrame | RatingCounts,
    threshold: float = DEFAULT_THRESHOLD,
    level: str = "question",
) -> pd.DataFrame:
    """All served units' scorecards in one table, sorted by served unit.

    ``level`` is ``question`` (served unit x category x question), ``category`` (served unit x
    category) or ``unit`` (one row per served unit). Columns: the keys, n, respondents,
    satisfied, rate, ci_low, ci_high, deff, n_eff, mean, dissatisfied_share, threshold, gap,
    status (the interval of a served unit's or category's pooled ratings is taken at the
    effective n: see ``analysis.clusters``).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    keys = LEVELS[level]
    table = metrics_of(as_counts(data), keys)
    columns = [
        *keys,
        "n",
        "respondents",
        "satisfied",
        "rate",
        "ci_low",
        "ci_high",
        "deff",
        "n_eff",
        "mean",
        "dissatisfied_share",
    ]
    # One frame from the columns: copying and assigning column by column costs more.
    result = {name: table[name].array for name in columns}
    result["threshold"] = np.full(len(table), float(threshold))
    result["gap"] = table["rate"].to_numpy() - threshold
    result["status"] = status_against(table, threshold)
    return pd.DataFrame(result)


def status_against(table: pd.DataFrame, threshold: float) -> pd.Categorical:
    rate_below = below(table["satisfied"], table["n"], threshold)
    confirmed = rate_below & (table["ci_high"].to_numpy() < threshold)
    status = np.where(confirmed, "below", np.where(rate_below, "possibly_below", "meets"))
    return pd.Categorical(status, categories=STATUSES)


def scorecard(
    data: pd.DataFrame | RatingCounts,
    served_unit: str,
    threshold: float = DEFAULT_THRESHOLD,
    level: str = "question",
) -> pd.DataFrame:
    """One served unit's scorecard (see ``scorecard_table``); empty if it was not rated."""
    table = scorecard_table(data, threshold, level)
    mine = table["served_unit"].astype("str") == served_unit
    return table[mine.to_numpy()].reset_index(drop=True)


def scorecards(
    data: pd.DataFrame | RatingCounts,
    threshold: float = DEFAULT_THRESHOLD,
    level: str = "question",
) -> dict[str, pd.DataFrame]:
    """Every rated served unit's scorecard, keyed by served-unit code (rows without one are
    left out: they have no office to send them to)."""
    table = scorecard_table(data, threshold, level)
    unit = table["served_unit"].astype("str")
    return {
        str(code): table[(unit == code).to_numpy()].reset_index(drop=True)
        for code in table["served_unit"].dropna().unique()
    }
