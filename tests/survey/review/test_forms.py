"""The comments' filter form accepts only the round's items, named groups and scale points."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from survey.results import Labels
from survey.review.forms import comment_filter_form

LABELS = Labels(
    lang="en",
    questions={"doc_timeliness": "Timeliness"},
    categories={},
    groups={"mayors": "Mayors", "departments": "Departments"},
    served_units={},
    question_order=("doc_timeliness",),
    category_order=(),
)


def _form(app, **args):
    with app.test_request_context():
        return comment_filter_form(MultiDict(args), LABELS, {"mayors"}, [1, 2, 3, 4, 5])


def test_filters_become_query_arguments(app):
    form = _form(app, question="doc_timeliness", group="departments", rating="1")
    assert form.validate()
    assert form.filters() == {"question": "doc_timeliness", "group": "departments", "rating": 1}


def test_no_filter_means_everything(app):
    form = _form(app)
    assert form.validate() and form.filters() == {"question": None, "group": None, "rating": None}


def test_a_small_group_is_not_a_choice(app):
    assert not _form(app, group="mayors").validate()


def test_an_unknown_rating_is_refused(app):
    assert not _form(app, rating="9").validate()
