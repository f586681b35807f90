"""Editing questionnaire versions in the browser, by the same rules as a definition file.

A version is edited only while it is a draft. Publishing makes it usable for a round; a round
freezes it (frozen_at), and a frozen version never changes again, so that old results keep their
meaning: "edit as new draft" copies it to the next version number instead.

Every change is first applied to the definition (the pure `questionnaires` model), which is
dumped to YAML and loaded back with the loader. The editor therefore accepts exactly what a
definition file may say, and refuses with the loader's own reason. Only then are the rows
changed, in place, so that sections and questions keep their ids (and their edit links).

The package: ``rules`` (the checks every edit passes), ``versions`` (questionnaires and
versions), ``structure`` (sections and questions). Its names are re-exported here.
"""

from survey.editing.grids import add_grid, delete_grid, grid_rows, move_block, update_grid
from survey.editing.rules import EditError, check, is_editable
from survey.editing.structure import (
    add_question,
    add_section,
    delete_question,
    delete_section,
    move_question,
    move_section,
    update_question,
    update_section,
)
from survey.editing.versions import (
    create_questionnaire,
    find_version,
    import_definition,
    new_draft,
    publish,
    rounds_by_version,
    source_excerpt,
    unpublish,
    update_settings,
)

__all__ = [
    "EditError",
    "add_grid",
    "add_question",
    "add_section",
    "check",
    "create_questionnaire",
    "delete_grid",
    "delete_question",
    "delete_section",
    "find_version",
    "grid_rows",
    "import_definition",
    "is_editable",
    "move_block",
    "move_question",
    "move_section",
    "new_draft",
    "publish",
    "rounds_by_version",
    "source_excerpt",
    "unpublish",
    "update_grid",
    "update_question",
    "update_section",
    "update_settings",
]
