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
for everyone until it closes. Reopening a closed round seals it again; what the second close
adds to the first is then visible by difference, which the README names as a known limit.
"""

from __future__ import annotations

from typing import Any

from survey.models import Round
from survey.permissions import may_take_identified_answers


def sealed(round_: Round, user: Any) -> bool:
    """Whether `round_`'s figures (tables, charts, comments, downloads, API answers) are kept
    from `user` for now: the round is open, and it is anonymous or `user` may not take its
    identified answers."""
    if round_.status != "open":
        return False
    return round_.anonymous or not may_take_identified_answers(user)
