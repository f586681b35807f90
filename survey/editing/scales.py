"""The office's scale library: scales a clerk defines once and reuses across questionnaires.

A library scale is checked by the loader's own rules (it is dumped inside a small definition
and loaded back, as every edit is), so the library accepts exactly the scales a definition file
may declare, and refuses with the loader's reason. A question of a draft version that picks a
library scale gets a copy of it in the version's own scales: versions stay self-contained, and
a frozen version never changes when the library does.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from questionnaires import BUILTIN_SCALES
from questionnaires import model as qm
from survey import audit
from survey.editing.rules import EditError, check, require_editable
from survey.extensions import db
from survey.models import LibraryScale, QuestionnaireVersion, User, utcnow
from survey.questionnaire_store import scale_from_json, scale_json

#: The prefix of a library scale's value in the question editor's scale list.
LIBRARY_PREFIX = "library:"


def library_scales() -> list[LibraryScale]:
    """Every scale of the library, by code."""
    return list(db.session.scalars(select(LibraryScale).order_by(LibraryScale.code)))


def find_scale(code: str) -> LibraryScale | None:
    return db.session.scalar(select(LibraryScale).where(LibraryScale.code == code))


def to_scale(row: LibraryScale) -> qm.Scale:
    """The library scale as the definition model's Scale."""
    return scale_from_json(
        {
            "code": row.code,
            "points": row.points,
            "satisfied": row.satisfied,
            "dissatisfied": row.dissatisfied,
        }
    )


def check_scale(scale: qm.Scale) -> None:
    """Raise EditError unless a definition file could declare `scale` (the loader's rules:
    2 to 11 points, distinct values from -100 to 100, a label each, satisfied and dissatisfied
    points at the top and bottom without a gap and apart, a code that is not built in)."""
    stand_in = qm.Questionnaire(
        id="scale-library", title=qm.Label("-", "-"), sections=(), scales=(scale,)
    )
    check(stand_in)


def save_scale(
    row: LibraryScale | None, scale: qm.Scale, name: qm.Label, by: User | None
) -> LibraryScale:
    """Create (row None) or change a library scale; audited. Raises EditError (key "code",
    "points", "satisfied", "dissatisfied" or "name") for a scale the loader would refuse."""
    if not (name.zh or name.en):
        raise EditError(_l("Give the scale a name in Chinese or English."), "name")
    check_scale(scale)
    other = find_scale(scale.code)
    if other is not None and other is not row:
        raise EditError(
            _l("The code %(code)s is already used by another scale.", code=scale.code), "code"
        )
    created = row is None
    if row is None:
        row = LibraryScale(created_by=by)
        db.session.add(row)
    data = scale_json(scale)
    row.code, row.name_zh, row.name_en = scale.code, name.zh, name.en
    row.points = data["points"]
    row.satisfied = list(scale.satisfied)
    row.dissatisfied = list(scale.dissatisfied)
    row.updated_by, row.updated_at = by, utcnow()
    db.session.flush()
    audit.record(
        "scale_created" if created else "scale_changed",
        target=f"scale:{row.id}",
        name=scale.code,
    )
    return row


def copy_into(version: QuestionnaireVersion, code: str) -> qm.Scale:
    """The library scale `code`, declared in the draft `version`'s own scales (a copy) unless
    the version declares the same scale already. A version whose scale of that code differs
    keeps its own: the clerk is asked to rename one of them."""
    require_editable(version)
    row = find_scale(code)
    if row is None:
        raise EditError(_l("The scale %(code)s is not in the library.", code=code), "scale")
    scale = to_scale(row)
    declared = {s["code"]: scale_from_json(s) for s in version.scales}
    if code in declared:
        if declared[code] != scale:
            raise EditError(
                _l(
                    "This questionnaire already has a different scale coded %(code)s; "
                    "pick that one, or give the library scale another code.",
                    code=code,
                ),
                "scale",
            )
        return declared[code]
    if code in BUILTIN_SCALES:  # pragma: no cover - the library refuses built-in codes
        raise EditError(_l("%(code)s is a built-in scale.", code=code), "scale")
    # A new list, not an append: the JSON column notices assignments only.
    version.scales = [*version.scales, scale_json(scale)]
    return scale


def library_choice(definition: qm.Questionnaire, rows: list[LibraryScale]) -> list[LibraryScale]:
    """The library scales worth offering for a version: those it does not declare already
    (same code, same points); a version's own copy is offered as the version's scale."""
    own = {s.code: s for s in definition.scales}
    return [row for row in rows if own.get(row.code) != to_scale(row)]
