"""XLSForm import and export (questionnaires/xlsform.py): what maps, what is refused with sheet,
row and reason, and round trips that pyxform accepts."""

from __future__ import annotations

import contextlib
import dataclasses
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyxform.xls2xform import convert

from questionnaires import (
    DEFINITIONS_DIR,
    NPS11,
    SATISFACTION5,
    Choice,
    Group,
    Label,
    Question,
    Questionnaire,
    QuestionnaireError,
    Scale,
    ScalePoint,
    Section,
    ServedUnit,
    dump,
    load_dir,
    loads,
    model,
    xlsform,
)
from questionnaires.xlsform import XLSFormError

# The kinds of question the generated questionnaires ask.
KINDS = ["rating", "nps", "choice", "multi", "text", "integer", "note", "grid"]


def workbook(survey: list[list], choices: list[list] | None = None, settings=None) -> bytes:
    """An .xlsx with the given sheets, each a header row then data rows, as Excel saves one."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        if rows is not None:
            sheet = book.create_sheet(name)
            for row in rows:
                sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pyxform_converts(data: bytes) -> str:
    """The XForm pyxform makes of a workbook (raises PyXFormError if it is not a valid XLSForm)."""
    warnings: list[str] = []
    return convert(io.BytesIO(data), warnings=warnings, file_type=".xlsx").xform


ZH, EN = "label::中文 (zh)", "label::English (en)"

# Written to the shape of pyxform's test-suite simple forms (yes_or_no_question, group,
# select_one/select_multiple, hints, required), with both language columns and Kobo's metadata.
SIMPLE_SURVEY = [
    ["type", "name", ZH, EN, "hint::中文 (zh)", "hint::English (en)", "required", "$kuid"],
    ["start", "start", "", "", "", "", "", "a1"],
    ["end", "end", "", "", "", "", "", "a2"],
    ["begin_group", "visit", "来访", "Your visit", "", "", "", "a3"],
    [
        "select_one yes_no",
        "used_meetings",
        "参加过会议吗？",
        "Did you attend a meeting?",
        "",
        "",
        "yes",
        "a4",
    ],
    [
        "select_multiple channels",
        "channels",
        "联系方式",
        "How do you contact us?",
        "可多选",
        "Pick any",
        "",
        "a5",
    ],
    ["end_group", "", "", "", "", "", "", "a6"],
    ["text", "comment", "意见", "Comments", "", "", "no", "a7"],
]
SIMPLE_CHOICES = [
    ["list_name", "name", ZH, EN],
    ["yes_no", "yes", "是", "Yes"],
    ["yes_no", "no", "否", "No"],
    ["channels", "phone", "电话", "Phone"],
    ["channels", "mail", "信件", "Letter"],
]
SIMPLE_SETTINGS = [["form_title", "form_id", "version"], ["来访调查", "visit_survey", "2024010101"]]


def test_a_simple_xlsform_imports():
    data = workbook(SIMPLE_SURVEY, SIMPLE_CHOICES, SIMPLE_SETTINGS)
    pyxform_converts(data)  # the fixture is a valid XLSForm
    q = xlsform.loads(data, "visit.xlsx")
    assert q.id == "visit_survey"
    assert q.title == Label("来访调查", "来访调查")
    visit, rest = q.sections
    assert (visit.code, visit.title) == ("visit", Label("来访", "Your visit"))
    used, channels = visit.questions
    assert used.type == "choice" and used.required
    assert used.text == Label("参加过会议吗？", "Did you attend a meeting?")
    assert used.choices == (Choice("yes", Label("是", "Yes")), Choice("no", Label("否", "No")))
    assert channels.type == "multi" and not channels.required
    assert channels.help == Label("可多选", "Pick any")
    assert [c.code for c in channels.choices] == ["phone", "mail"]
    # A question outside any group goes to a section of its own, titled like the form.
    assert rest.code == "section_2" and rest.title == q.title
    assert [(x.code, x.type, x.required) for x in rest.questions] == [("comment", "text", False)]


# The shapes of pyxform's own test forms (tests/example_xls: yes_or_no_question, group,
# text_and_integer, specify_other), written anew: one-colon language columns, "list name",
# "select one from LIST", "begin group" with a space.
OLD_STYLE = [
    ["type", "name", "label:English"],
    ["select one from yes_or_no", "satisfied_today", "Were you served well today?"],
    ["begin group", "visit", "Your visit"],
    ["text", "office", "Which office did you visit?"],
    ["end group", "", ""],
]
OLD_CHOICES = [["list name", "name", "label:English"], ["yes_or_no", "yes", "yes"]]
OLD_CHOICES += [["yes_or_no", "no", "no"]]


def test_the_older_spellings_of_pyxform_test_forms_import():
    data = workbook(OLD_STYLE, OLD_CHOICES)
    pyxform_converts(data)
    q = xlsform.loads(data, "yes_or_no.xlsx")
    first, visit = q.sections
    question = first.questions[0]
    assert (question.type, question.text.en) == ("choice", "Were you served well today?")
    assert [c.code for c in question.choices] == ["yes", "no"]
    assert visit.code == "visit" and visit.questions[0].code == "office"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["phone number", "phone", "Your phone?"], "type 'phone number' cannot be mapped"),
        (["select one from yes_or_no or specify other", "x", "?"], "add an 'other' choice"),
    ],
)
def test_older_spellings_that_cannot_be_mapped(row, reason):
    error = refused([*OLD_STYLE[:1], row], OLD_CHOICES, settings=[["form_id"], ["f"]])
    assert error.row == 2 and reason in error.reason


def test_the_import_is_a_valid_definition():
    q = xlsform.loads(workbook(SIMPLE_SURVEY, SIMPLE_CHOICES, SIMPLE_SETTINGS), "visit.xlsx")
    assert loads(dump(q)) == q


@pytest.mark.parametrize(
    "columns",
    [("label::zh", "label::en"), ("label::Chinese (zh)", "label::English (en-GB)"), (ZH, EN)],
)
def test_language_columns_are_read_in_their_spellings(columns):
    survey = [["type", "name", *columns], ["text", "a", "问", "Ask"]]
    q = xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]]))
    assert q.questions()[0].text == Label("问", "Ask")


def test_a_plain_label_serves_both_languages_or_the_missing_one():
    survey = [["type", "name", "label", EN], ["text", "a", "问", ""], ["text", "b", "问", "Ask"]]
    a, b = xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]])).questions()
    assert a.text == Label("问", "问") and b.text == Label("问", "Ask")


def test_required_spellings():
    survey = [["type", "name", "label", "required"]]
    survey += [
        ["text", f"q{i}", "x", v] for i, v in enumerate(["yes", "TRUE", "true()", "1", "no", ""])
    ]
    # A boolean cell, as Excel stores TRUE.
    survey += [["text", "q9", "x", True]]
    q = xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]]))
    assert [x.required for x in q.questions()] == [True] * 4 + [False] * 2 + [True]


def test_the_id_falls_back_to_the_file_name_as_in_pyxform():
    q = xlsform.loads(workbook([["type", "name", "label"], ["text", "a", "x"]]), "visit.xlsx")
    assert q.id == "visit" and q.title == Label("visit", "visit")


def test_group_hint_and_a_rating_marker():
    survey = [
        ["type", "name", "label", "hint", "required", "bind::survey:type"],
        ["begin group", "g", "组", "组说明", "", ""],
        ["select_one satisfaction5", "r", "评分", "", "yes", "rating"],
        ["select_one agree3", "s", "同意", "", "yes", "rating"],
        ["text", "_r_why", "为什么", "", "", "follow_up"],
        ["select_one nps11", "n", "推荐", "", "yes", "nps"],
        ["end group", "", "", "", "", ""],
    ]
    choices = [["list_name", "name", "label", "survey:box"]]
    choices += [["satisfaction5", p.value, p.label.zh, ""] for p in SATISFACTION5.points]
    choices += [["nps11", p.value, p.label.zh, ""] for p in NPS11.points]
    choices += [["agree3", 1, "不同意", "dissatisfied"], ["agree3", 2, "一般", ""]]
    choices += [["agree3", 3, "同意", "satisfied"]]
    q = xlsform.loads(workbook(survey, choices, [["form_id"], ["f"]]))
    (section,) = q.sections
    assert section.description == Label("组说明", "组说明")
    r, s, n = section.questions
    assert (r.type, r.scale) == ("rating", SATISFACTION5)
    assert s.scale.code == "agree3" and s.scale.satisfied == (3,)
    assert s.follow_up == Label("为什么", "为什么")
    assert (n.type, n.scale) == ("nps", NPS11)
    assert q.scales == (s.scale,)


# --------------------------------------------------------------------------------- refusals


def refused(survey, choices=None, settings=None) -> XLSFormError:
    settings = settings if settings is not None else [["form_id"], ["f"]]
    with pytest.raises(XLSFormError) as caught:
        xlsform.loads(workbook(survey, choices, settings), "form.xlsx")
    return caught.value


def test_an_unsupported_type_is_refused_with_sheet_row_and_reason():
    survey = [row[:] for row in SIMPLE_SURVEY]
    survey.insert(5, ["geopoint", "where", "位置", "Location", "", "", "", "a9"])
    data = workbook(survey, SIMPLE_CHOICES, SIMPLE_SETTINGS)
    pyxform_converts(data)  # valid XLSForm, but not a questionnaire of ours
    with pytest.raises(XLSFormError) as caught:
        xlsform.loads(data, "visit.xlsx")
    error = caught.value
    assert (error.sheet, error.row) == ("survey", 6)
    assert str(error).startswith(
        "visit.xlsx: sheet 'survey', row 6: type 'geopoint' cannot be mapped"
    )
    assert isinstance(error, QuestionnaireError) and error.line is None


def test_a_repeat_is_refused():
    survey = [["type", "name", "label"], ["text", "a", "x"], ["begin_repeat", "kids", "孩子"]]
    survey += [["text", "b", "y"], ["end_repeat", "", ""]]
    error = refused(survey)
    assert (error.sheet, error.row) == ("survey", 3)
    assert "repeat groups cannot be mapped" in error.reason


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["calculate", "c", "x", ""], "type 'calculate' cannot be mapped"),
        (["select_one yes_no or_other", "c", "x", ""], "add an 'other' choice"),
        (["select_one", "c", "x", ""], "needs the name of one list"),
        (["select_one nolist", "c", "x", ""], "list 'nolist' is not in the sheet 'choices'"),
        (["text", "Bad Name", "x", ""], "name 'Bad Name' is not a code"),
        (["text", "", "x", ""], "the row has no name"),
        (["text", "c", "", ""], "the question has no label"),
        (["", "c", "x", ""], "the row has no type"),
        (["text", "c", "x", "${a} = 'yes'"], "required \"${a} = 'yes'\" cannot be mapped"),
    ],
)
def test_rows_that_cannot_be_mapped(row, reason):
    survey = [["type", "name", "label", "required"], ["text", "a", "x", ""], row]
    error = refused(survey, [["list_name", "name", "label"], ["yes_no", "yes", "是"]])
    assert (error.sheet, error.row) == ("survey", 3)
    assert reason in error.reason


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        ("calculation", "column 'calculation' cannot be mapped"),
        ("choice_filter", "column 'choice_filter' cannot be mapped"),
        ("media::image", "the format has no media"),
        ("label::Français (fr)", "language 'Français (fr)' is not supported"),
        ("default", "column 'default' cannot be mapped"),
    ],
)
def test_columns_that_matter_are_refused_at_the_first_row_using_them(column, reason):
    survey = [["type", "name", "label", column], ["text", "a", "x", ""], ["text", "b", "y", "z"]]
    error = refused(survey)
    assert (error.sheet, error.row) == ("survey", 3)
    assert reason in error.reason


def test_columns_that_change_nothing_are_ignored():
    survey = [["type", "name", "label", "appearance", "constraint_message", "calculation"]]
    survey += [["text", "a", "x", "multiline", "too long", ""]]
    assert xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]])).questions()[0].code == "a"


def test_group_structure_refusals():
    nested = [["type", "name", "label"], ["begin_group", "a", "A"], ["begin_group", "b", "B"]]
    assert refused(nested).row == 3 and "groups within groups" in refused(nested).reason
    unclosed = [["type", "name", "label"], ["begin_group", "a", "A"], ["text", "q", "x"]]
    assert refused(unclosed).row == 2 and "not closed" in refused(unclosed).reason
    stray = [["type", "name", "label"], ["text", "q", "x"], ["end_group", "", ""]]
    assert refused(stray).row == 3 and "without a begin_group" in refused(stray).reason
    empty = [["type", "name", "label"], ["begin_group", "a", "A"], ["end_group", "", ""]]
    assert refused(empty).row == 2 and "has no questions" in refused(empty).reason


def test_choice_refusals_name_the_choices_row():
    survey = [["type", "name", "label"], ["select_one l", "a", "x"]]
    twice = refused(survey, [["list_name", "name", "label"], ["l", "a", "A"], ["l", "a", "B"]])
    assert (twice.sheet, twice.row) == ("choices", 3) and "first on row 2" in twice.reason
    numeric = refused(survey, [["list_name", "name", "label"], ["l", "1", "A"]])
    assert (numeric.sheet, numeric.row) == ("choices", 2) and "is not a code" in numeric.reason
    rating = [["type", "name", "label", "bind::survey:type"], ["select_one l", "a", "x", "rating"]]
    points = refused(rating, [["list_name", "name", "label"], ["l", "a", "A"]])
    assert (points.sheet, points.row) == ("choices", 2) and "whole numbers" in points.reason


def test_a_follow_up_must_follow_a_rating():
    survey = [["type", "name", "label", "bind::survey:type"], ["text", "a", "x", ""]]
    survey += [["text", "_a_follow_up", "why", "follow_up"]]
    error = refused(survey)
    assert error.row == 3 and "right after the rating" in error.reason


def test_the_definition_rules_apply_and_point_at_the_row():
    # Duplicate question codes and an undeclared audience group are the loader's rules.
    survey = [["type", "name", "label"], ["text", "a", "x"], ["text", "b", "y"], ["text", "a", "z"]]
    error = refused(survey)
    assert (error.sheet, error.row) == ("survey", 4) and "duplicate" in error.reason
    survey = [["type", "name", "label", "bind::survey:audience"], ["text", "a", "x", "mayors"]]
    error = refused(survey)
    assert (error.sheet, error.row) == ("survey", 2)
    assert "audience group 'mayors' is not declared" in error.reason


def test_settings_refusals():
    error = refused(
        [["type", "name", "label"], ["text", "a", "x"]], settings=[["form_id"], ["Bad Id"]]
    )
    assert (error.sheet, error.row) == ("settings", 2) and "form_id 'Bad Id'" in error.reason


def test_what_is_not_a_workbook_is_refused():
    for data in (b"PK\x03\x04 broken", b"id: x\n"):
        with pytest.raises(XLSFormError) as caught:
            xlsform.loads(data, "x.xlsx")
        assert "not an .xlsx workbook" in str(caught.value)
    book = openpyxl.Workbook()
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(XLSFormError, match="no sheet named 'survey'"):
        xlsform.loads(out.getvalue(), "x.xlsx")


def test_is_workbook():
    assert xlsform.is_workbook(xlsform.dump(load_dir(DEFINITIONS_DIR)[0]))
    assert not xlsform.is_workbook(b"id: x\n") and not xlsform.is_workbook("PK\x03\x04")


# ---------------------------------------------------------------- mappings of other helpers


def test_relevant_becomes_show_if_on_questions_and_sections():
    survey = [["type", "name", "label", "relevant"], ["select_one yn", "a", "x", ""]]
    survey += [["begin_group", "g", "G", "${a} = 'yes'"], ["text", "b", "y", "${a} = 'no'"]]
    survey += [["end_group", "", "", ""]]
    choices = [["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]]
    q = xlsform.loads(workbook(survey, choices, [["form_id"], ["f"]]))
    assert q.sections[1].show_if == "${a} = 'yes'"
    assert q.question("b").show_if == "${a} = 'no'"


def test_integer_constraints_become_limits():
    survey = [["type", "name", "label", "constraint"], ["integer", "a", "x", ". >= 1 and . <= 10"]]
    survey += [["integer", "b", "y", ".<=5"], ["integer", "c", "z", ""]]
    a, b, c = xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]])).questions()
    assert (a.min_value, a.max_value) == (1, 10)
    assert (b.min_value, b.max_value) == (None, 5)
    assert (c.min_value, c.max_value) == (None, None)
    bad = [["type", "name", "label", "constraint"], ["integer", "a", "x", ". > 1"]]
    assert "cannot be mapped" in refused(bad).reason


def test_text_length_constraint_becomes_max_length():
    survey = [
        ["type", "name", "label", "constraint"],
        ["text", "a", "x", "string-length(.) <= 200"],
    ]
    assert (
        xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]])).questions()[0].max_length
        == 200
    )
    bad = [["type", "name", "label", "constraint"], ["text", "a", "x", "regex(., '[0-9]+')"]]
    assert refused(bad).row == 2


def test_a_note_imports_and_cannot_be_required():
    survey = [
        ["type", "name", "label", "required"],
        ["note", "n", "请注意", ""],
        ["text", "a", "x", ""],
    ]
    q = xlsform.loads(workbook(survey, settings=[["form_id"], ["f"]]))
    assert q.question("n").type == "note"
    survey[1][3] = "yes"
    assert refused(survey).row == 2


# ------------------------------------------------------------------------------ round trips

SHIPPED = load_dir(DEFINITIONS_DIR)


@pytest.mark.parametrize("definition", SHIPPED, ids=[q.id for q in SHIPPED])
def test_shipped_definitions_round_trip_and_pyxform_accepts_them(definition):
    data = xlsform.dump(definition)
    assert xlsform.loads(data, "x.xlsx") == definition
    xform = pyxform_converts(data)
    assert f'id="{definition.id}"' in xform
    # The follow-up is asked in ODK too: a text shown when the rating is a dissatisfied point.
    if any(q.follow_up for q in definition.questions()):
        assert "&lt;= 2" in xform


def test_a_section_sharing_its_questions_code_keeps_it():
    question = Question("overall", "text", Label("总体", "Overall"), required=False)
    q = Questionnaire("f", Label("F", "F"), (Section("overall", Label("S", "S"), (question,)),))
    data = xlsform.dump(q)
    pyxform_converts(data)  # pyxform wants names unique across groups and questions
    assert xlsform.loads(data) == q


def test_a_text_looking_like_a_formula_stays_text():
    question = Question("a", "text", Label("=1+1", "=SUM(A1)"), required=False)
    q = Questionnaire("f", Label("F", "F"), (Section("s", Label("S", "S"), (question,)),))
    assert xlsform.loads(xlsform.dump(q)) == q


# Generated questionnaires: every property of the format, in both languages or one.
texts = (
    st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
labels = st.one_of(
    st.builds(Label, texts, texts),
    texts.map(lambda t: Label(t, t)),
    texts.map(lambda t: Label(t, "")),
    texts.map(lambda t: Label("", t)),
)
codes = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def scales(draw, code: str) -> Scale:
    values = sorted(draw(st.sets(st.integers(-5, 12), min_size=3, max_size=7)))
    points = tuple(ScalePoint(v, draw(labels)) for v in values)
    satisfied = tuple(values[-draw(st.integers(0, 1)) :]) if draw(st.booleans()) else ()
    dissatisfied = tuple(values[:1]) if draw(st.booleans()) else ()
    return Scale(code, points, satisfied, dissatisfied)


@st.composite
def questionnaires(draw) -> Questionnaire:
    names = iter(draw(st.lists(codes, min_size=40, max_size=40, unique=True)))
    groups = tuple(Group(next(names), draw(labels)) for _ in range(draw(st.integers(0, 2))))
    units = tuple(ServedUnit(next(names), draw(labels)) for _ in range(draw(st.integers(0, 2))))
    declared = tuple(draw(scales(next(names))) for _ in range(draw(st.integers(0, 2))))
    sections = []
    earlier: list[Question] = []  # choice questions a condition may refer to
    for _ in range(draw(st.integers(1, 3))):
        questions = []
        section_fields = {}
        if earlier and draw(st.booleans()):  # earlier sections' questions only
            target = draw(st.sampled_from(earlier))
            section_fields["show_if"] = f"${{{target.code}}} != '{target.choices[-1].code}'"
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(KINDS))
            fields = {
                "code": next(names),
                "type": kind,
                "text": draw(labels),
                "required": draw(st.booleans()),
                "help": draw(st.none() | labels),
                "category": draw(st.none() | st.sampled_from(["services.documents", "city"])),
                "served_unit": draw(st.none() | st.sampled_from([u.code for u in units]))
                if units
                else None,
                "audience": tuple(draw(st.sets(st.sampled_from([g.code for g in groups]))))
                if groups
                else (),
            }
            if earlier and draw(st.booleans()):
                target = draw(st.sampled_from(earlier))
                fields["show_if"] = f"${{{target.code}}} = '{target.choices[0].code}'"
            if kind == "grid":
                grid = model.Grid(fields["code"], fields["text"], fields["help"])
                scale = draw(st.sampled_from([SATISFACTION5, *declared]))
                for _ in range(draw(st.integers(1, 3))):
                    row = {**fields, "code": next(names), "text": draw(labels), "help": None}
                    row.update(type="rating", scale=scale, grid=grid)
                    questions.append(Question(**row, follow_up=draw(st.none() | labels)))
                continue
            if kind == "rating":
                fields["scale"] = draw(st.sampled_from([SATISFACTION5, *declared]))
                fields["follow_up"] = draw(st.none() | labels)
            elif kind == "integer":
                fields["min_value"] = draw(st.none() | st.integers(-5, 5))
                fields["max_value"] = draw(st.none() | st.integers(5, 500))
            elif kind == "note":
                fields["required"] = False
            elif kind == "text":
                fields["max_length"] = draw(st.none() | st.integers(1, 4000))
            elif kind == "nps":
                fields["scale"] = NPS11
            elif kind in ("choice", "multi"):
                n = draw(st.integers(1, 3))
                fields["choices"] = tuple(Choice(next(names), draw(labels)) for _ in range(n))
            questions.append(Question(**fields))
            if kind == "choice":
                earlier.append(questions[-1])
        sections.append(
            Section(
                next(names),
                draw(labels),
                tuple(questions),
                draw(st.none() | labels),
                **section_fields,
            )
        )
    return Questionnaire(
        id=draw(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)),
        title=draw(labels),
        sections=tuple(sections),
        groups=groups,
        served_units=units,
        scales=declared,
        description=draw(st.none() | labels),
    )


def valid(q: Questionnaire) -> Questionnaire | None:
    """The questionnaire as the loader makes it, None if it breaks a rule of the format."""
    try:
        return loads(dump(q))
    except QuestionnaireError:
        return None


@settings(
    max_examples=40, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(questionnaires())
def test_generated_questionnaires_round_trip_and_pyxform_accepts_them(generated):
    definition = valid(generated)
    if definition is None:
        return
    data = xlsform.dump(definition)
    assert xlsform.loads(data, "x.xlsx") == definition
    pyxform_converts(data)


# ------------------------------------------------------------------------------------ grids


def test_a_grid_is_a_group_of_ratings_marked_grid():
    survey = [
        ["type", "name", "label", "hint", "appearance", "bind::survey:type"],
        ["begin_group", "s", "部分", "", "", ""],
        ["begin_group", "services", "请评价以下服务", "逐项评价", "field-list", "grid"],
        ["select_one satisfaction5", "speed", "速度", "", "", "rating"],
        ["text", "_speed_follow_up", "为什么？", "", "", "follow_up"],
        ["select_one satisfaction5", "manner", "态度", "", "", "rating"],
        ["end_group", "", "", "", "", ""],
        ["text", "comment", "意见", "", "", ""],
        ["end_group", "", "", "", "", ""],
    ]
    choices = [["list_name", "name", "label"]]
    choices += [["satisfaction5", p.value, p.label.zh] for p in SATISFACTION5.points]
    q = xlsform.loads(workbook(survey, choices, [["form_id"], ["f"]]))
    speed, manner, comment = q.questions()
    grid = model.Grid(
        "services", Label("请评价以下服务", "请评价以下服务"), Label("逐项评价", "逐项评价")
    )
    assert speed.grid == grid and manner.grid == grid and comment.grid is None
    assert speed.follow_up == Label("为什么？", "为什么？")
    assert xlsform.loads(xlsform.dump(q)) == q
    pyxform_converts(xlsform.dump(q))


def test_a_grid_groups_relevant_is_its_rows_condition_and_rows_share_it():
    survey = [
        ["type", "name", "label", "relevant", "required", "bind::survey:type"],
        ["select_one yn", "used", "用过吗", "", "yes", ""],
        ["begin_group", "services", "请评价", "${used} = 'yes'", "", "grid"],
        ["select_one satisfaction5", "speed", "速度", "", "yes", "rating"],
        ["select_one satisfaction5", "manner", "态度", "", "yes", "rating"],
        ["end_group", "", "", "", "", ""],
    ]
    choices = [["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]]
    choices += [["satisfaction5", p.value, p.label.zh] for p in SATISFACTION5.points]
    q = xlsform.loads(workbook(survey, choices, [["form_id"], ["f"]]))
    assert q.question("speed").show_if == q.question("manner").show_if == "${used} = 'yes'"
    data = xlsform.dump(q)
    rows = list(openpyxl.load_workbook(io.BytesIO(data))["survey"].iter_rows(values_only=True))
    columns = rows[0]
    relevant = {r[1]: r[columns.index("relevant")] for r in rows[1:] if r[0] != "end_group"}
    assert relevant["services"] == "${used} = 'yes'" and relevant["speed"] in (None, "")
    assert xlsform.loads(data) == q
    survey[4][4] = ""  # the second row not required: rows share required
    error = refused(survey, choices)
    assert error.row == 5 and "must share required" in error.reason


def test_a_grid_row_must_be_a_rating():
    survey = [
        ["type", "name", "label", "bind::survey:type"],
        ["begin_group", "services", "请评价", "grid"],
        ["text", "speed", "速度", ""],
        ["end_group", "", "", ""],
    ]
    error = refused(survey)
    assert error.row == 3 and "a row of grid 'services' must be" in error.reason


# ----------------------------------------------------------------------- whatever the input

CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "text",
            "integer",
            "note",
            "select_one l",
            "select_multiple l",
            "begin_group",
            "end_group",
            "begin group",
            "geopoint",
            "rating",
            "follow_up",
            "grid",
            "yes",
            "a",
            "b",
            "l",
            "1",
            "-1",
            ". >= 1",
            "${a} = 'x'",
            "satisfaction5",
            "survey:scales",
        ]
    ),
    st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=5),
    st.integers(-3, 3),
    st.booleans(),
)
HEADERS = [
    "type",
    "name",
    "label",
    "label::en",
    "required",
    "relevant",
    "constraint",
    "bind::survey:type",
    "hint",
    "list_name",
    "survey:box",
    "form_id",
    "choice_filter",
]


@settings(
    max_examples=60, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6, unique=True),
    st.lists(st.lists(CELLS, min_size=6, max_size=6), max_size=6),
    st.lists(st.lists(CELLS, min_size=6, max_size=6), max_size=4),
)
def test_any_workbook_gives_a_questionnaire_or_an_xlsform_error(headers, survey, choices):
    data = workbook(
        [headers, *survey],
        [["list_name", "name", "label", "survey:box", "", ""], *choices],
        [["form_id", "survey:scales"], ["f", "l"]],
    )
    with contextlib.suppress(XLSFormError):
        assert isinstance(xlsform.loads(data, "x.xlsx"), Questionnaire)


def test_a_sheet_longer_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(xlsform, "MAX_ROWS", 3)
    survey = [["type", "name", "label"], *[["text", f"q{i}", "x"] for i in range(3)]]
    error = refused(survey)
    assert (error.sheet, error.row) == ("survey", 4) and "more than 3 rows" in error.reason


def test_the_new_types_limits_and_conditions_export_as_xlsform():
    yes_no = (Choice("yes", Label("是", "Yes")), Choice("no", Label("否", "No")))
    first = Section(
        "a",
        Label("甲", "A"),
        (
            Question("intro", "note", Label("说明", "About"), required=False),
            Question("used", "choice", Label("用过吗", "Used?"), choices=yes_no),
            Question("times", "integer", Label("几次", "How often?"), min_value=1, max_value=50),
            Question("why", "text", Label("为何", "Why?"), required=False, max_length=200),
        ),
    )
    second = Section(
        "b",
        Label("乙", "B"),
        (Question("rate", "rating", Label("评分", "Rate"), scale=SATISFACTION5),),
        show_if="${used} = 'yes'",
    )
    first = dataclasses.replace(
        first,
        questions=(
            *first.questions[:3],
            dataclasses.replace(first.questions[3], show_if="${used} = 'no'"),
        ),
    )
    q = loads(dump(Questionnaire("f", Label("F", "F"), (first, second))))
    data = xlsform.dump(q)
    xform = pyxform_converts(data)
    assert "relevant=\" /data/a/used  = 'no'\"" in xform and 'type="int"' in xform
    sheet = openpyxl.load_workbook(io.BytesIO(data))["survey"]
    rows = {}
    for row in sheet.iter_rows(min_row=2, values_only=True):
        rows.setdefault(row[1], row)  # a group's begin_group row, not its end_group
    columns = [c.value for c in sheet[1]]
    assert rows["times"][columns.index("constraint")] == ". >= 1 and . <= 50"
    assert rows["why"][columns.index("constraint")] == "string-length(.) <= 200"
    assert rows["b"][columns.index("relevant")] == "${used} = 'yes'"
    assert xlsform.loads(data) == q
