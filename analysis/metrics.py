"""Satisfaction metrics: satisfaction rate with its Wilson interval, mean, distribution.

Rules used everywhere in ``analysis``:

- Only ``type == "rating"`` answers with a value count; ``n`` is the number of answered ratings
  (NaN values, i.e. unanswered items, are excluded from n).
- *Satisfied*: the top two points of the item's scale, whatever their values (4 or 5 on the
  default 1..5 scale, 7 or 9 on a scale of 1, 3, 5, 7, 9, 9 or 10 on 0..10), the top one on a
  scale of 3 points or fewer, or the top points the scale declares (``satisfied:`` in the
  questionnaire): value >= the answer frame's ``satisfied_from``. The satisfaction rate is
  satisfied / n; with n = 0 it is NaN.
- *Dissatisfied*: the bottom two points likewise (1 or 2 of 5; the bottom one on 3 points or
  fewer, or as declared): value <= ``dissatisfied_to``; the share is dissatisfied / n.
- The 95% interval of a rate is the Wilson score interval with z = 1.959963984540054, at the
  row's effective n: ``n_eff`` = n for an item (one rating per respondent), and for a pooled
  row (the round, a category, a group: several ratings per respondent) n / ``deff``, the design
  effect of respondents as clusters, never more than the row's respondents (see
  ``analysis.clusters``). ``n`` stays the number of answered ratings, ``respondents`` the
  distinct respondents who rated in the row.
- The mean is the plain mean of the values; ``sd`` the sample standard deviation (n - 1 in the
  denominator, NaN for n < 2). Means of rows mixing scales are not rescaled.
- Comparisons with a threshold are exact: ``below(satisfied, n, 0.8)`` compares
  satisfied * 5 < 4 * n in integers, so 800 of 1000 (or 4 of 5) is *not* below 80%.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from analysis.clusters import design_effects
from analysis.counts import RatingCounts, aggregate_columns, as_counts
from analysis.frames import SCALE_COLUMNS

Z95 = 1.959963984540054
ITEM_KEYS = ("question", "category", "served_unit")
METRIC_COLUMNS = (
    "n", "respondents", "satisfied", "rate", "ci_low", "ci_high", "deff", "n_eff",
    "mean", "sd", "dissatisfied", "dissatisfied_share",
)  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """Headline figures of one round (all answered ratings of all items and groups).

    ``n`` counts answered ratings, ``rating_respondents`` the respondents who gave them; the
    interval is the Wilson interval at ``n_eff`` (n / ``deff``, at most the respondents: see
    ``analysis.clusters``)."""

    respondents: int
    rating_respondents: int
    answers: int
    items: int
    n: int
    satisfied: int
    rate: float
    ci_low: float
    ci_high: float
    deff: float
    n_eff: float
    mean: float
    dissatisfied_share: float


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for successes / n: (NaN, NaN) when n = 0.

    low, high = (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), with p = successes / n;
    0 successes give exactly 0 as the low end and n successes exactly 1 as the high end.
    """
    low, high = wilson_intervals(np.array([successes]), np.array([n]), z)
    return float(low[0]), float(high[0])


def wilson_intervals(
    successes: np.ndarray | pd.Series, n: np.ndarray | pd.Series, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``wilson_interval``; ``successes`` may be fractional (weighted estimates)."""
    s = np.asarray(successes, dtype="float64")
    n = np.asarray(n, dtype="float64")
    low = np.full(s.shape, np.nan)
    high = np.full(s.shape, np.nan)
    ok = n > 0
    s_ok, n_ok = s[ok], n[ok]
    p = s_ok / n_ok
    z2 = z * z
    denominator = 1 + z2 / n_ok
    centre = (p + z2 / (2 * n_ok)) / denominator
    half = z * np.sqrt(np.clip(p * (1 - p), 0, None) / n_ok + z2 / (4 * n_ok * n_ok)) / denominator
    # Clip float noise so that 0 of n starts at exactly 0 and n of n ends at exactly 1.
    low[ok] = np.where(s_ok <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high[ok] = np.where(s_ok >= n_ok, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def ratio(numerator: np.ndarray | pd.Series, denominator: np.ndarray | pd.Series) -> np.ndarray:
    """numerator / denominator as floats, NaN where the denominator is 0 (no warning)."""
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def exact_fraction(threshold: float) -> Fraction:
    """The threshold as the fraction a person typed (0.8 -> 4/5, 3.5 -> 7/2)."""
    return Fraction(threshold).limit_denominator(1_000_000)


def below(
    numerator: np.ndarray | pd.Series, denominator: np.ndarray | pd.Series, threshold: float
) -> np.ndarray:
    """numerator / denominator < threshold, decided in integers; False where denominator = 0.

    The numerator is a count of satisfied answers (for a rate) or a sum of whole-number values
    (for a mean), so ``num * q < p * den`` with threshold = p / q is exact: 799/1000 is below
    0.8, 800/1000 and 4/5 are not.
    """
    frac = exact_fraction(threshold)
    num = np.asarray(numerator, dtype="int64")
    den = np.asarray(denominator, dtype="int64")
    return (den > 0) & (num * frac.denominator < frac.numerator * den)


def with_metrics(data: dict[str, object]) -> dict[str, object]:
    """``data`` (columns n, satisfied, dissatisfied, total, total_sq as arrays) with rate,
    Wilson interval over n (answers taken as independent: see ``with_clustered_interval``),
    mean, sd and dissatisfied share added."""
    n = np.asarray(data["n"])
    satisfied = np.asarray(data["satisfied"])
    total = np.asarray(data["total"])
    data["rate"] = ratio(satisfied, n)
    data["ci_low"], data["ci_high"] = wilson_intervals(satisfied, n)
    data["mean"] = ratio(total, n)
    data["sd"] = _sample_sd(total, np.asarray(data["total_sq"]), n)
    data["dissatisfied_share"] = ratio(data["dissatisfied"], n)
    return data


def with_clustered_interval(
    counts: RatingCounts, by: tuple[str, ...], data: dict[str, object]
) -> dict[str, object]:
    """``data`` (``with_metrics`` of ``aggregate_columns(counts, by)``) with ``deff`` and
    ``n_eff`` added and the interval taken at n_eff: respondents as clusters (see
    ``analysis.clusters``); an item's row keeps its plain Wilson interval."""
    deff, n_eff = design_effects(counts, by, data["n"], data["rate"], data["respondents"])
    data["deff"], data["n_eff"] = deff, n_eff
    pooled = np.asarray(data["n"]) != n_eff
    if pooled.any():
        low, high = wilson_intervals(np.asarray(data["rate"]) * n_eff, n_eff)
        data["ci_low"] = np.where(pooled, low, data["ci_low"])
        data["ci_high"] = np.where(pooled, high, data["ci_high"])
    return data


def _sample_sd(total: np.ndarray, total_sq: np.ndarray, n: np.ndarray) -> np.ndarray:
    sd = np.full(n.shape, np.nan)
    ok = n > 1
    # Integer sums keep this exact before the division; clip guards against -0.0 noise.
    variance = (total_sq[ok] - total[ok] ** 2 / n[ok]) / (n[ok] - 1)
    sd[ok] = np.sqrt(np.clip(variance, 0, None))
    return sd


def metrics_of(counts: RatingCounts, by: tuple[str, ...]) -> pd.DataFrame:
    """``aggregate(counts, by)`` with its metrics (``with_metrics``), computed once per ``by``
    and kept on the counts
    (a copy is handed out): a round's tables ask for the item and category metrics many times."""
    return _metrics_frame(counts, by).copy()


def _metrics_frame(counts: RatingCounts, by: tuple[str, ...]) -> pd.DataFrame:
    """The kept frame of ``metrics_of`` itself: callers select from it, never change it."""
    if by not in counts._metrics:
        data = with_metrics(aggregate_columns(counts, by))
        counts._metrics[by] = pd.DataFrame(with_clustered_interval(counts, by, data))
    return counts._metrics[by]


def metric_table(data: pd.DataFrame | RatingCounts, by: tuple[str, ...]) -> pd.DataFrame:
    """Aggregate the answered ratings by ``by`` and add the metrics (see module docstring).

    Columns: the ``by`` keys, the scale columns (``scale_min``, ``scale_max``,
    ``satisfied_from``, ``dissatisfied_to``, see ``aggregate``), the ``METRIC_COLUMNS`` and one
    ``count_<v>`` column per scale point of the round (0 for points outside a row's scale).
    ``respondents`` counts distinct responses with at least one answered rating in the row.
    """
    counts = as_counts(data)
    columns = [*by, *SCALE_COLUMNS, *METRIC_COLUMNS, *counts.count_columns]
    # A copy: pandas' copy on write guards the columns, not a categorical's array written to.
    return _metrics_frame(counts, tuple(by))[columns].copy()


def item_table(data: pd.DataFrame | RatingCounts) -> pd.DataFrame:
    """One row per item: a question, or question x served unit when one question rates several.

    Columns: question, category, served_unit, scale_min, scale_max, satisfied_from,
    dissatisfied_to, n (answered ratings), respondents, satisfied, rate (satisfied / n),
    ci_low, ci_high (95% Wilson), mean, sd, dissatisfied, dissatisfied_share
    (dissatisfied / n) and count_<v> per whole number from the round's lowest to highest point,
    every point present even when 0. All respondent groups count, however small: small groups
    are only hidden when reported on their own (see ``analysis.breakdowns``). An empty round
    gives an empty table.
    """
    return metric_table(data, ITEM_KEYS)


def category_table(data: pd.DataFrame | RatingCounts) -> pd.DataFrame:
    """One row per category: all answered ratings of the category's items pooled.

    The rate is satisfied answers / answered ratings of all its items (so an item with more
    answers weighs more); ``n`` counts those answers, ``respondents`` the respondents who gave
    them. One respondent rates several items of a category, so the interval is the Wilson
    interval at the effective n (``n_eff`` = n / ``deff``, at most the respondents; see
    ``analysis.clusters``), not over the answers. ``items`` counts the category's items.
    Answers without a category form their own row (category NaN).
    """
    counts = as_counts(data)
    table = metric_table(counts, ("category",))
    # The category's row of each cell, and its distinct items (the rows follow group_ids).
    row, _ = counts.cell_groups(("category",))
    item, items = counts.cell_groups(ITEM_KEYS)
    distinct = np.unique(row * max(len(items), 1) + item)
    counted = np.bincount(distinct // max(len(items), 1), minlength=len(table))
    table.insert(1, "items", counted.astype("int64"))
    return table


def summary(data: pd.DataFrame | RatingCounts) -> Summary:
    """The whole round: all answered ratings pooled (rate, Wilson interval at the effective n,
    design effect, mean, shares; see ``Summary``).

    ``respondents`` counts every distinct response_id in the frame; ``rating_respondents`` those
    with at least one answered rating; ``items`` the items with at least one answered rating.
    An empty round gives zeros and NaN figures.
    """
    counts = as_counts(data)
    # The one row's columns, without making a frame of them.
    data = with_clustered_interval(counts, (), with_metrics(aggregate_columns(counts, ())))
    row = {name: values[0] for name, values in data.items()}
    return Summary(
        respondents=counts.respondents,
        rating_respondents=counts.rating_respondents,
        answers=counts.answers,
        items=len(counts.cell_groups(ITEM_KEYS)[1]),
        n=int(row["n"]),
        satisfied=int(row["satisfied"]),
        rate=float(row["rate"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        deff=float(row["deff"]),
        n_eff=float(row["n_eff"]),
        mean=float(row["mean"]),
        dissatisfied_share=float(row["dissatisfied_share"]),
    )


def distribution(
    data: pd.DataFrame | RatingCounts, by: tuple[str, ...] = ITEM_KEYS
) -> pd.DataFrame:
    """Long table of counts and shares per scale point: one row per (``by`` row, point).

    Every point of the row's own scale is present, with count 0 when nobody chose it; share is
    count / n (NaN when n = 0, which cannot happen for a row that exists).
    """
    table = metric_table(data, by)
    long = table.melt(
        id_vars=[*by, "scale_min", "scale_max", "n"],
        value_vars=[c for c in table.columns if c.startswith("count_")],
        var_name="value",
        value_name="count",
    )
    long["value"] = long["value"].str.removeprefix("count_").astype("int64")
    inside = (long["value"] >= long["scale_min"]) & (long["value"] <= long["scale_max"])
    long = long[inside].copy()
    long["share"] = ratio(long["count"], long["n"])
    long = long.sort_values([*by, "value"], kind="stable").reset_index(drop=True)
    return long[[*by, "value", "count", "share"]]
