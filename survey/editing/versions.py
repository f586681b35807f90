"""Questionnaires and their versions: create, import, settings, publish, unpublish, and a new
draft from a frozen version."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from questionnaires import loads, xlsform
from questionnaires import model as qm
from survey import audit, questionnaire_templates
from survey.editing.rules import EditError, check, copy_columns, require_editable, save_edit
from survey.extensions import db
from survey.models import (
    Question,
    Questionnaire,
    QuestionnaireVersion,
    RespondentGroup,
    Round,
    Section,
    Unit,
)
from survey.questionnaire_store import save_version, to_model


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
    """Load a definition file (YAML, or an XLSForm workbook) as the next draft version of its
    questionnaire.

    Returns the version and whether it is new: a file identical to the latest version makes no
    new one. Raises QuestionnaireError (file, line, reason) for a file the loader refuses, an
    XLSFormError (file, sheet, row, reason) for a workbook.
    """
    if xlsform.is_workbook(text):
        definition = xlsform.loads(text, filename=filename)
    else:
        definition = loads(text, filename=filename)
    questionnaire = db.session.scalar(
        select(Questionnaire).where(Questionnaire.code == definition.id)
    )
    before = len(questionnaire.versions) if questionnaire else 0
    latest = questionnaire.versions[-1] if before else None
    version = save_version(definition, status="draft")
    new = len(version.questionnaire.versions) > before
    if new and latest is not None and latest.template_id is not None:
        # A questionnaire adopted from a shared template stays linked to it: its items keep
        # their ids, type and scale whatever way the next version comes (publish checks).
        version.template_id = latest.template_id
    return version, new


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
    require_editable(version)
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
    save_edit(version)


def publish(version: QuestionnaireVersion, now: datetime) -> None:
    """A draft becomes usable for a round; it must then be complete (no empty section)."""
    require_editable(version)
    check(to_model(version), complete=True)
    changed = questionnaire_templates.departures(version)
    if changed:
        raise EditError(
            _l(
                "These items of the shared template changed type or scale: %(codes)s. Keep "
                "the template's, or give your own question another id, so that results compare "
                "across offices.",
                codes=", ".join(changed),
            )
        )
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
        copy_columns(version, draft, skip)
        draft.number, draft.status = max(numbers) + 1, "draft"
        for section in version.sections:
            section_copy = Section()
            copy_columns(section, section_copy, ("id", "version_id"))
            draft.sections.append(section_copy)
            for question in section.questions:
                question_copy = Question(version=draft)
                copy_columns(question, question_copy, ("id", "version_id", "section_id"))
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
