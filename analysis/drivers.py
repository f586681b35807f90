"""Driver view: which items move overall satisfaction, against how well each item performs.

Rules:

- *Importance* of an item is the Pearson correlation between its rating and the overall
  satisfaction rating (question code ``overall`` by default), over the respondents
  (response_id) who answered both. Fewer than 3 such pairs, or no variation in either rating
  among them, gives NaN.
- *Performance* is the item's satisfaction rate (top two boxes, see ``analysis.metrics``).
- Quadrants split both axes at the median over the items with a correlation; an item exactly
  at a median counts as high:
    high importance, low performance  -> ``concentrate_here``
    high importance, high performance -> ``keep_up_the_good_work``
    low importance,  low performance  -> ``low_priority``
    low importance,  high performance -> ``possible_overkill``
  Items without a correlation get no quadrant (NaN).
- The overall item itself is not a driver and is left out of the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.counts import combined_key, dense_codes, rating_mask, response_codes, split_key
from analysis.metrics import ITEM_KEYS, ratio

OVERALL = "overall"
MIN_PAIRS = 3
QUADRANTS = ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")


def driver_table(frame: pd.DataFrame, overall: str = OVERALL) -> pd.DataFrame:
    """One row per rating item other than ``overall``: importance against performance.

    Columns: question, category, served_unit, n (respondents who rated the item), rate
    (satisfaction rate, as in ``analysis.metrics``), importance (Pearson r with the overall
    item), pairs (respondents who answered both), quadrant. If the overall item was not asked,
    every importance is NaN. Vectorised: one response x item matrix of values; a respondent
    rating an item twice counts once (the last answer).
    """
    values, keys = _response_item_matrix(frame)
    is_overall = (keys["question"].astype("str") == overall).to_numpy()
    if is_overall.any():
        # One overall rating per respondent: the first overall item if it rates several units.
        r, pairs = _correlations(values, values[:, np.flatnonzero(is_overall)[0]])
    else:
        r = np.full(values.shape[1], np.nan)
        pairs = np.zeros(values.shape[1], dtype="int64")
    keys["importance"], keys["pairs"] = r, pairs
    table = keys[~is_overall].sort_values(list(ITEM_KEYS)).reset_index(drop=True)
    table["quadrant"] = quadrants(table["importance"], table["rate"])
    return table


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


def _response_item_matrix(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Rating values as a response x item matrix (NaN = not answered), and per column the item
    keys (question, category, served_unit), n and satisfaction rate."""
    valid = rating_mask(frame)
    key, sizes = combined_key(frame, ITEM_KEYS)
    item, distinct = dense_codes(key, int(np.prod(sizes, dtype="int64")), valid)
    n_items = len(distinct)
    response, n_responses = response_codes(frame["response_id"].to_numpy())
    # Rows that do not count land in a last, discarded column; no two-million-row gathers.
    width = n_items + 1
    flat = np.full(n_responses * width, np.nan)
    flat[response * width + item] = np.where(valid, frame["value"].to_numpy(), np.nan)
    matrix = flat.reshape(n_responses, width)[:, :n_items]
    table = pd.DataFrame(
        {
            name: pd.Categorical.from_codes(code - 1, categories=frame[name].array.categories)
            for name, code in zip(ITEM_KEYS, split_key(distinct, sizes))
        }
    )
    # Satisfied = top two boxes of the item's own scale, as in analysis.metrics.
    scale_max = np.zeros(width, dtype="int64")
    scale_max[item] = frame["scale_max"].to_numpy()
    table["n"] = (~np.isnan(matrix)).sum(axis=0)
    satisfied = (np.nan_to_num(matrix) >= scale_max[:n_items] - 1).sum(axis=0)
    table["rate"] = ratio(satisfied, table["n"])
    return matrix, table


def _correlations(values: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of each column with ``target`` over the rows where both are present.

    Sums of whole-number ratings are exact in float64, so the n-scaled moments below are exact
    and a constant column gives a variance of exactly 0 (NaN r), never rounding noise.
    """
    both = ~np.isnan(values) & ~np.isnan(target)[:, None]
    x = np.where(both, values, 0.0)
    y = np.nan_to_num(target)
    weight = both.astype("float64")
    pairs = both.sum(axis=0)
    sx, sy = x.sum(axis=0), y @ weight
    sxx, syy, sxy = (x * x).sum(axis=0), (y * y) @ weight, y @ x
    covariance = pairs * sxy - sx * sy
    spread = (pairs * sxx - sx * sx) * (pairs * syy - sy * sy)
    r = np.full(len(pairs), np.nan)
    ok = (pairs >= MIN_PAIRS) & (spread > 0)
    r[ok] = covariance[ok] / np.sqrt(spread[ok])
    return np.clip(r, -1.0, 1.0), pairs
