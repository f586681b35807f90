"""Tallies saved in the database, so that a fresh process starts from the last saved tally and
reads only the responses added since (``tally.grow``), not a million responses.

A snapshot is a JSON header and numpy arrays (``np.savez``, loaded with
``allow_pickle=False``): no pickle, so bytes read back from the database can only ever be
data. ``FORMAT`` names the encoding; a snapshot of another format, or of another questionnaire
version than the round's, is ignored (and replaced at the next save).

Saving: ``save_later`` after a round was counted afresh (the count itself took far longer
than the save), and ``refresh`` by the background worker when the kept snapshot lags the
round by ``LAG`` responses or more (``due``), so that a dashboard request never waits for a
save. A save runs in a transaction of its own once the caller's transaction has ended: on
SQLite a transaction that read before another connection committed can no longer write, so
saving beside an open transaction would make its own later writes fail.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from typing import BinaryIO

import numpy as np
import pandas as pd
from sqlalchemy import delete, event, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import analysis
from analysis import merging
from analysis.drivers import DriverSums
from survey.database import BUSY_TIMEOUT_MS
from survey.extensions import db
from survey.jobs import task
from survey.models import Round, TallySnapshot, utcnow
from survey.results import tally as tally_module
from survey.results.cache import data_versions

log = logging.getLogger(__name__)

FORMAT = 3
# Formats read: 3 stores integer arrays in the narrowest type that holds their values (``_narrow``)
# and names the type they are widened back to; 2 stored them as they were in memory.
READABLE = (2, 3)
# A snapshot is refreshed once the round has this many more responses: a fresh process then
# reads at most that many (and those since) besides the snapshot.
LAG = 1000
LOCK_WAIT_MS = 200

_COUNT_ARRAYS = ("patterns", "pattern_counts", "item_ratings", "item_satisfied_from",
                 "response_pattern", "response_ids")  # fmt: skip


def load(round_: Round) -> tally_module.Tally | None:
    """The round's saved tally, or None (none saved, another format or version)."""
    blob = _sqlite_blob(round_.id)
    if blob is not None:
        # SQLite: the arrays read from the stored blob a piece at a time (incremental blob
        # I/O), never the whole snapshot as bytes beside them: reading it as bytes took two
        # copies of it at once (53 MB each at a million responses) and decoding one more.
        format_, version_id, stream = blob
        if format_ not in READABLE or version_id != round_.version_id:
            stream.close()
            return None
        with stream:
            return _decoded(round_.id, stream)
    for _attempt in range(REREADS):
        pages = _postgres_pages(round_.id)
        if pages is None:
            break
        # PostgreSQL (psycopg): the data read a page at a time (``PAGE`` bytes), never as one
        # bytes object (psycopg's result and the bytes made from it, beside the arrays
        # decoded: at a million responses a fresh process's peak was 56 MB higher, 328 MB).
        format_, version_id, stream = pages
        if format_ not in READABLE or version_id != round_.version_id:
            stream.close()
            return None
        try:
            with stream:
                return _decoded(round_.id, stream)
        except _Replaced:  # saved again while it was read: read the new one
            continue
    # Elsewhere (or saved again each time it was read): in one statement.
    row = _stored(round_.id)
    if row is None or row[0] not in READABLE or row[1] != round_.version_id:
        return None
    return _decoded(round_.id, row[2])


def _decoded(round_id: int, data: bytes | BinaryIO) -> tally_module.Tally | None:
    try:
        return decode(data)
    except _Replaced:
        raise
    except Exception as error:  # any damage (truncated, not a zip): count afresh
        log.warning("tally snapshot of round %s unreadable: %s", round_id, error)
        return None


def _sqlite_blob(round_id: int) -> tuple[int, int, BinaryIO] | None:
    """On SQLite, (format, version_id, the data opened as a file) of the round's snapshot;
    None elsewhere, or when there is none."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return None
    table = TallySnapshot.__table__
    row = connection.execute(
        select(table.c.format, table.c.version_id, literal_column("rowid")).where(
            table.c.round_id == round_id, table.c.data.is_not(None)
        )
    ).first()
    if row is None:
        return None
    raw = connection.connection.driver_connection
    blob = raw.blobopen("tally_snapshot", "data", row[2], readonly=True)
    return row[0], row[1], _BlobFile(blob)


class _BlobFile(io.RawIOBase):
    """An SQLite blob as the file zipfile and numpy read (sqlite3.Blob lacks ``seekable``
    and ``readinto``)."""

    def __init__(self, blob) -> None:
        super().__init__()
        self.blob = blob

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.blob.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.blob.seek(offset, whence)
        return self.blob.tell()

    def tell(self) -> int:
        return self.blob.tell()

    def close(self) -> None:
        if not self.closed:
            self.blob.close()
        super().close()


# The bytes of a PostgreSQL snapshot read per statement (``_postgres_pages``): a few statements
# for a million responses' 33 MB, and little memory beside the decoded arrays. The column is
# stored uncompressed (migration 0024): of a compressed value each page would decompress all
# before it (1.2 s for those 33 MB against 0.4, and 0.5-0.8 s read whole).
PAGE = 4 * 2**20
REREADS = 3


class _Replaced(Exception):
    """The snapshot being read a page at a time was replaced (saved again) meanwhile."""


def _postgres_pages(round_id: int) -> tuple[int, int, BinaryIO] | None:
    """On PostgreSQL with psycopg, (format, version_id, the data as a file read ``PAGE``
    bytes at a time) of the round's snapshot; None elsewhere, or when there is none."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        return None
    # xmin names the row's version: a page of a newer save is never read as this one's.
    found = connection.exec_driver_sql(
        "SELECT format, version_id, octet_length(data), xmin::text FROM tally_snapshot"
        " WHERE round_id = %(round_id)s AND data IS NOT NULL",
        {"round_id": round_id},
    ).first()
    if found is None:
        return None
    raw = _PagedBytea(connection, round_id, found[2], found[3])
    return found[0], found[1], io.BufferedReader(raw, buffer_size=PAGE)


class _PagedBytea(io.RawIOBase):
    """A snapshot's bytea as a file: each read one statement of ``substring`` (in the binary
    protocol: the text one sends a bytea as hex, twice its size), on the session's connection
    and so in its transaction."""

    def __init__(self, connection, round_id: int, size: int, version: str) -> None:
        super().__init__()
        self.connection, self.round_id, self.size, self.version = (
            connection, round_id, size, version,
        )  # fmt: skip
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        cursor = self.connection.connection.cursor(binary=True)
        try:
            cursor.execute(
                "SELECT substring(data FROM %s FOR %s) FROM tally_snapshot"
                " WHERE round_id = %s AND xmin::text = %s",
                (self.position + 1, wanted, self.round_id, self.version),
            )
            found = cursor.fetchone()
        finally:
            cursor.close()
        if found is None or len(found[0]) != wanted:
            raise _Replaced(self.round_id)
        buffer[:wanted] = found[0]
        self.position += wanted
        return wanted

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, start + offset)
        return self.position

    def tell(self) -> int:
        return self.position


def _stored(round_id: int) -> tuple[int, int, bytes] | None:
    """(format, version_id, data) of the round's snapshot, in one statement.

    On PostgreSQL (psycopg) the bytes come in the binary protocol: in the text protocol the
    server writes a bytea as hex, twice its size, which the client decodes again (55 MB at a
    million responses: 1.6 s against 0.45 s, most of a fresh process's first dashboard)."""
    table = TallySnapshot.__table__
    query = select(table.c.format, table.c.version_id, table.c.data).where(
        table.c.round_id == round_id
    )
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        row = connection.execute(query).first()
        return None if row is None else (row[0], row[1], row[2])
    compiled = query.compile(dialect=connection.dialect)
    # The session's own connection, so in its transaction.
    cursor = connection.connection.cursor(binary=True)
    try:
        cursor.execute(str(compiled), compiled.params)
        found = cursor.fetchone()
    finally:
        cursor.close()
    return None if found is None else (found[0], found[1], bytes(found[2]))


def due(kept: tally_module.Tally, saved: int | None) -> bool:
    """Whether a tally of ``kept.responses`` should be saved over one of ``saved``."""
    return saved is None or kept.responses - saved >= LAG


def save(kept: tally_module.Tally) -> bool:
    """Replace the round's snapshot by ``kept``, in a transaction of its own (the caller's
    session is left as it was). Best effort: it waits at most ``LOCK_WAIT_MS`` for a lock,
    since the caller's own transaction may hold it (results computed while a round is being
    closed, on SQLite), or the round may not be committed yet; then it logs why and returns
    False, and a later count or ``refresh`` saves it."""
    data = encode(kept)
    table = TallySnapshot.__table__
    try:
        with db.engine.begin() as connection:
            raw = _short_waits(connection)
            try:
                connection.execute(delete(table).where(table.c.round_id == kept.round_id))
                connection.execute(
                    table.insert().values(
                        round_id=kept.round_id,
                        version_id=kept.version_id,
                        through_id=kept.through_id,
                        responses=kept.responses,
                        format=FORMAT,
                        data=data,
                        saved_at=utcnow(),
                    )
                )
            finally:
                if raw is not None:  # the pool's setting again, before the connection goes back
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except DBAPIError as error:
        log.info("tally snapshot of round %s not saved now: %s", kept.round_id, error)
        return False
    return True


def _short_waits(connection):
    """Wait at most ``LOCK_WAIT_MS`` for a lock; the SQLite connection to set back after."""
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        raw.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
        return raw
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
    return None


PENDING = "survey.results.pending_snapshots"


def savable(kept: tally_module.Tally) -> bool:
    """Whether the tally can be saved: counts kept as pairs (rounds too large for a presence
    matrix, ``analysis.counts.PRESENCE_LIMIT``) are not: such a round is counted afresh by
    each new process."""
    return kept.counts.patterns is not None and kept.counts.response_ids is not None


def save_later(kept: tally_module.Tally) -> None:
    """``save`` once the session's current transaction ends (at once if none is open)."""
    if not savable(kept):
        log.info("tally of round %s kept as pairs: not saved", kept.round_id)
        return
    session = db.session()
    if not session.in_transaction():
        save(kept)
        return
    session.info.setdefault(PENDING, {})[kept.round_id] = kept


@event.listens_for(Session, "after_transaction_end")
def _save_pending(session: Session, transaction) -> None:
    if transaction.parent is not None or not session.info.get(PENDING):
        return
    pending = session.info.pop(PENDING)
    for kept in pending.values():
        try:
            save(kept)
        except Exception:  # a hook that raised would fail the caller's commit or close
            log.exception("tally snapshot of round %s not saved", kept.round_id)


@task()
def refresh(round_id: int) -> None:
    """Bring the round's snapshot up to date: the saved tally grown by the responses since
    (counted afresh if it cannot be grown), saved again."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        return
    kept = load(round_)
    version = data_versions([round_.id])[round_.id]
    grown = tally_module.grow(kept, round_, version) if kept is not None else None
    save_later(grown or tally_module.full(round_))  # (a tally kept as pairs is skipped)


# --- encoding -------------------------------------------------------------------------------


def encode(kept: tally_module.Tally) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    counts = kept.counts
    if counts.patterns is None or counts.response_ids is None:
        raise ValueError("only counts with answer patterns and response ids are saved")
    header = {
        "tally": {
            "round_id": kept.round_id,
            "version_id": kept.version_id,
            "through_id": kept.through_id,
            "responses": kept.responses,
            "question_respondents": kept.question_respondents,
            "group_sizes": kept.group_sizes,
            "sources": kept.sources,
            "first_response": _when(kept.first_response),
            "last_response": _when(kept.last_response),
        },
        "counts": {
            "points": list(counts.points),
            "respondents": counts.respondents,
            "rating_respondents": counts.rating_respondents,
            "answers": counts.answers,
        },
        "frames": {
            "cells": _put_frame("cells", counts.cells, arrays),
            "comments": _put_frame("comments", counts.comments, arrays),
            "choices": _put_frame("choices", kept.choices, arrays),
        },
        "moments": [],
        "drivers": [],
        "widen": {},
    }
    for name in _COUNT_ARRAYS:
        arrays[name] = np.asarray(getattr(counts, name))
    for memo, value in counts._clusters.items():
        if isinstance(memo, tuple) and memo and memo[0] == "moments":
            at = f"moments{len(header['moments'])}"
            keys = list(value)
            arrays[at] = np.array([value[k] for k in keys], dtype="int64").reshape(-1, 3)
            header["moments"].append({"by": list(memo[1]), "keys": keys, "array": at})
        elif isinstance(memo, tuple) and memo and memo[0] == "drivers":
            at = f"drivers{len(header['drivers'])}"
            arrays[f"{at}_joint"], arrays[f"{at}_clusters"] = value.joint, value.clusters
            header["drivers"].append(
                {"overall": memo[1], "items": value.items, "target": value.target,
                 "hashed": value.hashed, "array": at}
            )  # fmt: skip
    for name, array in arrays.items():
        arrays[name] = _narrow(array, name, header["widen"])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    head = json.dumps(header, ensure_ascii=False).encode()
    return len(head).to_bytes(8, "big") + head + buffer.getvalue()


def decode(data: bytes | BinaryIO) -> tally_module.Tally:
    """The tally of `data`: the snapshot's bytes, or a file holding them from its start."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    stream.seek(0)
    size = int.from_bytes(stream.read(8), "big")
    header = json.loads(stream.read(size))
    # The arrays read where they are (zipfile finds an archive after other bytes), not from
    # a copy of the data after the header: one copy fewer of the whole snapshot (55 MB at a
    # million responses). From a file, a piece at a time.
    stream.seek(8 + size)
    with np.load(stream, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    widen = header.get("widen", {})
    # The per-response arrays go straight into buffers with room for the responses since the
    # snapshot (``merging.with_room``): widened on the way, so no more copies than before.
    growth = {}
    for name in merging.APPENDED:
        arrays[name], growth[name] = merging.with_room(arrays[name], widen.get(name))
    for name, dtype in widen.items():
        if name not in growth:
            arrays[name] = arrays[name].astype(dtype)
    frames = {name: _get_frame(spec, arrays) for name, spec in header["frames"].items()}
    info = header["counts"]
    counts = analysis.RatingCounts(
        cells=frames["cells"],
        points=tuple(info["points"]),
        pairs=None,
        comment_parts=(frames["comments"],),
        respondents=info["respondents"],
        rating_respondents=info["rating_respondents"],
        answers=info["answers"],
        **{name: arrays[name] for name in _COUNT_ARRAYS},
    )
    counts._clusters[merging.GROWTH] = growth
    for spec in header["moments"]:
        values = arrays[spec["array"]]
        keys = [tuple(key) for key in spec["keys"]]
        counts._clusters[("moments", tuple(spec["by"]))] = dict(zip(keys, values))
    for spec in header["drivers"]:
        at = spec["array"]
        counts._clusters[("drivers", spec["overall"])] = DriverSums(
            [tuple(item) for item in spec["items"]],
            tuple(spec["target"]) if spec["target"] is not None else None,
            arrays[f"{at}_joint"],
            arrays[f"{at}_clusters"],
            spec["hashed"],
        )
    t = header["tally"]
    return tally_module.Tally(
        round_id=t["round_id"],
        version_id=t["version_id"],
        through_id=t["through_id"],
        responses=t["responses"],
        counts=counts,
        choices=frames["choices"],
        question_respondents=t["question_respondents"],
        group_sizes=t["group_sizes"],
        sources=t["sources"],
        first_response=_from(t["first_response"]),
        last_response=_from(t["last_response"]),
    )


def _narrow(array: np.ndarray, name: str, widen: dict[str, str]) -> np.ndarray:
    """An integer array in the narrowest type that holds its values, its own type noted in
    ``widen`` for ``decode``. At a million responses the response ids, their answer patterns
    and the comments' numbers are most of the snapshot as 64-bit integers: 55 MB -> 33 MB, read
    over the connection by every fresh process (PostgreSQL sends about 120 MB a second)."""
    if array.dtype.kind not in "iu" or array.size == 0:
        return array
    low, high = int(array.min()), int(array.max())
    narrow = np.result_type(np.min_scalar_type(low), np.min_scalar_type(high))
    if narrow.itemsize >= array.dtype.itemsize:
        return array
    widen[name] = array.dtype.str
    return array.astype(narrow)


def _put_frame(name: str, frame: pd.DataFrame, arrays: dict) -> dict:
    """A DataFrame as arrays (numbers, category codes) and JSON (categories, texts)."""
    columns = []
    for i, column in enumerate(frame.columns):
        series = frame[column]
        at = f"{name}.{i}"
        if isinstance(series.dtype, pd.CategoricalDtype):
            arrays[at] = series.array.codes
            categories = series.array.categories
            columns.append({"name": column, "kind": "category",
                            "categories": [str(c) for c in categories],
                            "dtype": str(categories.dtype)})  # fmt: skip
        elif series.dtype.kind in "biuf":
            arrays[at] = series.to_numpy()
            columns.append({"name": column, "kind": "number"})
        else:
            # Dictionary-encoded: the distinct texts once, a code per row (-1: missing).
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            arrays[at] = codes.astype(np.int32)
            columns.append({"name": column, "kind": "text",
                            "values": [str(v) for v in uniques], "dtype": str(series.dtype)})  # fmt: skip
    return {"prefix": name, "columns": columns, "rows": len(frame)}


def _get_frame(spec: dict, arrays: dict) -> pd.DataFrame:
    data = {}
    for i, column in enumerate(spec["columns"]):
        at = f"{spec['prefix']}.{i}"
        if column["kind"] == "category":
            data[column["name"]] = pd.Categorical.from_codes(
                arrays[at], categories=pd.Index(column["categories"], dtype=column["dtype"])
            )
        elif column["kind"] == "number":
            data[column["name"]] = arrays[at]
        else:
            texts = np.array([*column["values"], None], dtype=object)
            data[column["name"]] = pd.Series(texts.take(arrays[at]), dtype="object").astype(
                column["dtype"]
            )
    frame = pd.DataFrame(data)
    if not spec["columns"]:
        frame = pd.DataFrame(index=range(spec["rows"]))
    return frame


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None
