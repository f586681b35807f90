"""Per-process caches of computed results, and the data version that says when they are stale.

A round's *data version* is the count and the highest id of its responses: a new response
changes it (responses are never edited or deleted), so the next request recomputes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from survey.extensions import db
from survey.models import (
    Response,
)

# Rounds whose results a process keeps; a dashboard rarely needs more than a handful.
CACHED_ROUNDS = 16


# Response ids at or below a round's *settled* id can no longer appear: the highest id was seen
# this long ago, and a submission holds its id for the milliseconds of its transaction only.
# (PostgreSQL hands out ids before commit, so a lower id may commit after a higher one; SQLite
# writes one transaction at a time, in id order.)
SETTLE_SECONDS = 60.0
# The settled count is checked against a count of the whole range this often: a submission
# stalled for longer than SETTLE_SECONDS (a lost connection) would otherwise stay uncounted.
RECHECK_SECONDS = 600.0


@dataclass
class _Settled:
    """What a process knows of a round's responses: ``count`` of them up to ``through`` (no
    more can come there), and ``candidate``, the highest id seen at ``seen_at``, to settle."""

    through: int = 0
    count: int = 0
    candidate: int = 0
    seen_at: float = 0.0
    checked_at: float = 0.0


SETTLED: dict[int, _Settled] = {}
SETTLED_LOCK = threading.Lock()


def data_versions(round_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(number of responses, highest response id) per round: a new response changes it
    (responses are never edited or deleted).

    Counting a million responses reads the whole of the round's index (0.15 s on PostgreSQL),
    so each round's count is kept up to its *settled* id (``SETTLE_SECONDS``) and only the
    responses above it are counted, with their highest id: one range read of the (round_id,
    id) index per round.
    """
    now = time.monotonic()
    versions = {}
    for round_id in round_ids:
        with SETTLED_LOCK:
            known = SETTLED.setdefault(round_id, _Settled())
            before = (known.through, known.count)
        # One statement: the responses above the settled id, and the highest of them (none
        # above it: the settled id is the highest, responses are never deleted).
        above, highest = db.session.execute(
            select(func.count(), func.max(Response.id)).where(
                Response.round_id == round_id, Response.id > before[0]
            )
        ).one()
        last = int(highest or before[0])
        with SETTLED_LOCK:
            if known.candidate and now - known.seen_at >= SETTLE_SECONDS:
                if known.candidate > known.through:
                    if not known.through:
                        known.checked_at = now
                    known.count += _count(round_id, known.through, known.candidate)
                    known.through = known.candidate
                known.candidate = 0
            if known.through and now - known.checked_at >= RECHECK_SECONDS:
                # A late commit found here changes the count; the round's tally then no
                # longer adds up to it and is counted afresh (``tally.grow``).
                known.count = _count(round_id, 0, known.through)
                known.checked_at = now
            if not known.candidate and last > known.through:
                known.candidate, known.seen_at = last, now
            through, settled = known.through, known.count
        if (through, settled) == before:
            versions[round_id] = (settled + int(above), last)
        else:  # settled or checked meanwhile: counted above the new settled id
            versions[round_id] = (settled + _count(round_id, through, None), last)
    return versions


def _count(round_id: int, above: int, through: int | None) -> int:
    """The round's responses with ids above ``above`` (and up to ``through``)."""
    query = select(func.count()).where(Response.round_id == round_id, Response.id > above)
    if through is not None:
        query = query.where(Response.id <= through)
    return int(db.session.scalar(query) or 0)


class _Cache:
    """A small per-process LRU of computed values, safe to use from several threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
            return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.values[key] = value
            self.values.move_to_end(key)
            while len(self.values) > self.size:
                self.values.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.values.clear()

    def drop(self, keep: Callable[[Any], bool]) -> None:
        """Forget the entries whose key ``keep`` rejects."""
        with self.lock:
            for key in [k for k in self.values if not keep(k)]:
                del self.values[key]


RESULTS = _Cache(CACHED_ROUNDS)
COUNTS = _Cache(CACHED_ROUNDS * 2)
# Each round's answers reduced to sums (``survey.results.tally``), grown by new responses.
TALLIES = _Cache(CACHED_ROUNDS * 2)
# The trend's rows of a round's earlier (closed) rounds (``tables._history``).
EARLIER_TRENDS = _Cache(CACHED_ROUNDS)
COMPUTING = threading.Lock()
# The question table of each questionnaire version a round uses (``frames``).
QUESTIONS = _Cache(CACHED_ROUNDS * 2)


def forget_round(round_id: int) -> None:
    """Forget what this process keeps of one round's answers: its results, tally and published
    counts (hundreds of megabytes at a million responses). The next page of the round grows
    them again from the saved tally; the worker does it before drawing a report of a round no
    page of its own will ask for."""
    RESULTS.drop(lambda key: key != round_id)
    TALLIES.drop(lambda key: key != round_id)
    # A round's published counts are kept by (version, round id, its settings...).
    COUNTS.drop(lambda key: key[1] != round_id)


def clear_cache() -> None:
    """Forget every cached result of this process (tests, and after editing data by hand)."""
    RESULTS.clear()
    COUNTS.clear()
    with SETTLED_LOCK:
        SETTLED.clear()
    TALLIES.clear()
    EARLIER_TRENDS.clear()
    QUESTIONS.clear()
    with PROGRESS_LOCK:
        PROGRESS.clear()


# Invitations change without a new response (issued, opened), so the response rate is kept
# for a short while only. Counting them costs about 0.1 s at 100,000 invitations and a second
# at a million, so a new response does not make it recount: results grow by the response in
# milliseconds (``tally``), the response rate follows within ``PROGRESS_SECONDS``.
PROGRESS_SECONDS = 30
PROGRESS: dict[int, tuple[float, str, tuple]] = {}
PROGRESS_LOCK = threading.Lock()
