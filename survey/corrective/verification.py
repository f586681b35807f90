"""Was an action effective? Its item's rate in the source round against a later round."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import analysis
from analysis.metrics import below
from survey.formatting import plain_number
from survey.models import (
    CorrectiveAction,
    Round,
)
from survey.results import answers_frame
from survey.rounds import next_round, thresholds_of


@dataclass(frozen=True)
class Verification:
    """Before (the source round) and after (the next round of the same questionnaire) for the
    action's item, served unit and, where it fired for one, respondent group."""

    round: Round | None
    group: str | None
    n_before: int
    satisfied_before: int
    n_after: int
    satisfied_after: int
    threshold: float
    z: float | None
    p_value: float | None

    @property
    def rate_before(self) -> float | None:
        return self.satisfied_before / self.n_before if self.n_before else None

    @property
    def rate_after(self) -> float | None:
        return self.satisfied_after / self.n_after if self.n_after else None

    @property
    def proposal(self) -> str:
        """``effective`` only when the next round's rate meets the threshold (exactly: 80.0%
        meets 80%); ``not_effective`` when it is below; ``no_data`` without answers."""
        if not self.n_after:
            return "no_data"
        met = not below([self.satisfied_after], [self.n_after], self.threshold)[0]
        return "effective" if met else "not_effective"


def verify(
    action: CorrectiveAction, frames: tuple[pd.DataFrame, pd.DataFrame] | None = None
) -> Verification:
    """The rate threshold is the source round's. A group-specific action is checked on that
    group when it reaches the next round's anonymity threshold, else on the whole item.
    ``frames``: the answer frames of the source and the next round, when the caller has them."""
    after_round = next_round(action.round)
    if frames is None:
        frames = (
            answers_frame(action.round),
            answers_frame(after_round) if after_round else analysis.empty_frame(),
        )
    before, after = frames
    group = action.group_code
    if (
        group
        and after_round
        and _respondents(after, action, group) < (after_round.anonymity_threshold)
    ):
        group = None
    n0, x0 = _counts(before, action, group)
    n1, x1 = _counts(after, action, group)
    z, p = analysis.two_proportion_z_test(x0, n0, x1, n1) if n0 and n1 else (None, None)
    return Verification(
        after_round,
        group,
        n0,
        x0,
        n1,
        x1,
        thresholds_of(action.round).rate,
        plain_number(z),
        plain_number(p),
    )


def item_frame(frame: pd.DataFrame, action: CorrectiveAction, group: str | None) -> pd.DataFrame:
    """The rows of the action's item (question and served unit), and group if given."""
    mask = frame["question"].astype("str") == action.question_code
    served = frame["served_unit"]
    mask &= (
        served.isna()
        if action.served_unit is None
        else (served.astype("str") == action.served_unit)
    )
    if group:
        mask &= frame["group"].astype("str") == group
    return frame[mask]


def _counts(frame: pd.DataFrame, action: CorrectiveAction, group: str | None) -> tuple[int, int]:
    items = analysis.item_table(item_frame(frame, action, group))
    if items.empty:
        return 0, 0
    return int(items["n"].sum()), int(items["satisfied"].sum())


def _respondents(frame: pd.DataFrame, action: CorrectiveAction, group: str) -> int:
    return int(item_frame(frame, action, group)["response_id"].nunique())
