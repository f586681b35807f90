"""The respondent form built from a definition: one field per question, legal values only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField

from questionnaires import QUESTION_TYPES, load_dir, loads
from survey.questionnaire_form import (
    COMMENT_SUFFIX,
    FIELD_BUILDERS,
    MAX_COMMENT_LENGTH,
    SUBMISSION_KEY,
    SurveyForm,
    blank_hidden_tag,
    complete_submit,
    field_name,
    form_for,
)
from tests.conditional import CONDITIONAL

DEFINITION = loads("""
id: forms-test
title: Forms test
groups:
  - {code: a, label: Group A}
  - {code: b, label: Group B}
sections:
  - code: s
    title: Section
    questions:
      - {code: rate, type: rating, text: Rate, follow_up: Why}
      - {code: data, type: nps, text: Recommend, audience: [a]}
      - {code: pick, type: choice, text: Pick, choices: [{code: x, label: X}, {code: y, label: Y}]}
      - {code: many, type: multi, text: Many, required: false,
         choices: [{code: x, label: X}, {code: y, label: Y}]}
      - {code: say, type: text, text: Say}
      - {code: count, type: integer, text: Count, min_value: 0, max_value: 99, required: false}
      - {code: intro, type: note, text: Read this}
""")


def make(app, data: dict, group: str = "a", required: bool = True):
    form_class = form_for(DEFINITION.for_group(group), "en", enforce_required=required)
    with app.test_request_context(method="POST"):
        return form_class(formdata=MultiDict(data))


def test_each_type_gets_its_field(app):
    form = make(app, {})
    kinds = {q.code: type(form.field(q)) for q in form.questions}
    assert kinds == {
        "rate": RadioField,
        "data": RadioField,
        "pick": RadioField,
        "many": kinds["many"],
        "say": TextAreaField,
        "count": StringField,
    }
    assert issubclass(kinds["many"], SelectMultipleField)
    assert form.comment_field(DEFINITION.question("rate")) is not None


def test_a_question_code_cannot_shadow_a_form_attribute(app):
    form = make(app, {field_name("data"): "7"})
    assert callable(form.validate) and form.field(DEFINITION.question("data")).data == "7"


def test_valid_answers_parse_to_their_stored_values(app):
    form = make(
        app,
        MultiDict(
            [
                ("q_rate", "2"),
                ("q_rate__comment", " slow "),
                ("q_data", "9"),
                ("q_pick", "y"),
                ("q_many", "y"),
                ("q_many", "x"),
            ]
        ),
    )
    assert form.validate(), form.errors
    assert form.answers() == {
        "rate": 2,
        "data": 9,
        "pick": "y",
        "many": ("x", "y"),
        "say": None,
        "count": None,
    }
    assert form.comments() == {"rate": "slow"}


@pytest.mark.parametrize(
    "bad", [{"q_rate": "6"}, {"q_data": "11"}, {"q_pick": "z"}, {"q_many": "z"}]
)
def test_values_outside_the_definition_are_errors(app, bad):
    form = make(app, {"q_rate": "3", "q_data": "5", "q_pick": "x"} | bad)
    assert not form.validate()
    assert list(form.errors) == [next(iter(bad))]


def test_required_questions_only_when_submitting(app):
    assert not make(app, {}).validate()
    assert make(app, {}, required=False).validate()


def test_other_groups_items_are_not_in_the_form(app):
    form = make(app, {}, group="b")
    assert [q.code for q in form.questions] == ["rate", "pick", "many", "say", "count"]
    assert form.foreign_fields(["q_data", "q_rate", "csrf_token"]) == ["q_data"]


def test_every_field_kind_of_the_registry_has_a_builder():
    # A note is never answered, so it has no field.
    assert {t.field for t in QUESTION_TYPES.values() if t.answered} <= set(FIELD_BUILDERS)


def test_a_note_has_no_field_and_is_never_answered(app):
    form = make(app, {field_name("intro"): "typed anyway"})
    assert "intro" not in [q.code for q in form.questions]
    assert field_name("intro") not in form._fields
    assert form.foreign_fields([field_name("intro")]) == [field_name("intro")]


def test_an_integer_field_is_a_number_input_within_its_limits(app):
    form = make(app, {field_name("count"): "100"})
    html = str(form.field(DEFINITION.question("count")))
    assert 'type="number"' in html and 'min="0"' in html and 'max="99"' in html
    assert not form.validate()
    assert form.field(DEFINITION.question("count")).errors == ["the number must be at most 99"]
    assert make(app, {field_name("count"): "7"}).answers()["count"] == 7


def test_a_text_field_carries_its_max_length_to_the_browser(app):
    definition = loads(
        "id: t\ntitle: T\nsections:\n  - code: s\n    title: S\n    questions:\n"
        "      - {code: say, type: text, text: Say, max_length: 10}\n"
    )
    with app.test_request_context(method="POST"):
        form = form_for(definition, "en")(formdata=MultiDict({field_name("say"): "x" * 11}))
        assert 'maxlength="10"' in str(form.field(definition.question("say")))
        assert not form.validate()
        assert form.field(definition.question("say")).errors == [
            "the text is 11 characters long; at most 10 are allowed"
        ]


def test_the_definition_above_asks_every_registered_type():
    # So that test_each_type_gets_its_field covers a type as soon as it is registered.
    assert {q.type for q in DEFINITION.questions()} == set(QUESTION_TYPES)


GRIDDED = loads("""
id: grid-form
title: Grid form
sections:
  - code: s
    title: Section
    questions:
      - code: services
        type: grid
        text: Rate each
        follow_up: Why
        rows:
          - {code: fast, text: Fast}
          - {code: kind, text: Kind}
""")


def test_each_grid_row_is_a_rating_field_and_the_grid_none(app):
    form_class = form_for(GRIDDED, "en")
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({"q_fast": "5", "q_kind": "9"}))
        assert [q.code for q in form.questions] == ["fast", "kind"]
        assert field_name("services") not in form._fields
        assert all(isinstance(form.field(q), RadioField) for q in form.questions)
        assert all(form.comment_field(q) is not None for q in form.questions)
        assert not form.validate()
        fast, kind = form.questions
        assert form.field(fast).errors == []
        assert form.field(kind).errors == ["9 is not a point of this scale"]


def test_two_forms_of_one_class_never_share_what_was_posted(app):
    # The fields of a generated class are bound once and copied for each form (Meta.bind_field):
    # one request's answers, errors and form must never show in another's.
    form_class = form_for(DEFINITION.for_group("a"), "en")
    with app.test_request_context(method="POST"):
        first = form_class(formdata=MultiDict({"q_rate": "5", "q_pick": "z"}))
        assert not first.validate()
        second = form_class(formdata=MultiDict({"q_rate": "2"}))
        rate = DEFINITION.question("rate")
        assert (first.field(rate).data, second.field(rate).data) == ("5", "2")
        assert first.field(rate) is not second.field(rate)
        assert second.field(rate)._form is second and second.field(rate).meta is second.meta
        assert first.field(DEFINITION.question("pick")).errors
        assert not second.field(DEFINITION.question("pick")).errors
        assert second.field(rate).label.text == "Rate"
        assert second.validate() is False and second.answers()["rate"] == 2


def test_with_conditions_each_answer_is_parsed_once_per_validation(app, monkeypatch):
    # hidden_codes() parses the answers to evaluate the conditions; validate() takes them.
    definition = loads("""
id: parsed-once
title: Parsed once
sections:
  - code: s
    title: Section
    questions:
      - {code: used, type: choice, text: Used, choices: [{code: "yes", label: "Yes"}, {code: "no", label: "No"}]}
      - {code: rate, type: rating, text: Rate, show_if: "${used} = 'yes'"}
""")
    form_class = form_for(definition, "en")
    parsed: list[str] = []
    for kind in ("choice", "rating"):
        original = QUESTION_TYPES[kind].parse

        def counting(q, raw, original=original):
            parsed.append(q.code)
            return original(q, raw)

        monkeypatch.setattr(QUESTION_TYPES[kind], "parse", counting)
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict({"q_used": "yes", "q_rate": "4"}))
        assert form.validate()
        assert sorted(parsed) == ["rate", "used"]
        assert form.answers() == {"used": "yes", "rate": 4}


@pytest.mark.parametrize("formdata", [None, {"submission_key": 'a<b"c'}])
def test_the_hidden_tag_is_flask_wtfs_html(app, formdata):
    # SurveyForm renders its hidden inputs itself (survey.questionnaire_form._hidden_input);
    # the HTML must stay what Flask-WTF's hidden_tag() gives, a damaged key escaped alike.
    from flask_wtf import FlaskForm

    with app.test_request_context(method="POST" if formdata else "GET", data=formdata):
        # The tests' app turns CSRF off: this form has its token all the same.
        extra = {"meta": {"csrf": True}} | ({} if formdata else {"formdata": None})
        form = form_for(DEFINITION, "en")(**extra)
        ours = form.hidden_tag()
        assert 'name="csrf_token" type="hidden"' in ours
        assert 'name="submission_key" type="hidden"' in ours
        assert ours == FlaskForm.hidden_tag(form)
        assert form.hidden_tag("submission_key") == FlaskForm.hidden_tag(form, "submission_key")


# --------------------------------------------------------------- a submit read without the form

SHIPPED = load_dir(Path(__file__).resolve().parents[2] / "questionnaires" / "definitions")
# Every type (DEFINITION), conditions on questions and on a section (CONDITIONAL), and the
# questionnaires the office ships, each as one of its groups sees it.
FORMS = [
    (DEFINITION, "a"),
    (DEFINITION, "b"),
    (CONDITIONAL, "mayors"),
    *((q, q.groups[0].code) for q in SHIPPED),
]


def _offered(q) -> list[str]:
    """Values the page offers for ``q``, and values it never does."""
    if q.scale is not None:
        legal = [str(p.value) for p in q.scale.points]
    elif q.choices:
        legal = [c.code for c in q.choices]
    elif q.type == "integer":
        legal = [str(q.min_value or 0), str(q.max_value if q.max_value is not None else 7)]
    else:
        legal = ["fine", "  padded  ", "with\x00nul"]
    return legal + ["", " ", "9", "-1", "zz", "x" * (MAX_COMMENT_LENGTH + 1)]


@st.composite
def _posts(draw, questionnaire, required: bool):
    form_class = form_for(questionnaire, "en", enforce_required=required)
    posted = MultiDict()
    for q in form_class.questions:
        values = _offered(q)
        legal = values[:-6]
        # Mostly what a browser sends (one legal value, or nothing for a question left out),
        # sometimes anything: the same value twice, a value not offered, a comment too long.
        count = draw(st.sampled_from([1, 1, 1, 1, 0, 2]))
        pool = legal if draw(st.integers(0, 4)) else values
        for value in draw(st.lists(st.sampled_from(pool), min_size=count, max_size=count)):
            posted.add(field_name(q.code), value)
        if q.follow_up is not None and draw(st.integers(0, 2)) == 0:
            posted.add(
                field_name(q.code) + COMMENT_SUFFIX,
                draw(st.sampled_from(["why", "  ", "", "a\x00b", "y" * (MAX_COMMENT_LENGTH + 1)])),
            )
    key = draw(st.sampled_from([None, None, "k3y_-OK", "", " ", "bad key!", "z" * 65, "ok\n"]))
    if key is not None:
        posted.add("submission_key", key)
    if draw(st.integers(0, 9)) == 0:
        posted.add("q_not_in_this_form", "1")
    posted.add("action", "submit")
    return form_class, posted


@pytest.mark.parametrize("questionnaire, group", FORMS, ids=lambda x: getattr(x, "id", x))
@pytest.mark.parametrize("required", [True, False], ids=["submit", "draft rules"])
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_submit_read_without_the_form_is_what_the_form_accepts_and_keeps(
    app, questionnaire, group, required, data
):
    form_class, posted = data.draw(_posts(questionnaire.for_group(group), required))
    with app.test_request_context(method="POST"):
        complete = complete_submit(form_class, posted)
        form = form_class(formdata=posted)
        accepted = form.validate() and not form.foreign_fields(posted.keys())
        assert (complete is not None) == accepted
        if complete is None:
            return
        assert complete.answers == form.answers()
        assert complete.comments == form.comments()
        assert list(complete.draft.items()) == list(form.draft().items())
        if posted.get("submission_key"):
            assert complete.submission_key == form.submission_key.data
        else:
            # Each makes one of its own, as a form posted without a key does.
            assert SUBMISSION_KEY.match(complete.submission_key)


def test_a_complete_submit_is_read_without_the_form(app):
    # The fast path must be the one taken by a plain answered survey, or it saves nothing.
    form_class = form_for(CONDITIONAL.for_group("mayors"), "en")
    posted = MultiDict(
        {
            "q_used_meetings": "yes",
            "q_mtg_rating": "2",
            "q_mtg_rating__comment": " too late \x00",
            "q_mtg_rooms": "4",
            "q_mtg_problem": "",
            "q_overall": "3",
            "submission_key": "abc",
        }
    )
    with app.test_request_context(method="POST"):
        complete = complete_submit(form_class, posted)
    assert complete is not None
    assert complete.answers == {
        "used_meetings": "yes",
        "mtg_rating": 2,
        "mtg_rooms": 4,
        "mtg_problem": None,
        "overall": 3,
    }
    assert complete.comments == {"mtg_rating": "too late"}
    assert complete.submission_key == "abc"
    # "no" hides the rating: its answer and its comment are neither required nor kept.
    posted.setlist("q_used_meetings", ["no"])
    with app.test_request_context(method="POST"):
        hidden = complete_submit(form_class, posted)
    assert hidden.answers["mtg_rating"] is None and hidden.comments == {}
    assert "q_mtg_rating" not in hidden.draft


@pytest.mark.parametrize("csrf", [True, False])
def test_the_blank_hidden_tag_is_the_forms(app, csrf):
    # The page kept with slots fills its hidden inputs without building a form.
    app.config["WTF_CSRF_ENABLED"] = csrf
    with app.test_request_context():
        ours = blank_hidden_tag()
        forms = SurveyForm(formdata=None).hidden_tag()
    key = re.compile(r'(name="submission_key" type="hidden" value=")[^"]+"')
    assert key.search(ours) and key.search(forms)
    assert key.sub(r'\1K"', ours) == key.sub(r'\1K"', forms)
    assert ('name="csrf_token"' in ours) is csrf
