"""Editing versions: the loader's rules, rows kept in place, drafts, publishing and freezing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from questionnaires import DEFINITIONS_DIR, QuestionnaireError, dump, load, loads
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
from survey.questionnaire_store import digest, save_version, to_model

SMALL = """\
id: small
title: {zh: 小问卷, en: Small survey}
groups:
  - {code: mayors, label: {zh: 市长, en: Mayors}}
  - {code: departments, label: {zh: 部门, en: Departments}}
served_units:
  - {code: documents, label: {zh: 文书处理, en: Document processing}}
sections:
  - code: first
    title: {zh: 第一部分, en: Part one}
    questions:
      - {code: q_one, type: rating, text: {zh: 一, en: One}}
      - {code: q_two, type: rating, text: {zh: 二, en: Two}}
      - {code: q_three, type: text, text: {zh: 三, en: Three}}
  - code: second
    title: {zh: 第二部分, en: Part two}
    questions:
      - {code: q_four, type: choice, text: 四, choices: [{code: a, label: A}]}
"""


@pytest.fixture(autouse=True)
def request_context(app):
    """Editing errors are translated into the language of a request; these tests read English."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def draft(app) -> QuestionnaireVersion:
    version = save_version(loads(SMALL), status="draft")
    db.session.commit()
    return version


def question(version: QuestionnaireVersion, code: str) -> Question:
    return db.session.scalar(
        select(Question).where(Question.version_id == version.id, Question.code == code)
    )


def rating(code: str, **fields) -> qm.Question:
    return qm.Question(code=code, type="rating", text=qm.Label("新", "New"), **fields)


def codes(version: QuestionnaireVersion) -> list[list[str]]:
    return [[q.code for q in s.questions] for s in version.sections]


def test_a_new_questionnaire_is_an_empty_draft_for_every_known_group(office_version):
    version = editing.create_questionnaire("residents-2005", qm.Label("居民", "Residents"))
    assert (version.number, version.status, version.sections) == (1, "draft", [])
    assert version.group_codes == ["mayors", "departments", "cppcc", "congress"]
    assert version.digest == digest(to_model(version))


def test_a_questionnaire_id_is_checked_and_used_once(office_version):
    with pytest.raises(editing.EditError) as used:
        editing.create_questionnaire("office-services", qm.Label("x", "x"))
    with pytest.raises(editing.EditError) as invalid:
        editing.create_questionnaire("Office Services", qm.Label("x", "x"))
    assert used.value.key == invalid.value.key == "id"
    assert "must match" in str(invalid.value)


def test_an_added_section_and_question_keep_the_definition_loadable(draft):
    section = editing.add_section(draft, qm.Section("third", qm.Label("三", "Three"), ()))
    editing.add_question(section, rating("q_five", audience=("mayors",)))
    db.session.commit()
    assert codes(draft)[-1] == ["q_five"]
    assert loads(dump(to_model(draft))).question("q_five").audience == ("mayors",)
    assert draft.digest == digest(to_model(draft))


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


def test_only_a_draft_can_be_edited(draft):
    editing.publish(draft, utcnow())
    with pytest.raises(editing.EditError, match="not a draft"):
        editing.move_question(question(draft, "q_two"), -1)
    editing.unpublish(draft)
    editing.move_question(question(draft, "q_two"), -1)
    assert codes(draft)[0][0] == "q_two"


def test_a_frozen_version_cannot_go_back_to_draft(make_round, office_version):
    make_round()
    with pytest.raises(editing.EditError, match="A round has used"):
        editing.unpublish(office_version)
    assert editing.is_editable(office_version) is False


def test_editing_a_frozen_version_makes_a_new_draft(make_round, office_version):
    make_round()
    rows_before = [(q.id, q.code, q.text_zh) for s in office_version.sections for q in s.questions]
    copy = editing.new_draft(office_version)
    editing.update_question(question(copy, "doc_timeliness"), rating("doc_timeliness"))
    db.session.commit()
    db.session.expire_all()
    assert (copy.number, copy.status, copy.frozen_at) == (2, "draft", None)
    assert [
        (q.id, q.code, q.text_zh) for s in office_version.sections for q in s.questions
    ] == rows_before
    assert to_model(office_version) == load(DEFINITIONS_DIR / "office-services.yaml")
    assert to_model(copy).question("doc_timeliness").text == qm.Label("新", "New")


def test_a_new_draft_reads_back_equal_to_its_source(office_version):
    copy = editing.new_draft(office_version)
    db.session.commit()
    assert to_model(copy) == to_model(office_version)
    assert copy.digest == office_version.digest
    assert {q.id for s in copy.sections for q in s.questions}.isdisjoint(
        {q.id for s in office_version.sections for q in s.questions}
    )


def test_importing_makes_a_draft_once_per_content(app):
    text = (DEFINITIONS_DIR / "city-residents.yaml").read_bytes()
    version, new = editing.import_definition(text, "city-residents.yaml")
    again, new_again = editing.import_definition(text, "city-residents.yaml")
    assert (version.status, new, again.id, new_again) == ("draft", True, version.id, False)
    with pytest.raises(QuestionnaireError) as refused:
        editing.import_definition(text.replace(b"type: rating", b"type: ratting", 1), "c.yaml")
    assert refused.value.filename == "c.yaml" and refused.value.line > 1


def test_find_version_picks_the_number_or_the_latest(office_version):
    editing.new_draft(office_version)
    assert editing.find_version("office-services").number == 2
    assert editing.find_version("office-services", 1).id == office_version.id
    assert editing.find_version("office-services", 7) is None
    assert editing.find_version("nothing") is None


def test_source_excerpt_numbers_the_lines_around_the_error():
    text = "a\nb\nc\nd\ne\nf\n"
    assert editing.source_excerpt(text, 4) == [(2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")]
    assert editing.source_excerpt(text.encode(), 1, around=1) == [(1, "a"), (2, "b")]
    assert editing.source_excerpt(text, None) == []
