"""Which respondent groups an anonymous round never names: reported together as "other
groups" in its raw answers and its published tables, since the answers of a group of one unit
are that unit's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from survey.extensions import db
from survey.models import Invitation, RespondentGroup, Response, Round

# In an anonymous round's raw answers a respondent group is named only when it has at least
# this many units invited: the rows of a group of one unit would be that unit's.
MIN_GROUP_UNITS = 2
OTHER_GROUPS = _l("other groups")


def merged_groups(round_: Round) -> frozenset[str]:
    """The respondent groups an anonymous round's raw answers report as "other groups": each
    group with fewer than ``MIN_GROUP_UNITS`` units among the round's invitations (revoked ones
    do not count: they cannot answer), and any group that answered without one. When those
    together still hold fewer units, the smallest named groups join them until they do (or no
    group is left to name)."""
    units = dict(
        db.session.execute(
            select(RespondentGroup.code, func.count(func.distinct(Invitation.unit_id)))
            .join(Invitation, Invitation.group_id == RespondentGroup.id)
            .where(Invitation.round_id == round_.id, Invitation.status != "revoked")
            .group_by(RespondentGroup.code)
        ).all()
    )
    answered = db.session.scalars(
        select(RespondentGroup.code)
        .join(Response, Response.group_id == RespondentGroup.id)
        .where(Response.round_id == round_.id)
        .distinct()
    )
    for code in answered:
        units.setdefault(code, 0)
    merged = {code for code, n in units.items() if n < MIN_GROUP_UNITS}
    named = sorted((n, code) for code, n in units.items() if code not in merged)
    pooled = sum(units[code] for code in merged)
    while merged and pooled < MIN_GROUP_UNITS and named:
        n, code = named.pop(0)
        merged.add(code)
        pooled += n
    return frozenset(merged)
