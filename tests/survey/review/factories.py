"""Fixtures for the results tests: a round with known answers from two groups (the mayors only
four, below the anonymity threshold of 5), an empty round, a weighted round and a previous
round. Test modules import the ones they use."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from survey import responses
from survey.models import Round, utcnow
from survey.results import clear_cache
from tests.survey.review.data import fill

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_results_cache():
    """Each test starts without cached results: databases of different tests reuse round ids."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def answer(make_invitation):
    """answer(round_, group, answers, comments=None, source="web") stores one response."""

    def add(
        round_: Round, group: str, answers: dict, comments: dict | None = None, source: str = "web"
    ):
        invitation = make_invitation(group=group, round_=round_)
        return responses.submit(
            invitation, answers, comments or {}, f"t-{next(_keys)}", utcnow(), source=source
        )

    return add


@pytest.fixture
def known_round(make_round, answer) -> Round:
    return fill(make_round(), answer)


@pytest.fixture
def empty_round(make_round) -> Round:
    return make_round(name="2005 spring")


@pytest.fixture
def weighted_round(make_round, answer) -> Round:
    return fill(make_round(weights={"departments": 0.5, "mayors": 0.5}), answer)


@pytest.fixture
def two_rounds(make_round, answer) -> tuple[Round, Round]:
    """A previous round (all satisfied on doc_timeliness) and the known round after it."""
    before = make_round(name="2003 autumn", created_at=utcnow() - timedelta(days=365))
    for _ in range(6):
        answer(before, "departments", {"doc_timeliness": 5, "overall": 5, "mtg_minutes": 4})
    return before, fill(make_round(), answer)
