"""Respondents, not answers: the design effect and effective n of pooled figures.

A pooled figure (the whole round, a category, a respondent group, a served unit: any row in
which one respondent gives several ratings) is not a share of independent answers. One
respondent's ratings go together (a satisfied client rates most items high), so counting every
rating as a person makes the interval too narrow. Rules (used by ``analysis.metrics`` and
``analysis.weights``):

- The rate of a row is a ratio estimator p = sum_i s_i / sum_i m_i over the r respondents i who
  rated in the row: s_i are respondent i's satisfied ratings there, m_i their answered ratings
  (sum_i m_i = n, the answered ratings of the row).
- Its variance is the linearisation (Taylor series) variance with respondents as clusters:
  var = r / (r - 1) * sum_i (s_i - p * m_i)^2 / n^2 (Wolter, *Introduction to Variance
  Estimation*, 2nd ed. 2007, ch. 6; Kish, *Survey Sampling*, 1965, 6.3). It is the variance
  statsmodels gives for an OLS regression of the satisfied indicator on a constant with
  ``cov_type="cluster"`` and the respondent as the cluster.
- The design effect deff = var / (p (1 - p) / n) (Kish 1965): how many times the variance of n
  independent answers it is; about 1 when one respondent's answers are unrelated, up to the
  ratings per respondent when each respondent rates every item alike.
- The effective n is n_eff = n / deff, never more than the respondents r: a row's ratings never
  count for more people than rated in it (the cautious reading when deff is below the mean
  ratings per respondent, where n / deff would exceed r).
- ``analysis.metrics`` reports the 95% Wilson score interval at n_eff (p * n_eff satisfied of
  n_eff).
- A row in which nobody gave more than one rating (an item: n = r) has deff 1 and n_eff = n:
  its interval is the plain Wilson interval.
- Where the variance cannot be measured (fewer than 2 respondents, or p is 0 or 1) deff is
  NaN; where it is 0 (every respondent's own share equals p) deff is 0. n_eff is then r.
- A respondent who rated one item twice counts their last rating of it in s_i and m_i (as in
  ``RatingCounts.item_ratings``); n and p stay those of all answers.

Weighted rows (``analysis.weights``): each answer of group g in the row weighs w_g / n_g
(shares w_g renormalised over the weighted groups that answered, n_g the group's answered
ratings in the row), so respondent i of group g contributes z_i = w_g (s_i - p_w m_i) / n_g to
the linearised weighted rate p_w, and var_w = r / (r - 1) * sum_i z_i^2 over the r respondents
of the weighted groups: statsmodels' WLS of the satisfied indicator on a constant with those
weights and ``cov_type="cluster"``. In a row where each respondent gave one rating (an item)
the factor r / (r - 1) is left out, as for the plain Wilson interval of an unweighted item:
equal weights per respondent then give back the unweighted n. deff_w = var_w / (p_w (1 - p_w) / n_w) with n_w the weighted
groups' answers; n_eff_w = p_w (1 - p_w) / var_w, never more than Kish's effective number of
respondents 1 / sum_g (w_g^2 / r_g) (at most r; r when every respondent weighs the same), and
that number where var_w cannot be measured or is 0.

Everything is computed from the counts' item x response matrix of ratings, one row of the
table at a time and only for the rows where some respondent gave several ratings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts
from analysis.keys import key_tuples

ITEM_KEYS = ("question", "category", "served_unit")


def satisfied_codes(points: Sequence[int], item_satisfied_from: np.ndarray) -> np.ndarray:
    """items x codes: whether code c of item i (value points[0] + c - 1; 0 = not rated) is a
    satisfied rating: one of the satisfied points of the item's scale (value >=
    satisfied_from, see ``analysis.metrics``), the rule of the counts' ``satisfied`` column."""
    values = np.arange(len(points) + 1, dtype="int64") + (int(points[0]) - 1)
    top = values[None, :] >= np.asarray(item_satisfied_from, dtype="int64")[:, None]
    top[:, 0] = False
    return top


def item_of_cell(cells: pd.DataFrame) -> np.ndarray:
    """The row of ``item_ratings`` of each cell: items numbered in cell order (an item's cells
    are consecutive, the group being the last part of the cells' sort key)."""
    if not len(cells):
        return np.zeros(0, dtype=np.intp)
    change = np.zeros(len(cells) - 1, dtype=bool)
    for key in ITEM_KEYS:
        codes = cells[key].array.codes
        change |= codes[1:] != codes[:-1]
    return np.cumsum(np.r_[0, change]).astype(np.intp)


def _matrices(counts: RatingCounts) -> tuple[np.ndarray, np.ndarray]:
    """items x responses: satisfied (0/1) and answered (0/1) ratings, as uint8, kept. The
    responses are in the order of their group (``response_groups``), so that a group's
    responses are a slice (``_columns_of``); sums over all responses do not mind the order."""
    if "matrices" not in counts._clusters:
        ratings = counts.item_ratings
        groups = response_groups(counts)
        # A stable sort of small integers (a radix sort in numpy).
        order = np.argsort(groups.astype(np.int16), kind="stable")
        top = satisfied_codes(counts.points, counts.item_satisfied_from).astype(np.uint8)
        satisfied = np.empty(ratings.shape, dtype=np.uint8)
        answered = np.empty(ratings.shape, dtype=np.uint8)
        for item, codes in enumerate(ratings):
            codes = codes.take(order)
            top[item].take(codes, out=satisfied[item])
            np.not_equal(codes, 0, out=answered[item].view(bool))
        counts._clusters["matrices"] = satisfied, answered
        counts._clusters["sorted_groups"] = groups.take(order)
    return counts._clusters["matrices"]


def response_groups(counts: RatingCounts) -> np.ndarray:
    """The respondent group of each response (column of ``item_ratings``) as a code of the
    cells' ``group`` categories (missing group: the number of categories), -1 for a response
    without an answered rating. A response counted in several groups gets the last one's."""
    if "groups" in counts._clusters:
        return counts._clusters["groups"]
    cells = counts.cells
    n_responses = counts.item_ratings.shape[1]
    groups = np.full(n_responses, -1, dtype="int64")
    if len(cells):
        array = cells["group"].array
        cell_group = np.where(array.codes < 0, len(array.categories), array.codes)
        if counts.patterns is not None and len(counts.patterns):
            patterns = counts.patterns
            answered = patterns.any(axis=1)
            last = patterns.shape[1] - 1 - np.argmax(patterns[:, ::-1], axis=1)
            of_pattern = np.where(answered, cell_group.take(last), -1)
            groups = of_pattern.take(counts.response_pattern)
        elif counts.pairs is not None:
            response, cell = np.divmod(counts.pairs, len(cells))
            groups[response] = cell_group.take(cell)  # pairs are sorted: the last cell wins
    counts._clusters["groups"] = groups
    return groups


def _columns_of(counts: RatingCounts, group: int) -> tuple[np.ndarray, np.ndarray]:
    """The satisfied and answered matrices restricted to the responses of one group (views)."""
    satisfied, answered = _matrices(counts)
    groups = counts._clusters["sorted_groups"]
    start, stop = np.searchsorted(groups, [group, group + 1])
    return satisfied[:, start:stop], answered[:, start:stop]


def respondent_moments(
    counts: RatingCounts, by: Sequence[str], rows: np.ndarray | None = None
) -> np.ndarray:
    """3 x rows of ``aggregate(counts, by)``: sum_i s_i^2, sum_i s_i m_i and sum_i m_i^2 over
    the respondents i of each row (s_i satisfied, m_i answered ratings of i in the row), exact
    integers; so that sum_i (s_i - q m_i)^2 = s2 - 2 q sm + q^2 m2 for any rate q.

    Every row is computed once and kept on the counts by its keys (``moments_by_key``): sums
    over respondents, so the moments of two disjoint sets of responses add up (``merge``).
    ``rows`` is accepted for the callers' sake: rows not asked for may hold values too."""
    by = tuple(by)
    cells = counts.cells
    n_rows = len(counts.cell_groups(by)[1]) if by else 1
    moments = np.zeros((3, n_rows), dtype="int64")
    if not len(cells):
        return moments
    kept = moments_by_key(counts, by)
    for row, key in enumerate(_row_keys(counts, by)):
        moments[:, row] = kept[key]
    return moments


def _row_keys(counts: RatingCounts, by: tuple[str, ...]) -> list[tuple]:
    if not by:
        return [()]
    _, first = counts.cell_groups(by)
    return key_tuples(counts.cells.iloc[first], by)


def moments_by_key(counts: RatingCounts, by: Sequence[str]) -> dict[tuple, np.ndarray]:
    """{row key: [s2, sm, m2]} of every row of ``aggregate(counts, by)`` (see
    ``respondent_moments``), computed once per ``by`` and kept on the counts."""
    by = tuple(by)
    memo = ("moments", by)
    if memo in counts._clusters:
        return counts._clusters[memo]
    cells = counts.cells
    if by:
        row_of_cell, first = counts.cell_groups(by)
        n_rows = len(first)
    else:
        row_of_cell, n_rows = np.zeros(len(cells), dtype=np.intp), 1
    moments = np.zeros((3, n_rows), dtype="int64")
    item = item_of_cell(cells) if len(cells) else np.zeros(0, dtype=np.intp)
    with_group = "group" in by
    if with_group:
        array = cells["group"].array
        cell_group = np.where(array.codes < 0, len(array.categories), array.codes)
    for row in range(n_rows if len(cells) else 0):
        in_row = np.flatnonzero(row_of_cell == row)
        items = np.unique(item.take(in_row))
        # Without the group in the keys every cell of an item falls in the same row, so the
        # item's whole row of ratings counts; with it, only the responses of the row's group.
        if with_group:
            satisfied, answered = _columns_of(counts, int(cell_group[in_row[0]]))
        else:
            satisfied, answered = _matrices(counts)
        # Summed in place, item by item (a gather of the rows would copy them first).
        s = np.zeros(satisfied.shape[1], dtype=np.int32)
        m = np.zeros(satisfied.shape[1], dtype=np.int32)
        for one in items:
            np.add(s, satisfied[one], out=s)
            np.add(m, answered[one], out=m)
        # Integer sums, exact (no BLAS dot: its threads stall on a busy machine).
        s, m = s.astype("int64"), m.astype("int64")
        moments[:, row] = np.sum(s * s), np.sum(s * m), np.sum(m * m)
    kept = dict(zip(_row_keys(counts, by) if len(cells) else [], moments.T))
    counts._clusters[memo] = kept
    return kept


def merge_moments(
    first: dict[tuple, np.ndarray], second: dict[tuple, np.ndarray]
) -> dict[tuple, np.ndarray]:
    """The moments of two disjoint sets of responses together, row by row (a row missing from
    one set has no respondent there)."""
    merged = {key: value.copy() for key, value in first.items()}
    for key, value in second.items():
        merged[key] = merged[key] + value if key in merged else value.copy()
    return merged


def design_effects(
    counts: RatingCounts,
    by: Sequence[str],
    n: np.ndarray,
    rate: np.ndarray,
    respondents: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(deff, n_eff) of each row of ``aggregate(counts, by)`` with its n, rate and respondents
    (see the module rules)."""
    n = np.asarray(n, dtype="float64")
    rate = np.asarray(rate, dtype="float64")
    r = np.asarray(respondents, dtype="float64")
    deff = np.ones(n.shape)
    n_eff = n.copy()
    pooled = n > r
    if not pooled.any():
        return deff, n_eff
    s2, sm, m2 = respondent_moments(counts, by, pooled).astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.clip(s2 - 2 * rate * sm + rate * rate * m2, 0, None)
        variance = r / (r - 1) * spread / (n * n)
        binomial = rate * (1 - rate) / n
        measured = pooled & (r >= 2) & (binomial > 0)
        deff = np.where(pooled, np.where(measured, variance / binomial, np.nan), deff)
        effective = np.where(measured & (deff > 0), n / deff, np.inf)
    n_eff = np.where(pooled, np.minimum(effective, r), n_eff)
    return deff, n_eff


def weighted_design(
    counts: RatingCounts,
    by: Sequence[str],
    per_group: pd.DataFrame,
    row: np.ndarray,
    answer_weight: np.ndarray,
    respondent_weight: np.ndarray,
    weighted_rate: np.ndarray,
    weighted_n: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(deff, n_eff) of each weighted row (see the module rules).

    ``per_group`` is ``aggregate(counts, [*by, "group"])`` and ``row`` its row of the table;
    per row of ``per_group``, ``answer_weight`` is the weight of each of its answers (w_g / n_g;
    0: not weighted) and ``respondent_weight`` that of each of its respondents for Kish's cap
    (w_g / r_g). Groups weighted together as one stratum (w_H / n_H, w_H / r_H for each of
    them) fit the same formulas. ``weighted_rate`` and ``weighted_n`` are per row of the table.
    """
    n_rows = len(weighted_rate)
    n = per_group["n"].to_numpy(dtype="float64")
    r = per_group["respondents"].to_numpy(dtype="float64")
    satisfied = per_group["satisfied"].to_numpy(dtype="float64")
    answer_weight = np.asarray(answer_weight, dtype="float64")
    weighted = answer_weight > 0
    q = np.nan_to_num(np.asarray(weighted_rate, dtype="float64")).take(row)
    # sum over the group's respondents of (s_i - q m_i)^2: exact when each has one rating
    # (s_i = 0 or 1, m_i = 1), from the respondents' sums otherwise.
    single = n <= r
    s2 = np.where(single, satisfied, 0.0)
    sm, m2 = s2.copy(), np.where(single, n, 0.0)
    pooled = weighted & ~single
    if pooled.any():
        moments = respondent_moments(counts, [*by, "group"], pooled).astype("float64")
        s2, sm, m2 = (np.where(pooled, moment, value) for moment, value in
                      zip(moments, (s2, sm, m2)))  # fmt: skip
    spread = np.clip(s2 - 2 * q * sm + q * q * m2, 0, None)
    z2 = np.where(weighted, answer_weight * answer_weight * spread, 0.0)
    kish_part = np.where(weighted, np.asarray(respondent_weight, dtype="float64") ** 2 * r, 0.0)
    respondents = np.bincount(row, weights=np.where(weighted, r, 0.0), minlength=n_rows)
    total = np.bincount(row, weights=z2, minlength=n_rows)
    # The small-sample factor r / (r - 1) of clusters, as for unweighted pooled rows; a row in
    # which each respondent gave one rating (an item) has none, as the plain Wilson interval.
    clustered = np.bincount(row, weights=pooled, minlength=n_rows) > 0
    kish = np.bincount(row, weights=kish_part, minlength=n_rows)
    p = np.asarray(weighted_rate, dtype="float64")
    w_n = np.asarray(weighted_n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(clustered, respondents / (respondents - 1), 1.0) * total
        binomial = p * (1 - p)
        measured = (respondents >= 2) & (binomial > 0)
        deff = np.where(measured, variance / (binomial / w_n), np.nan)
        cap = np.where(kish > 0, 1 / kish, 0.0)
        n_eff = np.where(measured & (variance > 0), binomial / variance, np.inf)
    n_eff = np.minimum(n_eff, cap)
    return deff, n_eff
