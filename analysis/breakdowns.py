"""Breakdowns of the satisfaction metrics, with small-group suppression.

Anonymity rule (``analysis.disclosure``): a breakdown is computed from what the round may
publish: items with fewer distinct respondents than the round's anonymity threshold (default
5) are withheld from every table and total; a row that reports a respondent group (any
breakdown whose keys include ``group``) is *suppressed* when it has fewer respondents than the
threshold, when its group is too small in the round (or hidden with such a group as "other
groups"), or when showing it would let a reader work out a suppressed row by subtraction
(complementary suppression). A suppressed row's figures become NaN and its ``suppressed`` flag
True; its answers still count in the totals. With a threshold of 5, a row with 4 respondents
is suppressed and one with 5 may be shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, as_counts
from analysis.disclosure import ANONYMITY_THRESHOLD, Disclosure, disclose
from analysis.frames import SCALE_COLUMNS
from analysis.metrics import ITEM_KEYS, category_table, item_table, metric_table

# Columns that describe a row rather than report on its respondents.
NOT_FIGURES = SCALE_COLUMNS


def suppress(
    table: pd.DataFrame,
    counts: pd.Series | np.ndarray | str = "respondents",
    threshold: int = ANONYMITY_THRESHOLD,
    hidden: np.ndarray | None = None,
) -> pd.DataFrame:
    """Hide the rows with fewer than ``threshold`` respondents, or the rows ``hidden`` marks.

    ``counts`` gives the distinct respondents of each row (a column name, or values aligned
    with the rows). Hidden rows get NaN in every numeric column except the scale columns
    (``scale_min`` ...) and ``suppressed = True``; the others ``suppressed = False``.
    Returns a copy; the caller's totals are not changed (suppressed rows still count in them).
    """
    if hidden is None:
        values = table[counts] if isinstance(counts, str) else counts
        hidden = np.asarray(values, dtype="float64") < threshold
    # Column by column into one new frame: a copy plus setting each column costs more.
    data = {}
    for column in table.columns:
        series = table[column]
        if (
            column not in NOT_FIGURES and column != "suppressed"
            and pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        ):  # fmt: skip
            data[column] = np.where(hidden, np.nan, series.to_numpy(dtype="float64"))
        else:
            data[column] = series.copy()
    data["suppressed"] = hidden
    return pd.DataFrame(data, index=table.index)


def breakdown(
    data: pd.DataFrame | RatingCounts | Disclosure,
    by: Sequence[str],
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
) -> pd.DataFrame:
    """Metrics (see ``analysis.metrics``) per combination of ``by``, one of the published
    breakdowns (``analysis.disclosure.PUBLISHED``), under the anonymity rule of the module.

    ``data`` is an answer frame, its counts, or what the round may publish (a ``Disclosure``,
    whose threshold then applies). Every breakdown has a ``suppressed`` column.
    """
    published = data if isinstance(data, Disclosure) else disclose(
        as_counts(data), anonymity_threshold
    )  # fmt: skip
    table = metric_table(published.counts, tuple(by))
    return suppress(table, hidden=published.hidden(tuple(by)))


def by_category(data: pd.DataFrame | RatingCounts) -> pd.DataFrame:
    """One row per category (as ``analysis.metrics.category_table``), never suppressed."""
    table = category_table(data)
    table["suppressed"] = False
    return table


def by_question(data: pd.DataFrame | RatingCounts) -> pd.DataFrame:
    """One row per item (as ``analysis.metrics.item_table``), never suppressed."""
    table = item_table(data)
    table["suppressed"] = False
    return table


def by_served_unit(
    data: pd.DataFrame | RatingCounts | Disclosure, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per served unit (the office whose service was rated), from the published items
    only (every row then has at least ``anonymity_threshold`` respondents)."""
    return breakdown(data, ("served_unit",), anonymity_threshold)


def by_group(
    data: pd.DataFrame | RatingCounts | Disclosure, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per respondent group; groups below the anonymity threshold are suppressed."""
    return breakdown(data, ("group",), anonymity_threshold)


def by_group_category(
    data: pd.DataFrame | RatingCounts | Disclosure, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per (group, category); a cell below the anonymity threshold is suppressed."""
    return breakdown(data, ("group", "category"), anonymity_threshold)


def by_group_question(
    data: pd.DataFrame | RatingCounts | Disclosure, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per (group, item); a cell below the anonymity threshold is suppressed."""
    return breakdown(data, ("group", *ITEM_KEYS), anonymity_threshold)
