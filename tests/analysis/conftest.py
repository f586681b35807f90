"""Small answer-frame builders for the analysis tests (no app, no database)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import pytest

from analysis import answer_frame

Answers = list[dict]


def _answers(
    values: Sequence[float | None],
    question: str = "q1",
    *,
    group: str = "departments",
    served_unit: str | None = "documents",
    category: str | None = "services.documents",
    start: int = 1,
    round_id: int = 1,
    comments: Sequence[str | None] | str | None = None,
    **extra: object,
) -> Answers:
    """One rating answer per value, from respondents start, start + 1, ... (None = unanswered).

    ``comments`` is one comment per value, or one text given with every value <= 2.
    """
    rows = []
    for i, value in enumerate(values):
        if isinstance(comments, str):
            comment = comments if value is not None and value <= 2 else None
        else:
            comment = comments[i] if comments else None
        rows.append({
            "round_id": round_id, "response_id": start + i, "group": group,
            "served_unit": served_unit, "category": category, "question": question,
            "type": "rating", "value": value, "comment": comment, **extra,
        })  # fmt: skip
    return rows


@pytest.fixture
def answers() -> Callable[..., Answers]:
    """answers([5, 4, None], "q1", group="mayors", start=100) -> answer records."""
    return _answers


@pytest.fixture
def frame_of() -> Callable[..., pd.DataFrame]:
    """frame_of(records, more_records, ...) -> the normalised answer frame."""

    def build(*parts: Answers) -> pd.DataFrame:
        return answer_frame([row for part in parts for row in part])

    return build


@pytest.fixture
def counted(answers, frame_of) -> Callable[..., pd.DataFrame]:
    """counted(satisfied, n, ...) -> a frame of one item with that many 5s among n 2s and 5s."""

    def build(satisfied: int, n: int, question: str = "q1", **kwargs: object) -> pd.DataFrame:
        return frame_of(answers([5] * satisfied + [2] * (n - satisfied), question, **kwargs))

    return build
