"""The editor's forms: the question form offers every registered type, named in the reader's
language."""

from __future__ import annotations

from questionnaires import QUESTION_TYPES
from survey.design.questionnaire_forms import question_form, type_labels
from survey.questionnaire_store import to_model


def test_the_question_form_offers_every_registered_type_by_its_name(app, office_version):
    definition = to_model(office_version)
    ids = [s.id for s in office_version.sections]
    with app.test_request_context():
        form = question_form(definition, ids, "zh")
    # A grid comes last: no question type of its own, its rows are ratings.
    assert [choice.value for choice in form.type.choices] == [*QUESTION_TYPES, "grid"]
    assert [choice.label for choice in form.type.choices][:2] == ["量表评分", "推荐意愿（0–10）"]


def test_each_type_is_named_in_both_languages():
    assert type_labels("en")["multi"] == "Several choices"
    assert set(type_labels("zh")) == set(QUESTION_TYPES)
