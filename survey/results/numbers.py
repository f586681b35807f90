"""Whole-number questions (type ``integer``) of a round, loaded for ``analysis.numbers``: n,
median, mean, lowest and highest answer, as a Qualtrics or KoboToolbox user expects.

They are no ratings, so the satisfaction analysis (the answer frame) leaves them out; this is
their only table. An item answered by fewer respondents than the round's anonymity threshold
shows its n only, as a rating item is withheld by the same rule. An item asked only after
answers that are withheld (a condition on them) shows nothing, not even its n: who answered
it would repeat those answers (``RoundResults.conditional_withheld``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from analysis.numbers import NumberItem, number_item
from questionnaires import tabulated_as
from questionnaires.model import Questionnaire
from survey.extensions import db
from survey.models import Answer, Response, Round
from survey.questionnaire_store import to_model


def number_items(
    round_: Round, hidden: Iterable[str] = (), definition: Questionnaire | None = None
) -> list[NumberItem]:
    """One NumberItem per integer question of the round's version, in questionnaire order;
    those of ``hidden`` with nothing shown. ``definition`` is the version's (``to_model``),
    when the caller has it already."""
    hidden = set(hidden)
    numbered = tabulated_as("numbers")
    definition = definition or to_model(round_.version)
    codes = [q.code for q in definition.questions() if q.type in numbered]
    if not codes:
        return []
    rows = db.session.execute(
        select(Answer.question_code, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(
            Response.round_id == round_.id,
            Answer.question_code.in_(codes),
            Answer.value.is_not(None),
        )
    ).all()
    values: dict[str, list[int]] = {code: [] for code in codes}
    for code, value in rows:
        values[code].append(value)
    k = round_.anonymity_threshold
    return [number_item(code, values[code], k, shown=code not in hidden) for code in codes]
