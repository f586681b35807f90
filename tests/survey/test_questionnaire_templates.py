"""survey.questionnaire_templates: an office shares a published questionnaire, another adopts
and adapts it, and the items it brings keep what makes their results comparable."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from questionnaires import loads
from questionnaires import model as qm
from survey import editing, offices, tenancy
from survey import questionnaire_templates as templates
from survey.extensions import db
from survey.models import AuditEvent, Questionnaire, QuestionnaireTemplate, utcnow
from survey.questionnaire_store import save_version, to_model
from tests.survey.editing.drafts import SMALL, question

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context(headers=EN):
        tenancy.enter(1)
        yield


@pytest.fixture
def beta(app):
    office = offices.create("beta", "乙市政府办公室", "Beta City Office")
    db.session.commit()
    return office


@pytest.fixture
def shared(beta):
    """Office A's small questionnaire, published and shared; office B works next."""
    version = save_version(loads(SMALL))
    template, new = templates.share(version, None, utcnow())
    db.session.commit()
    assert new
    return template


def _adopted(beta, template):
    tenancy.enter(beta.id)
    version, new = templates.adopt(template)
    db.session.commit()
    return version, new


def test_sharing_makes_a_revision_of_the_definition_only(shared):
    assert (shared.code, shared.revision, shared.publisher_id) == ("small", 1, 1)
    assert shared.item_codes == ["q_one", "q_two", "q_three", "q_four"]
    assert templates.definition(shared).title.en == "Small survey"
    version = db.session.scalar(select(Questionnaire).where(Questionnaire.code == "small"))
    assert version.versions[-1].template_id == shared.id  # the source is linked to it
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "template_shared"))
    assert event.detail["revision"] == 1


def test_sharing_the_same_content_again_makes_no_new_revision(shared):
    version = shared and db.session.scalar(select(Questionnaire)).versions[-1]
    again, new = templates.share(version, None, utcnow())
    assert (again.id, new) == (shared.id, False)


def test_a_draft_cannot_be_shared(app):
    draft = save_version(loads(SMALL), status="draft")
    with pytest.raises(templates.TemplateError, match="published"):
        templates.share(draft, None, utcnow())


def test_every_office_reads_the_library_but_not_the_publishers_questionnaires(beta, shared):
    tenancy.enter(beta.id)
    (entry,) = templates.library("en")
    assert (entry.template.id, entry.publisher, entry.items, entry.here) == (
        shared.id,
        "Shaoxing Municipal Government Office",
        4,
        None,
    )
    assert db.session.scalars(select(Questionnaire)).all() == []


def test_adopting_makes_a_draft_of_the_offices_own_linked_to_the_template(beta, shared):
    version, outcome = _adopted(beta, shared)
    assert outcome == templates.ADOPTED
    assert version.status == "draft" and version.office_id == beta.id
    assert version.template_id == shared.id
    assert templates.used_here() == {"small": 1}
    assert [q.code for q in to_model(version).questions()] == shared.item_codes
    again, outcome = templates.adopt(shared)
    assert (again.id, outcome) == (version.id, templates.ALREADY)
    tenancy.enter(1)
    assert templates.used_here() == {"small": 1}  # A's own source version


def test_the_publisher_does_not_adopt_its_own_template(shared):
    with pytest.raises(templates.TemplateError):
        templates.adopt(shared)


def test_an_adopted_items_id_cannot_be_renamed_but_its_wording_can(beta, shared):
    version, _ = _adopted(beta, shared)
    row = question(version, "q_one")
    reworded = qm.Question(code="q_one", type="rating", text=qm.Label("办文", "Documents"))
    editing.update_question(row, reworded)
    assert question(version, "q_one").text_en == "Documents"
    with pytest.raises(editing.EditError, match="q_one is an item of the shared template"):
        editing.update_question(row, replace(reworded, code="q_documents"))
    editing.update_question(
        question(version, "q_three"), replace(reworded, code="q_three", type="text")
    )
    own = editing.add_question(version.sections[0], replace(reworded, code="q_own"))
    editing.update_question(own, replace(reworded, code="q_own_renamed"))  # its own question


def test_publishing_refuses_an_item_of_another_type_and_allows_leaving_one_out(beta, shared):
    version, _ = _adopted(beta, shared)
    row = question(version, "q_two")
    editing.update_question(row, qm.Question("q_two", "nps", qm.Label("二", "Two")))
    with pytest.raises(editing.EditError, match="q_two"):
        editing.publish(version, utcnow())
    assert templates.departures(version) == ["q_two"]
    editing.delete_question(question(version, "q_two"))
    editing.publish(version, utcnow())
    assert version.status == "published"


def test_a_new_draft_keeps_the_template(beta, shared):
    version, _ = _adopted(beta, shared)
    editing.publish(version, utcnow())
    assert editing.new_draft(version).template_id == shared.id


def test_a_new_revision_may_add_items_but_not_change_an_earlier_ones(shared):
    source = db.session.scalar(select(Questionnaire)).versions[-1]
    draft = editing.new_draft(source)
    editing.add_question(draft.sections[0], qm.Question("q_new", "rating", qm.Label("新", "New")))
    editing.publish(draft, utcnow())
    second, new = templates.share(draft, None, utcnow())
    assert new and second.revision == 2 and "q_new" in second.item_codes
    third = editing.new_draft(draft)
    row = question(third, "q_one")
    editing.update_question(row, qm.Question("q_one", "nps", qm.Label("一", "One")))
    # The publisher's own versions keep the shared items too: it compares with the others.
    with pytest.raises(editing.EditError, match="changed type or scale: q_one"):
        editing.publish(third, utcnow())
    third.template = None  # (were it unlinked, the library still refuses the revision)
    editing.publish(third, utcnow())
    with pytest.raises(templates.TemplateError, match="q_one"):
        templates.share(third, None, utcnow())


def test_another_office_cannot_share_under_a_code_it_does_not_own(beta, shared):
    version, _ = _adopted(beta, shared)
    editing.publish(version, utcnow())
    with pytest.raises(templates.TemplateError, match="Another office"):
        templates.share(version, None, utcnow())
    assert db.session.scalars(select(QuestionnaireTemplate)).all() == [shared]


def test_an_item_a_later_revision_dropped_cannot_come_back_changed(beta, shared):
    source = db.session.scalar(select(Questionnaire)).versions[-1]
    draft = editing.new_draft(source)
    editing.delete_question(question(draft, "q_one"))
    editing.publish(draft, utcnow())
    second, _ = templates.share(draft, None, utcnow())
    db.session.commit()
    version, _ = _adopted(beta, second)
    editing.add_question(version.sections[0], qm.Question("q_one", "nps", qm.Label("一", "One")))
    with pytest.raises(editing.EditError, match="changed type or scale: q_one"):
        editing.publish(version, utcnow())


def test_an_imported_next_version_stays_linked_and_is_held_to_the_template(beta, shared):
    version, _ = _adopted(beta, shared)
    editing.publish(version, utcnow())
    changed = SMALL.replace("{code: q_one, type: rating", "{code: q_one, type: nps")
    imported, new = editing.import_definition(changed, "small.yaml")
    assert new and imported.template_id == shared.id
    with pytest.raises(editing.EditError, match="q_one"):
        editing.publish(imported, utcnow())


def test_adopting_never_links_a_published_version_its_past_rounds_would_count(beta, shared):
    tenancy.enter(beta.id)
    own = save_version(loads(SMALL))  # the office's own, published, identical to the template
    own.frozen_at = utcnow()
    db.session.commit()
    version, outcome = templates.adopt(shared)
    db.session.flush()
    assert outcome == templates.ADOPTED and version.id != own.id and version.number == 2
    assert (version.status, version.template_id, own.template_id) == ("draft", shared.id, None)
    again, outcome = templates.adopt(shared)
    assert (again.id, outcome) == (version.id, templates.ALREADY)


def test_an_identical_draft_of_the_office_is_linked_not_copied(beta, shared):
    tenancy.enter(beta.id)
    own = save_version(loads(SMALL), status="draft")
    db.session.commit()
    version, outcome = templates.adopt(shared)
    assert (version.id, outcome, version.template) == (own.id, templates.LINKED, shared)


def test_a_revisions_definition_is_parsed_once(shared, monkeypatch):
    calls = []
    real = templates.loads
    monkeypatch.setattr(templates, "loads", lambda *a, **k: calls.append(1) or real(*a, **k))
    templates._PARSED.clear()
    first, again = templates.definition(shared), templates.definition(shared)
    assert first is again and len(calls) == 1
    assert first.id == shared.code
