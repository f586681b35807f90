"""Small answer-frame builders for the analysis tests (no app, no database)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
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


# Scales as a questionnaire may declare them: (points, satisfied, dissatisfied). The frame gets
# each scale's lowest satisfied and highest dissatisfied value, as the app's frame does.
SCALES = {
    "three_points": ((1, 2, 3), {3}, {1}),
    "odd_values": ((1, 3, 5, 7, 9), {7, 9}, {1, 3}),
    "zero_to_ten": (tuple(range(11)), {9, 10}, {0, 1}),
    "top_box_declared": ((1, 2, 3, 4, 5), {5}, {1, 2}),
    "two_points": ((0, 1), {1}, {0}),
}


def _scale_round(name: str, *, mixed: bool = False, seed: int = 7) -> pd.DataFrame:
    """A generated round whose rating items (q1, q2 in one category, q3 in another, and the
    overall item) use the scale ``SCALES[name]``; ``mixed`` adds an item on the default 1..5
    scale, so the round has two scales. About one answer in eight is left unanswered, and
    respondents of two groups answer."""
    points, satisfied, dissatisfied = SCALES[name]
    rng = np.random.default_rng(seed)
    items = [("q1", "c.one"), ("q2", "c.one"), ("q3", "c.two"), ("overall", "overall")]
    rows = []
    for response in range(1, 61):
        mood = rng.integers(len(points))  # the items correlate with the overall one
        group = "a" if response % 3 else "b"
        for question, category in items:
            spot = int(np.clip(mood + rng.integers(-1, 2), 0, len(points) - 1))
            value = None if rng.random() < 0.125 else points[spot]
            rows.append({
                "round_id": 1, "response_id": response, "group": group, "question": question,
                "category": category, "served_unit": "documents", "type": "rating",
                "value": value, "scale_min": min(points), "scale_max": max(points),
                "satisfied_from": min(satisfied), "dissatisfied_to": max(dissatisfied),
                "comment": "why" if value is not None and value in dissatisfied else None,
            })  # fmt: skip
        if mixed:
            rows.append({
                "round_id": 1, "response_id": response, "group": group, "question": "q5",
                "category": "c.two", "served_unit": "documents", "type": "rating",
                "value": int(rng.integers(1, 6)),
            })  # fmt: skip
    return answer_frame(rows)


@pytest.fixture
def scale_round() -> Callable[..., pd.DataFrame]:
    """scale_round("odd_values", mixed=True) -> a generated round on that scale (``SCALES``)."""
    return _scale_round


def satisfied_sets(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Per answered rating of ``frame`` (a ``scale_round``): is it satisfied, dissatisfied, by
    the scale's declared sets (q5: 4 or 5, 1 or 2 of 1..5)?"""
    _, satisfied, dissatisfied = SCALES[name]
    rated = frame[frame["value"].notna()].astype({"question": str, "category": str})
    on_scale = rated["question"] != "q5"
    value = rated["value"]
    rated["is_satisfied"] = np.where(on_scale, value.isin(satisfied), value >= 4)
    rated["is_dissatisfied"] = np.where(on_scale, value.isin(dissatisfied), value <= 2)
    return rated
