"""Factories for the app's tests, as fixtures (the shape of Redash's ModelFactory and CTFd's
gen_*): users and logins, the shipped questionnaire with the demo units, rounds, invitations
and answers; rounds with known results; corrective actions at every step of the loop. The root
conftest registers this module, so every test may ask for any of them."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from questionnaires import DEFINITIONS_DIR, load
from survey import corrective, responses
from survey.extensions import db
from survey.models import (
    ActionEvent,
    Answer,
    CorrectiveAction,
    Invitation,
    Question,
    RespondentGroup,
    Response,
    Round,
    ServicePoint,
    Unit,
    User,
    utcnow,
)
from survey.results import clear_cache
from tests.survey.review.data import fill

PASSWORD = "correct horse battery"
_keys = itertools.count(1)


# --- users, the questionnaire, rounds and invitations -------------------------------------------


class AuthActions:
    def __init__(self, client, make_user):
        self._client = client
        self._make_user = make_user

    def login(self, role: str = "designer", **kwargs) -> User:
        user = self._make_user(role=role, **kwargs)
        response = self._client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return user

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def make_user(app: Flask):
    counter = iter(range(1, 10_000))

    def make(role: str = "designer", email: str | None = None, unit: Unit | None = None) -> User:
        user = User(
            email=email or f"{role}{next(counter)}@office.test",
            role=role,
            display_name=role,
            unit=unit,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def auth(client, make_user) -> AuthActions:
    return AuthActions(client, make_user)


@pytest.fixture
def office_version(app: Flask):
    """The shipped office-services questionnaire stored as a published version, with the demo
    units of the Shaoxing office."""
    from importlib import resources

    from survey.questionnaire_store import save_version
    from survey.units import import_units_csv

    version = save_version(load(DEFINITIONS_DIR / "office-services.yaml"))
    import_units_csv(resources.files("survey.demo_data").joinpath("units.csv").read_text("utf-8"))
    db.session.commit()
    return version


@pytest.fixture
def make_round(office_version):
    def make(status: str = "open", anonymous: bool = False, **kwargs) -> Round:
        now = utcnow()
        round_ = Round(
            name=kwargs.pop("name", "2004 autumn"),
            version=office_version,
            status=status,
            anonymous=anonymous,
            opens_at=kwargs.pop("opens_at", now - timedelta(days=1)),
            closes_at=kwargs.pop("closes_at", now + timedelta(days=30)),
            **kwargs,
        )
        office_version.frozen_at = office_version.frozen_at or now
        db.session.add(round_)
        db.session.commit()
        return round_

    return make


@pytest.fixture
def make_invitation(make_round):
    def make(group: str = "departments", round_: Round | None = None, **kwargs) -> Invitation:
        round_ = round_ or make_round(**kwargs)
        unit = db.session.scalar(
            select(Unit)
            .join(RespondentGroup)
            .where(RespondentGroup.code == group)
            .order_by(Unit.id)
        )
        invitation = Invitation(round=round_, unit=unit, group_id=unit.group_id)
        db.session.add(invitation)
        db.session.commit()
        return invitation

    return make


# --- rounds with known results (the results tests) -----------------------------------------


@pytest.fixture(autouse=True)
def fresh_results_cache():
    """Each test starts without cached results: databases of different tests reuse round ids."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def answer(make_invitation):
    """answer(round_, group, answers, comments=None, source="web") stores one response."""

    def add(
        round_: Round, group: str, answers: dict, comments: dict | None = None, source: str = "web"
    ):
        invitation = make_invitation(group=group, round_=round_)
        return responses.submit(
            invitation, answers, comments or {}, f"t-{next(_keys)}", utcnow(), source=source
        )

    return add


@pytest.fixture
def known_round(make_round, answer) -> Round:
    return fill(make_round(), answer)


@pytest.fixture
def empty_round(make_round) -> Round:
    return make_round(name="2005 spring")


@pytest.fixture
def weighted_round(make_round, answer) -> Round:
    return fill(make_round(weights={"departments": 0.5, "mayors": 0.5}), answer)


@pytest.fixture
def two_rounds(make_round, answer) -> tuple[Round, Round]:
    """A previous round (all satisfied on doc_timeliness) and the known round after it."""
    before = make_round(name="2003 autumn", created_at=utcnow() - timedelta(days=365))
    for _ in range(6):
        answer(before, "departments", {"doc_timeliness": 5, "overall": 5, "mtg_minutes": 4})
    before.status = "closed"  # only a closed round is "last time" (rounds.earlier_rounds)
    return before, fill(make_round(), answer)


# Rating scales a questionnaire may declare: (values, satisfied, dissatisfied, declared?).
OTHER_SCALES = {
    "three_points": ((1, 2, 3), (3,), (1,), False),
    "odd_values": ((1, 3, 5, 7, 9), (7, 9), (1, 3), False),
    "top_box": ((1, 2, 3, 4, 5), (5,), (1, 2), True),
    # A 7-point scale as a clerk defines it in the scale library (issue 19).
    "seven_points": ((1, 2, 3, 4, 5, 6, 7), (6, 7), (1, 2, 3), True),
}


@pytest.fixture
def scaled_round(office_version, answer):
    """scaled_round("three_points") -> (round, expected): a round of the office questionnaire
    whose rating items all use that scale of ``OTHER_SCALES`` (declared in the file, with its
    satisfied and dissatisfied points when ``declared``), answered by 6 departments and 6
    mayors' offices, each point of the scale in turn; ``expected`` holds each item's n,
    satisfied and dissatisfied counts."""
    from questionnaires import dump, loads
    from questionnaires.model import Label, Scale, ScalePoint
    from survey.questionnaire_store import save_version

    def make(name: str) -> tuple[Round, dict[str, tuple[int, int, int]]]:
        values, satisfied, dissatisfied, declared = OTHER_SCALES[name]
        points = tuple(ScalePoint(v, Label(f"第{v}级", f"Point {v}")) for v in values)
        scale = Scale(name, points, *((satisfied, dissatisfied) if declared else ((), ())))
        office = load(DEFINITIONS_DIR / "office-services.yaml")
        sections = tuple(
            replace(s, questions=tuple(
                replace(q, scale=scale) if q.type == "rating" else q for q in s.questions
            ))
            for s in office.sections
        )  # fmt: skip
        definition = replace(office, id=f"office-{name}", scales=(scale,), sections=sections)
        version = save_version(loads(dump(definition)))  # the loader takes it as a file
        round_ = Round(name=f"2004 {name}", version=version, status="open",
                       opens_at=utcnow() - timedelta(days=1),
                       closes_at=utcnow() + timedelta(days=30))  # fmt: skip
        version.frozen_at = utcnow()
        db.session.add(round_)
        db.session.commit()
        expected: dict[str, list[int]] = {}
        turn = itertools.count()
        for group in ["departments"] * 6 + ["mayors"] * 6:
            given = {}
            for q in definition.for_group(group).questions():
                if q.type == "rating":
                    value = values[next(turn) % len(values)]
                    given[q.code] = value
                    row = expected.setdefault(q.code, [0, 0, 0])
                    row[0] += 1
                    row[1] += value in satisfied
                    row[2] += value in dissatisfied
            answer(round_, group, given)
        return round_, {code: tuple(row) for code, row in expected.items()}

    return make


# --- corrective actions at every step of the loop ------------------------------------------


@pytest.fixture
def rate(app):
    """rate(round_, satisfied, n, question=..., group=..., low=3, comments=(), at=now) stores n
    responses of one group to one item, submitted ``at``: ``satisfied`` of them rate 5, the rest ``low``; the first
    ``len(comments)`` low ratings come with those comments."""

    def add(
        round_: Round,
        satisfied: int,
        n: int,
        question: str = "doc_timeliness",
        group: str = "departments",
        low: int = 3,
        comments: tuple[str, ...] = (),
        at: datetime | None = None,
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
                    submitted_at=at or utcnow(),
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
    """next_round(satisfied, n=10, at=now, status="closed"): the following round of the same
    questionnaire, with that rating of doc_timeliness, submitted ``at``."""

    def make(
        satisfied: int, n: int = 10, at: datetime | None = None, status: str = "closed"
    ) -> Round:
        later = make_round(
            name="2005 spring",
            status=status,
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=60),
        )
        return rate(later, satisfied, n, at=at)

    return make


@pytest.fixture
def ready(assigned, owner, next_round) -> CorrectiveAction:
    """An action with everything each step of the loop asks for: owner and due date, root
    cause, a done step, what was done, and a next round that meets the threshold (9 of 10)
    with answers submitted tomorrow, after the implementation the test makes today."""
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
    next_round(9, at=utcnow() + timedelta(days=1))
    db.session.commit()
    return assigned


@pytest.fixture
def force():
    """force(action, status) puts an action in ``status`` directly (test set-up only; the app
    moves through corrective.move())."""

    def put(action: CorrectiveAction, status: str) -> CorrectiveAction:
        if status in ("implemented", "verification", "closed") and not (
            corrective.implemented_at(action)
        ):
            # The app reaches these only through "implement", whose time verification reads.
            mark_implemented(action, utcnow() - timedelta(days=1))
        action.status = status
        key = corrective.open_key(action.question_code, action.served_unit)
        action.open_key = key if status in corrective.ACTIVE else None
        db.session.commit()
        return action

    return put


def mark_implemented(action: CorrectiveAction, at: datetime) -> None:
    """Record that the action was marked implemented ``at`` (test set-up only)."""
    db.session.add(
        ActionEvent(
            action=action,
            kind="transition",
            at=at,
            from_status="planned",
            to_status="implemented",
            data={"transition": "implement"},
        )
    )
    db.session.flush()


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


# --- reading back ---------------------------------------------------------------------------


def all_actions() -> list[CorrectiveAction]:
    """Every corrective action, oldest first."""
    return list(db.session.scalars(select(CorrectiveAction).order_by(CorrectiveAction.id)))


def event_kinds(action: CorrectiveAction) -> list[str]:
    """The kinds of an action's history events, in order."""
    query = select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
    return [event.kind for event in db.session.scalars(query)]


# --- public feedback ---------------------------------------------------------------------------


@pytest.fixture
def make_point(app):
    """make_point(code) adds a service point of the current office (a hall, unless told)."""

    def make(code: str = "hall-1", kind: str = "hall") -> ServicePoint:
        point = ServicePoint(
            code=code, name_zh=f"{code} 服务大厅", name_en=f"{code} service hall", kind=kind
        )
        db.session.add(point)
        db.session.commit()
        return point

    return make
