import numpy as np
import pandas as pd
import pytest

import questionnaires
from analysis import answer_frame, empty_frame
from analysis.frames import COLUMNS


def test_empty_frame_has_the_contract_columns_and_dtypes():
    frame = empty_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert frame.empty
    assert frame["round_id"].dtype == "int64" and frame["value"].dtype == "float64"
    assert isinstance(frame["question"].dtype, pd.CategoricalDtype)
    assert list(frame["type"].cat.categories) == [
        "rating",
        "nps",
        "choice",
        "multi",
        "text",
        "integer",
        "note",
    ]


def test_records_are_normalised_to_the_contract_dtypes(answers):
    frame = answer_frame(answers([5, 4]))
    assert list(frame.columns) == list(COLUMNS)
    for name in ("group", "unit", "served_unit", "question", "category", "type", "source"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert frame["response_id"].dtype == "int64"
    assert frame["scale_min"].tolist() == [1, 1] and frame["scale_max"].tolist() == [5, 5]
    assert frame["source"].tolist() == ["web", "web"]


def test_scales_are_kept_in_the_narrowest_integer_type_that_holds_them(answers):
    assert answer_frame(answers([5, 4]))["scale_min"].dtype == "int16"
    assert empty_frame()["scale_max"].dtype == "int16"
    wide = answer_frame(answers([40_000], scale_min=1, scale_max=40_000))
    assert wide["scale_max"].dtype == "int32"
    assert wide["scale_max"].tolist() == [40_000]
    assert wide["value"].tolist() == [40_000.0]


def test_a_scale_of_more_points_than_int16_holds_is_accepted(answers):
    # Both ends fit int16; the count of points (40,001) does not.
    frame = answer_frame(answers([0], scale_min=-20_000, scale_max=20_000))
    assert (frame["scale_min"].tolist(), frame["scale_max"].tolist()) == ([-20_000], [20_000])


def test_a_dataframe_gives_the_same_frame_as_records(answers):
    records = answers([5, None, 1], comments=[None, None, "late"])
    expected = answer_frame(records)
    pd.testing.assert_frame_equal(answer_frame(pd.DataFrame(records)), expected)


def test_missing_optional_columns_are_filled_and_nps_gets_its_scale():
    frame = answer_frame([
        {"round_id": 1, "response_id": 1, "group": "cppcc", "question": "q", "type": "nps",
         "value": 9},
    ])  # fmt: skip
    row = frame.iloc[0]
    assert pd.isna(row["unit"]) and pd.isna(row["served_unit"]) and pd.isna(row["comment"])
    assert (row["scale_min"], row["scale_max"], row["value"]) == (0, 10, 9.0)


def test_values_of_choice_and_text_answers_become_nan(answers):
    frame = answer_frame(answers([3], "channel", type="choice", text="phone"))
    assert np.isnan(frame["value"].iloc[0])
    assert frame["text"].iloc[0] == "phone"


def test_blank_comments_become_missing(answers):
    frame = answer_frame(answers([1, 2], comments=["   ", "too slow"]))
    assert frame["comment"].isna().tolist() == [True, False]


@pytest.mark.parametrize("value", [0, 6, 4.5])
def test_rating_outside_its_scale_or_fractional_is_rejected(answers, value):
    with pytest.raises(ValueError, match="q1"):
        answer_frame(answers([value]))


@pytest.mark.parametrize(
    "scale, thresholds",
    [((1, 5), (4, 2)), ((0, 10), (9, 1)), ((1, 4), (3, 2)), ((1, 3), (3, 1)), ((1, 2), (2, 1))],
)
def test_satisfied_and_dissatisfied_default_to_the_top_and_bottom_two_points(
    answers, scale, thresholds
):
    # Two each; one each on a scale of 3 points or fewer, whose top two would reach its middle.
    frame = answer_frame(answers([scale[0]], scale_min=scale[0], scale_max=scale[1]))
    assert (frame["satisfied_from"].iloc[0], frame["dissatisfied_to"].iloc[0]) == thresholds
    assert frame["satisfied_from"].dtype == frame["scale_min"].dtype == "int16"


def test_satisfied_and_dissatisfied_given_by_the_scale_are_kept(answers):
    frame = answer_frame(
        answers([9, 1], scale_min=1, scale_max=9, satisfied_from=7, dissatisfied_to=3)
    )
    assert frame["satisfied_from"].tolist() == [7, 7]
    assert frame["dissatisfied_to"].tolist() == [3, 3]


@pytest.mark.parametrize(
    "given",
    [{"scale_min": 1, "scale_max": 1}, {"satisfied_from": 2, "dissatisfied_to": 2},
     {"satisfied_from": 6}, {"dissatisfied_to": 0}, {"satisfied_from": 2, "dissatisfied_to": 3}],
)  # fmt: skip
def test_a_rating_scale_whose_satisfied_and_dissatisfied_points_meet_is_rejected(answers, given):
    with pytest.raises(ValueError, match="rating scale of question 'q1'"):
        answer_frame(answers([1], **given))


def test_unknown_question_type_is_rejected(answers):
    with pytest.raises(ValueError, match="type"):
        answer_frame(answers([3], type="slider"))


def test_missing_required_column_is_rejected():
    with pytest.raises(ValueError, match="response_id"):
        answer_frame([{"round_id": 1, "group": "g", "question": "q", "type": "rating"}])


def test_no_records_give_an_empty_frame():
    pd.testing.assert_frame_equal(answer_frame([]), empty_frame())


def test_extra_columns_are_dropped(answers):
    assert "respondent_name" not in answer_frame(answers([4], respondent_name="x")).columns


def test_what_analysis_knows_of_question_types_matches_the_registry():
    # analysis does not import questionnaires (test_package), so this test keeps them equal.
    from analysis import frames

    registry = questionnaires.QUESTION_TYPES
    assert frames.QUESTION_TYPES == tuple(registry)
    assert frames.NUMERIC_TYPES == tuple(name for name, t in registry.items() if t.numeric)
    assert frames.RATED_TYPES == questionnaires.tabulated_as("satisfaction")
    assert frames.DEFAULT_SCALES == {
        name: (t.default_scale.values[0], t.default_scale.values[-1])
        for name, t in registry.items()
        if t.default_scale and not t.scale_selectable
    }
