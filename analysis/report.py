"""The plain tables a management-review report (ISO 9001 clause 9.3) needs from one round.

- ``headline_table``: per category, the satisfaction rate with its interval and status;
- ``below_threshold_table``: the items whose rate is below the threshold, worst first;
- ``trend_summary``: the change of each category (or item) since the previous round, with the
  test and the adjusted p-value of ``analysis.trends``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.breakdowns import ANONYMITY_THRESHOLD
from analysis.counts import RatingCounts, as_counts
from analysis.metrics import category_table, item_table
from analysis.scorecards import DEFAULT_THRESHOLD, status_against
from analysis.trends import ALPHA, compare_rounds

HEADLINE_COLUMNS = (
    "category", "items", "n", "respondents", "rate", "ci_low", "ci_high", "deff", "n_eff", "mean",
)  # fmt: skip


def headline_table(
    data: pd.DataFrame | RatingCounts, threshold: float = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Per category: items, n, respondents, rate, ci_low, ci_high (at the effective n), deff,
    n_eff, mean and status against
    the threshold (``below`` when the whole interval is below it, ``possibly_below`` when only
    the rate is, else ``meets``; exact comparison)."""
    table = category_table(as_counts(data))
    result = table[list(HEADLINE_COLUMNS)].copy()
    result["status"] = status_against(table, threshold)
    return result


def below_threshold_table(
    data: pd.DataFrame | RatingCounts,
    threshold: float = DEFAULT_THRESHOLD,
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
) -> pd.DataFrame:
    """Items whose rate is below the threshold (exact), lowest rate first (ties: more answers
    first). Columns: question, category, served_unit, n, rate, ci_low, ci_high, gap (rate -
    threshold), evidence (``confirmed`` if ci_high < threshold and the item has at least
    ``anonymity_threshold`` respondents, else ``possible``, as in ``analysis.alerts``)."""
    table = item_table(as_counts(data))
    status = np.asarray(status_against(table, threshold), dtype=object)
    keep = status != "meets"
    fired = table[keep].copy()
    fired["gap"] = fired["rate"] - threshold
    enough = fired["respondents"].to_numpy() >= anonymity_threshold
    fired["evidence"] = np.where((status[keep] == "below") & enough, "confirmed", "possible")
    fired = fired.sort_values(["rate", "n"], ascending=[True, False], kind="stable")
    columns = ["question", "category", "served_unit", "n", "rate", "ci_low", "ci_high"]
    return fired[[*columns, "gap", "evidence"]].reset_index(drop=True)


def trend_summary(
    previous: pd.DataFrame | RatingCounts,
    current: pd.DataFrame | RatingCounts,
    by: Sequence[str] = ("category",),
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Rate before and after per row of ``by`` with the difference, its p-value, the test
    (z or Fisher's exact), the Benjamini-Hochberg adjusted p-value and whether it is
    significant (p_adjusted < alpha); see ``analysis.trends``."""
    table = compare_rounds(previous, current, by=by, alpha=alpha)
    columns = [*by, "n_before", "rate_before", "n_after", "rate_after", "difference"]
    return table[[*columns, "p_value", "test", "p_adjusted", "significant", "direction"]]
