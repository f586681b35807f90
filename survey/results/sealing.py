"""An open round's figures are sealed: only its response rate shows until it closes.

Why: figures that follow every response can be subtracted. Two views of a dashboard taken
before and after one response differ by exactly that response, and the response rate by
group says whose it was, so one mayor's ratings could be read off the tables of "seven
mayors" that the anonymity threshold hides. Stepping the figures by k responses does not help
(a visible group's own row gives its share of the step, and the last step of the round is
whatever is left). Figures of a closed round no longer move, and the threshold then protects
them as it was meant to.

Who still sees an open round's figures: a reader who may already read each response of it,
that is, a named round's readers with the permission to take identified answers
(``survey.permissions.may_take_identified_answers``). An anonymous round's figures are sealed
for everyone until it closes. Reopening a closed round seals it again, and a later close
unseals it only if every group got none or at least the anonymity threshold of new responses
(``survey.rounds.release``): otherwise the round's figures are *held*, sealed as an open
round's, since the difference between the two closes would show the few new answers.
"""

from __future__ import annotations

from typing import Any

from survey.models import Round
from survey.permissions import may_take_identified_answers


def sealed(round_: Round, user: Any) -> bool:
    """Whether `round_`'s figures (tables, charts, comments, downloads, API answers) are kept
    from `user` for now: the round is anonymous or `user` may not take its identified
    answers, and the round is open, or closed with its figures held after a reopening."""
    if round_.status == "draft" or round_.results_final:
        return False
    return round_.anonymous or not may_take_identified_answers(user)
