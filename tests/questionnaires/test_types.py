"""The question types: what each needs, and how a posted form value becomes a stored value."""

import pytest

from questionnaires import (
    MAX_TEXT_LENGTH,
    NPS11,
    QUESTION_TYPES,
    SATISFACTION5,
    AnswerError,
    Choice,
    Label,
    Question,
    Scale,
    ScalePoint,
    parse_answer,
    tabulated_as,
)

CHANNELS = (
    Choice("phone", Label("电话", "Phone")),
    Choice("letter", Label("信函", "Letter")),
    Choice("visit", Label("来访", "Visit")),
)


def question(qtype: str, **fields) -> Question:
    """A question of `qtype` with the scale or choices its type needs."""
    if qtype in ("rating", "nps"):
        fields.setdefault("scale", QUESTION_TYPES[qtype].default_scale)
    if qtype in ("choice", "multi"):
        fields.setdefault("choices", CHANNELS)
    return Question(code="q", type=qtype, text=Label("问题", "Question"), **fields)


def parse(qtype: str, raw, **fields):
    return QUESTION_TYPES[qtype].parse(question(qtype, **fields), raw)


def test_registry_holds_the_seven_types_by_name():
    assert sorted(QUESTION_TYPES) == ["choice", "integer", "multi", "note", "nps", "rating", "text"]
    assert all(name == t.name for name, t in QUESTION_TYPES.items())


@pytest.mark.parametrize(
    "name, numeric, has_scale, has_choices, required",
    [
        ("rating", True, True, False, True),
        ("nps", True, True, False, True),
        ("choice", False, False, True, True),
        ("multi", False, False, True, True),
        ("text", False, False, False, False),
        ("integer", False, False, False, True),
        ("note", False, False, False, False),
    ],
)
def test_each_type_says_what_it_needs(name, numeric, has_scale, has_choices, required):
    qtype = QUESTION_TYPES[name]
    assert (qtype.numeric, qtype.has_scale, qtype.has_choices) == (numeric, has_scale, has_choices)
    assert qtype.default_required is required


def test_builtin_satisfaction5_is_labelled_in_both_languages():
    assert SATISFACTION5.code == "satisfaction5"
    assert SATISFACTION5.values == (1, 2, 3, 4, 5)
    assert [p.label.zh for p in SATISFACTION5.points] == [
        "很不满意",
        "不满意",
        "一般",
        "满意",
        "很满意",
    ]
    assert SATISFACTION5.points[0].label.en == "Very dissatisfied"
    assert SATISFACTION5.points[-1].label.en == "Very satisfied"


def test_builtin_nps11_labels_its_ends_and_numbers_the_middle():
    assert NPS11.code == "nps11"
    assert NPS11.values == tuple(range(11))
    assert NPS11.points[0].label == Label("完全不可能", "Not at all likely")
    assert NPS11.points[10].label == Label("极有可能", "Extremely likely")
    assert NPS11.points[7].label == Label("7", "7")


@pytest.mark.parametrize("qtype", sorted(QUESTION_TYPES))
@pytest.mark.parametrize("raw", [None, "", "   ", [], [""], ["  ", ""]])
def test_empty_input_parses_to_none(qtype, raw):
    assert parse(qtype, raw) is None


@pytest.mark.parametrize("raw, value", [("1", 1), ("5", 5), (" 3 ", 3), (["4"], 4), ("04", 4)])
def test_rating_parses_points_of_the_scale_to_int(raw, value):
    assert parse("rating", raw) == value


@pytest.mark.parametrize("raw", ["0", "6", "9", "-1", "12345678901234567890"])
def test_rating_refuses_values_off_the_scale(raw):
    with pytest.raises(AnswerError, match="is not a point of this scale"):
        parse("rating", raw)


def test_rating_off_the_scale_message_names_the_value():
    with pytest.raises(AnswerError) as info:
        parse("rating", "9")
    assert str(info.value) == "9 is not a point of this scale"


@pytest.mark.parametrize("raw", ["4.5", "four", "+4", "４", "4 5"])
def test_rating_refuses_what_is_not_a_whole_number(raw):
    with pytest.raises(AnswerError, match="is not a whole number"):
        parse("rating", raw)


def test_rating_refuses_two_answers():
    with pytest.raises(AnswerError, match="only one answer may be given"):
        parse("rating", ["4", "5"])


def test_rating_uses_the_question_scale():
    seven = Scale("seven", tuple(ScalePoint(v, Label(str(v), str(v))) for v in range(1, 8)))
    assert parse("rating", "7", scale=seven) == 7
    with pytest.raises(AnswerError):
        parse("rating", "7")


def test_rating_without_a_scale_falls_back_to_satisfaction5():
    assert parse("rating", "5", scale=None) == 5


@pytest.mark.parametrize("raw, value", [("0", 0), ("10", 10)])
def test_nps_accepts_both_ends(raw, value):
    assert parse("nps", raw) == value


@pytest.mark.parametrize("raw", ["-1", "11"])
def test_nps_refuses_beyond_the_ends(raw):
    with pytest.raises(AnswerError, match=f"^{raw} is not a point of this scale$"):
        parse("nps", raw)


def test_choice_parses_to_the_code():
    assert parse("choice", "letter") == "letter"
    assert parse("choice", ["visit"]) == "visit"


def test_choice_refuses_a_code_not_offered_and_two_codes():
    with pytest.raises(AnswerError, match="^'fax' is not one of the choices$"):
        parse("choice", "fax")
    with pytest.raises(AnswerError, match="only one answer"):
        parse("choice", ["phone", "visit"])


def test_multi_parses_to_codes_in_the_order_of_the_definition():
    assert parse("multi", ["visit", "phone"]) == ("phone", "visit")
    assert parse("multi", ["visit", "visit", ""]) == ("visit",)
    assert parse("multi", "letter") == ("letter",)


def test_multi_refuses_an_unknown_code():
    with pytest.raises(AnswerError, match="'fax' is not one of the choices"):
        parse("multi", ["phone", "fax"])


def test_error_messages_cut_long_tampered_values_short():
    with pytest.raises(AnswerError) as info:
        parse("choice", "x" * 10_000)
    assert len(str(info.value)) < 60


def test_text_is_stripped_and_keeps_inner_line_breaks():
    assert parse("text", "  第一行\r\n第二行  ") == "第一行\n第二行"
    assert parse("text", ["Fine."]) == "Fine."


def test_text_drops_nul_characters():
    assert parse("text", "ok\x00") == "ok"
    assert parse("text", "\x00") is None


def test_text_of_the_maximum_length_is_accepted_and_one_more_refused():
    assert parse("text", "意" * MAX_TEXT_LENGTH) == "意" * MAX_TEXT_LENGTH
    with pytest.raises(AnswerError, match=f"at most {MAX_TEXT_LENGTH} are allowed"):
        parse("text", "意" * (MAX_TEXT_LENGTH + 1))


def test_answer_error_is_a_value_error():
    assert issubclass(AnswerError, ValueError)


def test_parse_answer_refuses_an_empty_required_answer():
    with pytest.raises(AnswerError, match="an answer is required"):
        parse_answer(question("rating"), "")
    assert parse_answer(question("rating", required=False), "") is None
    assert parse_answer(question("rating"), "4") == 4


# --- every facet of a type ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(QUESTION_TYPES))
def test_every_type_carries_its_label_field_and_tabulation(name):
    qtype = QUESTION_TYPES[name]
    assert qtype.name == name
    assert qtype.label.zh and qtype.label.en and qtype.label.zh != qtype.label.en
    assert qtype.field in ("scale", "radio", "checkboxes", "textarea", "number", "note")
    assert qtype.tabulated_as in (
        "satisfaction",
        "score",
        "counts",
        "comments",
        "numbers",
        "nothing",
    )
    # Only a note is not answered, and only what is not answered is tabulated as nothing.
    assert qtype.answered == (qtype.tabulated_as != "nothing") == (qtype.field != "note")
    # A type that asks a point of a scale stores a number; one that does not, never does.
    assert qtype.numeric == (qtype.field == "scale") == qtype.has_scale


def test_types_are_found_by_how_they_are_tabulated():
    assert tabulated_as("satisfaction") == ("rating",)
    assert tabulated_as("counts") == ("choice", "multi")
    assert tabulated_as("comments") == ("text",) and tabulated_as("numbers") == ("integer",)
    assert tabulated_as("nothing") == ("note",) and tabulated_as("unknown") == ()


# --- integer, note and the text limit -----------------------------------------------------


@pytest.mark.parametrize("raw, value", [("0", 0), ("-3", -3), (" 42 ", 42), ("007", 7)])
def test_integer_parses_whole_numbers(raw, value):
    assert parse("integer", raw) == value


@pytest.mark.parametrize("raw", ["4.5", "four", "+4", "４", "1e3"])
def test_integer_refuses_what_is_not_a_whole_number(raw):
    with pytest.raises(AnswerError, match="is not a whole number"):
        parse("integer", raw)


def test_integer_refuses_numbers_no_column_could_hold():
    with pytest.raises(AnswerError, match="is too large"):
        parse("integer", "12345678901234567890")
    with pytest.raises(AnswerError, match="is too large"):
        parse("integer", "1000000001")
    assert parse("integer", "1000000000") == 1_000_000_000


def test_integer_keeps_within_min_and_max_value():
    assert parse("integer", "5", min_value=5, max_value=9) == 5
    assert parse("integer", "9", min_value=5, max_value=9) == 9
    with pytest.raises(AnswerError, match="^the number must be at least 5$"):
        parse("integer", "4", min_value=5, max_value=9)
    with pytest.raises(AnswerError, match="^the number must be at most 9$"):
        parse("integer", "10", max_value=9)


def test_a_note_takes_no_answer_and_is_never_required():
    assert parse("note", "typed anyway") is None
    assert parse_answer(question("note", required=True), "") is None


def test_text_keeps_to_its_max_length():
    assert parse("text", "x" * 10, max_length=10) == "x" * 10
    with pytest.raises(AnswerError, match="^the text is 11 characters long; at most 10 are"):
        parse("text", "x" * 11, max_length=10)
    # The type's own limit stays the most, whatever a question built in code says.
    with pytest.raises(AnswerError, match="at most 4000"):
        parse("text", "x" * 4001, max_length=9999)
