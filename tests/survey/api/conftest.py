"""API tokens for the API tests: make_token(user, scopes) -> the plaintext secret."""

from __future__ import annotations

import pytest

from survey import api_tokens
from survey.extensions import db
from survey.models import utcnow


@pytest.fixture
def make_token():
    def make(user, scopes=("read_results",), name="report script") -> str:
        _, secret = api_tokens.create(user, name, list(scopes), utcnow())
        db.session.commit()
        return secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# Three mayors' offices (fewer than the anonymity threshold of 5), six departments and six
# congress offices, and what each answers.
CHOICE_AUDIENCE = {"departments": 6, "congress": 6, "mayors": 3}
MAYOR_SECRET = "only the mayors wrote this"


@pytest.fixture
def choice_round(office_version, answer):
    """A round of the office questionnaire plus a several-choices question asked only of the
    mayors: everyone rates the overall item and picks a contact channel, the mayors rate it
    1 with a comment and answer their own question."""
    from dataclasses import replace
    from datetime import timedelta

    from questionnaires import DEFINITIONS_DIR, dump, load, loads
    from questionnaires.model import Choice, Label, Question
    from survey.models import Round
    from survey.questionnaire_store import save_version

    office = load(DEFINITIONS_DIR / "office-services.yaml")
    topics = Question(
        code="mayor_topics",
        type="multi",
        text=Label("关注事项", "Topics of concern"),
        audience=("mayors",),
        required=False,
        choices=tuple(Choice(c, Label(c, c)) for c in ("traffic", "budget", "schools")),
    )
    last = office.sections[-1]
    sections = (*office.sections[:-1], replace(last, questions=(*last.questions, topics)))
    version = save_version(loads(dump(replace(office, id="office-choices", sections=sections))))
    version.frozen_at = utcnow()
    round_ = Round(
        name="2004 choices",
        version=version,
        status="open",
        opens_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=30),
    )
    db.session.add(round_)
    db.session.commit()
    channels = ["phone", "documents", "network"]
    for group, count in CHOICE_AUDIENCE.items():
        for i in range(count):
            given = {"overall": 4 + i % 2, "contact_channel": channels[i % 3]}
            comments = {}
            if group == "mayors":
                given.update(overall=1, contact_channel="in_person", mayor_topics=("budget",))
                comments = {"overall": MAYOR_SECRET}
            else:
                given["comment"] = f"{group} remark {i}"
            answer(round_, group, given, comments)
    return round_
