"""Definitions stored as version rows read back as the same definitions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from questionnaires import DEFINITIONS_DIR, load, load_dir
from survey.extensions import db
from survey.models import QuestionnaireVersion, RespondentGroup, Unit
from survey.questionnaire_store import save_version, to_model


@pytest.mark.parametrize("definition", load_dir(DEFINITIONS_DIR), ids=lambda q: q.id)
def test_stored_version_reads_back_equal(app, definition):
    version = save_version(definition)
    db.session.commit()
    assert to_model(db.session.get(QuestionnaireVersion, version.id)) == definition


def test_loading_the_same_definition_twice_makes_one_version(app):
    definition = load(DEFINITIONS_DIR / "office-services.yaml")
    first, again = save_version(definition), save_version(definition)
    assert first.id == again.id and first.number == 1


def test_a_changed_definition_makes_the_next_version(app):
    from dataclasses import replace

    definition = load(DEFINITIONS_DIR / "office-services.yaml")
    save_version(definition)
    changed = replace(definition, title=replace(definition.title, en="Renamed"))
    assert save_version(changed).number == 2
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 2


def test_groups_and_served_units_are_created_once(app):
    definition = load(DEFINITIONS_DIR / "office-services.yaml")
    save_version(definition)
    save_version(definition)
    groups = db.session.scalars(select(RespondentGroup.code)).all()
    assert sorted(groups) == ["congress", "cppcc", "departments", "mayors"]
    served = db.session.scalars(select(Unit.code).where(Unit.kind == "served")).all()
    assert sorted(served) == sorted(u.code for u in definition.served_units)
