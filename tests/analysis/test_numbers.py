"""Whole-number answers summarised: figures from k answers on, n alone below, nothing at all
for a question whose being asked repeats withheld answers."""

from __future__ import annotations

from analysis.numbers import number_item


def test_k_or_more_answers_give_every_figure():
    item = number_item("staff", [3, 9, 4, 120, 4], k=5)
    assert (item.n, item.median, item.mean, item.lowest, item.highest) == (5, 4.0, 28.0, 3, 120)
    assert not item.withheld


def test_fewer_than_k_answers_give_n_only():
    item = number_item("staff", [3, 9], k=5)
    assert (item.n, item.median, item.lowest) == (2, None, None)
    assert item.withheld


def test_no_answer_is_not_withheld_and_a_hidden_question_shows_not_even_n():
    assert not number_item("staff", [], k=5).withheld
    hidden = number_item("staff", [3, 9, 4, 120, 4], k=5, shown=False)
    assert hidden.n is None and hidden.median is None and hidden.withheld
