"""Sections and questions of a draft version: add, update, delete and move, ids kept."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l

from questionnaires import model as qm
from survey import questionnaire_templates
from survey.editing.grids import move_block
from survey.editing.rules import (
    EditError,
    check,
    check_order,
    copy_columns,
    has_answers,
    renumber,
    require_editable,
    save_edit,
)
from survey.models import (
    Question,
    QuestionnaireVersion,
    Section,
)
from survey.questionnaire_store import _question_row, to_model


def _with_section(
    definition: qm.Questionnaire, index: int, section: qm.Section | None, insert: bool = False
) -> qm.Questionnaire:
    sections = list(definition.sections)
    if insert:
        sections.insert(index, section)
    elif section is None:
        del sections[index]
    else:
        sections[index] = section
    return replace(definition, sections=tuple(sections))


def add_section(version: QuestionnaireVersion, section: qm.Section) -> Section:
    """Append a section (its questions are added one by one afterwards)."""
    require_editable(version)
    definition = to_model(version)
    check(_with_section(definition, len(definition.sections), section, insert=True))
    row = Section(position=len(version.sections))
    _fill_section(row, section)
    version.sections.append(row)
    save_edit(version)
    return row


def update_section(row: Section, section: qm.Section) -> None:
    """Change a section's code, title and description (its questions stay)."""
    version = row.version
    require_editable(version)
    definition = to_model(version)
    index = version.sections.index(row)
    kept = replace(section, questions=definition.sections[index].questions)
    check(_with_section(definition, index, kept))
    _fill_section(row, section)
    save_edit(version)


def _fill_section(row: Section, section: qm.Section) -> None:
    row.code = section.code
    row.title_zh, row.title_en = section.title.zh, section.title.en
    row.description_zh = section.description.zh if section.description else None
    row.description_en = section.description.en if section.description else None
    row.show_if = section.show_if


def delete_section(row: Section) -> None:
    """Delete a section with its questions, unless one of them has answers."""
    version = row.version
    require_editable(version)
    if has_answers(row.questions):
        raise EditError(
            _l(
                "Questions of this section have answers, so it cannot be deleted. "
                "Leave it out of a new version instead."
            )
        )
    version.sections.remove(row)
    renumber(version.sections)
    save_edit(version)


def move_section(row: Section, step: int) -> None:
    """Move a section `step` places (-1 up, +1 down); at either end nothing changes."""
    version = row.version
    require_editable(version)
    definition = to_model(version)
    index = version.sections.index(row)
    # Conditions refer to earlier questions only: a move must not put one after its condition.
    check(replace(definition, sections=tuple(_moved(list(definition.sections), index, step))))
    version.sections = renumber(_moved(list(version.sections), row, step))
    save_edit(version)


def _moved(rows: list, row, step: int) -> list:
    """`rows` with `row` (or the item at index `row`, an int) moved `step` places."""
    index = row if isinstance(row, int) else rows.index(row)
    target = index + step
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
    return rows


# ------------------------------------------------------------------------------- questions


def _with_question(
    definition: qm.Questionnaire,
    at: tuple[int, int] | None,
    question: qm.Question | None,
    to: int | None = None,
) -> qm.Questionnaire:
    """`definition` with the question at (section index, question index) replaced, removed
    (question None) or, when `to` names another section, moved to its end; `at` None adds
    `question` at the end of section `to`."""
    sections = [list(s.questions) for s in definition.sections]
    if at is not None:
        s_index, q_index = at
        del sections[s_index][q_index]
        if question is not None and to in (None, s_index):
            sections[s_index].insert(q_index, question)
            question = None
    if question is not None and to is not None:
        sections[to].append(question)
    return replace(
        definition,
        sections=tuple(
            replace(s, questions=tuple(qs)) for s, qs in zip(definition.sections, sections)
        ),
    )


def add_question(section: Section, question: qm.Question) -> Question:
    """Append a question to a section."""
    version = section.version
    require_editable(version)
    to = version.sections.index(section)
    check(_with_question(to_model(version), None, question, to=to))
    row = _question_row(question, len(section.questions))
    row.version = version
    section.questions.append(row)
    save_edit(version)
    return row


def update_question(row: Question, question: qm.Question, section: Section | None = None) -> None:
    """Change every field of a question; with another `section`, move it to that one's end."""
    version = row.version
    require_editable(version)
    if question.code != row.code and questionnaire_templates.is_template_item(version, row.code):
        raise EditError(
            _l(
                "%(code)s is an item of the shared template: its id stays, so that its results "
                "compare across offices. Leave it out instead, and add a question of your own.",
                code=row.code,
            ),
            "code",
        )
    at = _position(row)
    to = version.sections.index(section) if section is not None else None
    check(_with_question(to_model(version), at, question, to=to))
    copy_columns(_question_row(question, row.position), row, ("id", "version_id", "section_id"))
    if section is not None and section is not row.section:
        old = row.section
        old.questions.remove(row)
        renumber(old.questions)
        section.questions.append(row)
        renumber(section.questions)
    save_edit(version)


def _position(row: Question) -> tuple[int, int]:
    return row.version.sections.index(row.section), row.section.questions.index(row)


def delete_question(row: Question) -> None:
    """Delete a question, unless it has answers: then it can only be left out of a new
    version, so that the answers keep the question they were given to."""
    version = row.version
    require_editable(version)
    if has_answers([row]):
        raise EditError(
            _l(
                "This question has answers, so it cannot be deleted. "
                "Retire it instead: leave it out of a new version."
            )
        )
    # A condition that refers to it would refer to an unknown question.
    check(_with_question(to_model(version), _position(row), None))
    section = row.section
    section.questions.remove(row)
    renumber(section.questions)
    save_edit(version)


def move_question(row: Question, step: int) -> None:
    """Move a question `step` places within its section; at either end nothing changes."""
    version = row.version
    require_editable(version)
    section = row.section
    if row.grid:  # a grid's row moves among its rows; a question over a whole grid
        rows = list(section.questions)
        target = rows.index(row) + step
        if 0 <= target < len(rows) and (rows[target].grid or {}).get("code") == row.grid["code"]:
            moved = _moved(rows, row, step)
            check_order(section, moved)
            section.questions = renumber(moved)
        save_edit(version)
    else:
        move_block(row, step)
