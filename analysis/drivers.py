"""Driver view: which items move overall satisfaction, against how well each item performs.

Rules:

- *Importance* of an item is the Pearson correlation between its rating and the overall
  satisfaction rating (question code ``overall`` by default), over the respondents
  (response_id) who answered both. Fewer than 3 such pairs, or no variation in either rating
  among them, gives NaN.
- *Performance* is the item's satisfaction rate (the share of satisfied ratings, see
  ``analysis.metrics``).
- Quadrants split both axes at the median over the candidate items: those with a correlation
  over at least 10 pairs (``MIN_PAIRS_PLACED``). An item exactly at a median counts as high:
    high importance, low performance  -> ``concentrate_here``
    high importance, high performance -> ``keep_up_the_good_work``
    low importance,  low performance  -> ``low_priority``
    low importance,  high performance -> ``possible_overkill``
  That is the item's ``point_quadrant``.
- *Bootstrap* (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993): the respondents
  are resampled with replacement ``RESAMPLES`` (1,000) times with a fixed seed, so the same
  answers always give the same figures. In each resample every item's correlation and rate
  are computed again, the medians over the candidate items too, and each item gets a quadrant.
  ``importance_low``/``importance_high`` are the 2.5% and 97.5% percentiles of its
  correlation (the 95% percentile interval); ``stability`` is the share of resamples in which
  the item falls in its ``point_quadrant``. Rounds of more than ``MAX_CLUSTERS`` respondents
  resample that many random groups of respondents instead (Wolter's random groups: each
  group's sums are sums of independent respondents, so resampling groups varies the totals as
  resampling respondents does), which keeps the cost fixed.
- An item is *placed* (``quadrant``) only where its quadrant is stable: the same quadrant in at
  least 80% of the resamples (``STABLE_SHARE``) and, for a high-importance quadrant, an
  importance interval above 0. The others get no quadrant and a ``reason``:
    ``no_correlation``  no correlation could be computed (no overall item, fewer than 3 pairs,
                        or no variation in the ratings);
    ``too_few_pairs``   fewer than 10 respondents rated it together with the overall item: a
                        correlation over so few could be anything from weak to strong; it does
                        not move the medians;
    ``may_not_matter``  its importance is above the median but its interval reaches 0: the
                        correlation may be none at all;
    ``unstable``        its quadrant changes in more than 20% of the resamples.
  A placed item's reason is NaN. So a correlation of 0.02 from 25 respondents is never
  labelled ``concentrate_here``.
- The overall item itself is not a driver and is left out of the table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.clusters import satisfied_codes
from analysis.counts import RatingCounts, as_counts
from analysis.keys import key_tuples
from analysis.metrics import ITEM_KEYS, ratio

OVERALL = "overall"
MIN_PAIRS = 3
MIN_PAIRS_PLACED = 10
WEAK_CORRELATION = 0.2
QUADRANTS = ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")
REASONS = ("no_correlation", "too_few_pairs", "may_not_matter", "unstable")
RESAMPLES = 1000
SEED = 20041
STABLE_SHARE = 0.8
MAX_CLUSTERS = 250


def driver_table(data: pd.DataFrame | RatingCounts, overall: str = OVERALL) -> pd.DataFrame:
    """One row per rating item other than ``overall``: importance against performance.

    ``data`` is an answer frame or its ``RatingCounts`` (pass the counts when the round's
    other tables use them too). Columns: question, category, served_unit, n (respondents who
    rated the item), rate (satisfaction rate, as in ``analysis.metrics``), importance (Pearson
    r with the overall item), importance_low, importance_high (its 95% bootstrap interval),
    pairs (respondents who answered both), point_quadrant (at the point estimates), stability
    (share of resamples in that quadrant), quadrant (placed: stable) and reason (why not
    placed; see the module rules). If the overall item was not asked, every importance is NaN.
    Vectorised over the counts' item x response matrix; a respondent rating an item twice
    counts once (the last answer).
    """
    counts = as_counts(data)
    # The items in the order of item_ratings' rows: an item's cells are consecutive (the group
    # is the last part of the cells' sort key), its first cell stands for it.
    rank, _ = counts.cell_groups(ITEM_KEYS)
    first = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]]) if len(rank) else rank
    keys = {key: counts.cells[key].array.take(first) for key in ITEM_KEYS}
    question = keys["question"]  # never missing (see analysis.frames)
    is_overall = np.asarray(question.categories == overall, dtype=bool).take(question.codes)
    sums = driver_sums(counts, overall)
    joint = sums.joint
    # Code c of item_ratings stands for the value points[0] + c - 1 (code 0: not rated).
    values = np.arange(len(counts.points) + 1, dtype="int64") + (counts.points[0] - 1)
    rated = joint.sum(axis=2)
    n = rated[:, 1:].sum(axis=1)
    # Satisfied = from the item's own satisfied_from up, as in analysis.metrics.
    top = satisfied_codes(counts.points, counts.item_satisfied_from)
    importance, pairs = _correlations(joint[:, 1:, 1:], values[1:])
    rate = ratio((rated * top).sum(axis=1), n)
    candidate = (pairs >= MIN_PAIRS_PLACED) & ~np.isnan(importance) & ~is_overall
    point = np.asarray(quadrants(pd.Series(np.where(candidate, importance, np.nan)),
                                 pd.Series(rate)), dtype=object)  # fmt: skip
    boot = _bootstrap(sums, values, top, candidate)
    low, high, stability = _intervals(boot, point, candidate)
    low[np.isnan(importance)], high[np.isnan(importance)] = np.nan, np.nan
    high_importance = np.isin(point, QUADRANTS[:2])
    reason = np.select(
        [np.isnan(importance), pairs < MIN_PAIRS_PLACED, high_importance & ~(low > 0),
         ~(stability >= STABLE_SHARE)],
        list(REASONS), default="",
    )  # fmt: skip
    # The rows in key order, missing keys last (the cells sort them first), overall left out.
    order = np.argsort(rank.take(first), kind="stable")
    kept = order[~is_overall.take(order)]
    table = {key: codes.take(kept) for key, codes in keys.items()}
    table["n"] = n.take(kept)
    table["rate"] = rate.take(kept)
    table["importance"], table["pairs"] = importance.take(kept), pairs.take(kept)
    table["importance_low"], table["importance_high"] = low.take(kept), high.take(kept)
    table["point_quadrant"] = pd.Categorical(point.take(kept), categories=QUADRANTS)
    table["stability"] = stability.take(kept)
    placed = reason.take(kept) == ""
    table["quadrant"] = pd.Categorical(
        np.where(placed, point.take(kept), None), categories=QUADRANTS
    )
    table["reason"] = pd.Categorical(np.where(placed, None, reason.take(kept)), categories=REASONS)
    return pd.DataFrame(table)


def all_weak(drivers: pd.DataFrame) -> bool:
    """Whether every candidate item's correlation with the overall item is weak (|r| < 0.2),
    so that the quadrants say little; candidates are the items with a correlation over enough
    pairs (``point_quadrant``), placed or not; a correlation over too few pairs says nothing."""
    column = "point_quadrant" if "point_quadrant" in drivers else "quadrant"
    importance = drivers["importance"].where(drivers[column].notna()).abs()
    return bool(importance.notna().any() and importance.max() < WEAK_CORRELATION)


def unplaced(drivers: pd.DataFrame) -> dict[str, int]:
    """How many items have a correlation but no quadrant, by reason (``REASONS`` but
    ``no_correlation``), leaving out the reasons no item has."""
    reasons = drivers["reason"][drivers["importance"].notna()].value_counts()
    return {reason: int(reasons[reason]) for reason in REASONS[1:] if reasons.get(reason, 0)}


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


def _bootstrap(
    driver_sums: DriverSums, values: np.ndarray, top: np.ndarray, candidate: np.ndarray
) -> dict[str, np.ndarray]:
    """Importance, rate and quadrant of every item in each of ``RESAMPLES`` resamples of the
    clusters (``DriverSums.clusters``; resamples x items)."""
    sums = driver_sums.resampled_sums(values, top)
    pairs, sx, sy, sxx, syy, sxy, rated, satisfied = np.moveaxis(sums, -1, 0)
    covariance = pairs * sxy - sx * sy
    spread = (pairs * sxx - sx * sx) * (pairs * syy - sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Integer sums (whole-number ratings times resample counts), exact in float64 here:
        # no variation gives a spread of exactly 0.
        ok = (pairs >= MIN_PAIRS) & (spread > 0)
        importance = np.clip(covariance / np.sqrt(np.where(ok, spread, 1.0)), -1.0, 1.0)
        importance[~ok] = np.nan
        rate = np.where(rated > 0, satisfied / np.maximum(rated, 1), np.nan)
    known = candidate[None, :] & ~np.isnan(importance) & ~np.isnan(rate)
    median_importance = nan_median_of_rows(np.where(known, importance, np.nan))
    median_rate = nan_median_of_rows(np.where(known, rate, np.nan))
    high_importance = importance >= median_importance[:, None]
    high_rate = rate >= median_rate[:, None]
    quadrant = np.select(
        [high_importance & ~high_rate, high_importance & high_rate, ~high_importance & ~high_rate],
        [0, 1, 2], default=3,
    )  # fmt: skip
    quadrant = np.where(known, quadrant, -1)
    return {"importance": importance, "quadrant": quadrant}


def _resample_sums(clusters: np.ndarray, values: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Per resample and item, the sums the bootstrap's figures need (resamples x items x 8):
    pairs, sum x, sum y, sum x^2, sum y^2, sum xy, rated, satisfied; from the joint counts of
    (item, target) codes per cluster (items x clusters x codes*codes) and each item's
    satisfied codes (``top``: items x codes). Only the clusters with a count are multiplied:
    a few responses' sums (``DriverSums.merge``) touch a few of them."""
    n_items, n_clusters, _ = clusters.shape
    n_codes = len(values)
    used = np.flatnonzero(clusters.any(axis=(0, 2)))
    weights = _resample_weights(n_clusters)
    if len(used) < n_clusters:
        clusters, weights = clusters[:, used], weights[:, used]
    x_value, y_value = np.meshgrid(values.astype("float64"), values, indexing="ij")
    both = np.zeros((n_codes, n_codes))
    both[1:, 1:] = 1
    per_code = np.stack([
        both, both * x_value, both * y_value, both * x_value**2, both * y_value**2,
        both * x_value * y_value, np.broadcast_to(np.arange(n_codes)[:, None] > 0, both.shape),
    ], axis=-1).reshape(n_codes * n_codes, 7)  # fmt: skip
    joints = clusters.astype("float64")
    # One matrix product for every item (many small ones stall on BLAS's threads).
    features = np.empty((len(used), n_items, 8))
    features[..., :7] = (
        (joints.reshape(-1, n_codes * n_codes) @ per_code)
        .reshape(n_items, len(used), 7)
        .transpose(1, 0, 2)
    )
    satisfied_code = np.repeat(top, n_codes, axis=1).astype("float64")  # item x (x, y) codes
    features[..., 7] = np.einsum("icj,ij->ci", joints, satisfied_code)
    # Whole numbers all along (counts, whole-number ratings, resample counts) and far below
    # 2**53: exact in float64, so that sums added up (``merge``) equal sums made at once.
    return (weights @ features.reshape(len(used), n_items * 8)).reshape(RESAMPLES, n_items, 8)


@dataclass(frozen=True)
class DriverSums:
    """What the driver table is computed from, additive over respondents: per item (rows of
    ``item_ratings``, keyed by ``items``), the joint counts of its codes with the overall
    item's (``joint``: items x codes x codes) and the same per cluster of respondents
    (``clusters``: items x clusters x codes*codes). ``hashed``: clusters are the
    ``MAX_CLUSTERS`` random groups given by each response id's hash (large rounds), so that
    the sums of two sets of responses add up to the sums of both (``merge``); otherwise each
    respondent is a cluster of their own."""

    items: list[tuple]
    target: tuple | None
    joint: np.ndarray
    clusters: np.ndarray
    hashed: bool
    # The bootstrap's sums (``_resample_sums``) by the codes' values and the items' satisfied
    # codes they were made for: kept, and carried over by ``merge`` with the other side's
    # added, so that the bootstrap after one new response does not multiply every cluster.
    resampled: dict = field(default_factory=dict, compare=False, repr=False)

    def resampled_sums(self, values: np.ndarray, top: np.ndarray) -> np.ndarray:
        """``_resample_sums`` of these sums (read-only: kept)."""
        top = np.asarray(top, dtype=bool)
        key = (tuple(values.tolist()), top.shape, top.tobytes())
        kept = self.resampled.get(key)
        if kept is None:
            kept = _resample_sums(self.clusters, values, top)
            kept.flags.writeable = False
            self.resampled[key] = kept
        return kept

    def merge(self, other: DriverSums, items: list[tuple]) -> DriverSums | None:
        """The sums of both sets of responses (disjoint) for the merged counts' ``items`` (in
        their order); None when they cannot be added: per-respondent clusters, another
        overall item, other codes."""
        # A side without the overall item paired every rating with "not rated" (code 0), as
        # the whole round's sums do for those responses.
        targets = {t for t in (self.target, other.target) if t is not None}
        if not (self.hashed and other.hashed) or len(targets) > 1:
            return None
        if self.joint.shape[1:] != other.joint.shape[1:]:
            return None
        at = {item: i for i, item in enumerate(items)}
        if any(item not in at for item in [*self.items, *other.items]):
            return None
        if self.items == items:  # the usual case: a copy of this side, the other's added
            joint = self.joint.astype("int64", copy=True)
            clusters = self.clusters.astype("int64", copy=True)
            parts: tuple[DriverSums, ...] = (other,)
        else:
            joint = np.zeros((len(items), *self.joint.shape[1:]), dtype="int64")
            clusters = np.zeros((len(items), *self.clusters.shape[1:]), dtype="int64")
            parts = (self, other)
        for part in parts:
            rows = [at[item] for item in part.items]
            joint[rows] += part.joint
            clusters[rows] += part.clusters
        merged = DriverSums(items, next(iter(targets), None), joint, clusters, True)
        if self.items == items:
            rows = [at[item] for item in other.items]
            for (values, shape, top), kept in self.resampled.items():
                satisfied = np.frombuffer(top, dtype=bool).reshape(shape)
                added = kept.copy()
                added[:, rows] += _resample_sums(
                    other.clusters, np.asarray(values, dtype="int64"), satisfied[rows]
                )
                added.flags.writeable = False
                merged.resampled[(values, shape, top)] = added
        return merged


def response_clusters(response_ids: np.ndarray) -> np.ndarray:
    """The random group (0..MAX_CLUSTERS-1) of each response, from a hash of its id: fixed
    for a response whatever else the round holds, so sums per group are additive."""
    mixed = np.asarray(response_ids, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(33)) % np.uint64(MAX_CLUSTERS)).astype(np.intp)


def driver_sums(
    counts: RatingCounts, overall: str = OVERALL, hashed: bool | None = None
) -> DriverSums:
    """The counts' ``DriverSums`` (kept on the counts). ``hashed`` forces the clusters' kind
    (None: hashed above ``MAX_CLUSTERS`` respondents with a rating)."""
    memo = ("drivers", overall)
    kept = counts._clusters.get(memo)
    if kept is not None and (hashed is None or kept.hashed == hashed):
        return kept
    rank, _ = counts.cell_groups(ITEM_KEYS)
    first = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]]) if len(rank) else rank
    items = key_tuples(counts.cells.iloc[first], ITEM_KEYS)
    is_overall = np.asarray([item[0] == overall for item in items], dtype=bool)
    ratings = counts.item_ratings
    n_codes = len(counts.points) + 1
    # One overall rating per respondent: the first overall item if it rates several units.
    # Without an overall item every target is 0 (not rated): no pairs, NaN importance.
    target = (
        ratings[np.flatnonzero(is_overall)[0]] if is_overall.any()
        else np.zeros(ratings.shape[1], dtype=ratings.dtype)
    )  # fmt: skip
    joint = _joint_counts(ratings, target, n_codes)
    active = np.flatnonzero(ratings.any(axis=0) | (target > 0))
    if hashed is None:
        hashed = len(active) > MAX_CLUSTERS and counts.response_ids is not None
    if hashed:
        cluster, n_clusters = response_clusters(counts.response_ids.take(active)), MAX_CLUSTERS
    else:
        cluster, n_clusters = np.arange(len(active)), len(active)
    y = target.take(active).astype(np.intp)
    base = cluster * (n_codes * n_codes) + y
    clusters = np.empty((len(ratings), n_clusters, n_codes * n_codes), dtype="int64")
    for item in range(len(ratings)):
        code = base + ratings[item].take(active).astype(np.intp) * n_codes
        counted = np.bincount(code, minlength=n_clusters * n_codes * n_codes)
        clusters[item] = counted.reshape(n_clusters, n_codes * n_codes)
    target_item = items[int(np.flatnonzero(is_overall)[0])] if is_overall.any() else None
    sums = DriverSums(items, target_item, joint.astype("int64"), clusters, hashed)
    counts._clusters[memo] = sums
    return sums


@functools.lru_cache(maxsize=8)
def _resample_weights(n_clusters: int) -> np.ndarray:
    """RESAMPLES x clusters: how often each cluster is drawn in each resample (with
    replacement, from the fixed seed): the same for every round of that many clusters, so it
    is drawn once per process (read-only)."""
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, max(n_clusters, 1), size=(RESAMPLES, n_clusters))
    offsets = (np.arange(RESAMPLES) * n_clusters)[:, None]
    weights = np.bincount((picks + offsets).ravel(), minlength=RESAMPLES * n_clusters)
    weights = weights.reshape(RESAMPLES, n_clusters).astype("float64")
    weights.flags.writeable = False
    return weights


def _intervals(
    boot: dict[str, np.ndarray], point: np.ndarray, candidate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each item's 95% percentile interval of importance and the share of resamples in its
    point quadrant (NaN for an item that is no candidate)."""
    importance = boot["importance"]
    n_items = importance.shape[1]
    low, high = np.full(n_items, np.nan), np.full(n_items, np.nan)
    computed = (~np.isnan(importance)).sum(axis=0) > 0
    if computed.any():
        low[computed], high[computed] = nan_percentiles_of_columns(
            importance[:, computed], (2.5, 97.5)
        )
    code = np.array([QUADRANTS.index(q) if q in QUADRANTS else -2 for q in point])
    stability = np.where(candidate, (boot["quadrant"] == code[None, :]).mean(axis=0), np.nan)
    return low, high, stability


# The bootstrap's medians and percentiles are taken over a thousand resamples of twenty items
# at each change of the round. ``np.nanmedian`` along an axis this short goes through masked
# arrays and ``np.nanpercentile`` through one call per column: 3 ms of a dashboard after one
# new response. Rows (columns) with the same number of NaNs are few, and numpy's own median
# (percentile) of their sorted known values is, by definition, what the NaN-skipping function
# returns: the same figures, bit for bit (tests/analysis/test_drivers.py).


def nan_median_of_rows(values: np.ndarray) -> np.ndarray:
    """``np.nanmedian(values, axis=1)`` (NaN for a row without a number, without a
    warning) for a 2-D array."""
    ordered = np.sort(values, axis=1)  # NaNs last
    known = values.shape[1] - np.isnan(values).sum(axis=1)
    medians = np.full(values.shape[0], np.nan)
    for width in np.unique(known):
        if width:
            rows = known == width
            medians[rows] = np.median(ordered[rows, :width], axis=1)
    return medians


def nan_percentiles_of_columns(values: np.ndarray, q: tuple[float, ...]) -> np.ndarray:
    """``np.nanpercentile(values, q, axis=0)`` (len(q) x columns) for a 2-D array whose
    columns each hold a number."""
    ordered = np.sort(values, axis=0)  # NaNs last
    known = values.shape[0] - np.isnan(values).sum(axis=0)
    result = np.full((len(q), values.shape[1]), np.nan)
    for height in np.unique(known):
        if height:
            columns = known == height
            result[:, columns] = np.percentile(ordered[:height, columns], q, axis=0)
    return result
