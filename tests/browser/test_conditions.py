"""Conditions in a real browser, on a phone: answering "yes" shows the question it opens and
"no" hides it again, with no reload; the same form sent with JavaScript off shows every
question with a note of when to answer it, and the server keeps only the answers that apply.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, ROOT, LiveServer
from tests.browser.survey_page import horizontal_overflow, question, radio

# Run in the live server's database: the conditional questionnaire (tests/conditional.py) as a
# round of its own with two invitations of the departments' group; prints their tokens.
SETUP = """
from survey import create_app, offices, tenancy
from survey.extensions import db
from tests.conditional import conditional_round, invite
app = create_app()
with app.app_context():
    tenancy.enter(offices.by_code("shaoxing").id)  # the server serves three offices
    round_ = conditional_round(None)
    print(invite(round_).token, invite(round_).token)
"""


@pytest.fixture(scope="module")
def links(live_server: LiveServer) -> list[str]:
    env = {
        **os.environ,
        "SURVEY_INSTANCE_PATH": str(live_server.instance),
        "DATABASE_URL": f"sqlite:///{live_server.instance / 'survey.sqlite'}",
        "BASE_URL": live_server.url,
        "SECRET_KEY": "test",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return [f"{live_server.url}/r/{token}" for token in done.stdout.split()]


def stored_answers(live_server: LiveServer, token: str) -> dict[str, tuple]:
    database = live_server.instance / "survey.sqlite"
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT a.question_code, a.value, a.text FROM answer a"
            " JOIN response r ON r.id = a.response_id"
            " JOIN invitation i ON i.id = r.invitation_id WHERE i.token = ?",
            (token,),
        ).fetchall()
    return {code: (value, text) for code, value, text in rows}


def test_yes_reveals_a_question_and_no_hides_it_on_a_phone(new_page, links, shot, live_server):
    page = new_page(locale="en-US", **PHONE)
    page.goto(links[0])
    expect(question(page, "used_meetings")).to_be_visible()
    # Hidden until answered: the rating, the part it opens, and the notes meant for no script.
    expect(question(page, "mtg_rating")).to_be_hidden()
    expect(page.locator("#part-problems")).to_be_hidden()
    expect(page.locator("[data-condition-note]").first).to_be_hidden()
    expect(page.locator("#progress-total")).to_have_text("2")
    # Numbered without gaps: the overall rating is question 2 in part 2 of 2 while hidden.
    expect(question(page, "overall").locator(".question__number")).to_have_text("2.")
    expect(page.locator("#part-overall .survey-section__step")).to_have_text("Part 2 of 2")
    page.evaluate("window.notReloaded = true")
    shot(page, "opened")

    radio(page, "used_meetings", "yes").tap()
    expect(question(page, "mtg_rating")).to_be_visible()
    expect(page.locator("#progress-total")).to_have_text("3")
    expect(question(page, "overall").locator(".question__number")).to_have_text("3.")
    radio(page, "mtg_rating", 1).tap()
    expect(page.locator("#part-problems")).to_be_visible()
    page.locator("#q_mtg_problem").fill("The notice came too late.")
    shot(page, "yes-shows-the-rating-and-a-low-one-the-problems-part", full_page=True)
    assert horizontal_overflow(page) == 0

    radio(page, "used_meetings", "no").tap()
    expect(question(page, "mtg_rating")).to_be_hidden()
    expect(page.locator("#part-problems")).to_be_hidden()  # its rating no longer counts
    expect(page.locator("#q_mtg_problem")).to_be_disabled()
    assert page.evaluate("window.notReloaded") is True
    shot(page, "no-hides-them-again")

    radio(page, "overall", 4).tap()
    page.get_by_role("button", name="Submit answers").tap()
    expect(page.get_by_text("Thank you, your answers were received")).to_be_visible()
    token = links[0].rsplit("/", 1)[1]
    assert stored_answers(live_server, token) == {
        "used_meetings": (None, "no"),
        "overall": (4, None),
    }


def test_without_javascript_every_question_is_shown_and_hidden_answers_ignored(
    new_page, links, shot, live_server
):
    page = new_page(locale="en-US", java_script_enabled=False, **PHONE)
    page.goto(links[1])
    expect(question(page, "mtg_rating")).to_be_visible()
    expect(page.locator("#part-problems")).to_be_visible()
    expect(question(page, "mtg_rating")).to_contain_text(
        'Answer only if you answered "Yes" to question 1.'
    )
    expect(page.locator("#part-problems")).to_contain_text(
        'Answer only if your answer to question 2 is 2 "Dissatisfied" or lower.'
    )
    shot(page, "no-script-notes", full_page=True)
    radio(page, "used_meetings", "no").check()
    radio(page, "mtg_rating", 1).check()  # answered though "no" says not to
    page.locator("#q_mtg_problem").fill("should not be stored")
    radio(page, "overall", 5).check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_text("Thank you, your answers were received")).to_be_visible()
    token = links[1].rsplit("/", 1)[1]
    assert stored_answers(live_server, token) == {
        "used_meetings": (None, "no"),
        "overall": (5, None),
    }
