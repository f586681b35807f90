"""Was an action effective? Its item's rate in the source round against a later round,
counting only the answers given after the action was implemented (ISO 9001:2015 10.2.1 d:
the effectiveness of what was done, not of what was there before). The change is tested as
``analysis.trends`` tests one: Fisher's exact test where an expected count is below 5, else the
pooled z-test (one test: no correction); the proposal itself reads only the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select

import analysis
from analysis.metrics import below
from analysis.trends import proportion_tests
from survey.corrective.states import _
from survey.extensions import db
from survey.formatting import plain_number
from survey.models import (
    ActionEvent,
    CorrectiveAction,
    Response,
    Round,
)
from survey.results import answers_frame, round_results
from survey.rounds import in_order, thresholds_of


@dataclass(frozen=True)
class Verification:
    """Before (the source round) and after (a later round of the same questionnaire, only its
    answers submitted after ``since``) for the action's item, served unit and, where it fired
    for one, respondent group."""

    round: Round | None
    group: str | None
    n_before: int
    satisfied_before: int
    n_after: int
    satisfied_after: int
    threshold: float
    z: float | None
    p_value: float | None
    since: datetime | None = None
    # The test of p_value: "fisher" where an expected count is below 5, else "z" (see
    # analysis.trends); None without figures in both rounds.
    test: str | None = None

    @property
    def rate_before(self) -> float | None:
        return self.satisfied_before / self.n_before if self.n_before else None

    @property
    def rate_after(self) -> float | None:
        return self.satisfied_after / self.n_after if self.n_after else None

    @property
    def proposal(self) -> str:
        """``effective`` only when the later round's rate meets the threshold (exactly: 80.0%
        meets 80%); ``not_effective`` when it is below; ``no_data`` without answers."""
        if not self.n_after:
            return "no_data"
        met = not below([self.satisfied_after], [self.n_after], self.threshold)[0]
        return "effective" if met else "not_effective"


@dataclass(frozen=True)
class Candidate:
    """A later round the action could be verified against: how many of its responses came
    after the implementation, and why it cannot serve when it cannot (``reason``)."""

    round: Round
    responses_after: int
    reason: str | None

    @property
    def usable(self) -> bool:
        return self.reason is None


def implemented_at(action: CorrectiveAction) -> datetime | None:
    """When the action was last marked implemented: after "not effective" and a new fix, the
    new fix's time, so that only answers to the new fix count."""
    return db.session.scalar(
        select(ActionEvent.at)
        .where(
            ActionEvent.action_id == action.id,
            ActionEvent.kind == "transition",
            ActionEvent.to_status == "implemented",
        )
        .order_by(ActionEvent.at.desc(), ActionEvent.id.desc())
        .limit(1)
    )


def later_rounds(action: CorrectiveAction) -> list[Round]:
    """The rounds of the same questionnaire that ran after the action's source round."""
    order = in_order(action.round)
    ids = [r.id for r in order]
    if action.round_id not in ids:
        return []
    return order[ids.index(action.round_id) + 1 :]


def _responses_after(round_: Round, since: datetime) -> set[int]:
    return set(
        db.session.scalars(
            select(Response.id).where(Response.round_id == round_.id, Response.submitted_at > since)
        )
    )


def candidates(action: CorrectiveAction) -> list[Candidate]:
    """Every later round, each usable only once the action is implemented, the round is closed
    (an open round's figures still change, and a verdict on them could not be repeated) and it
    has answers to the item submitted after the implementation."""
    since = implemented_at(action)
    found = []
    for round_ in later_rounds(action):
        if since is None:
            found.append(Candidate(round_, 0, _("The action is not implemented yet.")))
            continue
        after = _after_frame(round_, since)
        answered = int(item_frame(after, action, None)["response_id"].nunique())
        k = round_.anonymity_threshold
        if not answered:
            reason = _("No answers to this item were submitted after the action was implemented.")
        elif answered < k or 0 < _answered_before(round_, action, answered) < k:
            # The figures after the fix are published with the verdict, and the round's
            # whole item on its results page: either alone, or the one minus the other, would
            # show the answers of fewer people than the anonymity threshold.
            reason = _(
                "Too few respondents answered this item before or after the action was "
                "implemented (fewer than %(k)s): their figures cannot be shown.",
                k=k,
            )
        elif round_.status != "closed":
            reason = _("The round is still open: it can serve once it is closed.")
        elif not round_.results_final:
            reason = _(
                "The round's figures are held: it was reopened and closed again with too few "
                "new responses to show them."
            )
        else:
            reason = None
        found.append(Candidate(round_, answered, reason))
    return found


def _answered_before(round_: Round, action: CorrectiveAction, answered_after: int) -> int:
    """Respondents of the action's item in ``round_`` who answered before the implementation."""
    return int(item_frame(answers_frame(round_), action, None)["response_id"].nunique()) - (
        answered_after
    )


def default_round(options: list[Candidate]) -> Round | None:
    """The earliest usable round, else the first later round (to show why it cannot serve)."""
    chosen = [c for c in options if c.usable] or options
    return chosen[0].round if chosen else None


def _after_frame(round_: Round, since: datetime) -> pd.DataFrame:
    frame = answers_frame(round_)
    if frame.empty:
        return frame
    return frame[frame["response_id"].isin(_responses_after(round_, since))]


def verify(
    action: CorrectiveAction,
    frames: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    round_: Round | None = None,
) -> Verification:
    """The action against ``round_`` (default: ``default_round``), counting only the answers
    submitted after the implementation; nothing counts before the action is implemented. The
    rate threshold is the source round's. A group-specific action is checked on that group when
    its answers after the implementation reach the later round's anonymity threshold, else on
    the whole item. ``frames``: the source round's answer frame and the later round's answers
    after the implementation, when the caller has them."""
    since = implemented_at(action)
    if round_ is None:
        round_ = default_round(candidates(action))
    if frames is None:
        frames = (
            answers_frame(action.round),
            _after_frame(round_, since) if round_ and since else analysis.empty_frame(),
        )
    before, after = frames
    group = action.group_code
    if group and round_ and not _group_verifiable(round_, after, action, group):
        group = None
    n0, x0 = _counts(before, action, group)
    n1, x1 = _counts(after, action, group)
    z, p, test = (None, None, None)
    if n0 and n1:
        (z,), (p,), (test,) = proportion_tests([x0], [n0], [x1], [n1])
    return Verification(
        round_,
        group,
        n0,
        x0,
        n1,
        x1,
        thresholds_of(action.round).rate,
        plain_number(z),
        plain_number(p),
        since,
        test,
    )


def after_frame(round_: Round | None, action: CorrectiveAction) -> pd.DataFrame:
    """The later round's answers that count for the action (see ``verify``)."""
    since = implemented_at(action)
    if round_ is None or since is None:
        return analysis.empty_frame()
    return _after_frame(round_, since)


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


def group_shown(round_: Round, action: CorrectiveAction, group: str) -> bool:
    """Whether the round's dashboard shows the group's cell of the action's item."""
    cells = round_results(round_).group_items
    match = (
        (cells["group"].astype("str") == group)
        & (cells["question"].astype("str") == action.question_code)
        & (
            cells["served_unit"].isna()
            if action.served_unit is None
            else cells["served_unit"].astype("str") == action.served_unit
        )
    )
    return bool(match.any()) and not bool(cells.loc[match, "suppressed"].any())


def _group_verifiable(
    round_: Round, after: pd.DataFrame, action: CorrectiveAction, group: str
) -> bool:
    """A group-specific action is checked on its group in ``round_`` only when the dashboard
    shows that group's cell and its answers after the fix, and those before it in the round,
    are none or at least the anonymity threshold of respondents: the verdict's figures minus
    the dashboard's cell would otherwise give the answers of fewer people."""
    k = round_.anonymity_threshold
    answered_after = _respondents(after, action, group)
    answered_before = _respondents(answers_frame(round_), action, group) - answered_after
    return (
        answered_after >= k
        and (answered_before == 0 or answered_before >= k)
        and group_shown(round_, action, group)
    )


def _respondents(frame: pd.DataFrame, action: CorrectiveAction, group: str) -> int:
    return int(item_frame(frame, action, group)["response_id"].nunique())
