"""A small draft questionnaire and plain helpers for the editing tests."""

from __future__ import annotations

from sqlalchemy import select

from questionnaires import model as qm
from survey.extensions import db
from survey.models import Question, QuestionnaireVersion

SMALL = """\
id: small
title: {zh: 小问卷, en: Small survey}
groups:
  - {code: mayors, label: {zh: 市长, en: Mayors}}
  - {code: departments, label: {zh: 部门, en: Departments}}
served_units:
  - {code: documents, label: {zh: 文书处理, en: Document processing}}
sections:
  - code: first
    title: {zh: 第一部分, en: Part one}
    questions:
      - {code: q_one, type: rating, text: {zh: 一, en: One}}
      - {code: q_two, type: rating, text: {zh: 二, en: Two}}
      - {code: q_three, type: text, text: {zh: 三, en: Three}}
  - code: second
    title: {zh: 第二部分, en: Part two}
    questions:
      - {code: q_four, type: choice, text: 四, choices: [{code: a, label: A}]}
"""


def question(version: QuestionnaireVersion, code: str) -> Question:
    return db.session.scalar(
        select(Question).where(Question.version_id == version.id, Question.code == code)
    )


def rating(code: str, **fields) -> qm.Question:
    return qm.Question(code=code, type="rating", text=qm.Label("新", "New"), **fields)


def codes(version: QuestionnaireVersion) -> list[list[str]]:
    return [[q.code for q in s.questions] for s in version.sections]
