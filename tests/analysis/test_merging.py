"""Counts grown response by response give the same tables as counting all answers at once.

Generated rounds (several groups, one small; items of two categories and one without a served
unit; an overall item; unanswered ratings; comments on low ratings; a second scale) are cut
into batches in response order; the batches' counts are merged one by one, the way a dashboard
folds in new responses, after computing the tables of each step (so the kept sums are carried,
not recomputed). Every table of the merged counts must equal the table of ``rating_counts`` of
all the answers: exactly, including intervals, design effects and the drivers' bootstrap.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import analysis
from analysis import drivers, merging
from analysis.merging import merge_counts

GROUPS = ("departments", "congress", "cppcc", "mayors")
ITEMS = (
    ("doc_timeliness", "services.documents", "documents"),
    ("doc_quality", "services.documents", "documents"),
    ("meeting_notice", "services.meetings", "meetings"),
    ("order", "city.conditions", None),
    ("overall", "overall", None),
)


def generated_rows(respondents: int, seed: int, *, start: int = 1, seven: bool = False) -> list:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(respondents):
        response = start + 2 * i  # ids with gaps, as when rounds interleave
        group = GROUPS[rng.choice(4, p=[0.6, 0.2, 0.17, 0.03])]
        mood = rng.normal()
        if i % 17 == 5:  # a response with no rating at all, only a choice
            rows.append({
                "round_id": 1, "response_id": response, "group": group, "question": "channel",
                "category": None, "served_unit": None, "type": "choice", "value": np.nan,
                "text": "phone", "comment": None,
            })  # fmt: skip
            continue
        for question, category, unit in ITEMS:
            value = float(np.clip(round(3.6 + mood + rng.normal(0, 0.8)), 1, 5))
            if rng.random() < 0.1:
                value = np.nan
            rows.append({
                "round_id": 1, "response_id": response, "group": group, "question": question,
                "category": category, "served_unit": unit, "type": "rating", "value": value,
                "comment": "太慢" if value <= 2 and rng.random() < 0.5 else None,
                "unit": f"u{rng.integers(5)}",
            })  # fmt: skip
        if seven and rng.random() < 0.7:
            rows.append({
                "round_id": 1, "response_id": response, "group": group, "question": "hall",
                "category": "city.conditions", "served_unit": "hall", "type": "rating",
                "value": float(rng.integers(1, 8)), "scale_min": 1, "scale_max": 7,
                "satisfied_from": 6, "dissatisfied_to": 2, "comment": None,
            })  # fmt: skip
    return rows


def counts_of(rows: list, ids) -> analysis.RatingCounts:
    """The counts of the responses ``ids`` among ``rows``."""
    ids = set(ids)
    return analysis.rating_counts(
        analysis.answer_frame([row for row in rows if row["response_id"] in ids])
    )


def tables(counts: analysis.RatingCounts, k: int = 5) -> dict[str, pd.DataFrame]:
    disclosure = analysis.disclose(counts, k)
    weights = {"departments": 0.5, "congress": 0.25, "cppcc": 0.25}
    return {
        "items": analysis.item_table(counts),
        "categories": analysis.category_table(counts),
        "headline": analysis.headline_table(counts, 0.8),
        "below": analysis.below_threshold_table(counts, 0.8, k),
        "groups": analysis.by_group(disclosure),
        "group_categories": analysis.by_group_category(disclosure),
        "group_items": analysis.by_group_question(disclosure),
        "served_units": analysis.scorecard_table(counts, 0.8, level="unit"),
        "scorecards": analysis.scorecard_table(counts, 0.8, level="question"),
        "drivers": analysis.driver_table(counts),
        "weighted_round": analysis.weighted_table(disclosure, weights, by=()),
        "weighted_categories": analysis.weighted_table(disclosure, weights, by=("category",)),
        "summary": pd.DataFrame([analysis.summary(counts).__dict__]),
        "withheld": disclosure.withheld,
    }


def grown(rows: list, cuts: list[int]) -> analysis.RatingCounts:
    """The counts of ``rows`` folded in batch by batch (cut at the given response positions),
    every table computed after each step."""
    responses = sorted({row["response_id"] for row in rows})
    bounds = [0, *cuts, len(responses)]
    counts = None
    for low, high in zip(bounds[:-1], bounds[1:]):
        batch = set(responses[low:high])
        part = analysis.rating_counts(
            analysis.answer_frame([row for row in rows if row["response_id"] in batch])
        )
        counts = part if counts is None else merge_counts(counts, part)
        assert counts is not None
        tables(counts)
    return counts


@pytest.mark.parametrize(
    ("respondents", "cuts", "seven"),
    [
        (40, [10, 25, 39], False),  # small round: one cluster per respondent
        (600, [300, 599], False),  # hashed clusters: one new response at the end
        (600, [1, 2, 400], True),  # a second scale, some batches without it
        (520, [255, 260, 261], False),  # crossing the drivers' random-groups size
        (130, list(range(2, 128, 3)), False),  # many small batches: comment tables joined
    ],
)
def test_merged_counts_give_the_tables_of_all_answers(respondents, cuts, seven):
    rows = generated_rows(respondents, seed=respondents + len(cuts), seven=seven)
    merged = grown(rows, cuts)
    full = analysis.rating_counts(analysis.answer_frame(rows))
    expected, got = tables(full), tables(merged)
    for name in expected:
        assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)
    assert merged.respondents == full.respondents
    assert merged.rating_respondents == full.rating_respondents
    assert merged.answers == full.answers
    assert_frame_equal(
        merged.comments.drop(columns="cell"), full.comments.drop(columns="cell"), obj="comments"
    )


def test_the_kept_sums_are_carried_not_recomputed():
    rows = generated_rows(600, seed=3)
    merged = grown(rows, [599])
    assert ("drivers", "overall") in merged._clusters
    assert any(memo[0] == "moments" for memo in merged._clusters if isinstance(memo, tuple))
    # The carried sums are those a fresh count of all answers computes.
    full = analysis.rating_counts(analysis.answer_frame(rows))
    fresh = drivers.driver_sums(full)
    carried = merged._clusters[("drivers", "overall")]
    assert carried.items == fresh.items
    # Only the counts of rated items are compared: "item not rated" (code 0) also counts
    # responses that a batch without the item could not see, and ids missing from a dense
    # range (columns of the full count's matrix); no figure reads it.
    n_codes = fresh.joint.shape[1]
    np.testing.assert_array_equal(carried.joint[:, 1:, :], fresh.joint[:, 1:, :])
    np.testing.assert_array_equal(carried.clusters[:, :, n_codes:], fresh.clusters[:, :, n_codes:])


def test_the_bootstraps_sums_are_grown_by_the_new_responses_clusters_only(monkeypatch):
    # The bootstrap's thousand resamples sum every cluster; after one new response only its
    # cluster changed, so the merged counts carry the sums with that cluster's share added.
    rows = generated_rows(600, seed=3)
    responses = sorted({row["response_id"] for row in rows})
    base = counts_of(rows, responses[:599])
    analysis.driver_table(base)
    multiplied = []
    real = drivers._resample_sums

    def counting(clusters, values, top):
        multiplied.append(int(clusters.any(axis=(0, 2)).sum()))
        return real(clusters, values, top)

    monkeypatch.setattr(drivers, "_resample_sums", counting)
    merged = merge_counts(base, counts_of(rows, responses[599:]))
    table = analysis.driver_table(merged)
    assert multiplied == [1]
    monkeypatch.undo()
    assert_frame_equal(table, analysis.driver_table(counts_of(rows, responses)), check_exact=True)


def test_a_random_group_is_fixed_by_the_response_id():
    ids = np.arange(1, 100_001)
    groups = drivers.response_clusters(ids)
    np.testing.assert_array_equal(groups[:10], drivers.response_clusters(ids[:10]))
    share = np.bincount(groups, minlength=drivers.MAX_CLUSTERS) / len(ids)
    assert share.min() > 0.6 / drivers.MAX_CLUSTERS  # every group gets its share
    assert share.max() < 1.4 / drivers.MAX_CLUSTERS


def test_merging_twice_from_the_same_counts_keeps_both_results_apart():
    # The per-response arrays grow in place in a buffer with room to spare; a second merge from
    # the same base must not write over the first merge's new columns.
    rows = generated_rows(301, seed=9)
    responses = sorted({row["response_id"] for row in rows})  # the last is held back

    base = merge_counts(counts_of(rows, responses[:200]), counts_of(rows, responses[200:250]))
    a, b = counts_of(rows, responses[250:275]), counts_of(rows, responses[275:300])
    first = merge_counts(base, a)
    second = merge_counts(base, b)
    grown = merge_counts(first, b)
    ids = base.response_ids.copy()
    np.testing.assert_array_equal(first.response_ids, [*ids, *a.response_ids])
    np.testing.assert_array_equal(second.response_ids, [*ids, *b.response_ids])
    np.testing.assert_array_equal(grown.response_ids, [*ids, *a.response_ids, *b.response_ids])
    np.testing.assert_array_equal(grown.item_ratings[:, : first.item_ratings.shape[1]],
                                  first.item_ratings)  # fmt: skip
    whole = counts_of(rows, responses[:300])
    assert_frame_equal(tables(grown)["drivers"], tables(whole)["drivers"])
    assert_frame_equal(
        tables(first)["items"], tables(counts_of(rows, responses[:275]))["items"], check_exact=True
    )
    # Growing by one more response writes into the same buffer: no copy of the whole round.
    last = merge_counts(grown, counts_of(rows, responses[300:]))
    assert np.shares_memory(last.item_ratings, grown.item_ratings)


def test_a_new_buffer_has_a_quarter_more_room_not_twice_the_round():
    # A million responses' arrays are ~36 MB: room for twice as many would hold as much again
    # in every process that keeps the round, the report's worker included.
    rows = generated_rows(4001, seed=5)
    responses = sorted({row["response_id"] for row in rows})

    merged = merge_counts(counts_of(rows, responses[:4000]), counts_of(rows, responses[4000:]))
    width = merged.response_ids.shape[-1]  # the counts' columns (ids 1 to 7,999, and 8,001)
    assert width >= 4001
    for name in merging.APPENDED:
        buffer = merged._clusters[merging.GROWTH][name]["buffer"]
        assert buffer.shape[-1] == width + width // 4, name  # a quarter more room


def test_arrays_given_room_are_appended_to_in_place():
    rows = generated_rows(120, seed=6)
    responses = sorted({row["response_id"] for row in rows})

    counted = counts_of(rows, responses[:100])
    growth, arrays = {}, {}
    for name in merging.APPENDED:
        array = getattr(counted, name)
        arrays[name], growth[name] = merging.with_room(array)
        np.testing.assert_array_equal(arrays[name], array)
    base = dataclasses.replace(counted, **arrays)
    base._clusters[merging.GROWTH] = growth
    merged = merge_counts(base, counts_of(rows, responses[100:]))
    for name in merging.APPENDED:
        assert np.shares_memory(getattr(merged, name), growth[name]["buffer"]), name
    assert_frame_equal(tables(merged)["items"], tables(counts_of(rows, responses))["items"])


def test_counts_grown_into_the_same_cells_keep_their_groupings_and_new_cells_get_their_own():
    from analysis.keys import group_ids

    rows = generated_rows(300, seed=5)
    responses = sorted({row["response_id"] for row in rows})
    base = counts_of(rows, responses[:299])
    by = ("group", "category")
    kept = base.cell_groups(by)
    assert not kept[0].flags.writeable  # shared: nobody may change them
    same_cells = merge_counts(base, counts_of(rows, responses[299:]))
    assert same_cells.cells[list(by)].equals(base.cells[list(by)])
    assert same_cells.cell_groups(by) is kept  # not grouped again
    # A response of a group the base has not seen adds cells: grouped afresh.
    newcomer = [{**row, "response_id": 10_000, "group": "visitors"} for row in rows[:20]]
    grown = merge_counts(base, counts_of(newcomer, [10_000]))
    ids, first = grown.cell_groups(by)
    expected = group_ids(grown.cells, by)
    np.testing.assert_array_equal(ids, expected[0])
    np.testing.assert_array_equal(first, expected[1])
    assert len(first) > len(kept[1])
