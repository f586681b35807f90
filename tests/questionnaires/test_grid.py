"""Grid (matrix) questions in a definition file: one text and scale over several rows, each row
a rating item of its own."""

from dataclasses import replace

import pytest

from questionnaires import (
    SATISFACTION5,
    Grid,
    GridRows,
    Label,
    QuestionnaireError,
    dump,
    loads,
)

HEAD = """\
id: demo
title: Demo
groups:
  - {code: mayors, label: 市长}
served_units:
  - {code: documents, label: 文书处理}
  - {code: meetings, label: 会议服务}
scales:
  - code: agree4
    points:
      - {value: 1, label: 很不同意}
      - {value: 2, label: 不同意}
      - {value: 3, label: 同意}
      - {value: 4, label: 很同意}
sections:
  - code: main
    title: Main
    questions:
"""
# The grid's `- code:` line in a file made by `grid_file`.
FIRST = HEAD.count("\n") + 1

GRID = """\
      - code: services
        type: grid
        text: {zh: 请评价以下各项服务, en: Please rate each of these services}
        help: {zh: 每行选一项, en: One answer per row}
        scale: agree4
        audience: [mayors]
        required: false
        category: services.general
        follow_up: {zh: 请告诉我们原因, en: Please tell us why}
        rows:
          - {code: doc_speed, text: {zh: 公文速度, en: Document speed}, served_unit: documents}
          - code: meet_org
            text: {zh: 会议组织, en: Meeting organisation}
            served_unit: meetings
            category: services.meetings
"""


def grid_file(grid: str = GRID, after: str = "") -> str:
    return HEAD + grid + after


def error_of(text: str) -> QuestionnaireError:
    with pytest.raises(QuestionnaireError) as info:
        loads(text, filename="bad.yaml")
    return info.value


def test_each_row_is_a_rating_item_with_the_grids_shared_keys():
    questionnaire = loads(grid_file())
    doc, meet = questionnaire.questions()
    assert (doc.code, doc.type, doc.text.en) == ("doc_speed", "rating", "Document speed")
    for row in (doc, meet):
        assert row.scale.code == "agree4"
        assert row.audience == ("mayors",)
        assert row.required is False
        assert row.follow_up == Label("请告诉我们原因", "Please tell us why")
        assert row.help is None  # said once, on the grid
        assert row.grid == Grid(
            "services",
            Label("请评价以下各项服务", "Please rate each of these services"),
            Label("每行选一项", "One answer per row"),
        )
    assert (doc.served_unit, doc.category) == ("documents", "services.general")
    assert (meet.served_unit, meet.category) == ("meetings", "services.meetings")
    assert (doc.line, meet.line) == (FIRST + 10, FIRST + 11)


def test_a_grid_without_scale_uses_satisfaction5_and_is_required():
    grid = "      - code: g\n        type: grid\n        text: G\n        rows:\n"
    grid += "          - {code: a, text: A}\n"
    (row,) = loads(grid_file(grid)).questions()
    assert (row.scale, row.required, row.audience) == (SATISFACTION5, True, ())


def test_the_rows_of_a_grid_are_one_block_between_other_questions():
    before = "      - {code: before, type: text, text: Before}\n"
    after = "      - {code: after, type: rating, text: After}\n"
    section = loads(grid_file(before + GRID, after)).sections[0]
    blocks = section.blocks()
    assert [b.code for b in blocks] == ["before", "services", "after"]
    assert isinstance(blocks[1], GridRows)
    assert [r.code for r in blocks[1].rows] == ["doc_speed", "meet_org"]


def test_dump_round_trips_a_grid():
    after = "      - {code: after, type: rating, text: After}\n"
    questionnaire = loads(grid_file(GRID, after))
    text = dump(questionnaire)
    assert loads(text) == questionnaire
    # Said once on the grid: the shared keys; on the rows: what differs between them.
    assert "type: grid" in text and text.count("scale: agree4") == 1
    assert "follow_up" not in text.split("rows:")[1]
    assert text.count("served_unit:") == 2


def test_dump_puts_a_key_every_row_shares_on_the_grid():
    grid = GRID.replace("            category: services.meetings\n", "")
    text = dump(loads(grid_file(grid)))
    assert text.count("category: services.general") == 1
    assert text.index("category:") < text.index("rows:")


def test_dump_refuses_rows_that_differ_in_a_shared_key():
    questionnaire = loads(grid_file())
    section = questionnaire.sections[0]
    doc, meet = section.questions
    odd = replace(meet, required=True)
    broken = replace(questionnaire, sections=(replace(section, questions=(doc, odd)),))
    with pytest.raises(ValueError, match="differ in required"):
        dump(broken)


@pytest.mark.parametrize(
    ("grid", "line", "reason"),
    [
        (
            "      - {code: g, type: grid, text: G, rows: []}\n",
            FIRST,
            "question 'g' has no rows; a grid needs at least one",
        ),
        (
            "      - {code: g, type: grid, text: G}\n",
            FIRST,
            "question 'g': missing required key 'rows'",
        ),
        (
            "      - {code: g, type: grid, text: G, scale: agree9, rows: [{code: a, text: A}]}\n",
            FIRST,
            "question 'g': scale 'agree9' is not declared in scales (nor built in)",
        ),
        (
            "      - {code: g, type: grid, text: G, choices: [], rows: [{code: a, text: A}]}\n",
            FIRST,
            "question 'g': unknown key 'choices' (expected one of code, type, text, rows, "
            "category, served_unit, required, audience, scale, follow_up, help, show_if)",
        ),
        (
            "      - {code: g, type: grid, text: G, rows: [{code: a, text: A}, {code: a, text: B}]}\n",
            FIRST,
            f"duplicate question code 'a' (first defined on line {FIRST})",
        ),
        (
            "      - {code: g, type: grid, text: G, rows: [{code: g, text: A}]}\n",
            FIRST,
            f"duplicate question code 'g' (first defined on line {FIRST})",
        ),
        (
            "      - {code: g, type: grid, text: G, rows: [{code: a, text: A, scale: agree4}]}\n",
            FIRST,
            "row 'a': unknown key 'scale' (expected one of code, text, category, served_unit, "
            "follow_up)",
        ),
        (
            "      - {code: g, type: grid, text: G, rows: [{text: A}]}\n",
            FIRST,
            "row 1 of question 'g': missing required key 'code'",
        ),
        (
            "      - {code: g, type: grid, text: G, rows: [{code: a, text: A, served_unit: x}]}\n",
            FIRST,
            "row 'a': served unit 'x' is not declared in served_units",
        ),
        (
            "      - {code: g, type: grid, text: G, rows: {code: a, text: A}}\n",
            FIRST,
            "question 'g' rows must be a list, not a mapping",
        ),
    ],
)
def test_bad_grids_are_refused_with_file_line_and_reason(grid, line, reason):
    err = error_of(grid_file(grid))
    assert str(err) == f"bad.yaml:{line}: {reason}"


def test_a_row_code_used_by_another_question_is_refused_on_the_rows_line():
    after = "      - {code: doc_speed, type: rating, text: Again}\n"
    err = error_of(grid_file(GRID, after))
    assert (err.line, err.reason) == (
        FIRST + 15,
        f"duplicate question code 'doc_speed' (first defined on line {FIRST + 10})",
    )


def test_a_grids_bad_shared_key_is_reported_in_the_grids_name_on_its_line():
    grid = GRID.replace("audience: [mayors]", "audience: [nobody]")
    err = error_of(grid_file(grid))
    assert (err.line, err.reason) == (
        FIRST + 5,
        "question 'services': audience group 'nobody' is not declared in groups",
    )


def test_the_format_md_grid_example_loads():
    from questionnaires import DEFINITIONS_DIR

    text = (DEFINITIONS_DIR.parent / "FORMAT.md").read_text("utf-8")
    example = text[text.index("      - code: doc_aspects") :]
    example = example[: example.index("```")]
    head = HEAD.replace("code: agree4", "code: agree5")
    rows = [q.code for q in loads(head + example).questions()]
    assert rows == ["doc_timeliness", "doc_accuracy"]
