"""The comments of a round: follow-up comments and free-text answers, as a select."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.orm import contains_eager

from questionnaires import tabulated_as
from survey.models import (
    Answer,
    Question,
    RespondentGroup,
    Response,
    Round,
)
from survey.results.secret_order import keyed_order


def comments_query(
    round_: Round,
    question: str | None = None,
    group: str | None = None,
    rating: int | None = None,
    hidden_groups: Iterable[str] = (),
    withheld_questions: Iterable[str] = (),
    hidden_cells: Iterable[tuple[str | None, str]] = (),
    unlisted_questions: Iterable[str] = (),
) -> Select:
    """The round's follow-up comments and free-text answers as a select of Answer rows (each
    with its response and respondent group loaded), by question, to page through.

    Filters: question code, respondent group code, rating value. What the round may not
    publish (``analysis.disclosure``) stays out: a group in ``hidden_groups`` selects nothing
    when filtered on by itself, nor does a group's hidden cell of a question (``hidden_cells``:
    (group, question)); their answers still appear in the unfiltered list, where the page
    names no group ("other groups"). The rated comments of ``withheld_questions`` (items with
    too few respondents to publish) are left out altogether: a rating is a figure. Nothing at
    all of ``unlisted_questions`` is listed: questions asked only after answers that are
    withheld, whose every text would say how its writer answered those.
    """
    query = (
        select(Answer)
        .join(Answer.response)
        .join(Response.group)
        .options(contains_eager(Answer.response).contains_eager(Response.group))
        .where(
            Response.round_id == round_.id,
            or_(
                Answer.comment.is_not(None),
                Answer.question_id.in_(_text_questions(round_.version_id)),
            ),
        )
        # By question, and within a question in an order unrelated to who answered: listed
        # response by response, an "other groups" comment would stand beside the same
        # person's comment on another question that names their group; and in the order
        # answers came, each would stand where its writer's invitation turned "submitted".
        # The order is keyed by the app's secret (``secret_order``): a fixed formula could be
        # undone by anyone who has read this code.
        .order_by(
            Answer.question_code,
            keyed_order(Answer.id, "comment-order", round_.id),
            Answer.id,
        )
    )
    unlisted = list(unlisted_questions)
    if unlisted:
        query = query.where(Answer.question_code.not_in(unlisted))
    withheld = list(withheld_questions)
    if withheld:
        query = query.where(
            not_(and_(Answer.value.is_not(None), Answer.question_code.in_(withheld)))
        )
    if question:
        query = query.where(Answer.question_code == question)
    if group:
        query = query.where(
            RespondentGroup.code == group, RespondentGroup.code.not_in(list(hidden_groups))
        )
        hidden_questions = [q for g, q in hidden_cells if g == group]
        if hidden_questions:
            query = query.where(
                not_(and_(Answer.value.is_not(None), Answer.question_code.in_(hidden_questions)))
            )
    if rating is not None:
        query = query.where(Answer.value == rating)
    return query


def _text_questions(version_id: int) -> Select:
    return select(Question.id).where(
        Question.version_id == version_id, Question.type.in_(tabulated_as("comments"))
    )
