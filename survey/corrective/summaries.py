""" "You said, we did": what a respondent group rated low in a round and what the office did
about it, published by the quality lead and shown on the group's invitation pages of the
following rounds of the same questionnaire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from survey import rounds
from survey.corrective.access import is_lead
from survey.corrective.states import ActionError, _
from survey.corrective.texts import question_texts
from survey.extensions import db
from survey.models import ActionSummary, CorrectiveAction, Invitation, RespondentGroup, Round, User


def summary_groups(round_: Round) -> list[tuple[RespondentGroup, ActionSummary | None, int]]:
    """The round's respondent groups with their summary (if any) and the number of closed
    actions that concern them (fired for the group or for the whole round)."""
    codes = round_.audience_groups or round_.version.group_codes
    groups = db.session.scalars(
        select(RespondentGroup)
        .where(RespondentGroup.code.in_(codes))
        .order_by(RespondentGroup.position)
    ).all()
    summaries = {
        s.group_code: s
        for s in db.session.scalars(
            select(ActionSummary).where(ActionSummary.round_id == round_.id)
        )
    }
    return [(g, summaries.get(g.code), _closed_for(round_, g.code)) for g in groups]


def summary_draft(round_: Round, group: str, lang: str) -> tuple[str, str]:
    """A first draft of a group's summary: the items its actions were about, and what was
    done in the closed ones. The lead rewrites it in plain words before publishing."""
    actions = db.session.scalars(
        select(CorrectiveAction)
        .where(
            CorrectiveAction.round_id == round_.id,
            CorrectiveAction.status == "closed",
            or_(CorrectiveAction.group_code.is_(None), CorrectiveAction.group_code == group),
        )
        .order_by(CorrectiveAction.severity.desc())
    ).all()
    names = question_texts(actions, lang)
    said = "\n".join(names[(a.round_id, a.question_code)] for a in actions)
    did = "\n".join(a.action_taken or "" for a in actions if a.action_taken)
    return said, did


def _closed_for(round_: Round, group: str) -> int:
    return db.session.scalar(
        select(func.count()).where(
            CorrectiveAction.round_id == round_.id,
            CorrectiveAction.status == "closed",
            or_(CorrectiveAction.group_code.is_(None), CorrectiveAction.group_code == group),
        )
    )


def publish_summary(
    round_: Round, group: str, you_said: str, we_did: str, actor: User, now: datetime
) -> ActionSummary:
    """Store and publish a group's summary; refused until an action concerning the group is
    closed (the summary says what was done, so something must have been)."""
    if not is_lead(actor):
        raise ActionError(_("Only the quality lead can do this."))
    if not _closed_for(round_, group):
        raise ActionError(_("No action of this round that concerns this group is closed yet."))
    summary = db.session.scalar(
        select(ActionSummary).where(
            ActionSummary.round_id == round_.id, ActionSummary.group_code == group
        )
    )
    if summary is None:
        summary = ActionSummary(round=round_, group_code=group)
        db.session.add(summary)
    summary.you_said, summary.we_did = you_said.strip(), we_did.strip()
    summary.published_at, summary.published_by_id, summary.updated_at = now, actor.id, now
    db.session.flush()
    return summary


def summary_for(invitation: Invitation) -> ActionSummary | None:
    """The newest published summary for the invitation's group from an earlier round of the
    same questionnaire: what the group said last time and what the office did."""
    earlier = [
        r.id
        for r in rounds.in_order(invitation.round)
        if (r.opens_at or r.created_at, r.id)
        < (invitation.round.opens_at or invitation.round.created_at, invitation.round.id)
    ]
    if not earlier:
        return None
    found = db.session.scalars(
        select(ActionSummary).where(
            ActionSummary.round_id.in_(earlier),
            ActionSummary.group_code == invitation.group.code,
            ActionSummary.published_at.is_not(None),
        )
    )
    order = {round_id: i for i, round_id in enumerate(earlier)}
    return max(found, key=lambda s: order[s.round_id], default=None)


@dataclass(frozen=True)
class Shown:
    """A summary as the survey page shows it: plain data, so that it can be kept between
    requests (survey.respond.built)."""

    round_name: str
    you_said: str
    we_did: str


def shown_for(invitation: Invitation) -> Shown | None:
    found = summary_for(invitation)
    return None if found is None else Shown(found.round.name, found.you_said, found.we_did)
