"""Definitions stored as version rows read back as the same definitions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from questionnaires import DEFINITIONS_DIR, load, load_dir, loads
from survey.extensions import db
from survey.models import QuestionnaireVersion, RespondentGroup, Unit
from survey.questionnaire_store import digest, save_version, to_model
from tests.statements import sent_statements


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


SCALED = """\
id: demo
title: Demo
scales:
  - code: agree3
    points:
      - {value: 1, label: Disagree}
      - {value: 2, label: Neither}
      - {value: 3, label: Agree}
sections:
  - code: main
    title: Main
    questions:
      - {code: a, type: rating, text: A, scale: agree3}
      - {code: b, type: rating, text: B}
"""


def test_a_scale_on_its_default_points_hashes_as_before_scales_could_declare_them():
    # The digest this definition had before scales had satisfied/dissatisfied: a version
    # stored then is still "the same definition", so loading the file again adds none.
    digest_before = "fa6f9b993d5fd526960ad1311526436d7d325e312cac41a9dcca2b57e42fb6c1"
    assert digest(loads(SCALED)) == digest_before
    declared = SCALED.replace("    points:", "    satisfied: [2, 3]\n    points:")
    assert digest(loads(declared)) != digest_before


def test_declared_satisfied_and_dissatisfied_points_are_stored_and_read_back(app):
    text = SCALED.replace(
        "    points:", "    satisfied: [3, 2]\n    dissatisfied: [1]\n    points:"
    )
    definition = loads(text)
    version = db.session.get(QuestionnaireVersion, save_version(definition).id)
    assert version.scales[0]["satisfied"] == [3, 2]
    assert to_model(version) == definition
    assert to_model(version).question("a").scale.satisfied_from == 2


def test_a_scale_stored_without_satisfied_points_reads_with_the_default_ones(app):
    version = save_version(loads(SCALED))
    assert "satisfied" not in version.scales[0]  # as every scale stored before
    scale = to_model(version).question("a").scale
    assert (scale.satisfied_values, scale.dissatisfied_values) == ((3,), (1,))


GRIDDED = """\
id: gridded
title: Gridded
sections:
  - code: s
    title: S
    questions:
      - code: services
        type: grid
        text: {zh: 请评价以下各项服务, en: Please rate each of these services}
        help: {zh: 每行选一项, en: One answer per row}
        follow_up: Why?
        rows:
          - {code: doc_speed, text: 公文速度}
          - {code: meet_org, text: 会议组织}
      - {code: after, type: rating, text: After}
"""


def test_a_grid_is_stored_on_its_rows_and_reads_back_equal(app):
    definition = loads(GRIDDED)
    version = db.session.get(QuestionnaireVersion, save_version(definition).id)
    rows = version.sections[0].questions
    assert [(q.code, q.type, (q.grid or {}).get("code")) for q in rows] == [
        ("doc_speed", "rating", "services"),
        ("meet_org", "rating", "services"),
        ("after", "rating", None),
    ]
    assert rows[0].grid["help_en"] == "One answer per row"
    assert to_model(version) == definition


def test_the_grid_counts_in_the_digest():
    from dataclasses import replace

    gridded = loads(GRIDDED)
    section = gridded.sections[0]
    alone = tuple(replace(q, grid=None) for q in section.questions)
    ungridded = replace(gridded, sections=(replace(section, questions=alone),))
    assert digest(ungridded) != digest(gridded)


def test_reading_a_version_reads_its_questions_in_one_query_not_one_per_section(app):
    import re

    from sqlalchemy import event

    definition = load(DEFINITIONS_DIR / "office-services.yaml")
    version_id = save_version(definition).id
    db.session.commit()
    db.session.expunge_all()  # as in a new request: nothing of the version in the session
    version = db.session.get(QuestionnaireVersion, version_id)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert to_model(version) == definition
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    question_reads = [s for s in statements if re.search(r"FROM question\b", s)]
    assert len(definition.sections) > 1
    assert len(question_reads) == 1, question_reads


def _statements_of(call) -> tuple[object, list[str]]:
    with sent_statements() as statements:
        return call(), statements


def test_a_frozen_version_is_read_once_and_its_group_and_unit_names_every_time(app):
    import re

    from survey.models import utcnow

    definition = load(DEFINITIONS_DIR / "office-services.yaml")
    version = save_version(definition)
    version.frozen_at = utcnow()  # a round uses it: it never changes again
    db.session.commit()
    first, _ = _statements_of(lambda: to_model(version))
    group = db.session.scalar(select(RespondentGroup).where(RespondentGroup.code == "mayors"))
    group.label_en = "Mayors' offices (renamed)"
    unit = db.session.scalar(select(Unit).where(Unit.code == definition.served_units[0].code))
    unit.name_zh = "改名"
    db.session.commit()
    again, statements = _statements_of(lambda: to_model(version))
    assert not [s for s in statements if re.search(r"FROM (section|question)\b", s)]
    assert again.sections == first.sections == definition.sections
    assert {g.code: g.label.en for g in again.groups}["mayors"] == "Mayors' offices (renamed)"
    assert again.served_units[0].label.zh == "改名"
    assert again.groups != first.groups and again.served_units != first.served_units


def test_a_draft_is_read_afresh_each_time(app):
    import re

    version = save_version(load(DEFINITIONS_DIR / "office-services.yaml"), status="draft")
    db.session.commit()
    to_model(version)
    section = version.sections[0]
    section.title_en = "Edited in the draft"
    db.session.commit()
    again, statements = _statements_of(lambda: to_model(version))
    assert [s for s in statements if re.search(r"FROM question\b", s)]
    assert again.sections[0].title.en == "Edited in the draft"
