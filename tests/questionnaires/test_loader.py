"""The definition file format: what loads, what it loads to, and how bad files are reported."""

import re
from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from questionnaires import (
    DEFINITIONS_DIR,
    NPS11,
    SATISFACTION5,
    Label,
    QuestionnaireError,
    dump,
    load,
    load_dir,
    loads,
)

SHIPPED = sorted(DEFINITIONS_DIR.glob("*.yaml"))
FORMAT_MD = DEFINITIONS_DIR.parent / "FORMAT.md"


def error_of(text: str | bytes) -> QuestionnaireError:
    """The error that loading `text` (dedented when str) raises."""
    with pytest.raises(QuestionnaireError) as info:
        loads(dedent(text) if isinstance(text, str) else text, filename="bad.yaml")
    return info.value


GROUPS = "groups:\n  - {code: mayors, label: 市长}\n"
UNITS = "served_units:\n  - {code: documents, label: 文书处理}\n"


def one_question(question: str, head: str = "") -> str:
    """A file whose only section holds `question` (YAML of one list item, 6-space indent).

    The question's `- code:` line is line 7 plus the number of lines in `head`.
    """
    return (
        dedent(head)
        + dedent("""\
        id: demo
        title: Demo
        sections:
          - code: main
            title: Main
            questions:
        """)
        + question
    )


def question_error(question: str, head: str = "") -> QuestionnaireError:
    """The error that loading a file made by `one_question` raises."""
    return error_of(one_question(question, head))


def scales_file(points: str, code: str = "s") -> str:
    """A file declaring one scale `code` with `points` (a flow list) on line 5."""
    return f"id: demo\ntitle: Demo\nscales:\n  - code: {code}\n    points: {points}\nsections: []\n"


# ------------------------------------------------------------------------ shipped definitions


def test_definitions_are_shipped():
    assert [p.name for p in SHIPPED] == ["city-residents.yaml", "office-services.yaml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_definition_loads(path):
    questionnaire = load(path)
    assert questionnaire.id == path.stem
    assert questionnaire.questions()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_dump_round_trips_every_shipped_definition(path):
    questionnaire = load(path)
    assert loads(dump(questionnaire)) == questionnaire


def test_load_dir_loads_every_definition_sorted_by_file_name():
    assert [q.id for q in load_dir(DEFINITIONS_DIR)] == ["city-residents", "office-services"]


def test_format_md_example_loads_and_round_trips():
    example = re.search(r"```yaml\n(.*?)```", FORMAT_MD.read_text("utf-8"), re.DOTALL).group(1)
    questionnaire = loads(example, filename="FORMAT.md")
    assert [q.code for q in questionnaire.questions()] == [
        "doc_timeliness",
        "doc_rules_clear",
        "contact_channel",
        "meetings_intro",
        "meetings_attended",
        "comment",
    ]
    assert loads(dump(questionnaire)) == questionnaire


def test_office_survey_asks_every_group_15_to_22_items():
    office = load(DEFINITIONS_DIR / "office-services.yaml")
    counts = {g.code: len(office.for_group(g.code).questions()) for g in office.groups}
    assert set(counts) == {"mayors", "departments", "cppcc", "congress"}
    assert all(15 <= n <= 22 for n in counts.values()), counts


def test_office_rating_items_have_category_and_follow_up():
    office = load(DEFINITIONS_DIR / "office-services.yaml")
    ratings = [q for q in office.questions() if q.type == "rating"]
    assert all(q.category and q.follow_up for q in ratings)
    city = [q for q in ratings if q.category.startswith("city.")]
    assert {q.category for q in city} == {"city.order", "city.environment", "city.appearance"}
    assert all(q.served_unit is None and q.audience == () for q in city)
    services = [q for q in ratings if q not in city]
    assert all(q.served_unit for q in services)


def test_office_overall_item_and_optional_comment():
    office = load(DEFINITIONS_DIR / "office-services.yaml")
    overall, comment = office.question("overall"), office.question("comment")
    assert (overall.category, overall.served_unit) == ("overall", "secretariat")
    assert comment.type == "text" and not comment.required


# ------------------------------------------------------------------------- what a file means


def test_rating_without_scale_gets_builtin_satisfaction5_and_defaults():
    item = """\
      - code: speed
        type: rating
        text: {zh: 速度, en: Speed}
    """
    q = loads(one_question(item)).question("speed")
    assert q.scale == SATISFACTION5
    assert (q.required, q.audience, q.choices, q.line) == (True, (), (), 7)


def test_nps_gets_nps11_and_text_is_optional_by_default():
    items = """\
      - {code: recommend, type: nps, text: Recommend}
      - {code: comment, type: text, text: Comment}
    """
    questionnaire = loads(one_question(items))
    assert questionnaire.question("recommend").scale == NPS11
    assert questionnaire.question("comment").required is False


def test_plain_string_label_serves_both_languages_and_is_stripped():
    questionnaire = loads(one_question("      - {code: a, type: text, text: '  Why? '}\n"))
    assert questionnaire.title == Label("Demo", "Demo")
    assert questionnaire.question("a").text == Label("Why?", "Why?")


def test_label_with_one_language_keeps_the_other_empty():
    q = loads(one_question("      - {code: a, type: text, text: {zh: 意见}}\n")).question("a")
    assert q.text == Label("意见", "")
    assert q.text.get("en") == "意见"


def test_rating_may_use_a_declared_scale_and_an_audience():
    scales = """\
        scales:
          - code: agree3
            points:
              - {value: 1, label: Disagree}
              - {value: 2, label: Neutral}
              - {value: 3, label: Agree}
        """
    question = "      - {code: a, type: rating, text: A, scale: agree3, audience: [mayors]}\n"
    questionnaire = loads(one_question(question, head=GROUPS + dedent(scales)))
    assert questionnaire.question("a").scale == questionnaire.scales[0]
    assert questionnaire.question("a").audience == ("mayors",)


def test_empty_optional_key_counts_as_absent():
    q = loads(one_question("      - code: a\n        type: text\n        text: A\n        help:\n"))
    assert q.question("a").help is None


def test_dump_keeps_every_field_of_a_question():
    head = "groups:\n  - {code: g, label: G}\nserved_units:\n  - {code: u, label: U}\n"
    items = """\
      - code: a
        type: rating
        text: {zh: 甲, en: A}
        category: services.a
        served_unit: u
        required: false
        audience: [g]
        scale: nps11
        follow_up: {zh: 为什么？}
        help: {en: Help}
      - {code: b, type: multi, text: B, choices: [{code: x, label: X}, {code: y, label: Y}]}
    """
    questionnaire = loads(one_question(items, head))
    assert loads(dump(questionnaire)) == questionnaire


def test_dump_writes_multi_line_labels_as_blocks_that_load_back():
    questionnaire = loads(one_question("      - {code: a, type: text, text: A}\n"))
    questionnaire = replace(questionnaire, description=Label("第一行\n第二行", "one\ntwo"))
    text = dump(questionnaire)
    assert "|-" in text
    assert loads(text) == questionnaire


def test_dump_refuses_a_scale_that_is_not_declared():
    questionnaire = loads(one_question("      - {code: a, type: rating, text: A}\n"))
    section = questionnaire.sections[0]
    odd = replace(section.questions[0], scale=replace(SATISFACTION5, code="odd5"))
    questionnaire = replace(questionnaire, sections=(replace(section, questions=(odd,)),))
    with pytest.raises(ValueError, match="'odd5', which is not declared"):
        dump(questionnaire)


# ----------------------------------------------------------------------------- reading errors


def test_error_text_is_file_line_reason():
    err = question_error("      - {code: doc_speed, type: ratting, text: Speed}\n")
    assert (err.filename, err.line) == ("bad.yaml", 7)
    assert str(err) == (
        "bad.yaml:7: question 'doc_speed': unknown type 'ratting' "
        "(expected one of choice, grid, integer, multi, note, nps, rating, text)"
    )
    assert isinstance(err, ValueError)


def test_yaml_syntax_error_names_its_line():
    err = error_of("id: demo\ntitle: Demo\nsections:\n  - code: [unclosed\n")
    assert err.line == 5
    assert err.reason.startswith("invalid YAML: ")


def test_empty_file_is_an_error_without_a_line():
    err = error_of("# nothing here\n")
    assert (err.line, err.reason) == (None, "the file is empty")
    assert str(err) == "bad.yaml: the file is empty"


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "a list"), ("just text\n", "text")])
def test_top_level_must_be_a_mapping(text, kind):
    err = error_of(text)
    assert err.line == 1
    assert err.reason == f"questionnaire must be a mapping of keys to values, not {kind}"


@pytest.mark.parametrize("key", ["id", "title", "sections"])
def test_missing_top_level_key_is_named(key):
    text = "\n".join(
        line for line in ["id: demo", "title: Demo", "sections: []"] if not line.startswith(key)
    )
    err = error_of("# comment\n" + text)
    assert err.line == 2
    assert err.reason == f"questionnaire: missing required key {key!r}"


@pytest.mark.parametrize("key", ["code", "type", "text"])
def test_missing_question_key_is_named_at_the_question(key):
    fields = {"code": "a", "type": "text", "text": "A"}
    del fields[key]
    item = "      - " + "\n        ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"
    err = question_error(item)
    assert err.line == 7
    assert f"missing required key {key!r}" in err.reason


def test_unknown_key_suggests_the_close_one():
    err = question_error("""\
      - code: a
        type: rating
        text: A
        requird: false
    """)
    assert err.line == 10
    assert err.reason == "question 'a': unknown key 'requird' (did you mean 'required'?)"


def test_unknown_key_without_a_close_one_lists_the_allowed_keys():
    err = error_of("id: demo\ntitle: Demo\nsections: []\nowner: me\n")
    assert err.line == 4
    assert "unknown key 'owner' (expected one of id, title, sections, description" in err.reason


def test_duplicate_key_in_a_mapping_is_refused():
    err = question_error("      - code: a\n        type: text\n        type: rating\n")
    assert err.line == 9
    assert err.reason.endswith("duplicate key 'type'")


def test_duplicate_question_code_names_both_lines():
    items = """\
      - {code: speed, type: rating, text: Speed}
      - code: other
        type: text
        text: Other
  - code: second
    title: Second
    questions:
      - {code: speed, type: rating, text: Speed again}
    """
    err = question_error(items)
    assert err.line == 14
    assert err.reason == "duplicate question code 'speed' (first defined on line 7)"


def test_duplicate_section_code_names_both_lines():
    err = question_error("""\
      - {code: a, type: text, text: A}
  - code: main
    title: Again
    questions:
      - {code: b, type: text, text: B}
    """)
    assert err.line == 8
    assert err.reason == "duplicate section code 'main' (first defined on line 4)"


@pytest.mark.parametrize("code", ["Speed", "1speed", "doc-speed", "doc speed", "é", "a" * 41])
def test_codes_are_lower_case_identifiers_of_at_most_40_characters(code):
    err = question_error(f"      - {{code: '{code}', type: text, text: A}}\n")
    assert err.line == 7
    assert "not a valid code" in err.reason or "longer than 40 characters" in err.reason


def test_a_question_code_cannot_take_the_name_of_a_follow_up_comment():
    # "speed" with a follow-up posts and saves its comment as q_speed__comment: a question
    # coded speed__comment would share the field, and one answer would replace the other.
    err = question_error(
        "      - {code: speed, type: rating, text: Speed, follow_up: Why}\n"
        "      - {code: speed__comment, type: text, text: Other}\n"
    )
    assert err.line == 8
    assert err.reason == (
        "question 'speed__comment': a code ending in __comment names the follow-up comment "
        "of another question; choose another code"
    )
    assert loads(one_question("      - {code: comment_on_speed, type: text, text: A}\n"))


def test_code_of_exactly_40_characters_is_accepted():
    code = "a" * 40
    assert loads(one_question(f"      - {{code: {code}, type: text, text: A}}\n")).question(code)


def test_questionnaire_id_may_contain_hyphens_but_not_capitals():
    text = one_question("      - {code: a, type: text, text: A}\n")
    assert loads(text.replace("id: demo", "id: office-2004")).id == "office-2004"
    err = error_of(text.replace("id: demo", "id: Office"))
    assert err.line == 1
    assert (
        err.reason == "questionnaire id 'Office' must match [a-z][a-z0-9_-]*, at most 80 characters"
    )


def test_audience_group_must_be_declared():
    item = """\
      - code: a
        type: rating
        text: A
        audience:
          - mayors
          - mayor
    """
    err = question_error(item, head=GROUPS)
    assert err.line == 14
    assert err.reason == "question 'a': audience group 'mayor' is not declared in groups"


def test_empty_audience_is_refused_because_it_would_mean_everybody():
    err = question_error("      - {code: a, type: text, text: A, audience: []}\n", head=GROUPS)
    assert err.line == 9
    assert "audience is empty; leave it out to ask every group" in err.reason


def test_served_unit_must_be_declared():
    item = """\
      - code: a
        type: rating
        text: A
        served_unit: document
    """
    err = question_error(item, head=UNITS)
    assert err.line == 12
    assert err.reason == "question 'a': served unit 'document' is not declared in served_units"


def test_scale_must_be_declared():
    err = question_error("      - {code: a, type: rating, text: A, scale: agree5}\n")
    assert err.line == 7
    assert err.reason == "question 'a': scale 'agree5' is not declared in scales (nor built in)"


def test_scale_point_without_a_label_is_refused():
    err = error_of("""\
        id: demo
        title: Demo
        scales:
          - code: agree3
            points:
              - {value: 1, label: Disagree}
              - {value: 2}
        sections: []
        """)
    assert err.line == 7
    assert err.reason == "scale 'agree3' point 2: missing required key 'label'"


@pytest.mark.parametrize("points", ["[]", "[{value: 1, label: Only}]"])
def test_scale_needs_at_least_two_points(points):
    err = error_of(scales_file(points))
    assert err.line == 5
    assert "a scale needs at least 2" in err.reason


@pytest.mark.parametrize(
    "value, kind", [("2.5", "a number"), ("two", "text"), ("true", "true/false")]
)
def test_scale_value_must_be_a_whole_number(value, kind):
    points = f"[{{value: 1, label: A}}, {{value: {value}, label: B}}]"
    err = error_of(scales_file(points))
    assert err.line == 5
    assert err.reason == f"scale 's' point 2 value must be a whole number, not {kind}"


def test_duplicate_scale_values_name_both_lines():
    err = error_of("""\
        id: demo
        title: Demo
        scales:
          - code: s
            points:
              - {value: 1, label: A}
              - {value: 1, label: B}
        sections: []
        """)
    assert err.line == 7
    assert err.reason == "scale 's': duplicate value 1 (first defined on line 6)"


ODD = "[" + ", ".join(f"{{value: {v}, label: P{v}}}" for v in (1, 3, 5, 7, 9)) + "]"


def boxes_file(satisfied: str = "", dissatisfied: str = "", points: str = ODD) -> str:
    """`scales_file` with the scale's satisfied (line 6) and dissatisfied (after it) points."""
    extra = "".join(
        f"    {key}: {value}\n"
        for key, value in (("satisfied", satisfied), ("dissatisfied", dissatisfied))
        if value
    )
    return scales_file(points).replace("sections:", extra + "sections:")


RATED_ON_S = (
    "sections:\n  - code: main\n    title: Main\n    questions:\n"
    "      - {code: a, type: rating, text: A, scale: s}\n"
)


def scale_of(text: str):
    """The scale of question 'a' in `text` (a `scales_file`, given a section that uses it)."""
    return loads(text.replace("sections: []\n", RATED_ON_S)).question("a").scale


@pytest.mark.parametrize(
    "points, satisfied, dissatisfied",
    [(ODD, (7, 9), (1, 3)),
     ("[{value: 1, label: A}, {value: 2, label: B}, {value: 3, label: C}]", (3,), (1,)),
     ("[{value: 0, label: Never}, {value: 1, label: Always}]", (1,), (0,)),
     ("[" + ", ".join(f"{{value: {v}, label: L}}" for v in range(11)) + "]", (9, 10), (0, 1))],
)  # fmt: skip
def test_satisfied_and_dissatisfied_default_to_the_top_and_bottom_two_points(
    points, satisfied, dissatisfied
):
    scale = scale_of(boxes_file(points=points))
    assert (scale.satisfied, scale.dissatisfied) == ((), ())
    assert (scale.satisfied_values, scale.dissatisfied_values) == (satisfied, dissatisfied)


def test_a_scale_may_declare_its_satisfied_and_dissatisfied_points():
    scale = scale_of(boxes_file("[9]", "[1, 3, 5]"))
    assert (scale.satisfied, scale.dissatisfied) == ((9,), (1, 3, 5))
    assert (scale.satisfied_from, scale.dissatisfied_to) == (9, 5)
    assert scale.is_low(5) and not scale.is_low(7) and scale.is_satisfied(9)


def test_declared_satisfied_and_dissatisfied_points_round_trip():
    questionnaire = loads(boxes_file("[9, 7]", "[1]").replace("sections: []\n", RATED_ON_S))
    text = dump(questionnaire)
    assert "satisfied: [9, 7]" in text and "dissatisfied: [1]" in text
    assert loads(text) == questionnaire
    assert "satisfied" not in dump(loads(boxes_file().replace("sections: []\n", RATED_ON_S)))


@pytest.mark.parametrize(
    "text, line, reason",
    [(boxes_file("[5, 9]"), 6,
      "scale 's' satisfied must be the top 2 point(s) of the scale: 7, 9"),
     (boxes_file(dissatisfied="[3]"), 6,
      "scale 's' dissatisfied must be the bottom 1 point(s) of the scale: 1"),
     (boxes_file("[8]"), 6, "scale 's' satisfied: 8 is not a point of the scale"),
     (boxes_file("[7, 9, 7]"), 6, "scale 's' satisfied: duplicate value 7 (first defined on line 6)"),
     (boxes_file("[]"), 6, "scale 's' satisfied is an empty list; leave it out for the default"),
     (boxes_file("[high]"), 6, "scale 's' satisfied value must be a whole number, not text"),
     (boxes_file("nine"), 6, "scale 's' satisfied must be a list, not text"),
     (boxes_file("[1, 3, 5, 7, 9]"), 6, "scale 's': point 1 is both satisfied and dissatisfied"),
     (boxes_file("[5, 7, 9]", "[1, 3, 5]"), 7,
      "scale 's': point 5 is both satisfied and dissatisfied"),
     (boxes_file(dissatisfied="[1, 3, 5, 7]"), 6,
      "scale 's': point 7 is both satisfied and dissatisfied")],
)  # fmt: skip
def test_satisfied_and_dissatisfied_points_the_analysis_cannot_count_are_refused(
    text, line, reason
):
    # Satisfied is counted from a value up, dissatisfied up to a value: the top and bottom
    # points without a gap, apart from each other.
    err = error_of(text)
    assert (err.filename, err.line, err.reason) == ("bad.yaml", line, reason)
    assert str(err) == f"bad.yaml:{line}: {reason}"


@pytest.mark.parametrize("value", ["101", "-101", "1" + "0" * 40])
def test_scale_values_lie_within_minus_100_and_100(value):
    err = error_of(scales_file(f"[{{value: 1, label: A}}, {{value: {value}, label: B}}]"))
    assert err.line == 5
    shown = value if len(value) <= 20 else value[:20] + "..."
    assert err.reason == f"scale 's' point 2 value {shown} is outside -100..100"


def test_scale_values_at_minus_100_and_100_load():
    scale = scale_of(scales_file("[{value: -100, label: A}, {value: 100, label: B}]"))
    assert scale.values == (-100, 100)


def test_a_scale_has_at_most_11_points():
    eleven = ", ".join(f"{{value: {v}, label: L}}" for v in range(11))
    assert len(scale_of(scales_file(f"[{eleven}]")).points) == 11
    err = error_of(scales_file(f"[{eleven}, {{value: 11, label: L}}]"))
    assert (err.line, err.reason) == (5, "scale 's' has 12 points; a scale has at most 11")


def test_satisfied_and_dissatisfied_messages_are_translatable():
    err = error_of(boxes_file("[5, 9]"))
    assert (
        err.message.template == "%(what)s must be the top %(n)s point(s) of the scale: %(points)s"
    )


def test_builtin_scale_codes_are_reserved():
    points = "[{value: 1, label: A}, {value: 2, label: B}]"
    err = error_of(scales_file(points, code="satisfaction5"))
    assert err.line == 4
    assert "'satisfaction5' is built in" in err.reason


@pytest.mark.parametrize("qtype", ["choice", "multi"])
def test_choice_questions_need_choices(qtype):
    err = question_error(f"      - {{code: a, type: {qtype}, text: A}}\n")
    assert (err.line, err.reason) == (7, f"question 'a': a {qtype} question needs choices")
    err = question_error(f"      - {{code: a, type: {qtype}, text: A, choices: []}}\n")
    assert (err.line, err.reason) == (7, "question 'a': choices is an empty list")


def test_duplicate_choice_codes_name_both_lines():
    err = question_error("""\
      - code: channel
        type: choice
        text: Channel
        choices:
          - {code: phone, label: 电话}
          - {code: phone, label: 手机}
    """)
    assert err.line == 12
    assert (
        err.reason == "question 'channel': duplicate choice code 'phone' (first defined on line 11)"
    )


@pytest.mark.parametrize("qtype", ["rating", "nps", "text"])
def test_choices_are_refused_on_types_without_choices(qtype):
    err = question_error(f"""\
      - code: a
        type: {qtype}
        text: A
        choices: [{{code: x, label: X}}]
    """)
    assert (err.line, err.reason) == (10, f"question 'a': a {qtype} question takes no choices")


@pytest.mark.parametrize(
    "qtype, reason",
    [
        ("choice", "a choice question takes no scale"),
        ("text", "a text question takes no scale"),
        ("nps", "a nps question takes no scale (it always uses nps11)"),
    ],
)
def test_scale_is_refused_where_the_type_has_none_to_choose(qtype, reason):
    choices = "\n        choices: [{code: x, label: X}]" if qtype == "choice" else ""
    err = question_error(f"""\
      - code: a
        type: {qtype}
        text: A{choices}
        scale: satisfaction5
    """)
    assert err.reason == f"question 'a': {reason}"
    assert err.line == (11 if choices else 10)


@pytest.mark.parametrize("qtype", ["nps", "text"])
def test_follow_up_is_only_for_rating_questions(qtype):
    err = question_error(f"""\
      - code: a
        type: {qtype}
        text: A
        follow_up: Why?
    """)
    assert err.line == 10
    assert err.reason == f"question 'a': follow_up is only for rating questions, not {qtype}"


def test_section_without_questions_is_refused():
    err = error_of(one_question("        []\n").replace("questions:\n", "questions:"))
    assert (err.line, err.reason) == (6, "section 'main' has no questions")


def test_questionnaire_without_sections_is_refused():
    err = error_of("id: demo\ntitle: Demo\nsections: []\n")
    assert (err.line, err.reason) == (3, "the questionnaire has no sections")


@pytest.mark.parametrize("label", ["{}", "{zh: '', en: '  '}", "''"])
def test_label_without_either_language_is_refused(label):
    err = question_error(f"      - {{code: a, type: text, text: {label}}}\n")
    assert err.line == 7
    assert err.reason in (
        "question 'a' text is empty",
        "question 'a' text has no text in either language (zh or en)",
    )


@pytest.mark.parametrize(
    "label, kind", [("5", "a number"), ("no", "true/false"), ("2004-09-14", "a date")]
)
def test_label_that_yaml_reads_as_something_else_must_be_quoted(label, kind):
    err = question_error(f"      - code: a\n        type: text\n        text: {label}\n")
    assert err.line == 9
    assert (
        err.reason
        == f"question 'a' text must be text, not {kind}; put it in quotes if it is meant as text"
    )


@pytest.mark.parametrize(
    "text, line, reason",
    [
        (
            "id: demo\ntitle: [Demo]\nsections: []\n",
            2,
            "questionnaire title must be text or {zh: ..., en: ...}, not a list",
        ),
        (
            "id: demo\ntitle: Demo\nsections: {code: main}\n",
            3,
            "sections must be a list, not a mapping",
        ),
        (
            "id: demo\ntitle: Demo\nsections:\n  - [main]\n",
            4,
            "section 1 must be a mapping of keys to values, not a list",
        ),
        (
            "id: demo\ntitle: {zh: [x]}\nsections: []\n",
            2,
            "questionnaire title zh must be text, not a list",
        ),
    ],
)
def test_wrong_kind_of_value_is_named(text, line, reason):
    err = error_of(text)
    assert (err.line, err.reason) == (line, reason)


@pytest.mark.parametrize("value", ["yes", "'1'", "maybe", "[true]"])
def test_required_must_be_true_or_false(value):
    item = f"      - code: a\n        type: text\n        text: A\n        required: {value}\n"
    err = question_error(item)
    assert err.line == 10
    assert err.reason.startswith("question 'a': required must be true or false, not ")


def test_category_must_be_dotted_lower_case():
    err = question_error("      - {code: a, type: text, text: A, category: Services.Docs}\n")
    assert err.line == 7
    assert "category 'Services.Docs' must be dotted lower-case" in err.reason


def test_question_without_usable_code_is_named_by_position():
    err = question_error("      - {code: a, type: text, text: A}\n      - {type: text, text: B}\n")
    assert err.line == 8
    assert err.reason == "question 2 of section 'main': missing required key 'code'"


def test_non_utf8_bytes_name_their_line():
    text = one_question("      - {code: a, type: text, text: 'caf\xe9'}\n").encode("latin-1")
    err = error_of(text)
    assert (err.line, err.reason) == (7, "the file is not UTF-8 text (byte 0xe9)")


def test_utf8_bytes_with_a_byte_order_mark_load():
    text = one_question("      - {code: a, type: text, text: 意见}\n")
    assert loads(text.encode("utf-8-sig")).question("a").text.zh == "意见"


def test_control_characters_are_refused_with_their_line():
    err = error_of("id: demo\ntitle: De\x00mo\n")
    assert err.line == 2
    assert "invalid YAML: character #x0000" in err.reason


def test_anchors_and_aliases_are_refused():
    bomb = "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    err = error_of(bomb)
    assert err.line == 1
    assert "anchors and aliases" in err.reason
    assert error_of("id: demo\ntitle: Demo\nsections: *s\n").line == 3


def test_several_yaml_documents_are_refused():
    err = error_of("id: a\n---\nid: b\n")
    assert err.line == 2
    assert "expected a single document" in err.reason


def test_deep_nesting_is_an_error_not_a_crash():
    err = error_of("title: " + "[" * 5000 + "]" * 5000 + "\n")
    assert err.reason.startswith("invalid YAML")


def test_unknown_tags_are_refused_where_text_is_expected():
    err = error_of("id: !!python/object:os.system demo\ntitle: Demo\nsections: []\n")
    assert err.line == 1
    assert "questionnaire id must be text" in err.reason


def test_load_of_a_missing_file_is_a_questionnaire_error(tmp_path):
    with pytest.raises(QuestionnaireError, match="cannot read the file") as info:
        load(tmp_path / "missing.yaml")
    assert info.value.line is None


def test_load_dir_of_a_missing_folder_is_a_questionnaire_error(tmp_path):
    with pytest.raises(QuestionnaireError, match="cannot read the folder"):
        load_dir(tmp_path / "missing")


def test_merge_keys_are_unknown_keys_not_merges():
    err = error_of("id: demo\ntitle: Demo\n<<: {sections: []}\n")
    assert err.line == 3
    assert "a key must be text, not a merge key (<<)" in err.reason


def test_load_dir_reads_yaml_and_yml_and_refuses_duplicate_ids(tmp_path):
    text = one_question("      - {code: a, type: text, text: A}\n")
    (tmp_path / "b.yml").write_text(text.replace("id: demo", "id: bee"), "utf-8")
    (tmp_path / "a.yaml").write_text(text, "utf-8")
    (tmp_path / "notes.txt").write_text("not a definition", "utf-8")
    assert [q.id for q in load_dir(tmp_path)] == ["demo", "bee"]
    (tmp_path / "c.yaml").write_text(text, "utf-8")
    with pytest.raises(QuestionnaireError, match="id 'demo' is already used by") as info:
        load_dir(tmp_path)
    assert Path(info.value.filename).name == "c.yaml"


# ------------------------------------------------------------------ integer, note, max_length


def test_integer_note_and_text_limits_load_and_round_trip():
    text = one_question("""\
      - {code: staff, type: integer, text: Staff, min_value: 0, max_value: 5000}
      - {code: intro, type: note, text: Read this first}
      - {code: say, type: text, text: Say, max_length: 200}
      - {code: any, type: integer, text: Any number}
    """)
    q = loads(text)
    staff, intro, say, any_ = q.questions()
    assert (staff.min_value, staff.max_value, staff.required) == (0, 5000, True)
    assert (intro.type, intro.required) == ("note", False)
    assert say.max_length == 200
    assert (any_.min_value, any_.max_value) == (None, None)
    dumped = dump(q)
    assert "min_value: 0" in dumped and "max_length: 200" in dumped
    assert loads(dumped) == q


def test_min_value_above_max_value_is_refused():
    err = question_error("""\
      - code: a
        type: integer
        text: A
        min_value: 10
        max_value: 9
    """)
    assert (err.line, err.reason) == (11, "question 'a': min_value 10 is greater than max_value 9")


@pytest.mark.parametrize("value", ["1000000001", "-1000000001"])
def test_integer_limits_stay_within_a_billion(value):
    err = question_error(f"      - {{code: a, type: integer, text: A, min_value: {value}}}\n")
    assert err.line == 7
    assert err.reason == "question 'a' min_value is outside -1000000000..1000000000"


@pytest.mark.parametrize("value", ["0", "4001"])
def test_max_length_is_from_1_to_4000(value):
    err = question_error(f"      - {{code: a, type: text, text: A, max_length: {value}}}\n")
    assert err.reason == "question 'a' max_length must be from 1 to 4000"


def test_limits_must_be_whole_numbers():
    err = question_error("      - {code: a, type: integer, text: A, max_value: '7'}\n")
    assert err.reason == "question 'a' max_value must be a whole number, not text"


@pytest.mark.parametrize(
    "qtype, key, reason",
    [
        ("rating", "min_value", "min_value is only for integer questions, not rating"),
        ("text", "max_value", "max_value is only for integer questions, not text"),
        ("integer", "max_length", "max_length is only for text questions, not integer"),
        ("note", "max_length", "max_length is only for text questions, not note"),
    ],
)
def test_limits_are_refused_on_types_they_do_not_fit(qtype, key, reason):
    err = question_error(f"""\
      - code: a
        type: {qtype}
        text: A
        {key}: 3
    """)
    assert (err.line, err.reason) == (10, f"question 'a': {reason}")


def test_a_note_cannot_be_required():
    err = question_error("""\
      - code: a
        type: note
        text: A
        required: true
    """)
    assert err.line == 10
    assert err.reason == "question 'a': a note question has no answer, so it cannot be required"
    assert (
        not loads(one_question("      - {code: a, type: note, text: A, required: false}\n"))
        .questions()[0]
        .required
    )
