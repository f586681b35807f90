"""The rules every edit follows: a draft only, loadable as a definition file would be, and
errors that name the key."""

from __future__ import annotations

from dataclasses import replace

import pytest

from questionnaires import model as qm
from survey import editing
from survey.models import (
    utcnow,
)
from survey.questionnaire_store import to_model
from tests.survey.editing.drafts import codes, question


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        ({"code": "q_two"}, "code", "duplicate question code 'q_two'"),
        ({"code": "Bad code"}, "code", "is not a valid code"),
        ({"category": "Services"}, "category", "must be dotted lower-case"),
        ({"text": qm.Label("", "")}, "text", "is empty"),
        ({"type": "choice", "scale": None}, "choices", "a choice question needs choices"),
        (
            {"type": "text", "scale": None, "follow_up": qm.Label("为什么", "Why")},
            "follow_up",
            "follow_up is only for rating questions",
        ),
        ({"type": "nps"}, "scale", "a nps question takes no scale"),
        ({"served_unit": "secretariat"}, "served_unit", "is not declared"),
    ],
)
def test_an_edit_is_refused_by_the_loaders_rule_on_its_key(draft, change, key, reason):
    row = question(draft, "q_one")
    edited = replace(to_model(draft).question("q_one"), **change)
    with pytest.raises(editing.EditError) as refused:
        editing.update_question(row, edited)
    assert refused.value.key == key
    assert reason in str(refused.value)
    assert "line" not in str(refused.value)  # lines of the generated YAML mean nothing here


def test_a_long_block_label_still_points_at_its_key(draft):
    long_text = qm.Label("很长的问题" * 20, "A long question " * 10)
    edited = replace(to_model(draft).question("q_one"), text=long_text, category="Wrong")
    with pytest.raises(editing.EditError) as refused:
        editing.update_question(question(draft, "q_one"), edited)
    assert refused.value.key == "category"


def test_only_a_draft_can_be_edited(draft):
    editing.publish(draft, utcnow())
    with pytest.raises(editing.EditError, match="not a draft"):
        editing.move_question(question(draft, "q_two"), -1)
    editing.unpublish(draft)
    editing.move_question(question(draft, "q_two"), -1)
    assert codes(draft)[0][0] == "q_two"


def test_source_excerpt_numbers_the_lines_around_the_error():
    text = "a\nb\nc\nd\ne\nf\n"
    assert editing.source_excerpt(text, 4) == [(2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")]
    assert editing.source_excerpt(text.encode(), 1, around=1) == [(1, "a"), (2, "b")]
    assert editing.source_excerpt(text, None) == []
