"""The seam between questionnaire definitions (plain dataclasses) and their database rows."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from questionnaires import model as qm
from survey.extensions import db
from survey.models import (
    Question,
    Questionnaire,
    QuestionnaireVersion,
    RespondentGroup,
    Section,
    Unit,
    utcnow,
)

# The built-in scales by name; a questionnaire's own scales are named by their code.
BUILTIN_SCALE_LABELS = {
    "satisfaction5": _l("Satisfaction, 1 to 5"),
    "nps11": _l("Likelihood to recommend, 0 to 10"),
}


def scale_name(code: str) -> str:
    return str(BUILTIN_SCALE_LABELS.get(code, code))


# A scale's declared satisfied and dissatisfied points (empty: the default ones).
SCALE_BOXES = ("satisfied", "dissatisfied")
# A question's limits (None: none set).
LIMITS = ("min_value", "max_value", "max_length")


def digest(q: qm.Questionnaire) -> str:
    """sha256 of the definition's content (source line numbers excluded). A scale left on its
    default satisfied and dissatisfied points, and a question without limits, hash as before
    they could be declared, so loading an unchanged file after an upgrade makes no new version."""
    data = dataclasses.asdict(q)
    _drop_unhashed(data)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _drop_unhashed(data: Any) -> None:
    """Remove the source lines, a scale's satisfied and dissatisfied points when empty, and
    an absent condition (a definition without conditions hashes as before they existed), and
    the grid of a question that is no grid's row (so such a file hashes as before grids)."""
    if isinstance(data, dict):
        data.pop("line", None)
        for key in ("show_if", "grid"):
            if key in data and data[key] is None:
                del data[key]
        for key in SCALE_BOXES:
            if "points" in data and not data.get(key, True):
                del data[key]
        for key in LIMITS:
            if key in data and data[key] is None:
                del data[key]
        for value in data.values():
            _drop_unhashed(value)
    elif isinstance(data, list | tuple):
        for value in data:
            _drop_unhashed(value)


def save_version(
    q: qm.Questionnaire, status: str = "published", always_new: bool = False
) -> QuestionnaireVersion:
    """Store a definition as the next version of its questionnaire.

    Loading a definition identical to the latest version returns that version (unless
    ``always_new``), so loading the shipped files again is harmless. The respondent groups and
    served units it declares are created when missing (existing ones keep their names: the
    units page owns them).
    """
    sync_groups_and_units(q)
    questionnaire = db.session.scalar(select(Questionnaire).where(Questionnaire.code == q.id))
    if questionnaire is None:
        questionnaire = Questionnaire(code=q.id, title_zh=q.title.zh, title_en=q.title.en)
        db.session.add(questionnaire)
        db.session.flush()
    key = digest(q)
    latest = questionnaire.versions[-1] if questionnaire.versions else None
    if latest is not None and latest.digest == key and not always_new:
        return latest
    version = _version_rows(q, key)
    version.questionnaire = questionnaire
    version.number = latest.number + 1 if latest else 1
    version.status = status
    if status == "published":
        version.published_at = utcnow()
    db.session.add(version)
    db.session.flush()
    return version


def _version_rows(q: qm.Questionnaire, key: str) -> QuestionnaireVersion:
    version = QuestionnaireVersion(
        title_zh=q.title.zh,
        title_en=q.title.en,
        description_zh=q.description.zh if q.description else None,
        description_en=q.description.en if q.description else None,
        group_codes=[g.code for g in q.groups],
        served_unit_codes=[u.code for u in q.served_units],
        scales=[scale_json(s) for s in q.scales],
        digest=key,
    )
    for s_pos, s in enumerate(q.sections):
        section = Section(
            position=s_pos,
            code=s.code,
            title_zh=s.title.zh,
            title_en=s.title.en,
            description_zh=s.description.zh if s.description else None,
            description_en=s.description.en if s.description else None,
            show_if=s.show_if,
        )
        version.sections.append(section)
        for q_pos, question in enumerate(s.questions):
            row = _question_row(question, q_pos)
            row.version = version
            section.questions.append(row)
    return version


def _question_row(q: qm.Question, position: int) -> Question:
    return Question(
        position=position,
        code=q.code,
        type=q.type,
        text_zh=q.text.zh,
        text_en=q.text.en,
        category=q.category,
        served_unit=q.served_unit,
        required=q.required,
        audience=list(q.audience),
        scale=scale_json(q.scale) if q.scale else None,
        choices=[{"code": c.code, "zh": c.label.zh, "en": c.label.en} for c in q.choices],
        follow_up_zh=q.follow_up.zh if q.follow_up else None,
        follow_up_en=q.follow_up.en if q.follow_up else None,
        help_zh=q.help.zh if q.help else None,
        help_en=q.help.en if q.help else None,
        min_value=q.min_value,
        max_value=q.max_value,
        max_length=q.max_length,
        show_if=q.show_if,
        grid=_grid_json(q.grid) if q.grid else None,
    )


def _grid_json(grid: qm.Grid) -> dict[str, Any]:
    data = {"code": grid.code, "zh": grid.text.zh, "en": grid.text.en}
    if grid.help:
        data.update(help_zh=grid.help.zh, help_en=grid.help.en)
    return data


def _grid(data: dict[str, Any] | None) -> qm.Grid | None:
    if data is None:
        return None
    return qm.Grid(
        code=data["code"],
        text=qm.Label(data["zh"], data["en"]),
        help=_label(data.get("help_zh"), data.get("help_en")),
    )


def scale_json(scale: qm.Scale) -> dict[str, Any]:
    points = [{"value": p.value, "zh": p.label.zh, "en": p.label.en} for p in scale.points]
    data: dict[str, Any] = {"code": scale.code, "points": points}
    # Only a declared set is stored: a scale on the default reads as it always did.
    for key in SCALE_BOXES:
        if getattr(scale, key):
            data[key] = list(getattr(scale, key))
    return data


def scale_from_json(data: dict[str, Any]) -> qm.Scale:
    """A scale as ``_scale_json`` stored it; one stored before scales could declare their
    satisfied and dissatisfied points has the default ones."""
    points = tuple(
        qm.ScalePoint(value=p["value"], label=qm.Label(p["zh"], p["en"])) for p in data["points"]
    )
    return qm.Scale(
        code=data["code"],
        points=points,
        satisfied=tuple(data.get("satisfied", ())),
        dissatisfied=tuple(data.get("dissatisfied", ())),
    )


def _label(zh: str | None, en: str | None) -> qm.Label | None:
    if zh is None and en is None:
        return None
    return qm.Label(zh or "", en or "")


# What ``to_model`` read of frozen versions, by (id, digest): a frozen version never changes
# (``survey.editing`` edits drafts only), and reading its sections and questions again cost a
# dashboard after each new response five queries (8 ms on PostgreSQL). Its respondent groups'
# and served units' names are the units page's, changed at any time: read every time.
_FROZEN: OrderedDict[tuple[int, str], qm.Questionnaire] = OrderedDict()
_FROZEN_KEPT = 32
_FROZEN_LOCK = threading.Lock()


def to_model(version: QuestionnaireVersion) -> qm.Questionnaire:
    """The definition a version holds, as the dataclasses the forms and exports use; the
    sections and their questions are loaded in one query each, not one per section."""
    if version.frozen_at is None:
        return _read_model(version)
    key = (version.id, version.digest)
    with _FROZEN_LOCK:
        kept = _FROZEN.get(key)
        if kept is not None:
            _FROZEN.move_to_end(key)
    if kept is None:
        kept = _read_model(version)
        with _FROZEN_LOCK:
            _FROZEN[key] = kept
            while len(_FROZEN) > _FROZEN_KEPT:
                _FROZEN.popitem(last=False)
        return kept
    return dataclasses.replace(
        kept, groups=_groups(version.group_codes), served_units=_served_units(version)
    )


def _read_model(version: QuestionnaireVersion) -> qm.Questionnaire:
    # Held until the end: the session keeps its objects by weak reference, so a list dropped
    # at once lets them go, and ``version.sections`` below loaded them again without their
    # questions, one query per section.
    preloaded = db.session.scalars(
        select(Section)
        .where(Section.version_id == version.id)
        .options(selectinload(Section.questions))
    ).all()
    definition = qm.Questionnaire(
        id=version.questionnaire.code,
        title=qm.Label(version.title_zh, version.title_en),
        description=_label(version.description_zh, version.description_en),
        groups=_groups(version.group_codes),
        served_units=_served_units(version),
        scales=tuple(scale_from_json(s) for s in version.scales),
        sections=tuple(_section(s) for s in version.sections),
    )
    del preloaded
    return definition


def _served_units(version: QuestionnaireVersion) -> tuple[qm.ServedUnit, ...]:
    codes = version.served_unit_codes
    served = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    return tuple(
        qm.ServedUnit(code, qm.Label(served[code].name_zh, served[code].name_en))
        for code in codes
        if code in served
    )


def _groups(codes: list[str]) -> tuple[qm.Group, ...]:
    query = select(RespondentGroup).where(RespondentGroup.code.in_(codes))
    rows = {g.code: g for g in db.session.scalars(query)}
    return tuple(
        qm.Group(code, qm.Label(rows[code].label_zh, rows[code].label_en))
        for code in codes
        if code in rows
    )


def _section(s: Section) -> qm.Section:
    return qm.Section(
        code=s.code,
        title=qm.Label(s.title_zh, s.title_en),
        description=_label(s.description_zh, s.description_en),
        questions=tuple(_question(q) for q in s.questions),
        show_if=s.show_if,
    )


def _question(q: Question) -> qm.Question:
    return qm.Question(
        code=q.code,
        type=q.type,
        text=qm.Label(q.text_zh, q.text_en),
        category=q.category,
        served_unit=q.served_unit,
        required=q.required,
        audience=tuple(q.audience),
        scale=scale_from_json(q.scale) if q.scale else None,
        choices=tuple(qm.Choice(c["code"], qm.Label(c["zh"], c["en"])) for c in q.choices),
        follow_up=_label(q.follow_up_zh, q.follow_up_en),
        help=_label(q.help_zh, q.help_en),
        min_value=q.min_value,
        max_value=q.max_value,
        max_length=q.max_length,
        show_if=q.show_if,
        grid=_grid(q.grid),
    )


def sync_groups_and_units(q: qm.Questionnaire) -> None:
    """Create the respondent groups and served units a definition names, if missing."""
    known_groups = set(db.session.scalars(select(RespondentGroup.code)))
    for position, g in enumerate(q.groups):
        if g.code not in known_groups:
            group = RespondentGroup(
                code=g.code, label_zh=g.label.zh, label_en=g.label.en, position=position
            )
            db.session.add(group)
    known_units = set(db.session.scalars(select(Unit.code)))
    for u in q.served_units:
        if u.code not in known_units:
            unit = Unit(code=u.code, name_zh=u.label.zh, name_en=u.label.en, kind="served")
            db.session.add(unit)
    db.session.flush()
