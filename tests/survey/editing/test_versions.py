"""Questionnaires and versions: create, import, publish, new drafts of frozen versions, find."""

from __future__ import annotations

import pytest

from questionnaires import DEFINITIONS_DIR, QuestionnaireError, load
from questionnaires import model as qm
from survey import editing
from survey.extensions import db
from survey.questionnaire_store import digest, to_model
from tests.survey.editing.drafts import question, rating


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
