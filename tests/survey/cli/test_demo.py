"""The demo's simulated ratings: each item keeps its share of satisfied answers, and answers
follow the respondent's mood, so that items correlate with the overall item as real ones do."""

from __future__ import annotations

import random
from statistics import correlation

import pytest

from questionnaires import DEFINITIONS_DIR, QUESTION_TYPES, Choice, Label, Question, load
from survey.cli import demo

POINTS = [1, 2, 3, 4, 5]


def simulated(n: int, share: float, weight: float, seed: int = 7) -> tuple[list, list]:
    """n (item, overall) answer pairs of one simulated respondent each."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        mood = rng.gauss(0.0, 1.0)
        pairs.append(
            (
                demo._rated(POINTS, share, weight, mood, rng),
                demo._rated(POINTS, 0.87, demo.MOOD_WEIGHT_OVERALL, mood, rng),
            )
        )
    return [p[0] for p in pairs], [p[1] for p in pairs]


@pytest.mark.parametrize("share", [0.62, 0.85, 0.93])
def test_an_item_keeps_its_share_of_satisfied_answers_and_its_spread(share):
    item, _ = simulated(4000, share, 0.7)
    assert abs(sum(v >= 4 for v in item) / len(item) - share) < 0.025
    fives = sum(v == 5 for v in item) / len(item)
    ones = sum(v == 1 for v in item) / len(item)
    assert abs(fives - share * demo.SATISFIED_SPLIT[0]) < 0.025
    assert abs(ones - (1 - share) * demo.OTHER_SPLIT[2]) < 0.02
    assert set(item) == set(POINTS)


def test_items_follow_the_mood_more_as_their_weight_grows():
    weak = correlation(*simulated(3000, 0.8, 0.3))
    strong = correlation(*simulated(3000, 0.8, 0.8))
    unrelated = correlation(*simulated(3000, 0.8, 0.0))
    assert abs(unrelated) < 0.06
    assert 0.15 < weak < strong


def test_each_item_has_its_own_weight_within_the_range():
    questions = [q for q in demo_questions() if q.type == "rating"]
    weights = {q.code: demo._mood_weight(q) for q in questions}
    assert weights["overall"] == demo.MOOD_WEIGHT_OVERALL
    low, high = demo.MOOD_WEIGHT_RANGE
    others = [w for code, w in weights.items() if code != "overall"]
    assert all(low <= w <= high for w in others)
    assert len(set(others)) > len(others) // 2  # not one weight for all


def demo_questions():
    return load(DEFINITIONS_DIR / demo.QUESTIONNAIRE_FILE).questions()


def test_the_answers_of_one_response_share_its_mood():
    # Two ordinary items of the shipped questionnaire, over many simulated responses: each
    # response draws one mood for all its answers, so the items correlate.
    questionnaire = load(DEFINITIONS_DIR / demo.QUESTIONNAIRE_FILE)
    rng = random.Random(11)
    pairs = []
    for _ in range(1500):
        answers, _ = demo._simulated_answers(questionnaire, rng)
        if answers["doc_timeliness"] is not None and answers["city_order"] is not None:
            pairs.append((answers["doc_timeliness"], answers["city_order"]))
    assert correlation(*zip(*pairs)) > 0.1


@pytest.mark.parametrize("name", list(QUESTION_TYPES))
def test_the_demo_simulates_every_question_type_with_a_valid_answer(name):
    assert set(demo.SIMULATED) == set(QUESTION_TYPES)
    definition = load(DEFINITIONS_DIR / "office-services.yaml")
    asked = [q for q in definition.questions() if q.type == name] or [_stand_in(name)]
    rng = random.Random(7)
    for question in asked:
        for _ in range(20):
            value = demo.SIMULATED[name](question, rng, {}, 0.0)
            raw = list(value) if isinstance(value, tuple) else value
            raw = (
                None
                if raw is None
                else [str(v) for v in raw]
                if isinstance(raw, list)
                else str(raw)
            )
            assert QUESTION_TYPES[name].parse(question, raw) == value


def _stand_in(name: str) -> Question:
    qtype = QUESTION_TYPES[name]
    choices = (Choice("x", Label("甲", "X")), Choice("y", Label("乙", "Y")))
    return Question(
        code="q", type=name, text=Label("问", "Q"), scale=qtype.default_scale,
        choices=choices if qtype.has_choices else (),
    )  # fmt: skip


def test_a_low_ratings_comment_speaks_of_its_items_category():
    questionnaire = load(DEFINITIONS_DIR / "office-services.yaml")
    by_code = {q.code: q for q in questionnaire.questions()}
    rng, seen = random.Random(3), set()
    for _ in range(300):
        _answers, comments = demo._simulated_answers(questionnaire, rng, {"doc_timeliness": 0.3})
        for code, text in comments.items():
            category = by_code[code].category or ""
            assert text in demo.LOW_COMMENTS.get(category, demo.OTHER_LOW_COMMENTS), (code, text)
            seen.add(category)
    assert "services.documents" in seen and len(seen) > 3
