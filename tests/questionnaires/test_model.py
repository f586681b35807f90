"""The questionnaire model: per-group views, label fallback and the low end of a scale."""

from dataclasses import FrozenInstanceError

import pytest

from questionnaires import (
    NPS11,
    SATISFACTION5,
    Label,
    Question,
    Questionnaire,
    Scale,
    ScalePoint,
    Section,
)
from questionnaires.model import default_boxes


def ask(code: str, *audience: str) -> Question:
    return Question(code=code, type="text", text=Label(code, code), audience=audience)


@pytest.fixture
def survey() -> Questionnaire:
    return Questionnaire(
        id="demo",
        title=Label("调查", "Survey"),
        sections=(
            Section("all", Label("全部", "All"), (ask("city"), ask("meetings", "mayors"))),
            Section("liaison", Label("联络", "Liaison"), (ask("proposals", "cppcc", "congress"),)),
        ),
    )


def codes(questionnaire: Questionnaire) -> list[str]:
    return [q.code for q in questionnaire.questions()]


def test_for_group_keeps_the_questions_shown_to_that_group(survey):
    assert codes(survey.for_group("mayors")) == ["city", "meetings"]
    assert codes(survey.for_group("cppcc")) == ["city", "proposals"]


def test_for_group_drops_sections_left_empty(survey):
    assert [s.code for s in survey.for_group("mayors").sections] == ["all"]
    assert [s.code for s in survey.for_group("departments").sections] == ["all"]


def test_for_no_group_shows_everything(survey):
    assert survey.for_group(None) == survey


def test_question_finds_by_code_and_raises_key_error_otherwise(survey):
    assert survey.question("proposals").audience == ("cppcc", "congress")
    with pytest.raises(KeyError):
        survey.question("missing")


def test_label_falls_back_to_the_other_language():
    assert Label("满意", "").get("en") == "满意"
    assert Label("", "Satisfied").get("zh") == "Satisfied"
    assert Label("满意", "Satisfied").get("en-GB") == "Satisfied"
    assert Label("满意", "Satisfied").get() == "满意"


@pytest.mark.parametrize("value, low", [(1, True), (2, True), (3, False), (5, False)])
def test_bottom_two_points_of_satisfaction5_are_low(value, low):
    assert SATISFACTION5.is_low(value) is low


def test_bottom_two_points_of_nps11_are_low():
    assert [v for v in NPS11.values if NPS11.is_low(v)] == [0, 1]


@pytest.mark.parametrize("n, boxes", [(2, 1), (3, 1), (4, 2), (5, 2), (11, 2)])
def test_the_top_and_bottom_two_points_count_by_default_one_on_three_points_or_fewer(n, boxes):
    assert default_boxes(n) == boxes


def test_a_scales_satisfied_and_dissatisfied_points_default_or_as_declared():
    points = tuple(ScalePoint(v, Label(str(v), str(v))) for v in (9, 7, 5, 3, 1))  # any order
    assert Scale("odd", points).satisfied_values == (7, 9)
    assert Scale("odd", points).dissatisfied_values == (1, 3)
    declared = Scale("odd", points, satisfied=(9,), dissatisfied=(5, 1, 3))
    assert (declared.satisfied_values, declared.dissatisfied_values) == ((9,), (1, 3, 5))
    assert (declared.satisfied_from, declared.dissatisfied_to) == (9, 5)
    assert declared.is_low(5) and not declared.is_low(7)
    assert declared.is_satisfied(9) and not declared.is_satisfied(7)


def test_line_does_not_take_part_in_equality():
    assert ask("a") == Question(code="a", type="text", text=Label("a", "a"), line=42)


def test_model_objects_are_frozen(survey):
    with pytest.raises(FrozenInstanceError):
        survey.id = "other"


def test_blocks_gather_the_consecutive_rows_of_a_grid():
    from questionnaires import Grid, GridRows

    grid = Grid("services", Label("请评价", "Rate each"))
    row = lambda code: Question(code=code, type="rating", text=Label(code, code), grid=grid)  # noqa: E731
    section = Section("s", Label("S", "S"), (ask("a"), row("r1"), row("r2"), ask("b")))
    blocks = section.blocks()
    assert [b.code for b in blocks] == ["a", "services", "b"]
    assert blocks[1] == GridRows(grid, (row("r1"), row("r2")))
    # Questions alone stay what they are: everything else reads the rows as items.
    assert [q.code for q in Questionnaire("x", Label("X", "X"), (section,)).questions()] == [
        "a",
        "r1",
        "r2",
        "b",
    ]
