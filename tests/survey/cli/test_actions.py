"""`flask run-rules`, `flask send-reminders` and the demo's corrective actions."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from survey import corrective
from survey.extensions import db
from survey.models import Answer, CorrectiveAction, Response, utcnow


def test_run_rules_command_prints_the_new_actions_once(runner, low_round):
    first = runner.invoke(args=["run-rules", str(low_round.id)])
    assert first.exit_code == 0, first.output
    assert "1 new actions" in first.output
    assert "action 1 doc_timeliness documents rate_below 0.600 10" in first.output
    assert "0 new actions" in runner.invoke(args=["run-rules", str(low_round.id)]).output


def test_run_rules_command_prints_the_notes_on_items(runner, make_round, rate):
    round_ = rate(make_round(), 9, 10, low=1, comments=("rude",))
    result = runner.invoke(args=["run-rules", str(round_.id)])
    assert "0 new actions" in result.output and "1 notes on items" in result.output
    assert re.search(r"^note \d+ doc_timeliness documents 0\.900 10$", result.output, re.M)


def test_send_reminders_command_counts_what_it_sent(runner, assigned):
    assigned.due_date = date.today() + timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["send-reminders"])
    assert "1 to owners, 0 to quality leads" in result.output


def test_demo_with_history_has_actions_that_the_next_round_verifies(runner):
    output = runner.invoke(args=["demo", "--responses", "100"]).output
    assert re.search(r"^previous-round \d+ 2004 spring$", output, re.MULTILINE)
    assert re.search(r"^owner documents \S+@shaoxing.example \S+$", output, re.MULTILINE)
    first = db.session.scalar(
        select(CorrectiveAction).where(CorrectiveAction.question_code == "doc_timeliness")
    )
    assert first.round.name == "2004 spring" and first.round.status == "closed"
    # Fixed over the summer, it waits for verification; every autumn answer came after the fix.
    assert first.status == "verification"
    check = corrective.verify(first)
    assert check.round.name == "2004 autumn" and check.proposal == "effective"
    assert check.n_after == db.session.scalar(
        select(func.count(Answer.id))
        .join(Response)
        .where(Response.round_id == check.round.id, Answer.question_code == "doc_timeliness")
    )
    events = len(first.events)
    again = runner.invoke(args=["demo", "--responses", "100"]).output
    assert len(first.events) == events
    assert re.findall(r"^actions \d+ open$", again, re.MULTILINE) == re.findall(
        r"^actions \d+ open$", output, re.MULTILINE
    )


def test_escalate_cases_command_escalates_each_overdue_case_once(runner, make_point, lead):
    from survey import public_ratings

    point = make_point()
    with runner.app.test_request_context():
        rated = public_ratings.submit(point, public_ratings.Answer(score=1), nonce="c" * 24,
                                      device="d", address="192.0.2.1",
                                      now=utcnow() - timedelta(days=30))  # fmt: skip
    assert rated.case is not None
    assert "cases escalated: 1;" in runner.invoke(args=["escalate-cases"]).output
    assert "cases escalated: 0;" in runner.invoke(args=["escalate-cases"]).output


def test_the_demo_prints_its_service_points_with_their_public_links(runner):
    output = runner.invoke(args=["demo"]).output
    links = re.findall(r"^point (\S+) (https://survey.test/s/\S+)$", output, re.MULTILINE)
    assert [code for code, _ in links] == ["hall-1", "counter-permits", "web-hotline"]
