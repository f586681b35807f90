"""Change between rounds: rates before and after, and the two-proportion z-test of the change.

Rule: for each row (an item by default) present in either round, difference = rate_after -
rate_before, and the change is tested with the pooled two-proportion z-test:

    p = (x1 + x2) / (n1 + n2),  z = (x2/n2 - x1/n1) / sqrt(p (1 - p) (1/n1 + 1/n2)),
    two-sided p-value = erfc(|z| / sqrt 2).

The change is *significant* when p-value < alpha (default 0.05). Rows missing from one round,
or with n = 0 in one, get NaN z and p-value and are never significant. When both rounds are
all satisfied (or all not), the pooled variance is 0 and the rates are equal: z = 0, p = 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, as_counts
from analysis.keys import key_tuples
from analysis.metrics import ITEM_KEYS, metric_table

ALPHA = 0.05
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


def compare_rounds(
    before: pd.DataFrame | RatingCounts,
    after: pd.DataFrame | RatingCounts,
    by: Sequence[str] = ITEM_KEYS,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """Per row of ``by``: the figures of both rounds, the difference and its z-test.

    Columns: the keys, n_before, satisfied_before, rate_before, ci_low_before, ci_high_before,
    the same ``_after``, difference (after - before), z, p_value, significant (p < alpha) and
    direction ("up", "down" or "same"; NaN when a round lacks the row). Rows are the union of
    both rounds' rows, in the order of the keys.
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
    for part, keys, suffix in ((old, keys_old, "_before"), (new, keys_new, "_after")):
        position = dict(zip(keys, range(len(keys))))
        found = np.array([position.get(key, -1) for key in union], dtype=np.intp)
        for name in CHANGE_COLUMNS:
            values = np.append(part[name].to_numpy(dtype="float64"), np.nan).take(found)
            if name in ("n", "satisfied"):
                values = np.nan_to_num(values).astype("int64")
            table[f"{name}{suffix}"] = values
    return _add_change(table, alpha)


def _add_change(table: dict[str, object], alpha: float) -> pd.DataFrame:
    difference = table["rate_after"] - table["rate_before"]
    z, p = two_proportion_z_tests(
        table["satisfied_before"], table["n_before"], table["satisfied_after"], table["n_after"]
    )
    table["difference"], table["z"], table["p_value"] = difference, z, p
    table["significant"] = np.nan_to_num(p, nan=1.0) < alpha
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
) -> pd.DataFrame:
    """Rates per round for each row of ``by``, rounds in the caller's ``order`` of round_ids.

    ``frame`` is an answer frame holding several rounds; rounds not in ``order`` are ignored.
    Columns: round_id, round_index (position in ``order``), the keys, n, satisfied, rate,
    ci_low, ci_high, then the change from the previous round in ``order`` where the row exists
    in both: difference, p_value, significant (two-proportion z-test, p < alpha).
    """
    by = list(by)
    parts = []
    round_ids = frame["round_id"].to_numpy()
    for index, round_id in enumerate(order):
        table = metric_table(frame[round_ids == round_id], tuple(by))[[*by, *CHANGE_COLUMNS]]
        table.insert(0, "round_index", index)
        table.insert(0, "round_id", round_id)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=["round_id", "round_index", *by, *CHANGE_COLUMNS])
    table = pd.concat([_plain_keys(p, by) for p in parts], ignore_index=True)
    return _add_previous_change(table, by, alpha)


def _plain_keys(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    for key in by:
        table[key] = table[key].astype("str")
    return table


def _add_previous_change(table: pd.DataFrame, by: list[str], alpha: float) -> pd.DataFrame:
    previous = table.copy()
    previous["round_index"] += 1
    previous = previous[["round_index", *by, "satisfied", "n", "rate"]].rename(
        columns={"satisfied": "x0", "n": "n0", "rate": "rate0"}
    )
    table = table.merge(previous, on=["round_index", *by], how="left")
    table["difference"] = table["rate"] - table["rate0"]
    _, p = two_proportion_z_tests(table["x0"], table["n0"], table["satisfied"], table["n"])
    table["p_value"] = p
    table["significant"] = np.nan_to_num(p, nan=1.0) < alpha
    return table.drop(columns=["x0", "n0", "rate0"])
