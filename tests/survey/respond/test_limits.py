"""The respondent's page with a whole-number question, a note and a text with a length limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from questionnaires import DEFINITIONS_DIR, Label, Question, dump, load, loads
from survey.extensions import db
from survey.models import Answer, Response, Round, utcnow
from survey.questionnaire_store import save_version, to_model

EXTRA = (
    Question("intro", "note", Label("以下问题关于贵单位。", "The next questions are about your unit."),
             required=False),
    Question("staff", "integer", Label("贵单位有多少工作人员？", "How many staff does your unit have?"),
             min_value=1, max_value=500),
    Question("short", "text", Label("一句话建议", "One-line suggestion"), required=False,
             max_length=20),
)  # fmt: skip


@pytest.fixture
def limits_round(office_version) -> Round:
    office = load(DEFINITIONS_DIR / "office-services.yaml")
    first = office.sections[0]
    sections = (replace(first, questions=EXTRA + first.questions), *office.sections[1:])
    definition = replace(office, id="office-limits", sections=sections)
    version = save_version(loads(dump(definition)))
    round_ = Round(name="2004 limits", version=version, status="open",
                   opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=30))  # fmt: skip
    version.frozen_at = utcnow()
    db.session.add(round_)
    db.session.commit()
    return round_


def answers_for(round_: Round, **extra: str) -> dict[str, str]:
    data = {"action": "submit", "submission_key": "k1"}
    for q in to_model(round_.version).for_group("departments").questions():
        if q.type == "rating":
            data["q_" + q.code] = "4"
        elif q.type == "choice":
            data["q_" + q.code] = q.choices[0].code
    data["q_staff"] = "12"
    return data | extra


def test_the_page_shows_the_note_the_number_input_and_the_text_limit(
    client, make_invitation, limits_round
):
    invitation = make_invitation(round_=limits_round)
    page = client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True).text
    assert (
        '<div class="survey-note" id="question-intro"><p>The next questions are about your unit.'
        in page
    )
    assert 'name="q_intro"' not in page
    staff = page[page.index('id="q_staff"') - 200 : page.index('id="q_staff"') + 200]
    assert 'type="number"' in staff and 'min="1"' in staff and 'max="500"' in staff
    assert "A whole number from 1 to 500." in page
    assert 'maxlength="20"' in page
    # The note is not a question to answer: numbering and progress leave it out.
    total = len(to_model(limits_round.version).for_group("departments").questions()) - 1
    assert f'data-total="{total}"' in page
    assert '<span class="question__number">1.</span> How many staff' in page


def test_a_number_outside_its_limits_and_a_too_long_text_are_refused_with_reasons(
    client, make_invitation, limits_round
):
    invitation = make_invitation(round_=limits_round)
    client.get(f"/r/{invitation.token}", follow_redirects=True)
    data = answers_for(limits_round, q_staff="501", q_short="x" * 21)
    page = client.post(f"/r/{invitation.token}?lang=en", data=data).text
    assert "the number must be at most 500" in page
    assert "the text is 21 characters long; at most 20 are allowed" in page
    assert db.session.scalar(select(Response.id)) is None
    page = client.post(f"/r/{invitation.token}?lang=en", data=data | {"q_staff": "2.5"}).text
    assert "is not a whole number" in page


def test_the_number_is_stored_and_the_note_is_not(client, make_invitation, limits_round):
    invitation = make_invitation(round_=limits_round)
    client.get(f"/r/{invitation.token}", follow_redirects=True)
    data = answers_for(limits_round, q_short="多开几次座谈会")
    response = client.post(f"/r/{invitation.token}", data=data)
    assert response.status_code == 303
    answers = {a.question_code: a for a in db.session.scalars(select(Answer))}
    assert answers["staff"].value == 12 and answers["short"].text == "多开几次座谈会"
    assert "intro" not in answers


def test_the_raw_export_has_the_number_and_no_column_for_the_note(
    client, auth, make_invitation, limits_round
):
    invitation = make_invitation(round_=limits_round)
    client.get(f"/r/{invitation.token}", follow_redirects=True)
    client.post(f"/r/{invitation.token}", data=answers_for(limits_round))
    from survey.results.exports import raw_layout, raw_rows

    layout = raw_layout(limits_round)
    assert "staff" in layout.header and "intro" not in layout.header
    (row,) = list(raw_rows(limits_round, layout))
    assert row[layout.header.index("staff")] == 12


def test_the_dashboard_summarises_whole_numbers_and_withholds_too_few(
    client, auth, answer, limits_round
):
    for staff in (10, 20, 30, 40):
        answer(limits_round, "departments", {"staff": staff})
    auth.login(role="quality_lead")
    page = client.get(f"/review/rounds/{limits_round.id}?lang=en").text
    row = page[
        page.index('id="number-staff"') : page.index("</tr>", page.index('id="number-staff"'))
    ]
    assert "How many staff" in row and ">4<" in row and "too few answers to show" in row
    answer(limits_round, "departments", {"staff": 100})
    page = client.get(f"/review/rounds/{limits_round.id}?lang=en").text
    row = page[
        page.index('id="number-staff"') : page.index("</tr>", page.index('id="number-staff"'))
    ]
    cells = [c.split("<")[0] for c in row.split('class="num">')[1:]]
    assert cells == ["5", "30.0", "40.0", "10", "100"]  # n, median, mean, lowest, highest


def test_a_note_with_a_condition_carries_it_like_a_question(app):
    from flask import render_template

    from survey.questionnaire_form import form_for

    definition = loads(
        "id: t\ntitle: T\nsections:\n  - code: s\n    title: S\n    questions:\n"
        "      - {code: used, type: choice, text: 'Used it', choices: [{code: 'yes', label: 'Yes'},"
        " {code: 'no', label: 'No'}]}\n"
        "      - {code: why, type: note, text: Thanks for using it, show_if: \"${used} = 'yes'\"}\n"
    )
    with app.test_request_context("/?lang=en"):
        form = form_for(definition, "en")(formdata=None)
        html = render_template(
            "respond/_questions.html", form=form, questionnaire=definition, lang="en"
        )
    note = html[html.index('id="question-why"') :]
    assert note.startswith('id="question-why" data-show-if=')
    assert "data-condition-note" in note[: note.index("</div>")]
