"""Breakdowns of the satisfaction metrics, with small-group suppression.

Anonymity rule: a row that reports a respondent group on its own (any breakdown whose keys
include ``group``) is *suppressed* when fewer distinct respondents (response_id) than the round's
anonymity threshold (default 5) answered a rating in that row: its figures become NaN and its
``suppressed`` flag True. Counting respondents per row, not per group in the whole round, also
hides a large group's cell that only a few of its members answered. Suppressed answers still
count in every total: item, category and served-unit tables and the round summary. With a
threshold of 5, a row with 4 respondents is suppressed and one with 5 is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts
from analysis.frames import SCALE_COLUMNS
from analysis.metrics import ITEM_KEYS, category_table, item_table, metric_table

ANONYMITY_THRESHOLD = 5
RESPONDENT_KEYS = ("group",)
# Columns that describe a row rather than report on its respondents.
NOT_FIGURES = SCALE_COLUMNS


def suppress(
    table: pd.DataFrame,
    counts: pd.Series | np.ndarray | str = "respondents",
    threshold: int = ANONYMITY_THRESHOLD,
) -> pd.DataFrame:
    """Hide the rows with fewer than ``threshold`` respondents.

    ``counts`` gives the distinct respondents of each row (a column name, or values aligned
    with the rows). Rows with counts < threshold get NaN in every numeric column except
    the scale columns (``scale_min`` ...) and ``suppressed = True``; the others
    ``suppressed = False``.
    Returns a copy; the caller's totals are not changed (suppressed rows still count in them).
    """
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
    data: pd.DataFrame | RatingCounts,
    by: Sequence[str],
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
) -> pd.DataFrame:
    """Metrics (see ``analysis.metrics``) per combination of ``by``, a subset of question,
    category, served_unit and group.

    When ``by`` includes ``group`` the anonymity rule applies (rows with fewer respondents than
    ``anonymity_threshold`` are suppressed); every breakdown has a ``suppressed`` column.
    """
    table = metric_table(data, tuple(by))
    if any(key in RESPONDENT_KEYS for key in by):
        return suppress(table, "respondents", anonymity_threshold)
    table["suppressed"] = False
    return table


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


def by_served_unit(data: pd.DataFrame | RatingCounts) -> pd.DataFrame:
    """One row per served unit (the office whose service was rated), never suppressed."""
    return breakdown(data, ("served_unit",))


def by_group(
    data: pd.DataFrame | RatingCounts, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per respondent group; groups below the anonymity threshold are suppressed."""
    return breakdown(data, ("group",), anonymity_threshold)


def by_group_category(
    data: pd.DataFrame | RatingCounts, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per (group, category); a cell below the anonymity threshold is suppressed."""
    return breakdown(data, ("group", "category"), anonymity_threshold)


def by_group_question(
    data: pd.DataFrame | RatingCounts, anonymity_threshold: int = ANONYMITY_THRESHOLD
) -> pd.DataFrame:
    """One row per (group, item); a cell below the anonymity threshold is suppressed."""
    return breakdown(data, ("group", *ITEM_KEYS), anonymity_threshold)
