"""The rules every edit follows: only a draft changes, and every change must load as a
definition file would (``check``); errors name the field the loader's reason is about."""

from __future__ import annotations

import copy
import re
from dataclasses import replace

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select

from questionnaires import QuestionnaireError, dump, loads
from questionnaires import model as qm
from questionnaires.loader import DUPLICATE, DUPLICATE_WITHOUT_LINE
from questionnaires.messages import Message
from survey.extensions import db
from survey.i18n import translated
from survey.models import (
    Answer,
    Question,
    QuestionnaireVersion,
    Section,
)
from survey.questionnaire_store import digest, to_model


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
        key = _key_at(text, error.line, error.reason)
        raise EditError(LazyString(translated, _without_line(error.message)), key) from None


def _without_line(reason: Message) -> Message:
    # The line numbers a reason may quote are those of the generated YAML, not shown.
    if reason.template == DUPLICATE:
        return Message(DUPLICATE_WITHOUT_LINE, reason.params)
    return reason


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


def require_editable(version: QuestionnaireVersion) -> None:
    if not is_editable(version):
        raise EditError(
            _l("This version is not a draft and cannot be changed; edit it as a new draft.")
        )


def has_answers(questions: list[Question]) -> bool:
    ids = [q.id for q in questions if q.id is not None]
    if not ids:
        return False
    query = select(Answer.id).where(Answer.question_id.in_(ids)).limit(1)
    return db.session.scalar(query) is not None


def save_edit(version: QuestionnaireVersion) -> None:
    """Write the changed rows and keep the digest the digest of what the version now says."""
    db.session.flush()
    version.digest = digest(to_model(version))


def renumber(rows: list) -> list:
    for position, row in enumerate(rows):
        row.position = position
    return rows


def copy_columns(source, target, skip: tuple[str, ...]) -> None:
    for attr in inspect(type(source)).column_attrs:
        if attr.key not in skip:
            setattr(target, attr.key, copy.deepcopy(getattr(source, attr.key)))


def check_order(section: Section, rows: list[Question]) -> None:
    """Refuse putting a section's questions in the order of ``rows`` when the definition would
    no longer load: a condition would then refer to a question asked after it."""
    version = section.version
    definition = to_model(version)
    index = version.sections.index(section)
    by_code = {q.code: q for q in definition.sections[index].questions}
    moved = replace(definition.sections[index], questions=tuple(by_code[r.code] for r in rows))
    sections = list(definition.sections)
    sections[index] = moved
    check(replace(definition, sections=tuple(sections)))
