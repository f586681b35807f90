"""Shared questionnaire templates: one office shares a published questionnaire, every office
may adopt it and adapt it, and the items it brings keep their codes, so that results on them
compare across offices (the provincial view, ``survey.results.comparisons``).

A template is a definition only (the version's YAML export): no round, answer or person of the
sharing office goes with it. It is not ``OfficeOwned``: every office reads the library. A
version records the template it was adopted from, or shared as (``template_id``).

What an adopting office may change, and what it may not:
- wording, help, sections, order, audience, conditions, new questions of its own: all free;
- an item of the template may be left out (no figure for it then);
- an item kept keeps its code, its type and its scale's values (or its choices' codes): a rate
  on another scale, or of another question under the same code, would not compare. The editor
  refuses renaming such an item's code; publishing refuses a changed type or scale
  (``departures``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from questionnaires import dump, loads
from questionnaires import model as qm
from survey import audit, tenancy
from survey.extensions import db
from survey.models import (
    Office,
    Questionnaire,
    QuestionnaireTemplate,
    QuestionnaireVersion,
    User,
)
from survey.questionnaire_store import digest, save_version, to_model


class TemplateError(ValueError):
    """A share or an adoption that cannot be made; the message says why."""


@dataclass(frozen=True)
class LibraryEntry:
    """A template's latest revision as the library lists it, with what this office did."""

    template: QuestionnaireTemplate
    publisher: str
    items: int
    # The revision this office last adopted or shared (None: not yet).
    here: int | None


# Parsed definitions by (template id, digest): a revision never changes once shared (changed
# content is a new revision), and the comparison page and every rename check in the editor
# parse each revision again otherwise. The parsed questionnaire is frozen data, safe to share.
_PARSED: dict[tuple[int, str], qm.Questionnaire] = {}
PARSED_KEPT = 64


def definition(template: QuestionnaireTemplate) -> qm.Questionnaire:
    key = (template.id, template.digest)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = loads(template.definition, filename=f"{template.code}-r{template.revision}.yaml")
        if template.id is not None:
            if len(_PARSED) >= PARSED_KEPT:
                _PARSED.clear()
            _PARSED[key] = parsed
    return parsed


def revisions(code: str) -> list[QuestionnaireTemplate]:
    return list(
        db.session.scalars(
            select(QuestionnaireTemplate)
            .where(QuestionnaireTemplate.code == code)
            .order_by(QuestionnaireTemplate.revision)
        )
    )


def latest_revisions() -> list[QuestionnaireTemplate]:
    """The latest revision of every template, by code."""
    latest = (
        select(QuestionnaireTemplate.code, func.max(QuestionnaireTemplate.revision).label("r"))
        .group_by(QuestionnaireTemplate.code)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(QuestionnaireTemplate)
            .join(
                latest,
                (latest.c.code == QuestionnaireTemplate.code)
                & (latest.c.r == QuestionnaireTemplate.revision),
            )
            .order_by(QuestionnaireTemplate.code)
        )
    )


def library(lang: str) -> list[LibraryEntry]:
    """The latest revision of every template, by code, and the revision this office uses."""
    names = {o.id: o.name(lang) for o in db.session.scalars(select(Office))}
    used = used_here()
    return [
        LibraryEntry(t, names.get(t.publisher_id, "?"), len(t.item_codes), used.get(t.code))
        for t in latest_revisions()
    ]


def used_here() -> dict[str, int]:
    """Template code -> the latest revision a version of this office was adopted from or
    shared as (versions are the office's: the query is scoped, ``survey.tenancy``)."""
    rows = db.session.execute(
        select(QuestionnaireTemplate.code, func.max(QuestionnaireTemplate.revision))
        .join(QuestionnaireVersion, QuestionnaireVersion.template_id == QuestionnaireTemplate.id)
        .group_by(QuestionnaireTemplate.code)
    )
    return {code: revision for code, revision in rows}


def _as_loaded(version: QuestionnaireVersion) -> qm.Questionnaire:
    """The version as its definition file reads back: defaults a row leaves empty (a rating's
    scale) filled in as in a template, so that the two compare like for like."""
    model = to_model(version)
    return loads(dump(model), filename=f"{model.id}.yaml")


def _comparable(question: qm.Question) -> tuple:
    """What an item keeps for its results to compare: its type, its scale's values and which
    of them count as satisfied, its choices' codes."""
    scale = question.scale
    return (
        question.type,
        tuple(p.value for p in scale.points) if scale else None,
        tuple(scale.satisfied) if scale else None,
        tuple(c.code for c in question.choices),
    )


def _kept_items(code: str) -> dict[str, tuple]:
    """What every item of every revision of the template ``code`` keeps (``_comparable``):
    an item a later revision dropped still compares with the offices that kept it."""
    kept: dict[str, tuple] = {}
    for template in revisions(code):
        for q in definition(template).questions():
            kept.setdefault(q.code, _comparable(q))
    return kept


def departures(version: QuestionnaireVersion) -> list[str]:
    """The template's items (of any of its revisions) that ``version`` changed in a way that
    would break comparison (type, scale values, satisfied points, choice codes), or brought
    back changed: empty for a version of its own."""
    if version.template is None:
        return []
    return _changed(_as_loaded(version), version.template.code)


def _changed(questionnaire: qm.Questionnaire, code: str) -> list[str]:
    """The questions of ``questionnaire`` that carry an item id of the template ``code`` but
    not what that item keeps."""
    kept = _kept_items(code)
    return [
        q.code
        for q in questionnaire.questions()
        if q.code in kept and _comparable(q) != kept[q.code]
    ]


def is_template_item(version: QuestionnaireVersion, code: str) -> bool:
    return version.template is not None and code in _kept_items(version.template.code)


def share(
    version: QuestionnaireVersion, user: User | None, now: datetime
) -> tuple[QuestionnaireTemplate, bool]:
    """Share a published version as the next revision of the template of its questionnaire's
    code; the same content as the latest revision makes none. Returns the revision and whether
    it is new. Refused for a draft, for a code another office shares, and for a revision that
    changes an item of an earlier one (its results would no longer compare)."""
    if version.status != "published":
        raise TemplateError(_l("Only a published version can be shared."))
    office_id = tenancy.current_office_id()
    code = version.questionnaire.code
    earlier = revisions(code)
    if earlier and earlier[-1].publisher_id != office_id:
        owner = db.session.get(Office, earlier[-1].publisher_id)
        raise TemplateError(
            _l(
                "Another office (%(office)s) shares a template with the id %(code)s.",
                office=owner.name_en if owner else "?",
                code=code,
            )
        )
    shared = _as_loaded(version)
    key = digest(shared)
    if earlier and earlier[-1].digest == key:
        version.template = earlier[-1]
        return earlier[-1], False
    changed = _changed(shared, code)
    if changed:
        raise TemplateError(
            _l(
                "These items of an earlier revision changed type or scale: %(codes)s. Give a "
                "changed item a new id, so that results under the old one still compare.",
                codes=", ".join(changed),
            )
        )
    template = QuestionnaireTemplate(
        code=code,
        revision=earlier[-1].revision + 1 if earlier else 1,
        title_zh=shared.title.zh,
        title_en=shared.title.en,
        definition=dump(shared),
        digest=key,
        item_codes=[q.code for q in shared.questions()],
        publisher_id=office_id,
        shared_by_id=user.id if user is not None else None,
        shared_at=now,
    )
    db.session.add(template)
    version.template = template
    db.session.flush()
    audit.record(
        "template_shared",
        target=f"template:{template.id}",
        questionnaire=code,
        number=version.number,
        revision=template.revision,
    )
    return template, True


# What adopting did: made a new draft, linked an identical draft, or nothing (adopted before).
ADOPTED, LINKED, ALREADY = "adopted", "linked", "already"


def adopt(template: QuestionnaireTemplate) -> tuple[QuestionnaireVersion, str]:
    """The template as a new draft version of this office's questionnaire of the same id (made
    if missing), to adapt and publish. Adopted before (the latest version is linked to this
    revision): that version, nothing changes. A draft identical to the template is linked to
    it; a published version never is, or its past rounds would count as the template's.
    Returns the version and what was done (ADOPTED, LINKED or ALREADY)."""
    if template.publisher_id == tenancy.current_office_id():
        raise TemplateError(_l("This office shares this template: it has it already."))
    shared = definition(template)
    questionnaire = db.session.scalar(select(Questionnaire).where(Questionnaire.code == shared.id))
    latest = questionnaire.versions[-1] if questionnaire and questionnaire.versions else None
    if latest is not None and latest.template_id == template.id:
        return latest, ALREADY
    before = len(questionnaire.versions) if questionnaire else 0
    version = save_version(shared, status="draft")
    if version.status != "draft":  # identical to a published version: a copy of its own
        version = save_version(shared, status="draft", always_new=True)
    outcome = ADOPTED if len(version.questionnaire.versions) > before else LINKED
    version.template = template
    audit.record(
        "template_adopted",
        target=f"version:{version.id}",
        questionnaire=shared.id,
        number=version.number,
        revision=template.revision,
    )
    return version, outcome
