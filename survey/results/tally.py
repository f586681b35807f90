"""A round's answers reduced to what its results are computed from, grown by new responses.

A ``Tally`` holds, for the responses up to ``through_id``: the rating counts
(``analysis.RatingCounts``), the choice answers' tally, how many respondents answered each
question, and the facts of the responses (groups, sources, first and last). All of it is a sum
over responses, so when responses arrive ``grow`` reads only theirs (``answers_frame``'s
``after_id``: a range of the primary key) and adds them (``analysis.merging``); the results of
a round of a million responses after one new response cost the new response, not the million.

Responses are never edited or deleted, so a tally is only ever stale by the responses added
since. ``grow`` checks that it sees all of them: the round's count must be the tally's plus
the new ones. A response that committed late with a lower id than one already folded in (two
concurrent submissions on PostgreSQL) breaks that equation, and the caller counts everything
again (``full``): never a figure that misses an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select

import analysis
from analysis.choices import choice_tally, merge_choice_tallies
from analysis.merging import merge_counts
from survey.extensions import db
from survey.models import RespondentGroup, Response, Round
from survey.results.frames import answers_frame


@dataclass(frozen=True)
class Tally:
    round_id: int
    version_id: int
    through_id: int
    responses: int
    counts: analysis.RatingCounts
    choices: pd.DataFrame
    question_respondents: dict[str, int]
    group_sizes: dict[str, int]
    sources: dict[str, int]
    first_response: datetime | None
    last_response: datetime | None

    @property
    def facts(self) -> dict:
        return {
            "group_sizes": dict(self.group_sizes),
            "sources": dict(self.sources),
            "responses": self.responses,
            "first_response": self.first_response,
            "last_response": self.last_response,
        }


def full(round_: Round) -> Tally:
    """The tally of every response of the round."""
    return _of(round_, 0)


def grow(tally: Tally, round_: Round, version: tuple[int, int]) -> Tally | None:
    """``tally`` with the responses added since it was made, given the round's data version
    (count, highest id); None when it cannot be grown exactly (see the module docstring)."""
    if version == (tally.responses, tally.through_id):
        return tally
    new = _of(round_, tally.through_id)
    count = version[0]
    if new.through_id != version[1]:  # more arrived since the version was read
        count = _count_through(round_.id, new.through_id)
    if tally.responses + new.responses != count:
        return None
    counts = merge_counts(tally.counts, new.counts)
    if counts is None:
        return None
    questions = dict(tally.question_respondents)
    for question, n in new.question_respondents.items():
        questions[question] = questions.get(question, 0) + n
    return replace(
        tally,
        through_id=new.through_id,
        responses=count,
        counts=counts,
        choices=merge_choice_tallies(tally.choices, new.choices),
        question_respondents=questions,
        group_sizes=_added(tally.group_sizes, new.group_sizes),
        sources=_added(tally.sources, new.sources),
        first_response=_extreme(min, tally.first_response, new.first_response),
        last_response=_extreme(max, tally.last_response, new.last_response),
    )


def _count_through(round_id: int, through_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count()).where(Response.round_id == round_id, Response.id <= through_id)
        )
        or 0
    )


def _of(round_: Round, after_id: int) -> Tally:
    # The facts first: their highest id bounds the answers read, so that both describe the
    # same responses even where each statement sees what committed before it (PostgreSQL).
    facts = _response_facts(round_.id, after_id)
    frame = answers_frame(round_, after_id, facts["through_id"])
    respondents = (
        frame.groupby("question", observed=True)["response_id"].nunique() if len(frame) else {}
    )
    return Tally(
        round_id=round_.id,
        version_id=round_.version_id,
        through_id=facts.pop("through_id"),
        counts=analysis.rating_counts(frame),
        choices=choice_tally(frame),
        question_respondents={str(q): int(n) for q, n in dict(respondents).items()},
        **facts,
    )


def _response_facts(round_id: int, after_id: int) -> dict:
    """Responses per group and source, the first and last submission and the highest id of
    the responses above ``after_id``: two queries, the second bounded by the first's id."""
    where = (Response.round_id == round_id, Response.id > after_id)
    # The highest id first, then everything up to it: one snapshot's worth of responses.
    through = db.session.scalar(select(func.max(Response.id)).where(*where)) or after_id
    rows = db.session.execute(
        select(
            RespondentGroup.code,
            Response.source,
            func.count(Response.id),
            func.min(Response.submitted_at),
            func.max(Response.submitted_at),
        )
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .where(*where, Response.id <= through)
        .group_by(RespondentGroup.code, Response.source)
    ).all()
    groups: dict[str, int] = {}
    sources: dict[str, int] = {}
    for group, source, n, _, _ in rows:
        groups[group] = groups.get(group, 0) + int(n)
        sources[source] = sources.get(source, 0) + int(n)
    return {
        "group_sizes": groups,
        "sources": sources,
        "responses": sum(sources.values()),
        "first_response": min((row[3] for row in rows), default=None),
        "last_response": max((row[4] for row in rows), default=None),
        "through_id": int(through),
    }


def _added(first: dict[str, int], second: dict[str, int]) -> dict[str, int]:
    summed = dict(first)
    for key, n in second.items():
        summed[key] = summed.get(key, 0) + n
    return summed


def _extreme(pick, first, second):
    present = [value for value in (first, second) if value is not None]
    return pick(present) if present else None
