"""The evidence of an action page: the item's answers in its round and the next one."""

from __future__ import annotations

from survey.corrective import evidence


def test_the_distribution_has_a_row_per_round_with_answers(action, next_round):
    later = next_round(9)
    found = evidence.gather(action)
    assert list(found.table["n"]) == [10, 10]
    assert list(found.labels.values()) == [action.round.name, later.name]
    assert found.verification.rate_after == 0.9


def test_before_the_next_round_only_the_source_round_is_drawn(action):
    found = evidence.gather(action)
    assert len(found.table) == 1 and found.verification.round is None
    assert evidence.chart_png(found, "en", "Answers").startswith(b"\x89PNG")
