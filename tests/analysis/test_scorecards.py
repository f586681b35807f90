import pytest

from analysis import empty_frame, scorecard, scorecard_table, scorecards


@pytest.fixture
def frame(answers, frame_of):
    return frame_of(
        answers([5] + [1] * 9, "doc_timeliness"),  # 1 of 10: whole interval below 0.80
        answers([5] * 7 + [1] * 3, "doc_accuracy"),  # 7 of 10: interval reaches 0.80
        answers(
            [5, 5, 5, 5, 1], "mtg_notice", served_unit="meetings", category="services.meetings"
        ),  # 4 of 5: exactly 0.80  # fmt: skip
    )


def test_scorecard_shows_only_its_own_units_items(frame):
    card = scorecard(frame, "documents")
    assert sorted(card["question"]) == ["doc_accuracy", "doc_timeliness"]
    assert set(card["served_unit"]) == {"documents"}


def test_status_is_judged_against_the_threshold(frame):
    status = scorecard_table(frame).set_index("question")["status"].to_dict()
    assert status == {
        "doc_timeliness": "below", "doc_accuracy": "possibly_below", "mtg_notice": "meets",
    }  # fmt: skip


def test_gap_is_rate_minus_threshold(frame):
    card = scorecard(frame, "meetings", threshold=0.9)
    assert card.iloc[0]["gap"] == pytest.approx(-0.1)
    assert card.iloc[0]["status"] == "possibly_below"


def test_category_level_pools_the_units_items(frame):
    row = scorecard(frame, "documents", level="category").iloc[0]
    assert (row["n"], row["satisfied"]) == (20, 8)


def test_scorecards_are_keyed_by_served_unit(frame):
    cards = scorecards(frame)
    assert sorted(cards) == ["documents", "meetings"]
    assert len(cards["meetings"]) == 1


def test_unknown_level_is_rejected(frame):
    with pytest.raises(ValueError, match="level"):
        scorecard_table(frame, level="office")


def test_a_round_without_responses_gives_empty_scorecards():
    assert scorecard_table(empty_frame()).empty
    assert scorecards(empty_frame()) == {}
