"""Editing questionnaire versions in the browser, by the same rules as a definition file.

A version is edited only while it is a draft. Publishing makes it usable for a round; a round
freezes it (frozen_at), and a frozen version never changes again, so that old results keep their
meaning: "edit as new draft" copies it to the next version number instead.

Every change is first applied to the definition (the pure `questionnaires` model), which is
dumped to YAML and loaded back with the loader. The editor therefore accepts exactly what a
definition file may say, and refuses with the loader's own reason. Only then are the rows
changed, in place, so that sections and questions keep their ids (and their edit links).
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from questionnaires import QuestionnaireError, dump, loads
from questionnaires import model as qm
from survey import audit
from survey.extensions import db
from survey.models import (
    Answer,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    RespondentGroup,
    Round,
    Section,
    Unit,
)
from survey.questionnaire_store import _question_row, digest, save_version, to_model


class EditError(ValueError):
    """A change that cannot be made. `key` names the definition key at fault ("code", "text",
    "audience", "title", ...) when the loader's error points at one, else None."""

    def __init__(self, message: object, key: str | None = None) -> None:
        # `message` may be a lazy translation: it is turned into text when shown, in a request.
        super().__init__(message)
        self.message = message
        self.key = key

    def __str__(self) -> str:
        return str(self.message)


# ------------------------------------------------------------------------------ the rules


def is_editable(version: QuestionnaireVersion) -> bool:
    """Only a draft no round has used can change."""
    return version.status == "draft" and version.frozen_at is None


def check(definition: qm.Questionnaire, complete: bool = False) -> None:
    """Raise EditError unless the loader accepts `definition` (after a dump to YAML).

    A draft may hold a section that has no question yet (it was just added): unless `complete`
    is asked for, such a section is checked with a placeholder question, and a questionnaire
    with no section at all with a placeholder section.
    """
    if not complete:
        definition = _with_placeholders(definition)
    try:
        text = dump(definition)
    except ValueError as error:  # a question names a scale the version does not declare
        raise EditError(str(error), "scale") from None
    try:
        loads(text, filename=f"{definition.id}.yaml")
    except QuestionnaireError as error:
        # The line numbers a reason may quote are those of the generated YAML, not shown.
        reason = _LINE_REFERENCE.sub("", error.reason)
        raise EditError(reason, _key_at(text, error.line, error.reason)) from None


def _with_placeholders(definition: qm.Questionnaire) -> qm.Questionnaire:
    used = {q.code for q in definition.questions()}
    code = next(f"placeholder{n}" for n in range(len(used) + 1) if f"placeholder{n}" not in used)
    stand_in = qm.Question(code=code, type="text", text=qm.Label("-", "-"))
    sections = tuple(
        s if s.questions else replace(s, questions=(stand_in,)) for s in definition.sections
    )
    if not sections:
        sections = (qm.Section("placeholder", qm.Label("-", "-"), questions=(stand_in,)),)
    return replace(definition, sections=sections)


_LINE_REFERENCE = re.compile(r" \(first defined on line \d+\)")
_KEY = re.compile(r"([a-z_]+):(?:\s|$)")
# Reasons the loader reports on the line of the question's code, though another key is missing.
_REASON_KEYS = {"needs choices": "choices"}


def _key_at(text: str, line: int | None, reason: str) -> str | None:
    """The key of the definition an error at `line` of the dumped `text` is about: the key of a
    question when the line is inside one, else of a section, else of the questionnaire."""
    for fragment, key in _REASON_KEYS.items():
        if fragment in reason:
            return key
    if line is None:
        return None
    path: list[tuple[int, str]] = []
    for raw in text.splitlines()[:line]:
        content = raw.lstrip(" ")
        indent = len(raw) - len(content)
        while content.startswith("- "):
            content, indent = content[2:], indent + 2
        match = _KEY.match(content)
        if not match:
            continue
        while path and path[-1][0] >= indent:
            path.pop()
        path.append((indent, match.group(1)))
    keys = [key for _, key in path]
    for container in ("questions", "sections"):
        if container in keys[:-1]:
            return keys[keys.index(container) + 1]
    return keys[0] if keys else None


def _require_editable(version: QuestionnaireVersion) -> None:
    if not is_editable(version):
        raise EditError(
            _l("This version is not a draft and cannot be changed; edit it as a new draft.")
        )


def _has_answers(questions: list[Question]) -> bool:
    ids = [q.id for q in questions if q.id is not None]
    if not ids:
        return False
    query = select(Answer.id).where(Answer.question_id.in_(ids)).limit(1)
    return db.session.scalar(query) is not None


def _save(version: QuestionnaireVersion) -> None:
    """Write the changed rows and keep the digest the digest of what the version now says."""
    db.session.flush()
    version.digest = digest(to_model(version))


def _renumber(rows: list) -> list:
    for position, row in enumerate(rows):
        row.position = position
    return rows


def _copy_columns(source, target, skip: tuple[str, ...]) -> None:
    for attr in inspect(type(source)).column_attrs:
        if attr.key not in skip:
            setattr(target, attr.key, copy.deepcopy(getattr(source, attr.key)))


# ------------------------------------------------------------------------- questionnaires


def create_questionnaire(code: str, title: qm.Label) -> QuestionnaireVersion:
    """A new questionnaire whose draft version 1 addresses every respondent group and served
    unit known today (the version's settings narrow that) and has no section yet."""
    if db.session.scalar(select(Questionnaire.id).where(Questionnaire.code == code)):
        raise EditError(
            _l("The id %(code)s is already used by another questionnaire.", code=code), "id"
        )
    groups = db.session.scalars(select(RespondentGroup).order_by(RespondentGroup.position))
    served = db.session.scalars(
        select(Unit).where(Unit.kind == "served", Unit.active).order_by(Unit.id)
    )
    definition = qm.Questionnaire(
        id=code,
        title=title,
        sections=(),
        groups=tuple(qm.Group(g.code, qm.Label(g.label_zh, g.label_en)) for g in groups),
        served_units=tuple(qm.ServedUnit(u.code, qm.Label(u.name_zh, u.name_en)) for u in served),
    )
    check(definition)
    return save_version(definition, status="draft")


def import_definition(text: str | bytes, filename: str) -> tuple[QuestionnaireVersion, bool]:
    """Load a definition file as the next draft version of its questionnaire.

    Returns the version and whether it is new: a file identical to the latest version makes no
    new one. Raises QuestionnaireError (file, line, reason) for a file the loader refuses.
    """
    definition = loads(text, filename=filename)
    questionnaire = db.session.scalar(
        select(Questionnaire).where(Questionnaire.code == definition.id)
    )
    before = len(questionnaire.versions) if questionnaire else 0
    version = save_version(definition, status="draft")
    return version, len(version.questionnaire.versions) > before


def source_excerpt(text: str | bytes, line: int | None, around: int = 2) -> list[tuple[int, str]]:
    """The lines of `text` around `line` (1-based), numbered, to show where a file is wrong."""
    if line is None:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    lines = text.splitlines()
    first = max(line - around, 1)
    return [(n, lines[n - 1]) for n in range(first, min(line + around, len(lines)) + 1)]


def update_settings(
    version: QuestionnaireVersion,
    title: qm.Label,
    description: qm.Label | None,
    group_codes: list[str],
    served_unit_codes: list[str],
) -> None:
    """Change a draft's title, description, respondent groups and served units."""
    _require_editable(version)
    groups = {g.code: g for g in db.session.scalars(select(RespondentGroup))}
    served = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.kind == "served"))}
    candidate = replace(
        to_model(version),
        title=title,
        description=description,
        groups=tuple(
            qm.Group(c, qm.Label(groups[c].label_zh, groups[c].label_en)) for c in group_codes
        ),
        served_units=tuple(
            qm.ServedUnit(c, qm.Label(served[c].name_zh, served[c].name_en))
            for c in served_unit_codes
        ),
    )
    check(candidate)
    version.title_zh, version.title_en = title.zh, title.en
    version.description_zh = description.zh if description else None
    version.description_en = description.en if description else None
    version.group_codes = list(group_codes)
    version.served_unit_codes = list(served_unit_codes)
    _save(version)


def publish(version: QuestionnaireVersion, now: datetime) -> None:
    """A draft becomes usable for a round; it must then be complete (no empty section)."""
    _require_editable(version)
    check(to_model(version), complete=True)
    version.status = "published"
    version.published_at = now
    audit.record(
        "questionnaire_published",
        target=f"version:{version.id}",
        questionnaire=version.questionnaire.code,
        number=version.number,
    )


def unpublish(version: QuestionnaireVersion) -> None:
    """A published version that no round has used goes back to being an editable draft."""
    if version.frozen_at is not None:
        raise EditError(_l("A round has used this version: it stays as it is."))
    version.status = "draft"
    version.published_at = None


def new_draft(version: QuestionnaireVersion) -> QuestionnaireVersion:
    """A copy of `version` as a new draft with the next number. The original, and the rounds and
    answers that refer to its rows, stay exactly as they were."""
    numbers = [v.number for v in version.questionnaire.versions]
    # Build the whole copy before the session may flush it: its columns are not set at first.
    with db.session.no_autoflush:
        draft = QuestionnaireVersion(questionnaire=version.questionnaire)
        skip = (
            "id",
            "questionnaire_id",
            "number",
            "status",
            "created_at",
            "published_at",
            "frozen_at",
        )
        _copy_columns(version, draft, skip)
        draft.number, draft.status = max(numbers) + 1, "draft"
        for section in version.sections:
            section_copy = Section()
            _copy_columns(section, section_copy, ("id", "version_id"))
            draft.sections.append(section_copy)
            for question in section.questions:
                question_copy = Question(version=draft)
                _copy_columns(question, question_copy, ("id", "version_id", "section_id"))
                section_copy.questions.append(question_copy)
    db.session.add(draft)
    db.session.flush()
    return draft


def rounds_by_version() -> dict[int, list[Round]]:
    """The rounds that use each version, oldest first, by version id."""
    found: dict[int, list[Round]] = {}
    for round_ in db.session.scalars(select(Round).order_by(Round.id)):
        found.setdefault(round_.version_id, []).append(round_)
    return found


def find_version(code: str, number: int | None = None) -> QuestionnaireVersion | None:
    """Version `number` of the questionnaire `code`, or its latest version."""
    query = (
        select(QuestionnaireVersion)
        .join(Questionnaire)
        .where(Questionnaire.code == code)
        .order_by(QuestionnaireVersion.number.desc())
    )
    if number is not None:
        query = query.where(QuestionnaireVersion.number == number)
    return db.session.scalars(query.limit(1)).first()


# -------------------------------------------------------------------------------- sections


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
    _require_editable(version)
    definition = to_model(version)
    check(_with_section(definition, len(definition.sections), section, insert=True))
    row = Section(position=len(version.sections))
    _fill_section(row, section)
    version.sections.append(row)
    _save(version)
    return row


def update_section(row: Section, section: qm.Section) -> None:
    """Change a section's code, title and description (its questions stay)."""
    version = row.version
    _require_editable(version)
    definition = to_model(version)
    index = version.sections.index(row)
    kept = replace(section, questions=definition.sections[index].questions)
    check(_with_section(definition, index, kept))
    _fill_section(row, section)
    _save(version)


def _fill_section(row: Section, section: qm.Section) -> None:
    row.code = section.code
    row.title_zh, row.title_en = section.title.zh, section.title.en
    row.description_zh = section.description.zh if section.description else None
    row.description_en = section.description.en if section.description else None


def delete_section(row: Section) -> None:
    """Delete a section with its questions, unless one of them has answers."""
    version = row.version
    _require_editable(version)
    if _has_answers(row.questions):
        raise EditError(
            _l(
                "Questions of this section have answers, so it cannot be deleted. "
                "Leave it out of a new version instead."
            )
        )
    version.sections.remove(row)
    _renumber(version.sections)
    _save(version)


def move_section(row: Section, step: int) -> None:
    """Move a section `step` places (-1 up, +1 down); at either end nothing changes."""
    version = row.version
    _require_editable(version)
    version.sections = _renumber(_moved(list(version.sections), row, step))
    _save(version)


def _moved(rows: list, row, step: int) -> list:
    index = rows.index(row)
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
    _require_editable(version)
    to = version.sections.index(section)
    check(_with_question(to_model(version), None, question, to=to))
    row = _question_row(question, len(section.questions))
    row.version = version
    section.questions.append(row)
    _save(version)
    return row


def update_question(row: Question, question: qm.Question, section: Section | None = None) -> None:
    """Change every field of a question; with another `section`, move it to that one's end."""
    version = row.version
    _require_editable(version)
    at = _position(row)
    to = version.sections.index(section) if section is not None else None
    check(_with_question(to_model(version), at, question, to=to))
    _copy_columns(_question_row(question, row.position), row, ("id", "version_id", "section_id"))
    if section is not None and section is not row.section:
        old = row.section
        old.questions.remove(row)
        _renumber(old.questions)
        section.questions.append(row)
        _renumber(section.questions)
    _save(version)


def _position(row: Question) -> tuple[int, int]:
    return row.version.sections.index(row.section), row.section.questions.index(row)


def delete_question(row: Question) -> None:
    """Delete a question, unless it has answers: then it can only be left out of a new
    version, so that the answers keep the question they were given to."""
    version = row.version
    _require_editable(version)
    if _has_answers([row]):
        raise EditError(
            _l(
                "This question has answers, so it cannot be deleted. "
                "Retire it instead: leave it out of a new version."
            )
        )
    section = row.section
    section.questions.remove(row)
    _renumber(section.questions)
    _save(version)


def move_question(row: Question, step: int) -> None:
    """Move a question `step` places within its section; at either end nothing changes."""
    version = row.version
    _require_editable(version)
    section = row.section
    section.questions = _renumber(_moved(list(section.questions), row, step))
    _save(version)
