"""The action register: its rows, history lines and summary figures, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl

from survey import corrective
from survey.corrective import register
from survey.extensions import db
from survey.models import CorrectiveAction, utcnow


def _actions() -> list[CorrectiveAction]:
    return list(db.session.scalars(db.select(CorrectiveAction)))


def test_a_comment_starting_a_formula_is_kept_as_text(app, make_round, rate):
    corrective.run_rules(rate(make_round(), 6, 10, low=2, comments=("=1+1", "@SUM(A1)")), utcnow())
    with app.test_request_context():
        rows = list(csv.reader(io.StringIO(register.to_csv(_actions(), "en", date.today()))))
    comments = rows[1][register.COLUMNS.index("comments")]
    assert comments == "'=1+1\n@SUM(A1)"


def test_the_summary_rows_count_open_overdue_closed_and_the_median(app, ready, lead, force):
    ready.due_date = date.today() - timedelta(days=1)
    with app.test_request_context():
        rows = register.summary_rows(_actions(), date.today())
    assert rows[:3] == [["open", 1], ["overdue", 1], ["closed", 0]]
    force(ready, "verification")
    corrective.move(ready, "close", lead, ready.created_at + timedelta(days=3))
    assert register.summary_rows(_actions(), date.today())[-1] == ["median_days_to_close", 3.0]


def test_the_workbook_has_the_register_the_history_and_the_summary(app, ready):
    with app.test_request_context():
        book = openpyxl.load_workbook(io.BytesIO(register.to_xlsx(_actions(), "en", date.today())))
    history = list(book["History"].iter_rows(values_only=True))
    assert history[0] == register.HISTORY_COLUMNS and len(history) == 1 + len(ready.events)
    assert [row[0] for row in book["Summary"].iter_rows(values_only=True)][1:3] == [
        "open",
        "overdue",
    ]


def test_a_history_line_says_when_who_what_and_the_status_change(app, ready, lead, force):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    with app.test_request_context(headers={"Accept-Language": "en"}):
        line = register.history_line(ready.events[-1])
    assert line.endswith("quality_lead · Status changed verification → closed")
