"""Driver view: which items move overall satisfaction, against how well each item performs.

Rules:

- *Importance* of an item is the Pearson correlation between its rating and the overall
  satisfaction rating (question code ``overall`` by default), over the respondents
  (response_id) who answered both. Fewer than 3 such pairs, or no variation in either rating
  among them, gives NaN.
- *Performance* is the item's satisfaction rate (the share of satisfied ratings, see
  ``analysis.metrics``).
- Quadrants split both axes at the median over the items placed: those with a correlation
  over at least 10 pairs (``MIN_PAIRS_PLACED``). An item with fewer keeps its importance but
  gets no quadrant and does not move the medians: over so few respondents a correlation could
  be anything from weak to strong (an item asked of one small group, say). An item exactly
  at a median counts as high:
    high importance, low performance  -> ``concentrate_here``
    high importance, high performance -> ``keep_up_the_good_work``
    low importance,  low performance  -> ``low_priority``
    low importance,  high performance -> ``possible_overkill``
  Items without a correlation, or with too few pairs, get no quadrant (NaN).
- The overall item itself is not a driver and is left out of the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, as_counts
from analysis.keys import group_ids
from analysis.metrics import ITEM_KEYS, ratio

OVERALL = "overall"
MIN_PAIRS = 3
MIN_PAIRS_PLACED = 10
WEAK_CORRELATION = 0.2
QUADRANTS = ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")


def driver_table(data: pd.DataFrame | RatingCounts, overall: str = OVERALL) -> pd.DataFrame:
    """One row per rating item other than ``overall``: importance against performance.

    ``data`` is an answer frame or its ``RatingCounts`` (pass the counts when the round's
    other tables use them too). Columns: question, category, served_unit, n (respondents who
    rated the item), rate (satisfaction rate, as in ``analysis.metrics``), importance (Pearson
    r with the overall item), pairs (respondents who answered both), quadrant. If the overall
    item was not asked, every importance is NaN. Vectorised over the counts' item x response
    matrix; a respondent rating an item twice counts once (the last answer).
    """
    counts = as_counts(data)
    # The items in the order of item_ratings' rows: an item's cells are consecutive (the group
    # is the last part of the cells' sort key), its first cell stands for it.
    rank, _ = group_ids(counts.cells, ITEM_KEYS)
    first = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]]) if len(rank) else rank
    keys = {key: counts.cells[key].array.take(first) for key in ITEM_KEYS}
    question = keys["question"]  # never missing (see analysis.frames)
    is_overall = np.asarray(question.categories == overall, dtype=bool).take(question.codes)
    ratings = counts.item_ratings
    # One overall rating per respondent: the first overall item if it rates several units.
    # Without an overall item every target is 0 (not rated): no pairs, NaN importance.
    target = (
        ratings[np.flatnonzero(is_overall)[0]] if is_overall.any()
        else np.zeros(ratings.shape[1], dtype=ratings.dtype)
    )  # fmt: skip
    joint = _joint_counts(ratings, target, len(counts.points) + 1)
    # Code c of item_ratings stands for the value points[0] + c - 1 (code 0: not rated).
    values = np.arange(len(counts.points) + 1, dtype="int64") + (counts.points[0] - 1)
    rated = joint.sum(axis=2)
    n = rated[:, 1:].sum(axis=1)
    # Satisfied = from the item's own satisfied_from up, as in analysis.metrics.
    top = values[None, :] >= counts.item_satisfied_from[:, None]
    top[:, 0] = False
    importance, pairs = _correlations(joint[:, 1:, 1:], values[1:])
    # The rows in key order, missing keys last (the cells sort them first), overall left out.
    order = np.argsort(rank.take(first), kind="stable")
    kept = order[~is_overall.take(order)]
    table = {key: codes.take(kept) for key, codes in keys.items()}
    table["n"] = n.take(kept)
    table["rate"] = ratio((rated * top).sum(axis=1), n).take(kept)
    table["importance"], table["pairs"] = importance.take(kept), pairs.take(kept)
    placed = np.where(table["pairs"] >= MIN_PAIRS_PLACED, table["importance"], np.nan)
    table["quadrant"] = quadrants(pd.Series(placed), pd.Series(table["rate"]))
    return pd.DataFrame(table)


def all_weak(drivers: pd.DataFrame) -> bool:
    """Whether every placed item's correlation with the overall item is weak (|r| < 0.2), so
    that the quadrants say little; an unplaced item's r, over too few pairs, says nothing."""
    importance = drivers["importance"].where(drivers["quadrant"].notna()).abs()
    return bool(importance.notna().any() and importance.max() < WEAK_CORRELATION)


def unplaced(drivers: pd.DataFrame) -> int:
    """How many items have a correlation but too few pairs to be placed in a quadrant."""
    return int((drivers["importance"].notna() & drivers["quadrant"].isna()).sum())


def quadrants(importance: pd.Series, performance: pd.Series) -> pd.Categorical:
    """Quadrant labels split at the medians over the rows with an importance (ties are high)."""
    imp = importance.to_numpy(dtype="float64")
    perf = performance.to_numpy(dtype="float64")
    known = ~np.isnan(imp) & ~np.isnan(perf)
    labels = np.full(len(imp), None, dtype=object)
    if known.any():
        high_imp = imp >= np.median(imp[known])
        high_perf = perf >= np.median(perf[known])
        choice = np.select(
            [high_imp & ~high_perf, high_imp & high_perf, ~high_imp & ~high_perf],
            list(QUADRANTS[:3]),
            default=QUADRANTS[3],
        )
        labels[known] = choice[known]
    return pd.Categorical(labels, categories=QUADRANTS)


def _joint_counts(ratings: np.ndarray, target: np.ndarray, n_codes: int) -> np.ndarray:
    """items x codes x codes: how many respondents gave item i code a and the target code b
    (``ratings`` is item x response). Item by item, in the narrowest integer type: one
    bincount over the whole matrix would first widen it all to intp."""
    dtype = np.uint8 if n_codes * n_codes <= 256 else np.uint16 if n_codes < 256 else np.intp
    joint = np.empty((len(ratings), n_codes * n_codes), dtype=np.intp)
    target = target.astype(dtype)
    pair = np.empty(len(target), dtype=dtype)
    for item, codes in enumerate(ratings):
        np.multiply(codes, n_codes, out=pair, casting="unsafe")
        pair += target
        joint[item] = np.bincount(pair, minlength=n_codes * n_codes)
    return joint.reshape(len(ratings), n_codes, n_codes)


def _correlations(joint: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of each item with the target over the respondents who rated both, from the
    joint counts of their values (items x item value x target value).

    The moments are integer sums of whole-number ratings, exact here and when converted to
    float64, so a constant column gives a variance of exactly 0 (NaN r), never rounding noise.
    """
    pairs = joint.sum(axis=(1, 2))
    x_counts, y_counts = joint.sum(axis=2), joint.sum(axis=1)
    sx, sy = x_counts @ values, y_counts @ values
    sxx, syy = x_counts @ (values * values), y_counts @ (values * values)
    sxy = (joint @ values) @ values
    covariance = (pairs * sxy - sx * sy).astype("float64")
    spread = (pairs * sxx - sx * sx).astype("float64") * (pairs * syy - sy * sy).astype("float64")
    r = np.full(len(pairs), np.nan)
    ok = (pairs >= MIN_PAIRS) & (spread > 0)
    r[ok] = covariance[ok] / np.sqrt(spread[ok])
    return np.clip(r, -1.0, 1.0), pairs
