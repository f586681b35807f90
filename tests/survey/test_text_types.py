"""Text columns: a NUL character that a user pastes is dropped, never a server error.

PostgreSQL refuses NUL in text while SQLite keeps it; these tests run on both (the suite's
PostgreSQL run sets TEST_DATABASE_URL), and the outcome must be the same."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer, Unit
from survey.text_types import without_nul
from tests.survey.respond.test_views import complete_answers, submit


def test_without_nul_drops_only_the_nul():
    assert without_nul("a\x00b\x00") == "ab"
    assert without_nul("河道\x00太脏") == "河道太脏"
    assert without_nul(None) is None
    assert without_nul(5) == 5


def test_a_comment_with_a_nul_is_stored_without_it(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers() | {"q_comment": "谢\x00谢", "q_city_environment__comment": "\x00=1+1"}
    page = submit(client, invitation, data)
    assert page.status_code == 303  # on to the confirmation page
    answers = {a.question_code: a for a in db.session.scalars(select(Answer))}
    assert answers["comment"].text == "谢谢"
    assert answers["city_environment"].comment == "=1+1"


def test_a_nul_in_a_lookup_finds_nothing_instead_of_failing(app, make_invitation):
    make_invitation()
    # Bound through the column's type, so PostgreSQL gets a value it accepts.
    assert db.session.scalar(select(Unit).where(Unit.code == "\x00")) is None
