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
- The weighted interval is the Wilson interval at the effective n of the weighted rate,
  ``weighted_n_eff``, with weighted_rate * weighted_n_eff successes. Respondents are clusters:
  the variance is the linearisation over respondents (respondent i of group g weighs
  w_g / n_g per answer), ``weighted_deff`` its ratio to p(1-p) over the weighted answers, and
  the effective n is never more than Kish's effective number of respondents
  1 / sum_g (w_g^2 / r_g), itself at most the respondents (see ``analysis.clusters``).
- A row with no weighted group has NaN weighted figures and weighted_n_eff 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.clusters import weighted_design
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
    data: pd.DataFrame | RatingCounts,
    weights: Mapping[str, float],
    by: Sequence[str] = ITEM_KEYS,
) -> pd.DataFrame:
    """Unweighted and weighted satisfaction per combination of ``by`` (see the module rules).

    Columns: the ``by`` keys, n, respondents, satisfied, rate, ci_low, ci_high, deff, n_eff
    (unweighted, all groups, as in ``analysis.metrics``), weighted_n (answers of weighted
    groups), weighted_respondents (their respondents), weighted_rate, weighted_ci_low,
    weighted_ci_high, weighted_deff and weighted_n_eff. ``by=()`` gives one row for the whole
    round.

    Given what a round may publish (an ``analysis.disclosure.Disclosure``), the table is
    computed from its counts and the group cells it hides in a row are *collapsed* into one
    stratum, weighted with their shares together: the weighted figure then says nothing about
    a hidden group that the unweighted totals do not already say.
    """
    weights = check_weights(weights)
    counts = data.counts if isinstance(data, Disclosure) else as_counts(data)
    by = list(by)
    plain = metrics_of(counts, tuple(by))
    hidden = data.hidden([*by, "group"]) if isinstance(data, Disclosure) else None
    weighted = _weighted(counts, aggregate(counts, [*by, "group"]), weights, by, len(plain), hidden)
    # One frame from the columns: copying and assigning column by column costs more.
    plain_columns = [*by, "n", "respondents", "satisfied", "rate", "ci_low", "ci_high", "deff"]
    table = {name: plain[name].array for name in [*plain_columns, "n_eff"]}
    for name in ("weighted_n", "weighted_respondents", "weighted_rate"):
        table[name] = weighted[name]
    table["weighted_ci_low"], table["weighted_ci_high"] = wilson_intervals(
        weighted["weighted_rate"] * weighted["n_eff"], weighted["n_eff"]
    )
    table["weighted_deff"], table["weighted_n_eff"] = weighted["deff"], weighted["n_eff"]
    return pd.DataFrame(table)


def _weighted(
    counts: RatingCounts,
    per_group: pd.DataFrame,
    weights: dict[str, float],
    by: list[str],
    n_rows: int,
    hidden: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Weighted rate, deff, n_eff, weighted_n and weighted_respondents for each of the
    ``n_rows`` rows of ``aggregate(counts, by)``, in its order (``by=()``: one row, even for a
    round without ratings). The groups of a row that ``hidden`` marks (per row of
    ``per_group``) form one stratum, weighted with the shares of those among them that have
    one: a weighted hidden group alone would give itself away beside the unweighted totals."""
    n = per_group["n"].to_numpy(dtype="float64")
    satisfied = per_group["satisfied"].to_numpy(dtype="float64")
    respondents_g = per_group["respondents"].to_numpy(dtype="float64")
    groups = per_group["group"].array
    # The weight of each group code (the last one: a missing group, weight 0).
    of_code = np.array([weights.get(str(g), 0.0) for g in groups.categories] + [0.0])
    w = np.where(n > 0, of_code.take(groups.codes), 0.0)
    row = _row_ids(per_group, by)
    # Each (row, group) is its own stratum, but the hidden groups of a row are one.
    stratum = np.arange(len(per_group))
    if hidden is not None:
        stratum = np.where(hidden, len(per_group) + row, stratum)
    n_strata = len(per_group) + n_rows
    row_of_stratum = np.concatenate([row, np.arange(n_rows)]).astype(np.intp)

    def per_stratum(values: np.ndarray) -> np.ndarray:
        return np.bincount(stratum, weights=values, minlength=n_strata)

    n_s, w_s = per_stratum(n), per_stratum(w)
    # Groups do not share respondents, so a stratum's respondents are its groups' sum.
    r_s = per_stratum(respondents_g)
    share_s = np.nan_to_num(ratio(w_s, np.bincount(row_of_stratum, weights=w_s,
                                                   minlength=n_rows)[row_of_stratum]))  # fmt: skip
    rate_s = ratio(per_stratum(satisfied), n_s)
    contribution = np.where(share_s > 0, share_s * np.nan_to_num(rate_s), 0.0)
    total_share = np.bincount(row_of_stratum, weights=share_s, minlength=n_rows)
    has_weight = total_share > 0
    rate = np.where(
        has_weight, np.bincount(row_of_stratum, weights=contribution, minlength=n_rows), np.nan
    )
    # Answers and respondents of the weighted strata: a stratum's whole, never a hidden part.
    weighted_n = np.bincount(row_of_stratum, weights=np.where(w_s > 0, n_s, 0.0), minlength=n_rows)
    weighted_respondents = np.bincount(
        row_of_stratum, weights=np.where(w_s > 0, r_s, 0.0), minlength=n_rows
    )
    share = share_s.take(stratum)
    deff, n_eff = weighted_design(
        counts, by, per_group, row, np.where(share > 0, ratio(share, n_s.take(stratum)), 0.0),
        np.where(share > 0, ratio(share, r_s.take(stratum)), 0.0), rate, weighted_n,
    )  # fmt: skip
    return {
        "weighted_rate": rate,
        "deff": deff,
        "n_eff": n_eff,
        "weighted_n": weighted_n.astype("int64"),
        "weighted_respondents": weighted_respondents.astype("int64"),
    }


def _row_ids(per_group: pd.DataFrame, by: list[str]) -> np.ndarray:
    """The ``aggregate(counts, by)`` row of each (by, group) row: same sort order and keys."""
    if not by:
        return np.zeros(len(per_group), dtype="int64")
    return group_ids(per_group, by)[0]
