"""Whole-number answers (questions of type ``integer``) summarised: n, median, mean, lowest and
highest, as a Qualtrics or KoboToolbox user expects of a number question. Below ``k`` answers
only n is given (the figures would be those few respondents'); ``shown=False`` gives nothing at
all, not even n, for a question whose being asked repeats withheld answers."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class NumberItem:
    question: str
    # None when not even the count may be shown (asked only after withheld answers).
    n: int | None
    # None when withheld (n below the anonymity threshold) or unanswered.
    median: float | None = None
    mean: float | None = None
    lowest: int | None = None
    highest: int | None = None

    @property
    def withheld(self) -> bool:
        return self.n != 0 and self.median is None


def number_item(question: str, values: Sequence[int], k: int, shown: bool = True) -> NumberItem:
    """The summary of one question's whole-number answers, under the anonymity threshold k."""
    if not shown:
        return NumberItem(question, None)
    if not values or len(values) < k:
        return NumberItem(question, len(values))
    return NumberItem(
        question,
        len(values),
        median=float(statistics.median(values)),
        mean=statistics.fmean(values),
        lowest=min(values),
        highest=max(values),
    )
