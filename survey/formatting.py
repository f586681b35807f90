"""Plain values for people and for JSON: numbers without NaN, rates as percentages."""

from __future__ import annotations

import math


def plain_number(value: float | None) -> float | None:
    """A float, or None for a missing figure (None or NaN): JSON and the database have no NaN."""
    return None if value is None or math.isnan(value) else float(value)


def percent(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage with ``digits`` decimals (0.799 is 79.9%); "–" when missing."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def percent_as_set(value: float | None) -> str:
    """A threshold as it was set: 0.8 is 80%, 0.825 is 82.5%."""
    return "–" if value is None else f"{value * 100:g}%"
