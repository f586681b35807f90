"""Saved tallies: a fresh process starts from the last saved tally, not from every response."""

from __future__ import annotations

import functools
import io
import sqlite3

import numpy as np
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import select, update

import analysis
from survey.extensions import db
from survey.models import TallySnapshot
from survey.results import clear_cache, round_results, snapshots
from survey.results import tally as tally_module
from tests.survey.results.test_tally import assert_same_results, some_answers

pytestmark = pytest.mark.usefixtures("fresh_results_cache")


@pytest.fixture
def answered(make_round, answer):
    rng = np.random.default_rng(11)
    round_ = make_round(anonymity_threshold=3)
    for group in ["departments"] * 9 + ["mayors", "congress", "cppcc"]:
        answer(round_, group, *some_answers(rng))
    return round_, lambda group="departments": answer(round_, group, *some_answers(rng))


def test_a_snapshot_reads_back_as_the_tally_it_saved(answered):
    round_, _ = answered
    round_results(round_)  # the kept sums (moments, drivers) are saved too
    kept = tally_module.full(round_)
    round_results(round_)
    back = snapshots.decode(snapshots.encode(kept))
    assert (back.round_id, back.version_id, back.through_id, back.responses) == (
        kept.round_id, kept.version_id, kept.through_id, kept.responses,
    )  # fmt: skip
    assert back.question_respondents == kept.question_respondents
    assert (back.group_sizes, back.sources) == (kept.group_sizes, kept.sources)
    assert (back.first_response, back.last_response) == (kept.first_response, kept.last_response)
    assert_frame_equal(back.counts.cells, kept.counts.cells)
    assert_frame_equal(back.counts.comments, kept.counts.comments)
    assert_frame_equal(back.choices, kept.choices)
    for name in snapshots._COUNT_ARRAYS:  # values and types, widened back as they were
        before, after = getattr(kept.counts, name), getattr(back.counts, name)
        np.testing.assert_array_equal(after, before)
        assert after.dtype == before.dtype, name


def test_the_first_response_after_a_snapshot_is_appended_not_a_copy_of_the_round(answered):
    # A fresh process reads the saved tally, then grows it by the responses since: their
    # columns go into the room the decoded arrays were given; the round's are not copied.
    round_, add = answered
    back = snapshots.decode(snapshots.encode(tally_module.full(round_)))
    add("mayors")
    everything = tally_module.full(round_)
    grown = tally_module.grow(back, round_, (everything.responses, everything.through_id))
    assert grown is not None and grown.responses == back.responses + 1
    # (The responses' pattern numbers are renumbered, a copy, when the new response's pattern
    # sorts before theirs; the tables are the same: tests/analysis/test_merging.py.)
    for name in ("item_ratings", "response_ids"):
        before, after = getattr(back.counts, name), getattr(grown.counts, name)
        assert np.shares_memory(after, before), name
        np.testing.assert_array_equal(after, getattr(everything.counts, name))
        assert after.dtype == getattr(everything.counts, name).dtype, name


def test_integers_are_stored_in_the_narrowest_type_that_holds_them(answered):
    round_, _ = answered
    kept = tally_module.full(round_)
    data = snapshots.encode(kept)
    size = int.from_bytes(data[:8], "big")
    buffer = io.BytesIO(data)
    buffer.seek(8 + size)
    with np.load(buffer) as stored:
        assert stored["response_ids"].dtype == np.uint8  # a dozen small ids
        assert stored["response_pattern"].dtype == np.uint8
        # The comments' response ids (a number column of the frame) too.
        numbers = [stored[name] for name in stored.files if name.startswith("comments.")]
        assert numbers and all(a.dtype.itemsize <= 2 for a in numbers if a.dtype.kind in "iu")
    assert kept.counts.response_ids.dtype.itemsize == 8  # as computed, and as decoded


def test_a_snapshot_saved_before_narrow_integers_is_still_read(answered, monkeypatch):
    """Format 2 (arrays as they were in memory) is read as before: an upgrade does not make a
    million-response round count every answer again."""
    round_, _ = answered
    kept = tally_module.full(round_)
    monkeypatch.setattr(snapshots, "_narrow", lambda array, name, widen: array)
    monkeypatch.setattr(snapshots, "FORMAT", 2)
    db.session.commit()
    assert snapshots.save(kept)
    monkeypatch.undo()
    db.session.rollback()  # a new transaction: the save was another connection's
    assert db.session.scalar(select(TallySnapshot.format)) == 2
    back = snapshots.load(round_)
    assert back is not None and back.responses == kept.responses
    np.testing.assert_array_equal(back.counts.response_ids, kept.counts.response_ids)


def test_a_snapshot_holding_a_pickle_is_refused(answered):
    # Bytes read back from the database are data: an array of Python objects (a pickle, which
    # would run code when loaded) makes the snapshot unreadable, and the round is counted.
    round_, _ = answered
    kept = tally_module.full(round_)
    data = snapshots.encode(kept)
    size = int.from_bytes(data[:8], "big")
    buffer = io.BytesIO()
    np.savez(buffer, patterns=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        snapshots.decode(data[: 8 + size] + buffer.getvalue())


def test_a_fresh_process_starts_from_the_snapshot_and_reads_only_what_came_after(
    answered, monkeypatch
):
    round_, add = answered
    round_results(round_)  # counts everything, and saves it (in a transaction of its own)
    db.session.commit()  # this session's reads began before: see what committed since
    saved = db.session.scalar(select(TallySnapshot).where(TallySnapshot.round_id == round_.id))
    assert saved is not None and saved.responses == 12
    add("mayors")
    add()
    clear_cache()  # a fresh process: nothing kept in memory
    counted_afresh = []
    monkeypatch.setattr(tally_module, "full", lambda r: counted_afresh.append(r))
    grown = round_results(round_)
    assert counted_afresh == [] and grown.responses == 14
    monkeypatch.undo()
    clear_cache()
    db.session.commit()
    db.session.execute(db.delete(TallySnapshot))
    db.session.commit()
    assert_same_results(grown, round_results(round_))


def test_a_snapshot_of_another_version_is_ignored(answered, office_version):
    round_, _ = answered
    round_results(round_)
    db.session.commit()
    row = db.session.get(TallySnapshot, round_.id)
    row.version_id = round_.version_id + 1000
    db.session.commit()
    assert snapshots.load(round_) is None


def test_a_damaged_snapshot_is_counted_afresh(answered):
    round_, _ = answered
    first = round_results(round_)
    db.session.commit()
    row = db.session.get(TallySnapshot, round_.id)
    row.data = b"\x00\x00\x00\x00\x00\x00\x00\x02{}" + b"not numpy"
    db.session.commit()
    clear_cache()
    assert snapshots.load(round_) is None
    assert_same_results(round_results(round_), first)


def test_the_worker_brings_a_lagging_snapshot_up_to_date(answered, monkeypatch):
    round_, add = answered
    round_results(round_)
    monkeypatch.setattr(snapshots, "LAG", 2)
    add()
    round_results(round_)  # one behind: not yet
    db.session.commit()
    assert db.session.get(TallySnapshot, round_.id).responses == 12
    add()
    round_results(round_)  # two behind: refreshed (the test queue runs jobs at once)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(TallySnapshot, round_.id).responses == 14


def test_saving_gives_up_soon_when_the_database_stays_locked(answered, app):
    round_, _ = answered
    kept = tally_module.full(round_)
    db.session.commit()
    if db.engine.dialect.name != "sqlite":
        assert snapshots.save(kept)
        return
    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock
    try:
        assert snapshots.save(kept) is False
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert snapshots.save(kept) is True
    # The connection went back to the pool waiting for locks again, as every other does.
    with db.engine.connect() as connection:
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout > 0


def test_a_request_that_read_many_responses_saves_them_itself(answered, monkeypatch):
    # Without a worker running, a snapshot far behind would otherwise be read past on every
    # start; the request that has just read the responses since saves the grown tally.
    round_, add = answered
    round_results(round_)
    db.session.commit()
    monkeypatch.setattr(snapshots, "LAG", 2)
    asked = []
    monkeypatch.setattr(snapshots, "refresh", lambda round_id: asked.append(round_id))
    clear_cache()
    add()
    add()
    round_results(round_)  # a fresh process: the snapshot, then the two responses since
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(TallySnapshot, round_.id).responses == 14 and asked == []


# Found by review (issue 20): saved tallies must never break a round's results.


def test_a_truncated_snapshot_is_counted_afresh_not_an_error(answered):
    # "a damaged snapshot: count afresh" (snapshots.load): a snapshot cut short (a partial
    # write, a copy of the database cut off) starts with the zip signature, and np.load
    # raises zipfile.BadZipFile, which load does not catch: every page of the round fails.
    round_, _ = answered
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
    round_, _ = answered
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


def test_each_database_reads_a_snapshot_the_way_meant_for_it(answered, monkeypatch):
    """On SQLite the saved tally is read through incremental blob I/O, never as one bytes
    object (which took two copies of the snapshot at once, 53 MB each at a million
    responses); on PostgreSQL, which has no such I/O, a page at a time (``substring`` of the
    bytea), never as one bytes object either. The same tally as the bytes decode to, either
    way."""
    round_, _ = answered
    round_results(round_)
    db.session.commit()
    data = db.session.get(TallySnapshot, round_.id).data
    expected = snapshots.decode(data)
    as_bytes, pages = [], []
    stored = snapshots._stored
    monkeypatch.setattr(
        snapshots, "_stored", lambda round_id: as_bytes.append(1) or stored(round_id)
    )
    read = snapshots._PagedBytea.readinto
    monkeypatch.setattr(
        snapshots._PagedBytea, "readinto", lambda self, b: pages.append(len(b)) or read(self, b)
    )
    # Pages small enough that the snapshot takes several (4 MB in use: 9 at a million).
    monkeypatch.setattr(snapshots, "PAGE", 1024)
    back = snapshots.load(round_)
    sqlite = db.engine.dialect.name == "sqlite"
    assert as_bytes == []
    # Several statements, none reading the whole snapshot (a read larger than a page is the
    # reader's own request: numpy's, 256 KB at most).
    assert (len(pages) > 2) == (not sqlite) and all(size < len(data) / 2 for size in pages)
    blob = snapshots._sqlite_blob(round_.id)  # (format, version, stream) on SQLite only
    assert (blob is not None) == sqlite
    if blob is not None:
        blob[2].close()
    assert back is not None and back.responses == expected.responses == 12
    assert_same_tally(back, expected)


def assert_same_tally(back: tally_module.Tally, expected: tally_module.Tally) -> None:
    assert (back.through_id, back.question_respondents, back.group_sizes) == (
        expected.through_id, expected.question_respondents, expected.group_sizes,
    )  # fmt: skip
    assert_frame_equal(back.counts.cells, expected.counts.cells)
    assert_frame_equal(back.counts.comments, expected.counts.comments)
    assert_frame_equal(back.choices, expected.choices)
    for name in snapshots._COUNT_ARRAYS:
        np.testing.assert_array_equal(getattr(back.counts, name), getattr(expected.counts, name))


def test_a_snapshot_saved_again_while_read_in_pages_is_read_again_whole(answered, monkeypatch):
    """A snapshot replaced while it is read (the worker's refresh, another process's save) is
    never decoded from pieces of both. PostgreSQL reads it in pages, each checking the row's
    version: the new one is read from its start. SQLite reads its blob in the reader's own
    transaction (WAL): the old one whole, and the next load the new one."""
    round_, another = answered
    on_postgresql = db.engine.dialect.name == "postgresql"
    first = tally_module.full(round_)
    db.session.commit()  # SQLite: a reader's stale snapshot could not write afterwards
    assert snapshots.save(first)
    another()
    db.session.commit()
    newer = tally_module.full(round_)
    db.session.commit()
    assert (first.responses, newer.responses) == (12, 13)
    monkeypatch.setattr(snapshots, "PAGE", 1024)
    reader = snapshots._PagedBytea if on_postgresql else snapshots._BlobFile
    read, pages, saved = reader.readinto, [], []

    def save_after_first_page(self, buffer):
        pages.append(getattr(self, "version", None))
        got = read(self, buffer)
        if len(pages) == 1:
            saved.append(snapshots.save(newer))  # on a connection of its own, committed
        return got

    monkeypatch.setattr(reader, "readinto", save_after_first_page)
    back = snapshots.load(round_)
    assert saved == [True]
    assert back is not None
    assert_same_tally(back, newer if on_postgresql else first)
    if on_postgresql:
        assert len(set(pages)) == 2  # pages of the first snapshot, then of the second
    else:
        db.session.commit()  # the reader's transaction ends: the new snapshot is visible
        monkeypatch.setattr(reader, "readinto", read)
        assert_same_tally(snapshots.load(round_), newer)
