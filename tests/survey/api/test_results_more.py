"""The results API's choice questions, drivers and comments, under the review pages' anonymity
rules: three mayors' offices (fewer than the threshold of 5) are never told apart, not by one
answer and not by subtracting one answer from another."""

from __future__ import annotations

import pytest

from survey.extensions import db
from survey.results import round_results
from tests.survey.api.conftest import CHOICE_AUDIENCE, MAYOR_SECRET, bearer


@pytest.fixture
def read(client, make_user, make_token):
    secret = make_token(make_user("quality_lead"))

    def get(path: str) -> dict:
        response = client.get(path, headers=bearer(secret))
        assert response.status_code == 200, response.text
        return response.json

    return get


def test_choice_questions_are_counted_for_the_round_as_a_whole(read, choice_round):
    body = read(f"/api/v1/rounds/{choice_round.id}/results?lang=en")
    channel = next(q for q in body["choice_questions"] if q["question"] == "contact_channel")
    respondents = sum(CHOICE_AUDIENCE.values())
    assert (channel["respondents"], channel["withheld"], channel["type"]) == (
        respondents,
        False,
        "choice",
    )
    counts = {c["choice"]: c["count"] for c in channel["choices"]}
    # 12 departments' and congress offices' answers turn through three channels; the mayors
    # pick "in person": inside the total, never as a group of their own.
    assert counts == {"phone": 4, "documents": 4, "network": 4, "in_person": 3, "other": 0}
    assert channel["choices"][0]["label"] == "Telephone"
    assert channel["choices"][0]["share"] == pytest.approx(4 / respondents)
    assert all(set(c) == {"choice", "label", "count", "share"} for c in channel["choices"])


def test_a_choice_question_only_the_mayors_answered_is_withheld(read, choice_round):
    body = read(f"/api/v1/rounds/{choice_round.id}/results")
    topics = next(q for q in body["choice_questions"] if q["question"] == "mayor_topics")
    assert topics == {**topics, "withheld": True, "respondents": None, "choices": []}


def test_drivers_come_with_their_importance_and_are_hidden_below_the_threshold(read, known_round):
    body = read(f"/api/v1/rounds/{known_round.id}/results?lang=en")
    drivers = {d["question"]: d for d in body["drivers"]}
    expected = round_results(known_round).drivers
    assert set(drivers) == set(expected["question"].astype(str))
    for row in expected.itertuples():
        api = drivers[str(row.question)]
        assert api["pairs"] == row.pairs and api["question_label"]
        if row.pairs < known_round.anonymity_threshold:
            assert api["importance"] is None and api["quadrant"] is None


def test_comments_follow_the_review_pages_rules(read, choice_round):
    base = f"/api/v1/rounds/{choice_round.id}/comments?lang=en"
    everything = read(base)
    results = read(f"/api/v1/rounds/{choice_round.id}/results")
    hidden = set(results["other_groups"])
    # The mayors are hidden, and with them the smallest other group: never one group alone.
    assert "mayors" in hidden and len(hidden) >= 2
    mayors = [c for c in everything["comments"] if c["text"] == MAYOR_SECRET]
    assert len(mayors) == 3
    assert {(c["group"], c["group_label"]) for c in mayors} == {(None, "other groups")}
    assert not any(c["group"] in hidden for c in everything["comments"])
    # Filtering on a hidden group gives nothing; the named groups' comments and the total
    # leave the hidden groups together, at least the threshold of respondents.
    by_group = {g: read(f"{base}&group={g}")["total"] for g in CHOICE_AUDIENCE}
    assert all(by_group[g] == 0 for g in hidden)
    rest = everything["total"] - sum(by_group[g] for g in CHOICE_AUDIENCE if g not in hidden)
    pooled = sum(CHOICE_AUDIENCE[g] for g in hidden)
    assert rest > 0 and pooled >= choice_round.anonymity_threshold


def test_nothing_in_the_api_isolates_the_three_mayors(read, choice_round):
    """Every figure of the mayors is inside a total with other groups: no group row, no
    group filter, no choice count by group, nothing by difference of two answers."""
    rid = choice_round.id
    body = read(f"/api/v1/rounds/{rid}/results?lang=en")
    mayors = next(g for g in body["groups"] if g["group"] == "mayors")
    assert mayors["suppressed"] and mayors["n"] is None and mayors["rate"] is None
    assert all(
        r["rate"] is None for r in body["group_categories"] if r["group"] in body["other_groups"]
    )
    # The shown groups' respondents, subtracted from the round's, leave the hidden groups
    # together (mayors and at least one more), never the mayors alone.
    shown = sum(g["respondents"] or 0 for g in body["groups"] if not g["suppressed"])
    assert body["summary"]["respondents"] - shown >= choice_round.anonymity_threshold
    assert not any("group" in c for q in body["choice_questions"] for c in q["choices"])
    mayor_comments = read(f"/api/v1/rounds/{rid}/comments?group=mayors&lang=en")
    assert mayor_comments["total"] == 0
    for rating in (1, 4, 5):
        filtered = read(f"/api/v1/rounds/{rid}/comments?group=mayors&rating={rating}")
        assert filtered["total"] == 0


def test_the_comments_are_paged(read, choice_round, monkeypatch):
    from survey.api import rounds

    monkeypatch.setattr(rounds, "COMMENTS_PER_PAGE", 5)
    first = read(f"/api/v1/rounds/{choice_round.id}/comments")
    second = read(f"/api/v1/rounds/{choice_round.id}/comments?page=2")
    assert first["per_page"] == 5 and first["pages"] == -(-first["total"] // 5)
    assert {c["text"] for c in first["comments"]}.isdisjoint(
        {c["text"] for c in second["comments"]} - {MAYOR_SECRET}
    )
    db.session.rollback()
