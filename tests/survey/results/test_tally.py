"""Results after new responses: the kept tally grown by them, equal to counting everything.

A dashboard viewed after each new response must show what a fresh process, counting every
answer, shows; and it must get there by reading only the new responses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from survey.extensions import db
from survey.results import clear_cache, round_results
from survey.results import tally as tally_module
from survey.results.cache import TALLIES
from tests.statements import sent_statements

TABLES = (
    "items", "categories", "below", "groups", "group_categories", "group_items",
    "served_units", "unit_categories", "scorecards", "drivers", "history", "choices",
)  # fmt: skip


def assert_same_results(grown, fresh) -> None:
    for name in TABLES:
        assert_frame_equal(getattr(grown, name), getattr(fresh, name), obj=name)
    for name in ("group_sizes", "sources", "responses", "first_response", "last_response"):
        assert getattr(grown, name) == getattr(fresh, name), name
    assert grown.summary == fresh.summary
    assert grown.hidden_cells == fresh.hidden_cells
    assert grown.small_groups() == fresh.small_groups()
    assert_frame_equal(grown.disclosure.withheld, fresh.disclosure.withheld)


def some_answers(rng) -> tuple[dict, dict]:
    values = {
        "doc_timeliness": int(rng.integers(1, 6)),
        "mtg_minutes": int(rng.integers(1, 6)),
        "city_environment": int(rng.integers(1, 6)),
        "overall": int(rng.integers(2, 6)),
        "contact_channel": str(rng.choice(["phone", "email"])),
    }
    comments = {"city_environment": "河道脏"} if values["city_environment"] <= 2 else {}
    return values, comments


@pytest.mark.usefixtures("fresh_results_cache")
def test_each_new_response_is_folded_in_and_the_results_equal_a_fresh_count(
    make_round, answer, monkeypatch
):
    rng = np.random.default_rng(20)
    round_ = make_round(anonymity_threshold=3, weights={"departments": 0.6, "mayors": 0.4})
    groups = ["departments"] * 8 + ["mayors", "congress"]
    for group in groups:
        answer(round_, group, *some_answers(rng))
    round_results(round_)
    full_counts = []
    monkeypatch.setattr(
        tally_module, "full", _counting(tally_module.full, full_counts), raising=True
    )
    for step, group in enumerate(["departments", "mayors", "cppcc", "departments", "congress"]):
        answer(round_, group, *some_answers(rng))
        grown = round_results(round_)
        assert full_counts == [], f"step {step}: counted everything again instead of growing"
        assert TALLIES.get(round_.id)[0].responses == len(groups) + step + 1
        clear_cache()
        fresh = round_results(round_)
        full_counts.clear()
        assert_same_results(grown, fresh)


@pytest.mark.usefixtures("fresh_results_cache")
def test_growing_reads_only_the_new_responses(make_round, answer):
    rng = np.random.default_rng(3)
    round_ = make_round(anonymity_threshold=2)
    for _ in range(30):
        answer(round_, "departments", *some_answers(rng))
    kept = tally_module.full(round_)
    new_id = answer(round_, "departments", *some_answers(rng))
    with sent_statements() as statements:
        grown = tally_module.grow(kept, round_, (31, new_id))
    assert grown is not None and grown.responses == 31 and grown.through_id == new_id
    assert grown.counts.answers == kept.counts.answers + 5
    # Every query of the answers and responses is bounded below by the kept tally's last id.
    reads = [s for s in statements if "FROM answer" in s or "FROM response" in s]
    assert reads and all("response.id >" in s.replace('"', "") for s in reads), reads


@pytest.mark.usefixtures("fresh_results_cache")
def test_a_response_missed_by_the_tally_makes_it_count_everything_again(make_round, answer):
    # A response that committed late, with an id lower than one already folded in (concurrent
    # submissions on PostgreSQL), is not above the tally's last id: the count gives it away.
    rng = np.random.default_rng(5)
    round_ = make_round(anonymity_threshold=2)
    for _ in range(4):
        answer(round_, "departments", *some_answers(rng))
    kept = tally_module.full(round_)
    late = tally_module.Tally(**{**kept.__dict__, "responses": kept.responses - 1})
    assert tally_module.grow(late, round_, (kept.responses, kept.through_id)) is None
    new_id = answer(round_, "departments", *some_answers(rng))
    version = (kept.responses + 1, new_id)
    assert tally_module.grow(late, round_, version) is None
    grown = tally_module.grow(kept, round_, version)
    assert grown is not None and grown.responses == kept.responses + 1


def _counting(function, calls: list):
    def wrapped(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return wrapped


def test_the_choice_tally_gives_the_choice_table_of_the_answers():
    from analysis.choices import choice_table, choice_tally, merge_choice_tallies

    frame = pd.DataFrame(
        {
            "response_id": [1, 2, 3, 4],
            "question": ["q", "q", "q", "m"],
            "type": ["choice", "choice", "choice", "multi"],
            "group": ["a", "a", "b", "a"],
            "text": ["x", "y", "x", "x,y"],
        }
    )
    whole = choice_table(frame, 2)
    parts = merge_choice_tallies(choice_tally(frame.iloc[:2]), choice_tally(frame.iloc[2:]))
    assert_frame_equal(choice_table(parts, 2), whole)
    rows = whole[["question", "choice", "count", "withheld"]].values.tolist()
    # m: one respondent, withheld under k = 2.
    assert rows == [["m", None, None, True], ["q", "x", 2, False], ["q", "y", 1, False]]


def _response_with_id(round_, group_id: int, response_id: int) -> None:
    """A response stored under a chosen id: one that committed after a higher id did."""
    from survey.models import Response, utcnow

    db.session.add(
        Response(
            id=response_id,
            round_id=round_.id,
            submission_key=f"late-{response_id}",
            group_id=group_id,
            source="paper",
            submitted_at=utcnow(),
        )
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as if the id had come from the sequence
        db.session.execute(
            db.text(
                "SELECT setval(pg_get_serial_sequence('response', 'id'), max(id)) FROM response"
            )
        )
        db.session.commit()


@pytest.mark.usefixtures("fresh_results_cache")
def test_the_data_version_counts_a_late_commit_below_the_highest_id(
    make_round, answer, monkeypatch
):
    from survey.models import Response
    from survey.results import cache, data_versions

    clock = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: clock[0])
    rng = np.random.default_rng(8)
    round_ = make_round()
    for _ in range(3):
        answer(round_, "departments", *some_answers(rng))
    group_id = db.session.scalar(db.select(Response.group_id).where(Response.round_id == round_.id))
    top = db.session.scalar(db.select(db.func.max(Response.id)))
    _response_with_id(round_, group_id, top + 10)
    assert data_versions([round_.id])[round_.id] == (4, top + 10)
    # An id below the highest commits late, within the settling time: it is counted.
    clock[0] += 5
    _response_with_id(round_, group_id, top + 5)
    assert data_versions([round_.id])[round_.id] == (5, top + 10)
    # Settled: the count up to that id is kept, and only responses above it are counted.
    clock[0] += cache.SETTLE_SECONDS
    assert data_versions([round_.id])[round_.id] == (5, top + 10)
    assert cache.SETTLED[round_.id].through == top + 10
    assert cache.SETTLED[round_.id].count == 5
    answer(round_, "departments", *some_answers(rng))
    count, last = data_versions([round_.id])[round_.id]
    assert count == 6 and last > top + 10
    with sent_statements() as statements:
        data_versions([round_.id])
    counts = [s for s in statements if "count(" in s.lower()]
    assert counts and all("response.id >" in s.replace('"', "") for s in counts), counts
    # The count above the settled id and the highest id in one statement.
    assert len(statements) == 1, statements
    assert "max(" in statements[0].lower()
