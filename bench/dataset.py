"""A large round in a real database, written with bulk inserts (not through the web form).

``build(path, responses, previous)`` makes a SQLite database in ``path`` (or uses
``BENCH_DATABASE_URL``) with the demo questionnaire, units and accounts, a previous round and a
current round of the office survey with the given numbers of responses, every response with its
invitation, and about 23 answers each: ratings from a latent model (so items correlate with the
overall item), a choice, an occasional free text, and comments on a third of the 1s and 2s.
Returns the app and the two rounds' ids.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select

from survey import create_app
from survey.cli import demo
from survey.extensions import db
from survey.models import (
    Answer,
    Invitation,
    Question,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    Round,
    Unit,
    utcnow,
)
from survey.questionnaire_store import to_model

CHUNK = 20_000
GROUP_SHARE = {"mayors": 0.02, "departments": 0.70, "cppcc": 0.14, "congress": 0.14}
GROUP_SHIFT = {"mayors": 0.3, "departments": 0.0, "cppcc": -0.2, "congress": 0.1}
COMMENTS = (
    "会议纪要下发太慢，影响贯彻落实。",
    "督办事项反馈不及时。",
    "Minutes arrived late",
    '=HYPERLINK("http://example.test","x")',
)
PASSWORD = "bench-password-2004"


@dataclass
class Dataset:
    app: Flask
    round_id: int
    previous_id: int
    seconds: float


def make_app(path: Path) -> Flask:
    os.environ["SURVEY_INSTANCE_PATH"] = str(path / "instance")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{path / 'bench.sqlite'}"
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "http://127.0.0.1:5000",
        }
    )


def build(path: Path, responses: int, previous: int, seed: int = 2004) -> Dataset:
    start = time.perf_counter()
    app = make_app(path)
    with app.app_context():
        upgrade()
        demo.run(responses_wanted=0)
        current = db.session.scalar(select(Round).where(Round.name == demo.ROUND_NAME))
        old = Round(
            name="2003 autumn",
            version_id=current.version_id,
            status="closed",
            created_at=current.created_at - timedelta(days=365),
        )
        db.session.add(old)
        db.session.commit()
        rng = np.random.default_rng(seed)
        fill(old, previous, rng, drift=0.15)
        fill(current, responses, rng, drift=0.0)
        ids = (current.id, old.id)
    return Dataset(app, ids[0], ids[1], time.perf_counter() - start)


def fill(round_: Round, responses: int, rng: np.random.Generator, drift: float) -> None:
    """Add ``responses`` responses (with invitations and answers) to the round in bulk."""
    version = db.session.get(QuestionnaireVersion, round_.version_id)
    questionnaire = to_model(version)
    question_ids = {q.code: q.id for q in version_questions(version)}
    groups = {g.code: g.id for g in db.session.scalars(select(RespondentGroup))}
    units = {
        code: [
            u.id
            for u in db.session.scalars(
                select(Unit).where(Unit.group_id == gid, Unit.kind == "respondent")
            )
        ]
        for code, gid in groups.items()
    }
    codes = list(GROUP_SHARE)
    for start in range(0, responses, CHUNK):
        size = min(CHUNK, responses - start)
        group_of = rng.choice(len(codes), size=size, p=list(GROUP_SHARE.values()))
        for g, code in enumerate(codes):
            members = np.flatnonzero(group_of == g)
            if len(members):
                _fill_group(
                    round_,
                    questionnaire.for_group(code),
                    question_ids,
                    groups[code],
                    units[code],
                    len(members),
                    rng,
                    drift + GROUP_SHIFT[code],
                )
        db.session.commit()


def version_questions(version: QuestionnaireVersion):
    return db.session.scalars(select(Question).where(Question.version_id == version.id))


def _fill_group(round_, questionnaire, question_ids, group_id, unit_ids, size, rng, shift):
    now = utcnow()
    unit_of = np.asarray(unit_ids)[rng.integers(0, len(unit_ids), size)]
    invitations = db.session.scalars(
        insert(Invitation).returning(Invitation.id, sort_by_parameter_order=True),
        [
            {
                "token": secrets.token_urlsafe(24),
                "round_id": round_.id,
                "unit_id": int(u),
                "group_id": group_id,
                "status": "submitted",
                "submitted_at": now,
            }
            for u in unit_of
        ],
    ).all()
    sources = rng.choice(["web", "paper", "meeting"], size=size, p=[0.8, 0.12, 0.08])
    response_ids = db.session.scalars(
        insert(Response).returning(Response.id, sort_by_parameter_order=True),
        [
            {
                "round_id": round_.id,
                "invitation_id": inv,
                "submission_key": secrets.token_hex(16),
                "group_id": group_id,
                "unit_id": int(u),
                "source": str(s),
                "language": "zh",
                "submitted_at": now,
            }
            for inv, u, s in zip(invitations, unit_of, sources)
        ],
    ).all()
    db.session.execute(
        insert(Answer), _answers(questionnaire, question_ids, response_ids, rng, shift)
    )


def _answers(questionnaire, question_ids, response_ids, rng, shift) -> list[dict]:
    ratings = [q for q in questionnaire.questions() if q.type == "rating"]
    size = len(response_ids)
    mood = rng.normal(0, 0.8, size)
    level = rng.normal(0.9, 0.45, len(ratings)) + shift
    latent = level[None, :] + mood[:, None] + rng.normal(0, 0.9, (size, len(ratings)))
    overall = [i for i, q in enumerate(ratings) if q.code == "overall"]
    if overall:
        latent[:, overall[0]] = 0.7 * mood / 0.8 + 0.6 * latent.mean(axis=1) + 0.5 + shift
    values = np.clip(np.round(latent + 3.4), 1, 5).astype(int)
    commented = (values <= 2) & (rng.random(values.shape) < 0.33)
    comment_pick = rng.integers(0, len(COMMENTS), values.shape)
    rows = []
    for r, response_id in enumerate(response_ids):
        for i, q in enumerate(ratings):
            rows.append(
                {
                    "response_id": response_id,
                    "question_id": question_ids[q.code],
                    "question_code": q.code,
                    "value": int(values[r, i]),
                    "text": None,
                    "comment": COMMENTS[comment_pick[r, i]] if commented[r, i] else None,
                }
            )
    for q in questionnaire.questions():
        if q.type == "choice":
            picks = rng.integers(0, len(q.choices), size)
            rows.extend(
                {
                    "response_id": rid,
                    "question_id": question_ids[q.code],
                    "question_code": q.code,
                    "value": None,
                    "text": q.choices[int(p)].code,
                    "comment": None,
                }
                for rid, p in zip(response_ids, picks)
            )
        elif q.type == "text":
            rows.extend(
                {
                    "response_id": rid,
                    "question_id": question_ids[q.code],
                    "question_code": q.code,
                    "value": None,
                    "text": "希望继续保持，进一步提高办文效率。",
                    "comment": None,
                }
                for rid in response_ids[::10]
            )
    return rows
