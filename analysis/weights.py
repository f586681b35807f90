"""Weighted satisfaction figures when a round gives each respondent group a share of the total.

Rule (post-stratification by respondent group):

- ``weights`` maps group codes to their share of the total, e.g. ``{"mayors": 0.4,
  "departments": 0.4, "cppcc": 0.1, "congress": 0.1}``; shares need not sum to 1.
- In each row of the table (an item, a category, the whole round, ...) each answer of group g
  gets weight w_g / n_g, where n_g is the group's answered ratings in that row, so group g
  contributes exactly its share: weighted rate = sum over g of w_g * rate_g. When every
  respondent answers every item this is the weight w_g / (respondents of g) per respondent.
- The shares are renormalised over the groups that answered in the row: a weighted group
  without answers in a row has its share spread over the others in proportion to theirs.
- Groups absent from ``weights`` (or weighted 0) are left out of the weighted figures; they
  still count in the unweighted ones, which are always returned beside the weighted ones.
- The weighted interval is the Wilson interval at the Kish effective sample size
  n_eff = (sum w)² / sum w² = 1 / sum_g (w_g² / n_g) (normalised weights), with
  weighted_rate * n_eff successes. Answers of one respondent are treated as independent.
- A row with no weighted group has NaN weighted figures and n_eff 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, aggregate, as_counts
from analysis.disclosure import Disclosure
from analysis.keys import group_ids
from analysis.metrics import ITEM_KEYS, metrics_of, ratio, wilson_intervals


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights as floats; ValueError if any is negative or not finite, or all are 0."""
    clean = {str(group): float(w) for group, w in weights.items()}
    bad = [g for g, w in clean.items() if not math.isfinite(w) or w < 0]
    if bad:
        raise ValueError(f"group weights must be finite and >= 0: {', '.join(bad)}")
    if clean and not any(clean.values()):
        raise ValueError("at least one group weight must be positive")
    return clean


def weighted_table(
    data: pd.DataFrame | RatingCounts | Disclosure,
    weights: Mapping[str, float],
    by: Sequence[str] = ITEM_KEYS,
) -> pd.DataFrame:
    """Unweighted and weighted satisfaction per combination of ``by`` (see the module rules).

    Columns: the ``by`` keys, n, satisfied, rate, ci_low, ci_high (unweighted, all groups),
    weighted_n (answers of weighted groups), weighted_rate, weighted_ci_low, weighted_ci_high
    and n_eff. ``by=()`` gives one row for the whole round.

    Given what a round may publish (an ``analysis.disclosure.Disclosure``), the table is
    computed from its counts and the group cells it hides in a row are *collapsed* into one
    stratum, weighted with their shares together: the weighted figure then says nothing about
    a hidden group that the unweighted totals do not already say.
    """
    weights = check_weights(weights)
    counts = data.counts if isinstance(data, Disclosure) else as_counts(data)
    by = list(by)
    plain = metrics_of(counts, tuple(by))
    per_group = aggregate(counts, [*by, "group"])
    hidden = data.hidden([*by, "group"]) if isinstance(data, Disclosure) else None
    weighted = _weighted(per_group, weights, by, len(plain), hidden)
    # One frame from the columns: copying and assigning column by column costs more.
    table = {
        name: plain[name].array for name in [*by, "n", "satisfied", "rate", "ci_low", "ci_high"]
    }
    table["weighted_n"], table["weighted_rate"] = weighted["weighted_n"], weighted["weighted_rate"]
    table["weighted_ci_low"], table["weighted_ci_high"] = wilson_intervals(
        weighted["weighted_rate"] * weighted["n_eff"], weighted["n_eff"]
    )
    table["n_eff"] = weighted["n_eff"]
    return pd.DataFrame(table)


def _weighted(
    per_group: pd.DataFrame,
    weights: dict[str, float],
    by: list[str],
    n_rows: int,
    hidden: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Weighted rate, n_eff and weighted_n for each of the ``n_rows`` rows of ``aggregate(counts,
    by)``, in its order (``by=()``: one row, even for a round without ratings), from the rows
    of ``aggregate(counts, [*by, "group"])``; the ``hidden`` ones of a row form one stratum."""
    n = per_group["n"].to_numpy(dtype="float64")
    satisfied = per_group["satisfied"].to_numpy(dtype="float64")
    groups = per_group["group"].array
    # The weight of each group code (the last one: a missing group, weight 0).
    of_code = np.array([weights.get(str(g), 0.0) for g in groups.categories] + [0.0])
    w = np.where(n > 0, of_code.take(groups.codes), 0.0)
    row = _row_ids(per_group, by)
    if hidden is not None and hidden.any():
        # Only weighted groups' answers go into a collapsed stratum, as into any other.
        merged = hidden & (w > 0)
        keep = ~hidden

        def collapse(values: np.ndarray) -> np.ndarray:
            together = np.bincount(row[merged], weights=values[merged], minlength=n_rows)
            return np.concatenate([values[keep], together])

        n, satisfied, w = collapse(n), collapse(satisfied), collapse(w)
        row = np.concatenate([row[keep], np.arange(n_rows)]).astype(np.intp)
    share = ratio(w, np.bincount(row, weights=w, minlength=n_rows)[row])
    share = np.nan_to_num(share)
    rate_g = ratio(satisfied, n)
    contribution = np.where(share > 0, share * np.nan_to_num(rate_g), 0.0)
    inverse_n_eff = np.where(share > 0, ratio(share * share, n), 0.0)
    total_share = np.bincount(row, weights=share, minlength=n_rows)
    has_weight = total_share > 0
    rate = np.where(has_weight, np.bincount(row, weights=contribution, minlength=n_rows), np.nan)
    inverse_total = np.bincount(row, weights=inverse_n_eff, minlength=n_rows)
    n_eff = np.where(has_weight, ratio(np.ones(n_rows), inverse_total), 0.0)
    weighted_n = np.bincount(row, weights=np.where(w > 0, n, 0.0), minlength=n_rows)
    return {"weighted_rate": rate, "n_eff": n_eff, "weighted_n": weighted_n.astype("int64")}


def _row_ids(per_group: pd.DataFrame, by: list[str]) -> np.ndarray:
    """The ``aggregate(counts, by)`` row of each (by, group) row: same sort order and keys."""
    if not by:
        return np.zeros(len(per_group), dtype="int64")
    return group_ids(per_group, by)[0]
