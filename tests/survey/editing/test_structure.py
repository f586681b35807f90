"""Sections and questions of a draft: add, edit, move, delete, with their rows kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from questionnaires import dump, loads
from questionnaires import model as qm
from survey import editing
from survey.extensions import db
from survey.models import (
    Answer,
    Question,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    Round,
    utcnow,
)
from survey.questionnaire_store import digest, to_model
from tests.survey.editing.drafts import codes, question, rating


def test_an_added_section_and_question_keep_the_definition_loadable(draft):
    section = editing.add_section(draft, qm.Section("third", qm.Label("三", "Three"), ()))
    editing.add_question(section, rating("q_five", audience=("mayors",)))
    db.session.commit()
    assert codes(draft)[-1] == ["q_five"]
    assert loads(dump(to_model(draft))).question("q_five").audience == ("mayors",)
    assert draft.digest == digest(to_model(draft))


def test_editing_a_question_keeps_its_row_and_updates_the_digest(draft):
    row = question(draft, "q_two")
    before = (row.id, draft.digest)
    edited = rating(
        "q_two_renamed",
        category="services.documents",
        served_unit="documents",
        follow_up=qm.Label("请说明原因", ""),
        required=False,
    )
    editing.update_question(row, edited)
    db.session.commit()
    assert row.id == before[0] and draft.digest != before[1]
    assert to_model(draft).question("q_two_renamed") == edited
    assert codes(draft)[0] == ["q_one", "q_two_renamed", "q_three"]


def test_a_question_moves_to_the_end_of_another_section(draft):
    editing.update_question(question(draft, "q_one"), rating("q_one"), draft.sections[1])
    db.session.commit()
    db.session.expire_all()
    assert codes(draft) == [["q_two", "q_three"], ["q_four", "q_one"]]


def test_moving_questions_and_sections_reorders_them(draft):
    editing.move_question(question(draft, "q_three"), -1)
    editing.move_question(question(draft, "q_one"), -1)  # already first: stays
    editing.move_section(draft.sections[1], -1)
    db.session.commit()
    db.session.expire_all()
    assert codes(draft) == [["q_four"], ["q_one", "q_three", "q_two"]]
    assert draft.digest == digest(to_model(draft))


def test_deleting_a_question_and_a_section(draft):
    editing.delete_question(question(draft, "q_two"))
    editing.delete_section(draft.sections[1])
    db.session.commit()
    db.session.expire_all()
    assert codes(draft) == [["q_one", "q_three"]]
    assert db.session.scalar(select(func.count()).select_from(Question)) == 2


def answer(version: QuestionnaireVersion, code: str) -> None:
    """An answer to a question of an unfrozen version. Rounds freeze their version, so this
    happens only with rows made outside rounds.create; the refusal is the safety net."""
    round_ = Round(name="r", version=version, status="open")
    db.session.add(round_)
    db.session.flush()
    group = db.session.scalar(select(RespondentGroup).where(RespondentGroup.code == "mayors"))
    response = Response(round_id=round_.id, submission_key="k1", group_id=group.id)
    q = question(version, code)
    response.answers.append(Answer(question_id=q.id, question_code=code, value=4))
    db.session.add(response)
    db.session.commit()


def test_a_question_with_answers_cannot_be_deleted(draft):
    answer(draft, "q_four")
    with pytest.raises(editing.EditError, match="has answers"):
        editing.delete_question(question(draft, "q_four"))
    with pytest.raises(editing.EditError, match="have answers"):
        editing.delete_section(draft.sections[1])
    assert question(draft, "q_four") is not None


def test_an_empty_section_is_kept_in_a_draft_but_not_published(draft):
    editing.add_section(draft, qm.Section("later", qm.Label("以后", "Later"), ()))
    with pytest.raises(editing.EditError, match="section 'later' has no questions"):
        editing.publish(draft, utcnow())
    editing.add_question(draft.sections[-1], rating("q_later"))
    editing.publish(draft, utcnow())
    assert draft.status == "published" and draft.frozen_at is None
