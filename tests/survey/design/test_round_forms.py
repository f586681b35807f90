"""The round form's parsing of group weights."""

from __future__ import annotations

import pytest

from survey.design.round_forms import parse_weights

GROUPS = ["mayors", "departments"]
ENGLISH = {"Accept-Language": "en"}


def test_weights_are_shares_of_their_total():
    assert parse_weights("mayors=40， departments=60", GROUPS) == {
        "mayors": 0.4,
        "departments": 0.6,
    }


@pytest.mark.parametrize("number", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_a_weight_that_is_not_an_ordinary_number_is_refused(app, number):
    with (
        app.test_request_context(headers=ENGLISH),
        pytest.raises(ValueError, match="ordinary number"),
    ):
        parse_weights(f"mayors={number}, departments=1", GROUPS)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("mayors=-1", "negative"), ("mayors=0, departments=0", "more than zero"), ("x=1", "pairs")],
)
def test_other_wrong_weights_say_why(app, text, reason):
    with app.test_request_context(headers=ENGLISH), pytest.raises(ValueError, match=reason):
        parse_weights(text, GROUPS)
