"""A small questionnaire with conditions (skip logic), shared by the tests of conditions:
question 1 asks whether the meeting service was used; "yes" shows the meeting rating
(required) and its section's follow-up; a low rating shows the part "problems"."""

from __future__ import annotations

from datetime import timedelta

from questionnaires import loads
from questionnaires.model import Questionnaire
from survey.extensions import db
from survey.models import Invitation, RespondentGroup, Round, Unit, utcnow
from survey.questionnaire_store import save_version

CONDITIONAL_YAML = """\
id: conditional
title: {zh: 会议服务调查, en: Meeting service survey}
groups:
  - code: mayors
    label: {zh: 市长、副市长, en: Mayors and vice-mayors}
  - code: departments
    label: {zh: 市政府各部门, en: Government departments}
sections:
  - code: meetings
    title: {zh: 会议服务, en: Meeting services}
    questions:
      - code: used_meetings
        type: choice
        text: {zh: 您是否使用过会议服务？, en: 'Did you use the meeting service?'}
        choices:
          - {code: 'yes', label: {zh: 是, en: 'Yes'}}
          - {code: 'no', label: {zh: 否, en: 'No'}}
      - code: mtg_rating
        type: rating
        text: {zh: 会议服务的总体满意度, en: Overall satisfaction with meeting services}
        follow_up: {zh: 请告诉我们原因, en: Please tell us why}
        show_if: ${used_meetings} = 'yes'
      - code: mtg_rooms
        type: rating
        text: {zh: 会场安排, en: Meeting rooms}
        audience: [mayors]
        show_if: ${used_meetings} = 'yes'
  - code: problems
    title: {zh: 存在的问题, en: Problems}
    show_if: ${mtg_rating} <= 2
    questions:
      - code: mtg_problem
        type: text
        text: {zh: 请描述问题, en: Please describe the problem}
  - code: overall
    title: {zh: 总体, en: Overall}
    questions:
      - code: overall
        type: rating
        text: {zh: 总体满意度, en: Overall satisfaction}
"""

CONDITIONAL = loads(CONDITIONAL_YAML, filename="conditional.yaml")


def conditional_round(office_version, definition: Questionnaire = CONDITIONAL) -> Round:
    """An open round of the conditional questionnaire, or of ``definition`` (the office
    version brings the units)."""
    version = save_version(definition)  # office_version: only for the units it brings
    now = utcnow()
    round_ = Round(
        name="conditions",
        version=version,
        status="open",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )
    version.frozen_at = now
    db.session.add(round_)
    db.session.commit()
    return round_


def invite(round_: Round, group: str = "departments") -> Invitation:
    unit = db.session.scalars(
        db.select(Unit).join(RespondentGroup).where(RespondentGroup.code == group).order_by(Unit.id)
    ).first()
    invitation = Invitation(round=round_, unit=unit, group_id=unit.group_id)
    db.session.add(invitation)
    db.session.commit()
    return invitation
