"""Review (issue 20): saved tallies must never break a round's results."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from sqlalchemy import update

import analysis
from survey.extensions import db
from survey.models import TallySnapshot
from survey.results import clear_cache, round_results, snapshots
from survey.results import tally as tally_module
from tests.survey.results.test_tally import some_answers

pytestmark = pytest.mark.usefixtures("fresh_results_cache")


@pytest.fixture
def answered(make_round, answer):
    rng = np.random.default_rng(11)
    round_ = make_round(anonymity_threshold=3)
    for group in ["departments"] * 9 + ["mayors", "congress", "cppcc"]:
        answer(round_, group, *some_answers(rng))
    return round_


def test_a_truncated_snapshot_is_counted_afresh_not_an_error(answered):
    # "a damaged snapshot: count afresh" (snapshots.load): a snapshot cut short (a partial
    # write, a copy of the database cut off) starts with the zip signature, and np.load
    # raises zipfile.BadZipFile, which load does not catch: every page of the round fails.
    round_ = answered
    assert snapshots.save(tally_module.full(round_))
    db.session.commit()  # see the snapshot saved on its own connection
    data = db.session.scalar(db.select(TallySnapshot.data))
    db.session.execute(update(TallySnapshot).values(data=data[: len(data) - 40]))
    db.session.commit()
    clear_cache()
    assert snapshots.load(round_) is None
    assert round_results(round_).responses == 12


def test_a_round_counted_as_pairs_still_has_results(answered, monkeypatch):
    # Rounds too large for a presence matrix keep sorted pairs (analysis.counts.PRESENCE_LIMIT:
    # 100 million response x cell booleans, e.g. a million responses to 100 cells). Their
    # tally cannot be encoded (snapshots.encode raises ValueError) and save_later runs save at
    # once outside a transaction (or in after_transaction_end): the exception escapes and the
    # round's results fail instead of merely not being saved.
    round_ = answered
    monkeypatch.setattr(
        analysis, "rating_counts", functools.partial(analysis.rating_counts, presence_limit=1)
    )
    db.session.commit()
    results = round_results(round_)
    assert results.counts.patterns is None  # pairs: the large-round bookkeeping
    assert results.responses == 12
    # The request's transaction ends: the pending save must not raise out of it.
    db.session.commit()
    db.session.close()
