"""What the review pages are given: rows built from the cached results, never from answers."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from survey.review import pages

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


def test_the_heat_rows_keep_suppressed_cells_without_figures(known_round, request_context):
    heat = pages.round_page(known_round, "en")["heat"]
    assert [g for g, _cells in heat["rows"]] == ["mayors", "departments"]
    mayors = dict(zip(heat["categories"], heat["rows"][0][1]))
    assert mayors["services.documents"]["suppressed"]
    assert mayors["services.documents"]["rate"] is None


def test_an_item_lists_each_scale_point_with_its_share(known_round, request_context):
    points = pages.item_page(known_round, "mtg_minutes", None, "en")["points"]
    assert [(p["value"], p["count"]) for p in points] == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 1)]
    assert points[3]["share"] == pytest.approx(2 / 6) and points[0]["label"]


def test_weighted_rows_carry_n_eff_beside_the_rate(weighted_round, request_context):
    row = pages.round_page(weighted_round, "en")["headline"][0]
    assert row["rate"] is not None and row["weighted_rate"] is not None and row["n_eff"] > 0


def test_unknown_codes_are_not_found(known_round, request_context):
    with pytest.raises(NotFound):
        pages.category_page(known_round, "services.none", "en")
    with pytest.raises(NotFound):
        pages.item_page(known_round, "doc_timeliness", "meetings", "en")


def test_a_small_group_page_shows_no_figures(known_round, request_context):
    page = pages.group_page(known_round, "mayors", "en")
    assert page["hidden"] and page["categories"] == [] and page["items"] == []


def test_the_rating_filter_offers_the_scale_points(known_round):
    assert pages.rating_points(known_round) == [1, 2, 3, 4, 5]
