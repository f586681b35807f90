"""A grid on the respondent's page: a table of radios on a desk, stacked groups on a phone (CSS),
one radiogroup per row named by the grid's text and the row's, errors and follow-ups per row.
The shipped office questionnaire asks its four document items as a grid (doc_aspects)."""

from __future__ import annotations

import re

from sqlalchemy import select

from survey.extensions import db
from survey.models import Answer
from tests.html import form_values
from tests.survey.respond.test_views import complete_answers, submit

ROWS = ("doc_timeliness", "doc_accuracy", "doc_standards", "doc_circulation")


def page_of(client, invitation) -> str:
    return client.get(f"/r/{invitation.token}?lang=en", follow_redirects=True).text


def row_html(page: str, code: str) -> str:
    """The markup of one grid row, up to the next row or the end of the grid."""
    start = page.rindex("<div", 0, page.index(f'id="question-{code}"'))
    end = page.find('<div class="question grid__row', start + 1)
    return page[start : end if end != -1 else page.index("</section>", start)]


def test_the_grid_is_one_numbered_question_with_a_row_per_item(client, make_invitation):
    page = page_of(client, make_invitation())
    grid = page[page.index('id="question-doc_aspects"') :]
    assert grid.index("1.</span> Please rate each of these aspects") < grid.index("grid__head")
    # The column heads name the scale's points once, for the eye; screen readers get each
    # radio's own label instead.
    head = re.search(r'<div class="grid__head" aria-hidden="true">(.*?)</div>', grid, re.S)
    assert "Very dissatisfied" in head.group(1) and "Very satisfied" in head.group(1)
    assert re.findall(r'id="question-(doc_\w+)" role="radiogroup"', page) == list(ROWS)
    assert "2.</span> Meeting notices" in page  # the next question after the grid


def test_each_row_is_named_by_the_grid_text_and_its_own(client, make_invitation):
    page = page_of(client, make_invitation())
    row = row_html(page, "doc_accuracy")
    assert 'aria-labelledby="grid-doc_aspects-text question-doc_accuracy-text"' in row
    assert 'aria-required="true"' in row
    assert 'id="grid-doc_aspects-text"' in page
    assert 'id="question-doc_accuracy-text">Accuracy of document review' in row
    # One radio per point, all of one name so that the arrow keys move within the row.
    assert re.findall(r'name="(q_doc_accuracy)"[^>]*type="radio" value="(\d)"', row) == [
        ("q_doc_accuracy", str(v)) for v in range(1, 6)
    ]
    assert '<span class="scale__label">Very dissatisfied</span>' in row


def test_a_missing_row_is_reported_on_that_row_only(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers()
    del data["q_doc_standards"]
    page = submit(client, invitation, data).text
    row = row_html(page, "doc_standards")
    assert "question--error" in row and 'aria-invalid="true"' in row
    assert 'aria-describedby="q_doc_standards-error"' in row
    assert "question--error" not in row_html(page, "doc_accuracy")
    # The summary says which grid the row belongs to.
    summary = page[page.index('id="error-summary"') : page.index("</ul>")]
    assert 'href="#question-doc_standards"' in summary
    assert "请对我办公文处理的以下各方面作出评价 – 公文格式和行文的规范性" in summary
    # What was answered stays chosen.
    assert form_values(page)["q_doc_accuracy"] == "4"


def test_rows_are_stored_as_rating_answers_with_their_follow_up(client, make_invitation):
    invitation = make_invitation()
    data = complete_answers() | {
        "q_doc_accuracy": "1",
        "q_doc_accuracy__comment": "数字有误",
        "q_doc_circulation": "5",
    }
    assert submit(client, invitation, data).status_code == 303
    answers = {a.question_code: a for a in db.session.scalars(select(Answer))}
    assert {code: answers[code].value for code in ROWS} == {
        "doc_timeliness": 4,
        "doc_accuracy": 1,
        "doc_standards": 4,
        "doc_circulation": 5,
    }
    assert answers["doc_accuracy"].comment == "数字有误"
    assert "doc_aspects" not in answers  # the grid itself asks nothing


def test_a_row_follow_up_is_labelled_with_its_row(client, make_invitation):
    row = row_html(page_of(client, make_invitation()), "doc_accuracy")
    assert 'data-follow-up="q_doc_accuracy__comment"' in row
    assert 'data-low-max="2"' in row
    label = re.search(r'<label for="q_doc_accuracy__comment"[^>]*>(.*?)</label>', row, re.S)
    assert "Accuracy of document review" in label.group(1)
    assert "Please describe the errors you found" in label.group(1)


def test_a_draft_keeps_the_rows_answered(client, make_invitation):
    invitation = make_invitation()
    data = {"q_doc_timeliness": "2", "q_doc_circulation": "5", "q_doc_timeliness__comment": "慢"}
    assert submit(client, invitation, data, action="save").status_code == 302
    shown = form_values(page_of(client, invitation))
    assert shown == data
