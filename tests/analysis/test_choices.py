"""Choice questions' counts for the round as a whole, withheld below the anonymity threshold."""

from __future__ import annotations

import pandas as pd

import analysis


def _frame(rows):
    return analysis.answer_frame(
        [
            {"round_id": 1, "response_id": r, "group": g, "question": q, "type": t, "text": text}
            for r, g, q, t, text in rows
        ]
    )


def test_counts_respondents_and_several_choices_each():
    rows = [(r, "departments", "how", "choice", "phone" if r % 2 else "mail") for r in range(6)]
    rows += [(r, "departments", "which", "multi", "a,b") for r in range(5)]
    table = analysis.choice_table(_frame(rows), k=5)
    got = {(row.question, row.choice): (row.count, row.respondents) for row in table.itertuples()}
    assert got == {
        ("how", "mail"): (3, 6),
        ("how", "phone"): (3, 6),
        ("which", "a"): (5, 5),
        ("which", "b"): (5, 5),
    }
    assert not table["withheld"].any()


def test_a_question_of_fewer_respondents_than_the_threshold_is_withheld_without_counts():
    rows = [(r, "mayors", "topics", "multi", "budget") for r in range(3)]
    (row,) = analysis.choice_table(_frame(rows), k=5).itertuples()
    assert row.withheld and row.choice is None and row.count is None
    assert pd.isna(row.respondents)


def test_a_question_only_unnamed_groups_answered_is_withheld_whatever_its_size():
    rows = [(r, "cppcc", "how", "choice", "phone") for r in range(8)]
    assert analysis.choice_table(_frame(rows), k=5, unnamed_groups=["cppcc"])["withheld"].all()
    assert not analysis.choice_table(_frame(rows), k=5)["withheld"].any()


def test_no_choice_answers_give_an_empty_table():
    rows = [(1, "mayors", "c", "text", "hello")]
    assert analysis.choice_table(_frame(rows), k=5).empty


def test_new_responses_without_a_choice_answer_add_nothing_and_group_nothing(monkeypatch):
    from pandas.testing import assert_frame_equal

    from analysis import choices

    chose = [(r, "departments", "how", "choice", "phone" if r % 2 else "mail") for r in range(6)]
    wrote = [(7, "mayors", "note", "text", "thanks"), (8, "mayors", "how", "choice", None)]
    whole = choices.choice_tally(_frame(chose + wrote))
    base = choices.choice_tally(_frame(chose))
    grouped = []
    summed = choices._summed
    monkeypatch.setattr(choices, "_summed", lambda t: grouped.append(len(t)) or summed(t))
    added = choices.choice_tally(_frame(wrote))
    merged = choices.merge_choice_tallies(base, added)
    assert grouped == []  # neither the new responses' tally nor the merge grouped anything
    assert added.empty
    assert_frame_equal(merged, whole, check_exact=True)
    assert_frame_equal(choices.merge_choice_tallies(added, base), whole, check_exact=True)
    merged.loc[0, "n"] = 99  # the merge's result is the caller's own
    assert base.loc[0, "n"] != 99
