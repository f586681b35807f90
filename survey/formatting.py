"""Plain values for people and for JSON: numbers without NaN, tables as rows of plain values,
rates as percentages."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from flask_babel import gettext


def plain_number(value: float | None) -> float | None:
    """A float, or None for a missing figure (None or NaN): JSON and the database have no NaN."""
    return None if value is None or math.isnan(value) else float(value)


def records(table: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """A summary table's rows as plain dicts for templates and JSON: NaN becomes None, numpy
    numbers Python numbers, categoricals their code strings."""
    if columns is not None:
        table = table[list(columns)]
    names = list(table.columns)
    if not names:
        return [{} for _ in range(len(table))]
    # A column at a time (``tolist`` gives Python values, as ``to_dict`` does): a dashboard
    # turns a dozen tables into rows per view, and ``to_dict`` builds each row through pandas.
    values = [[plain_value(v) for v in table.iloc[:, i].tolist()] for i in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def plain_value(value: Any) -> Any:
    """None for a missing value (None, pd.NA, NaN); numpy scalars as Python numbers."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def percent(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage with ``digits`` decimals (0.799 is 79.9%); "–" when missing."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def percent_as_set(value: float | None) -> str:
    """A threshold as it was set: 0.8 is 80%, 0.825 is 82.5%."""
    return "–" if value is None else f"{value * 100:g}%"


def point_list(values: Iterable[int]) -> str:
    """Scale points as people say them, in the page's language: "4 or 5", "7", "1, 2 or 3"."""
    texts = [str(v) for v in values]
    if len(texts) < 2:
        return "".join(texts)
    return gettext("%(points)s or %(last)s", points=", ".join(texts[:-1]), last=texts[-1])
