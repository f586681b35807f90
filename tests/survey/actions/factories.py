"""Fixtures for the corrective-action tests: rounds with chosen ratings, users of a served unit,
an action ready for every step of the loop. Test modules load them with
``pytest_plugins = ["tests.survey.actions.factories"]``."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey import corrective
from survey.extensions import db
from survey.models import (
    Answer,
    CorrectiveAction,
    Question,
    RespondentGroup,
    Response,
    Round,
    Unit,
    User,
    utcnow,
)
from tests.conftest import PASSWORD

_keys = itertools.count(1)


@pytest.fixture
def rate(app):
    """rate(round_, satisfied, n, question=..., group=..., low=3, comments=()) stores n responses
    of one group to one item: ``satisfied`` of them rate 5, the rest ``low``; the first
    ``len(comments)`` low ratings come with those comments."""

    def add(
        round_: Round,
        satisfied: int,
        n: int,
        question: str = "doc_timeliness",
        group: str = "departments",
        low: int = 3,
        comments: tuple[str, ...] = (),
    ) -> Round:
        q = db.session.scalar(
            select(Question).where(
                Question.version_id == round_.version_id, Question.code == question
            )
        )
        group_id = db.session.scalar(
            select(RespondentGroup.id).where(RespondentGroup.code == group)
        )
        for i in range(n):
            low_index = i - satisfied
            comment = comments[low_index] if 0 <= low_index < len(comments) else None
            answer = Answer(
                question_id=q.id,
                question_code=question,
                value=5 if i < satisfied else low,
                comment=comment,
            )
            db.session.add(
                Response(
                    round_id=round_.id,
                    group_id=group_id,
                    answers=[answer],
                    submission_key=f"test-{next(_keys)}",
                )
            )
        db.session.commit()
        return round_

    return add


@pytest.fixture
def quick_user(app):
    """Like conftest's make_user (same password), with a one-round hash: these tests make many
    users, and scrypt takes a sixth of a second each."""
    counter = itertools.count(1)

    def make(role: str = "designer", unit: str | None = None) -> User:
        user = User(
            email=f"{role}.{next(counter)}@actions.test",
            role=role,
            display_name=role,
            unit=db.session.scalar(select(Unit).where(Unit.code == unit)) if unit else None,
            password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"),
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def served_user(quick_user, office_version):  # the version brings the served units
    """A user of a served unit (default: document processing), the kind that owns actions."""

    def make(unit: str = "documents", role: str = "designer") -> User:
        return quick_user(role=role, unit=unit)

    return make


@pytest.fixture
def lead(quick_user) -> User:
    return quick_user(role="quality_lead")


@pytest.fixture
def low_round(make_round, rate):
    """An open round in which doc_timeliness (documents) is rated 60% satisfied by 10."""
    return rate(make_round(), 6, 10)


@pytest.fixture
def action(low_round, lead) -> CorrectiveAction:
    """The open action the rules make of ``low_round``."""
    (made,) = corrective.run_rules(low_round, utcnow()).created
    db.session.commit()
    return made


@pytest.fixture
def owner(served_user) -> User:
    return served_user()


@pytest.fixture
def assigned(action, owner, lead) -> CorrectiveAction:
    corrective.assign(action, owner, date.today() + timedelta(days=30), lead, utcnow())
    db.session.commit()
    return action


@pytest.fixture
def next_round(make_round, low_round, rate):
    """next_round(satisfied, n=10): the following round of the same questionnaire, with that
    rating of doc_timeliness."""

    def make(satisfied: int, n: int = 10) -> Round:
        later = make_round(
            name="2005 spring",
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=60),
        )
        return rate(later, satisfied, n)

    return make


@pytest.fixture
def ready(assigned, owner, next_round) -> CorrectiveAction:
    """An action with everything each step of the loop asks for: owner and due date, root
    cause, a done step, what was done, and a next round that meets the threshold (9 of 10)."""
    now = utcnow()
    corrective.record(
        assigned,
        "investigation",
        owner,
        now,
        containment="Phone the units.",
        cause_method="five_whys",
        root_cause="No deadline tracking.",
    )
    step = corrective.add_step(
        assigned,
        "corrective",
        "Track deadlines weekly.",
        owner,
        date.today() + timedelta(days=10),
        owner,
        now,
    )
    corrective.update_step(step, True, "Done.", owner, now)
    corrective.record(
        assigned, "action_taken", owner, now, action_taken="Weekly deadline list since May."
    )
    next_round(9)
    db.session.commit()
    return assigned


@pytest.fixture
def force():
    """force(action, status) puts an action in ``status`` directly (test set-up only; the app
    moves through corrective.move())."""

    def put(action: CorrectiveAction, status: str) -> CorrectiveAction:
        action.status = status
        key = corrective.open_key(action.question_code, action.served_unit)
        action.open_key = key if status in corrective.ACTIVE else None
        db.session.commit()
        return action

    return put


@pytest.fixture
def login_as(client):
    """login_as(user) logs the test client in as that user."""

    def login(user: User) -> None:
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.text

    return login


@pytest.fixture
def world(ready, served_user, owner, lead):
    """The ``ready`` action with a second step owned by another user of the unit; returns the
    action and the people: lead, owner, step owner, and an uninvolved designer and respondent."""
    helper = served_user()
    corrective.add_step(
        ready,
        "preventive",
        "Train the clerks.",
        helper,
        date.today() + timedelta(days=5),
        owner,
        utcnow(),
    )
    db.session.commit()
    people = {
        "quality_lead": lead,
        "owner": owner,
        "step_owner": helper,
        "designer": served_user("meetings"),
        "respondent": served_user(role="respondent"),
        "admin": served_user(role="admin"),
    }
    return ready, people
