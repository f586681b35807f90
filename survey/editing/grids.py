"""Grids of a draft version: added, changed, moved and deleted as one block of rows.

A grid's rows are question rows that name the grid and follow each other in their section; the
editor keeps them together. A row whose code stays keeps its id (and its answers' link to it).
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l

from questionnaires import model as qm
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
from survey.models import Question, Section
from survey.questionnaire_store import _question_row, to_model


def grid_rows(row: Question) -> list[Question]:
    """The rows of the grid `row` belongs to (just `row` when it is no grid's row)."""
    if not row.grid:
        return [row]
    code = row.grid["code"]
    questions = row.section.questions
    start = questions.index(row)
    while start > 0 and (questions[start - 1].grid or {}).get("code") == code:
        start -= 1
    end = start
    while end < len(questions) and (questions[end].grid or {}).get("code") == code:
        end += 1
    return questions[start:end]


def _with_block(
    definition: qm.Questionnaire,
    at: tuple[int, int, int] | None,
    rows: tuple[qm.Question, ...],
    to: int,
) -> qm.Questionnaire:
    """`definition` with the block at (section, first index, length) removed and `rows` put in
    its place, or at the end of section `to` when that is another section (or `at` is None)."""
    sections = [list(s.questions) for s in definition.sections]
    if at is not None:
        s_index, first, length = at
        del sections[s_index][first : first + length]
        if s_index == to:
            sections[to][first:first] = rows
            rows = ()
    sections[to].extend(rows)
    return replace(
        definition,
        sections=tuple(
            replace(s, questions=tuple(qs)) for s, qs in zip(definition.sections, sections)
        ),
    )


def add_grid(section: Section, rows: tuple[qm.Question, ...]) -> list[Question]:
    """Append a grid (its rows, each naming the grid) to a section."""
    version = section.version
    require_editable(version)
    to = version.sections.index(section)
    check(_with_block(to_model(version), None, rows, to))
    added = []
    for q in rows:
        row = _question_row(q, len(section.questions))
        row.version = version
        section.questions.append(row)
        added.append(row)
    save_edit(version)
    return added


def update_grid(row: Question, rows: tuple[qm.Question, ...], section: Section) -> None:
    """Replace the grid `row` belongs to by `rows` (in `section`: at its place, or at the end
    of another one). Rows whose code stays keep their id; a dropped row with answers is refused."""
    version = row.version
    require_editable(version)
    old = grid_rows(row)
    old_section = row.section
    at = (version.sections.index(old_section), old_section.questions.index(old[0]), len(old))
    check(_with_block(to_model(version), at, rows, version.sections.index(section)))
    by_code = {r.code: r for r in old}
    kept_codes = {q.code for q in rows}
    dropped = [r for r in old if r.code not in kept_codes]
    if has_answers(dropped):
        raise EditError(
            _l(
                "A row left out of the grid has answers, so it cannot be deleted. "
                "Leave the grid as it is and change it in a new version."
            ),
            "rows",
        )
    first = old_section.questions.index(old[0])
    remaining = [r for r in old_section.questions if r not in old]
    new_rows = []
    for q in rows:
        fresh = _question_row(q, 0)
        target = by_code.get(q.code)
        if target is None:
            target = fresh
            target.version = version
        else:
            copy_columns(fresh, target, ("id", "version_id", "section_id"))
        new_rows.append(target)
    if section is old_section:
        old_section.questions = renumber(remaining[:first] + new_rows + remaining[first:])
    else:
        old_section.questions = renumber(remaining)
        section.questions = renumber(list(section.questions) + new_rows)
    save_edit(version)


def delete_grid(row: Question) -> None:
    """Delete the grid `row` belongs to with all its rows, unless one of them has answers."""
    version = row.version
    require_editable(version)
    old = grid_rows(row)
    if has_answers(old):
        raise EditError(
            _l(
                "Rows of this grid have answers, so it cannot be deleted. "
                "Retire it instead: leave it out of a new version."
            )
        )
    section = row.section
    section.questions = renumber([r for r in section.questions if r not in old])
    save_edit(version)


def move_block(row: Question, step: int) -> None:
    """Move a question, or a whole grid, one place up (-1) or down (+1) in its section, over the
    neighbouring question or grid as a whole; at either end nothing changes."""
    version = row.version
    require_editable(version)
    section = row.section
    blocks: list[list[Question]] = []
    for q in section.questions:
        code = (q.grid or {}).get("code")
        if code and blocks and (blocks[-1][0].grid or {}).get("code") == code:
            blocks[-1].append(q)
        else:
            blocks.append([q])
    index = next(i for i, b in enumerate(blocks) if row in b)
    target = index + step
    if 0 <= target < len(blocks):
        blocks[index], blocks[target] = blocks[target], blocks[index]
    moved = [q for b in blocks for q in b]
    check_order(section, moved)  # a condition may not come to refer to a later question
    section.questions = renumber(moved)
    save_edit(version)
