"""Analysis of a questionnaire with conditions: a hidden question is not asked, not missing.
The raw export writes NOT_ASKED for it and leaves a skipped one empty; the satisfaction figures
count answers only, so their n is that of the respondents asked."""

from __future__ import annotations

import csv
import io

from analysis import item_table
from survey import responses
from survey.models import utcnow
from survey.results import exports
from survey.results.frames import answers_frame
from tests.conditional import conditional_round, invite


def _answer(round_, group, answers, comments=None):
    invitation = invite(round_, group)
    responses.submit(invitation, answers, comments or {}, f"k-{invitation.id}", utcnow())


def _filled(office_version):
    round_ = conditional_round(office_version)
    _answer(round_, "departments", {"used_meetings": "no", "overall": 4})
    _answer(round_, "departments", {"used_meetings": "yes", "mtg_rating": 5, "overall": 5})
    _answer(round_, "mayors", {"used_meetings": "yes", "mtg_rating": 1, "mtg_rooms": 4})
    return round_


def test_the_raw_export_marks_not_asked_apart_from_skipped(app, office_version):
    round_ = _filled(office_version)
    text = "".join(exports.answers_csv(round_, "en"))
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    no, yes, mayor = rows
    na = exports.NOT_ASKED
    # "no" hides the meeting rating (and its comment) and the problems part: not asked.
    assert (no["mtg_rating"], no["mtg_rating_comment"], no["mtg_problem"]) == (na, na, na)
    assert no["mtg_rooms"] == na  # a mayors' item: not asked of a department either
    assert (no["used_meetings"], no["overall"]) == ("no", "4")
    # "yes" with a 5: the rating was asked, the problems part (rating <= 2) was not.
    assert (yes["mtg_rating"], yes["mtg_rating_comment"], yes["mtg_problem"]) == ("5", "", na)
    # The mayor's 1 opened the problems part, left empty: asked and skipped; so was overall.
    assert (mayor["mtg_problem"], mayor["overall"], mayor["mtg_rooms"]) == ("", "", "4")


def test_a_round_without_conditions_or_audience_marks_nothing(app, office_version):
    round_ = conditional_round(office_version)
    layout = exports.raw_layout(round_)
    flat = layout.definition.for_group(None)
    assert exports.RawLayout(True, layout.questions, (), definition=None).asked("x", {}) is None
    assert layout.asked("departments", {"used_meetings": ("yes", None)}) == frozenset(
        {"used_meetings", "mtg_rating", "overall"}
    )
    assert len(flat.questions()) == 5


def test_the_satisfaction_n_counts_those_asked_only(app, office_version):
    round_ = _filled(office_version)
    frame = answers_frame(round_)
    ratings = frame[frame["question"] == "mtg_rating"]
    # Asked twice (answered 5 and 1), hidden once: the hidden one is no row, not a NaN.
    assert sorted(ratings["value"]) == [1.0, 5.0]
    table = item_table(frame)
    assert table.set_index("question").loc["mtg_rating", "n"] == 2
