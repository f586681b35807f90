"""Change between rounds: rates before and after, the test of the change, and the correction
for testing many rows at once.

Rules (each row is an item by default, or whatever ``by`` names):

- *What is tested.* A row is tested only when it has answers in both rounds and at least
  ``anonymity_threshold`` respondents (default 5, the round's smallest reported group) in each:
  a row below that is not published on its own, so it gets no p-value and is never significant.
- *Which test.* The 2 x 2 table of the two rounds (satisfied, not satisfied) is tested with
  Fisher's exact test (two-sided, ``scipy.stats.fisher_exact``) when any of its expected
  counts is below 5 (``EXACT_BELOW``; expected count = row total x column total / all
  answers), else with the pooled two-proportion z-test:

      p = (x1 + x2) / (n1 + n2),  z = (x2/n2 - x1/n1) / sqrt(p (1 - p) (1/n1 + 1/n2)),
      two-sided p-value = erfc(|z| / sqrt 2).

  The ``test`` column says which ("z" or "fisher"); ``z`` is the z statistic of every tested
  row, whichever test gave its p-value. (Cochran's rule: the z-test's normal approximation is
  poor when an expected count is below 5; with 12 vs 12 answers, 11 -> 6 satisfied, the z-test
  gives p = 0.025 and Fisher's exact test p = 0.069.)
- *Many tests.* The p-values of one table (for ``trend_table``, of each pair of consecutive
  rounds) form one family, adjusted with the Benjamini-Hochberg procedure
  (``scipy.stats.false_discovery_control``): ``p_adjusted`` is each row's q-value, and a change
  is *significant* when p_adjusted < alpha (default 0.05), which keeps the expected share of
  false alarms among the significant changes at alpha or below.
- *Respondents, not answers.* A pooled row (a category, a group, the round: one respondent
  gives several of its ratings, and they go together) is tested at its effective sample size
  (``n_eff``, see ``analysis.clusters``): x = rate x n_eff satisfied of n_eff, both rounded to
  whole answers, as if its respondents had given one rating each. An item's n_eff is its n, so
  items are tested on their answers as they are.
- Rows missing from one round, with n = 0 in one, or below the anonymity threshold get NaN z,
  p_value and p_adjusted, no test, and are never significant. When both rounds are all
  satisfied (or all not), the rates are equal: p = 1.
- ``newcombe_intervals``: the 95% interval of a difference of two rates from both rates'
  Wilson intervals (Newcombe 1998, method 10), which the drop rule uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.breakdowns import ANONYMITY_THRESHOLD
from analysis.counts import RatingCounts, as_counts
from analysis.keys import key_tuples
from analysis.metrics import ITEM_KEYS, Z95, metric_table, wilson_intervals

ALPHA = 0.05
# Fisher's exact test when an expected count of the 2 x 2 table is below this (Cochran 1954).
EXACT_BELOW = 5
CHANGE_COLUMNS = ("n", "satisfied", "rate", "ci_low", "ci_high")


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of x2/n2 against x1/n1: (z, two-sided p-value).

    z > 0 means the second proportion is higher. (NaN, NaN) when n1 or n2 is 0.
    """
    z, p = two_proportion_z_tests(np.array([x1]), np.array([n1]), np.array([x2]), np.array([n2]))
    return float(z[0]), float(p[0])


def two_proportion_z_tests(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``two_proportion_z_test``; NaN inputs give NaN outputs."""
    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    z = np.full(x1.shape, np.nan)
    ok = (n1 > 0) & (n2 > 0)
    pooled = (x1[ok] + x2[ok]) / (n1[ok] + n2[ok])
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1[ok] + 1 / n2[ok]))
    difference = x2[ok] / n2[ok] - x1[ok] / n1[ok]
    z[ok] = np.where(se > 0, difference / np.where(se > 0, se, 1.0), 0.0)
    # math.erfc is exact enough into the far tail; a handful of rows makes the loop cheap.
    p = np.array([math.erfc(abs(v) / math.sqrt(2)) if v == v else math.nan for v in z])
    return z, p.reshape(z.shape)


def needs_exact_test(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """True where the 2 x 2 table (x1, n1 - x1; x2, n2 - x2) has an expected count below
    ``EXACT_BELOW``: the smallest expected count is min(n1, n2) x min(x1 + x2, rest) / total."""
    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    total = n1 + n2
    satisfied = x1 + x2
    smallest = np.minimum(n1, n2) * np.minimum(satisfied, total - satisfied)
    with np.errstate(invalid="ignore", divide="ignore"):
        return smallest / total < EXACT_BELOW


def fisher_exact_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test of x1/n1 against x2/n2."""
    # Imported here: scipy.stats is 45 MB of a process's memory (bench/export_bench.py), and
    # most processes never need an exact test (few rows have an expected count below 5).
    from scipy import stats

    table = [[int(x1), int(n1 - x1)], [int(x2), int(n2 - x2)]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def proportion_tests(
    x1: np.ndarray,
    n1: np.ndarray,
    x2: np.ndarray,
    n2: np.ndarray,
    tested: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The test of x2/n2 against x1/n1 for each row: (z, p-value, test).

    Fisher's exact test where ``needs_exact_test``, the pooled z-test elsewhere; ``test`` is
    "fisher", "z", or None where the row is not tested (n = 0 in a round, a NaN count, or
    ``tested`` False), whose z and p are NaN. ``z`` is the z statistic of every tested row.
    """
    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    ok = (n1 > 0) & (n2 > 0)
    if tested is not None:
        ok &= np.asarray(tested, dtype=bool)
    z, p = two_proportion_z_tests(x1, n1, x2, n2)
    z, p = np.where(ok, z, np.nan), np.where(ok, p, np.nan)
    exact = ok & needs_exact_test(x1, n1, x2, n2)
    cache: dict[tuple, float] = {}
    for i in np.flatnonzero(exact).tolist():
        key = (x1[i], n1[i], x2[i], n2[i])
        if key not in cache:
            cache[key] = fisher_exact_p(*key)
        p[i] = cache[key]
    test = np.where(exact, "fisher", "z").astype(object)
    test[~ok] = None
    return z, p, test


def adjust_bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of one family of tests; NaN (rows not
    tested) stay NaN and are not counted among the tests."""
    p = np.asarray(p_values, dtype="float64")
    q = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        q[tested] = _bh(p[tested])
    return q


def _bh(p: np.ndarray) -> np.ndarray:
    """``scipy.stats.false_discovery_control(p, method="bh")``, step for step (the same
    floating-point operations, so the same q-values), without importing scipy.stats for it."""
    m = p.size
    if m <= 1:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * (m / np.arange(1, m + 1, dtype=p.dtype))
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    q = np.empty_like(ranked)
    q[order] = ranked
    return np.clip(q, 0.0, 1.0)


def newcombe_intervals(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of x2/n2 - x1/n1 (Newcombe 1998, method 10: the hybrid score interval,
    from each rate's Wilson interval); NaN where n1 or n2 is 0."""
    x1, n1, x2, n2 = (np.asarray(a, dtype="float64") for a in (x1, n1, x2, n2))
    low1, high1 = wilson_intervals(x1, n1, z)
    low2, high2 = wilson_intervals(x2, n2, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    difference = p2 - p1
    low = difference - np.sqrt((p2 - low2) ** 2 + (high1 - p1) ** 2)
    high = difference + np.sqrt((high2 - p2) ** 2 + (p1 - low1) ** 2)
    return low, high


def compare_rounds(
    before: pd.DataFrame | RatingCounts,
    after: pd.DataFrame | RatingCounts,
    by: Sequence[str] = ITEM_KEYS,
    alpha: float = ALPHA,
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
) -> pd.DataFrame:
    """Per row of ``by``: the figures of both rounds, the difference and its test.

    Columns: the keys, n_before, satisfied_before, rate_before, ci_low_before, ci_high_before,
    the same ``_after``, difference (after - before), z, p_value, test ("z", "fisher" or
    missing when not tested), p_adjusted (Benjamini-Hochberg over the table's tests),
    significant (p_adjusted < alpha) and direction ("up", "down" or "same"; NaN when a round
    lacks the row). Rows are the union of both rounds' rows, in the order of the keys; a row
    with fewer than ``anonymity_threshold`` respondents in either round is not tested.
    """
    by = list(by)
    old = metric_table(as_counts(before), tuple(by))
    new = metric_table(as_counts(after), tuple(by))
    # An outer join on the unique keys, as dicts: pandas' merge costs milliseconds on these
    # few hundred rows. Keys are plain strings (rounds have their own categories), missing as
    # None, which match each other and sort last, as in merge.
    keys_old, keys_new = key_tuples(old, by), key_tuples(new, by)
    union = sorted(
        set(keys_old) | set(keys_new), key=lambda key: [(v is None, v or "") for v in key]
    )
    table: dict[str, object] = {
        name: pd.array([key[i] for key in union], dtype="str") for i, name in enumerate(by)
    }
    respondents, effective = [], []
    for part, keys, suffix in ((old, keys_old, "_before"), (new, keys_new, "_after")):
        position = dict(zip(keys, range(len(keys))))
        found = np.array([position.get(key, -1) for key in union], dtype=np.intp)
        for name in CHANGE_COLUMNS:
            values = np.append(part[name].to_numpy(dtype="float64"), np.nan).take(found)
            if name in ("n", "satisfied"):
                values = np.nan_to_num(values).astype("int64")
            table[f"{name}{suffix}"] = values
        respondents.append(np.append(part["respondents"].to_numpy(), 0).take(found))
        effective.append(effective_counts(part).take(found, axis=1))
    tested = (respondents[0] >= anonymity_threshold) & (respondents[1] >= anonymity_threshold)
    return _add_change(table, alpha, tested, effective)


def effective_counts(table: pd.DataFrame) -> np.ndarray:
    """2 x (rows + 1): each row's satisfied and answers at its effective sample size (rate x
    n_eff of n_eff, rounded; n and satisfied themselves where the table has no ``n_eff``), and
    a last column of zeros for rows missing from the table."""
    n = table["n"].to_numpy(dtype="float64")
    if "n_eff" in table:
        n = np.round(np.nan_to_num(table["n_eff"].to_numpy(dtype="float64")))
    satisfied = np.round(np.nan_to_num(table["rate"].to_numpy(dtype="float64")) * n)
    return np.column_stack([np.stack([satisfied, n]), np.zeros((2, 1))])


def _add_change(
    table: dict[str, object], alpha: float, tested: np.ndarray, effective: list[np.ndarray]
) -> pd.DataFrame:
    difference = table["rate_after"] - table["rate_before"]
    (x1, n1), (x2, n2) = effective
    z, p, test = proportion_tests(x1, n1, x2, n2, tested)
    table["difference"], table["z"], table["p_value"] = difference, z, p
    table["test"] = pd.array(test, dtype="str")
    table["p_adjusted"] = q = adjust_bh(p)
    table["significant"] = np.nan_to_num(q, nan=1.0) < alpha
    direction = np.select([difference > 0, difference < 0], ["up", "down"], default="same")
    table["direction"] = pd.array(
        np.where(np.isnan(difference), None, direction.astype(object)), dtype="str"
    )
    return pd.DataFrame(table)


def trend_table(
    frame: pd.DataFrame,
    order: Sequence[int],
    by: Sequence[str] = ("category",),
    alpha: float = ALPHA,
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
) -> pd.DataFrame:
    """Rates per round for each row of ``by``, rounds in the caller's ``order`` of round_ids.

    ``frame`` is an answer frame holding several rounds; rounds not in ``order`` are ignored.
    Columns: round_id, round_index (position in ``order``), the keys, n, satisfied, rate,
    ci_low, ci_high, then the change from the previous round in ``order`` where the row exists
    in both: difference, p_value, test, p_adjusted (Benjamini-Hochberg over the rows of the
    same pair of rounds) and significant (p_adjusted < alpha); rows with fewer than
    ``anonymity_threshold`` respondents in either round of a pair are not tested.
    """
    by = list(by)
    parts = []
    round_ids = frame["round_id"].to_numpy()
    for index, round_id in enumerate(order):
        table = metric_table(frame[round_ids == round_id], tuple(by))
        x_eff, n_eff = effective_counts(table)[:, :-1]
        table = table[[*by, *CHANGE_COLUMNS, "respondents"]].assign(x_eff=x_eff, n_eff=n_eff)
        table.insert(0, "round_index", index)
        table.insert(0, "round_id", round_id)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=["round_id", "round_index", *by, *CHANGE_COLUMNS])
    table = pd.concat([_plain_keys(p, by) for p in parts], ignore_index=True)
    return _add_previous_change(table, by, alpha, anonymity_threshold)


def _plain_keys(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    for key in by:
        table[key] = table[key].astype("str")
    return table


def _add_previous_change(
    table: pd.DataFrame, by: list[str], alpha: float, anonymity_threshold: int
) -> pd.DataFrame:
    previous = table.copy()
    previous["round_index"] += 1
    previous = previous[["round_index", *by, "x_eff", "n_eff", "rate", "respondents"]].rename(
        columns={"x_eff": "x0", "n_eff": "n0", "rate": "rate0", "respondents": "r0"}
    )
    table = table.merge(previous, on=["round_index", *by], how="left")
    table["difference"] = table["rate"] - table["rate0"]
    tested = (table["r0"].fillna(0).to_numpy() >= anonymity_threshold) & (
        table["respondents"].to_numpy() >= anonymity_threshold
    )
    _, p, test = proportion_tests(table["x0"], table["n0"], table["x_eff"], table["n_eff"], tested)
    table["p_value"] = p
    table["test"] = pd.array(test, dtype="str")
    q = np.full(len(table), np.nan)
    index = table["round_index"].to_numpy()
    for pair in np.unique(index):  # one family per pair of consecutive rounds
        q[index == pair] = adjust_bh(p[index == pair])
    table["p_adjusted"] = q
    table["significant"] = np.nan_to_num(q, nan=1.0) < alpha
    return table.drop(columns=["x0", "n0", "rate0", "r0", "respondents", "x_eff", "n_eff"])
