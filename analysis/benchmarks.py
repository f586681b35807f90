"""Offices compared on the items of a shared questionnaire template.

Each office's figures are those its own results page publishes (its item table, after its own
suppression): nothing here looks at an answer. An office is compared with the others through
their distribution only: how many, the median and the middle half (the interquartile range,
between the quartiles), never the lowest or highest, each of which is one office's exact rate.
The median of an odd number of offices, and for some numbers a quartile, is also one office's
rate; it is shown unnamed and in whole percentages. And only when there are at least
``min_offices`` of them (never fewer than ``FLOOR``): with few, each office that knows who the
others are could read their figures off the quartiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.metrics import ratio, wilson_intervals
from analysis.trends import adjust_bh, two_proportion_z_tests

# Fewer other offices than this and the distribution is not shown (the app's setting,
# BENCHMARK_MIN_OFFICES, decides; this is its default).
MIN_OTHER_OFFICES = 5
# Whatever the setting: with two offices Hazen's quartiles are the lowest and highest rates.
FLOOR = 3
ALPHA = 0.05


def by_question(items: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The published item rows of ``codes`` added up per question (a question that rates
    several served units has a row per unit): question, n, satisfied, rate, ci_low, ci_high,
    in the order of ``codes``; a code with no published row is left out."""
    rows = items[items["question"].astype("str").isin(list(codes))]
    summed = rows.groupby(rows["question"].astype("str"), sort=False)[["n", "satisfied"]].sum()
    order = [c for c in codes if c in summed.index]
    summed = summed.loc[order]
    n = summed["n"].to_numpy(dtype="int64")
    satisfied = summed["satisfied"].to_numpy(dtype="int64")
    low, high = wilson_intervals(satisfied, n)
    return pd.DataFrame(
        {
            "question": order,
            "n": n,
            "satisfied": satisfied,
            "rate": ratio(satisfied, n),
            "ci_low": low,
            "ci_high": high,
        }
    )


def change_by_question(comparison: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """Per question of ``codes`` rated in both rounds: rate_before, rate_after, difference and
    whether it is significant (two-proportion test, Benjamini-Hochberg over these questions).
    ``comparison`` is ``analysis.compare_rounds`` of the two rounds' item tables."""
    # Rows rated in both rounds only: a served unit new (or withheld) in one round would
    # otherwise move the question's rate by its own figure, not by a change.
    both = (comparison["n_before"] > 0) & (comparison["n_after"] > 0)
    rows = comparison[comparison["question"].astype("str").isin(list(codes)) & both]
    columns = ["n_before", "satisfied_before", "n_after", "satisfied_after"]
    summed = rows.groupby(rows["question"].astype("str"), sort=False)[columns].sum()
    order = [c for c in codes if c in summed.index]
    summed = summed.loc[order]
    x1, n1 = summed["satisfied_before"].to_numpy(), summed["n_before"].to_numpy()
    x2, n2 = summed["satisfied_after"].to_numpy(), summed["n_after"].to_numpy()
    before, after = ratio(x1, n1), ratio(x2, n2)
    _, p = two_proportion_z_tests(x1, n1, x2, n2)
    p_adjusted = adjust_bh(p)
    return pd.DataFrame(
        {
            "question": order,
            "rate_before": before,
            "rate_after": after,
            "difference": after - before,
            "significant": p_adjusted < ALPHA,
        }
    )


@dataclass(frozen=True)
class Distribution:
    """Other offices' rates on one item, without saying whose: the median and the middle half
    (quartiles by Hazen's rule: from three offices on, never the lowest or highest rate)."""

    offices: int
    lower_quartile: float
    median: float
    upper_quartile: float


def distribution(
    rates: Sequence[float], min_offices: int = MIN_OTHER_OFFICES
) -> Distribution | None:
    """The distribution of other offices' rates, or None when there are fewer than
    ``min_offices`` of them, or than ``FLOOR`` (NaN rates, items an office does not publish, do
    not count)."""
    values = np.array([r for r in rates if r is not None and not np.isnan(r)], dtype="float64")
    if len(values) < max(min_offices, FLOOR):
        return None
    q1, median, q3 = np.percentile(values, [25, 50, 75], method="hazen")
    return Distribution(int(len(values)), float(q1), float(median), float(q3))


def standing(own: float, others: Distribution) -> str:
    """Where an office's rate stands among the others': "above", "below" or "at" their
    median (within half a percentage point)."""
    if abs(own - others.median) < 0.005:
        return "at"
    return "above" if own > others.median else "below"
