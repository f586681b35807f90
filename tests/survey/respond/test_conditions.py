"""Conditions on the respondent's survey: the server decides from the posted answers which
questions are asked; hidden ones are not required and their answers never stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import Invitation, Response
from tests.conditional import conditional_round, invite


@pytest.fixture
def round_(office_version):
    return conditional_round(office_version)


def post(client, invitation, data, action="submit"):
    return client.post(
        f"/r/{invitation.token}?lang=en",
        data={**data, "action": action, "submission_key": f"k-{invitation.id}"},
    )


def stored(invitation) -> dict:
    response = db.session.scalar(select(Response).where(Response.invitation_id == invitation.id))
    assert response is not None
    return {a.question_code: (a.value, a.text, a.comment) for a in response.answers}


def test_hidden_required_question_is_not_required(client, round_):
    invitation = invite(round_)
    response = post(client, invitation, {"q_used_meetings": "no", "q_overall": "4"})
    assert response.status_code == 303, response.text
    assert stored(invitation) == {"used_meetings": (None, "no", None), "overall": (4, None, None)}


def test_shown_required_question_is_required(client, round_):
    invitation = invite(round_)
    response = post(client, invitation, {"q_used_meetings": "yes", "q_overall": "4"})
    assert response.status_code == 400
    assert "Please answer this question." in response.text
    assert db.session.scalar(select(Response)) is None


def test_answers_to_hidden_questions_are_dropped_even_if_posted(client, round_):
    invitation = invite(round_)
    data = {
        "q_used_meetings": "no",
        "q_mtg_rating": "1",
        "q_mtg_rating__comment": "too long",
        "q_mtg_problem": "the room was cold",
        "q_overall": "5",
    }
    assert post(client, invitation, data).status_code == 303
    assert set(stored(invitation)) == {"used_meetings", "overall"}


def test_a_hidden_question_counts_as_unanswered_for_later_conditions(client, round_):
    # mtg_rating 1 would show the "problems" part, but mtg_rating itself is hidden.
    invitation = invite(round_)
    data = {"q_used_meetings": "no", "q_mtg_rating": "1", "q_mtg_problem": "x", "q_overall": "3"}
    assert post(client, invitation, data).status_code == 303
    assert "mtg_problem" not in stored(invitation)


def test_a_section_shown_by_an_answer_keeps_its_answers(client, round_):
    invitation = invite(round_)
    data = {
        "q_used_meetings": "yes",
        "q_mtg_rating": "2",
        "q_mtg_rating__comment": "late",
        "q_mtg_problem": "notice came late",
        "q_overall": "3",
    }
    assert post(client, invitation, data).status_code == 303
    answers = stored(invitation)
    assert answers["mtg_rating"] == (2, None, "late")
    assert answers["mtg_problem"] == (None, "notice came late", None)


def test_a_high_rating_hides_the_problems_part(client, round_):
    invitation = invite(round_)
    data = {"q_used_meetings": "yes", "q_mtg_rating": "5", "q_mtg_problem": "x", "q_overall": "5"}
    assert post(client, invitation, data).status_code == 303
    assert set(stored(invitation)) == {"used_meetings", "mtg_rating", "overall"}


def test_audience_and_conditions_combine(client, round_):
    # mtg_rooms is asked of mayors only, and only after "yes".
    mayor = invite(round_, "mayors")
    response = post(
        client, mayor, {"q_used_meetings": "yes", "q_mtg_rating": "4", "q_overall": "4"}
    )
    assert response.status_code == 400  # mtg_rooms shown and required
    assert 'id="q_mtg_rooms-error"' in response.text or "Meeting rooms: Please" in response.text
    department = invite(round_)
    data = {"q_used_meetings": "yes", "q_mtg_rating": "4", "q_overall": "4"}
    assert post(client, department, data).status_code == 303


def test_a_draft_keeps_no_answer_to_a_hidden_question(client, round_):
    invitation = invite(round_)
    data = {"q_used_meetings": "no", "q_mtg_rating": "3", "q_overall": "4"}
    assert post(client, invitation, data, action="save").status_code == 302
    db.session.expire_all()
    draft = db.session.get(Invitation, invitation.id).draft
    assert draft == {"q_used_meetings": "no", "q_overall": "4"}


def test_a_draft_keeps_the_answers_of_shown_questions(client, round_):
    invitation = invite(round_)
    data = {"q_used_meetings": "yes", "q_mtg_rating": "3"}
    assert post(client, invitation, data, action="save").status_code == 302
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).draft == data


def test_page_carries_conditions_and_notes_for_no_javascript(client, round_):
    invitation = invite(round_)
    page = client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True).text
    # Every question is in the page (without script all are shown), with when to answer it.
    for code in ("used_meetings", "mtg_rating", "mtg_problem", "overall"):
        assert f'name="q_{code}"' in page
    assert "Answer only if you answered &#34;Yes&#34; to question 1." in page
    assert "your answer to question 2 is 2 &#34;Dissatisfied&#34; or lower." in page
    assert 'data-show-if="{&#34;op&#34;:&#34;=&#34;,&#34;q&#34;:&#34;used_meetings&#34;' in page
    assert "conditions.js" in page


def test_a_page_without_conditions_has_no_notes(client, make_invitation):
    page = client.get(f"/r/{make_invitation().token}", follow_redirects=True).text
    assert "data-show-if" not in page and "data-condition-note" not in page
