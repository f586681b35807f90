"""A round's rating answers reduced once to counts, from which every table is computed.

A round of 100,000 responses to 20 rating items has two million answers but only a few hundred
*cells*: (question, category, served unit, respondent group) combinations. ``rating_counts``
makes one vectorised pass over the answer frame and keeps, per cell, the count of each scale
point plus the additive sums the metrics need. Tables then aggregate cells, never answers.

Distinct respondents are not additive (one respondent answers many items of a category), so the
reduction also keeps which response answered which cell, to count distinct respondents for any
aggregation: that is what the anonymity rule counts.

The table functions of ``analysis`` take an answer frame or its ``RatingCounts``; pass the
counts when computing several tables of a large round. The driver view pairs each respondent's
rating of an item with their overall rating, so the counts also keep a compact item x response
matrix of ratings (one byte per response and item). (``trend_table`` splits rounds, so it takes
the frame itself.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from analysis.frames import empty_frame

KEYS = ("question", "category", "served_unit", "group")
ADDITIVE = ("n", "satisfied", "dissatisfied", "total", "total_sq")
# Above this many (response x cell) booleans the distinct-respondent bookkeeping switches from a
# dense matrix to sorted pairs, to stay well under the memory budget.
PRESENCE_LIMIT = 100_000_000


@dataclass(frozen=True)
class RatingCounts:
    """Answered ratings of one round (``type == "rating"``, value not NaN), reduced to cells.

    - ``cells``: one row per (question, category, served_unit, group) with at least one
      answered rating: the key columns (categoricals, missing kept as NaN), ``scale_min``,
      ``scale_max``, ``n``, ``satisfied`` (value >= scale_max - 1), ``dissatisfied``
      (value <= scale_min + 1), ``total`` (sum of values), ``total_sq`` (sum of squares) and
      ``count_<v>`` for every point v of every scale in the round.
    - ``patterns`` / ``pattern_counts``: which cells a response answered, as the distinct
      True/False rows (pattern x cell) and how many responses share each; most responses of a
      round answer the same items, so this is small. Very large rounds keep ``pairs`` instead
      (the sorted distinct ``response * n_cells + cell`` codes) and ``patterns`` is None.
    - ``comments``: the comments given with bottom-two-box ratings (value <= scale_min + 1):
      ``cell`` (row of ``cells``), key columns, ``response_id``, ``value``, ``scale_min``,
      ``comment``, ordered by ``response_id``.
    - ``respondents``: distinct response_id in the frame (any question type);
      ``rating_respondents``: those with at least one answered rating; ``answers``: rows.
    - ``item_ratings``: each response's rating of each item (question, category, served_unit)
      as an item x response matrix of value - points[0] + 1, 0 when not rated; a response rating
      an item twice keeps its last answer (frame order). Items are numbered in the order of
      their first row in ``cells``; ``item_scale_max`` is the scale_max of each item's last
      counted row. ``analysis.drivers`` pairs an item with the overall item from these.

    ``aggregate`` keeps each table it computes on the counts (a few rows each) and hands out
    copies: the review pages ask for the item and category sums several times per round;
    ``analysis.metrics.metrics_of`` keeps those sums with their metrics the same way.
    """

    cells: pd.DataFrame
    points: tuple[int, ...]
    patterns: np.ndarray | None
    pattern_counts: np.ndarray | None
    pairs: np.ndarray | None
    comments: pd.DataFrame
    respondents: int
    rating_respondents: int
    answers: int
    item_ratings: np.ndarray
    item_scale_max: np.ndarray
    _aggregates: dict[tuple[str, ...], pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _metrics: dict[tuple[str, ...], pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def count_columns(self) -> list[str]:
        return [f"count_{v}" for v in self.points]

    @cached_property
    def summed(self) -> np.ndarray:
        """The cells' additive and count columns (``ADDITIVE``, then ``count_columns``) as one
        int64 matrix of cells x columns, for ``aggregate`` to sum in one pass."""
        columns = [*ADDITIVE, *self.count_columns]
        return np.column_stack([self.cells[name].to_numpy(dtype="int64") for name in columns])

    def distinct_respondents(self, cell_group: np.ndarray, n_groups: int) -> np.ndarray:
        """Distinct responses per group of cells (``cell_group[k]`` = group id of cell k)."""
        if n_groups == 0 or len(cell_group) == 0:
            return np.zeros(n_groups, dtype="int64")
        if self.patterns is not None:
            # pattern x group: does the pattern answer any cell of the group? (a matrix product;
            # ufunc.reduceat along rows is slow, and float32 counts this small are exact)
            member = np.zeros((len(cell_group), n_groups), dtype=np.float32)
            member[np.arange(len(cell_group)), cell_group] = 1
            merged = (self.patterns.astype(np.float32) @ member) > 0
            return (self.pattern_counts @ merged).astype("int64")
        n_cells = len(self.cells)
        response, cell = np.divmod(self.pairs, n_cells)
        distinct = np.unique(response * n_groups + cell_group[cell])
        return np.bincount(distinct % n_groups, minlength=n_groups)


def as_counts(data: pd.DataFrame | RatingCounts) -> RatingCounts:
    """``data`` itself if it is already a ``RatingCounts``, else ``rating_counts(data)``."""
    return data if isinstance(data, RatingCounts) else rating_counts(data)


def rating_counts(frame: pd.DataFrame, *, presence_limit: int = PRESENCE_LIMIT) -> RatingCounts:
    """Reduce an answer frame (see ``analysis.frames``) to its rating cells in one pass.

    Only ``type == "rating"`` rows with a value count; nps, choice, multi and text answers and
    unanswered ratings (NaN) are left out of every satisfaction figure. A cell's scale is the
    scale of its rows (fixed per question in a questionnaire version).
    """
    if len(frame.columns) == 0:
        frame = empty_frame()
    # The per-row arrays are few and narrow (int8/int16 codes, one reused intp buffer): at two
    # million rows, allocating and first touching a fresh array costs as much as computing it.
    valid = rating_mask(frame)
    smin = frame["scale_min"].to_numpy()
    smax = frame["scale_max"].to_numpy()
    # One scale for the whole round (the usual case) spares every per-row scale pass below.
    fixed = _fixed_scale(smin, smax, valid)
    points = np.arange(fixed[0], fixed[1] + 1) if fixed else _points(smin, smax, valid)
    value = frame["value"].to_numpy()
    code = _value_codes(value, valid, int(points[0]), len(points))
    # Every row gets a cell; rows that do not count go to a last "discard" cell, so that the
    # two-million-row arrays are never filtered (gathers cost more than arithmetic here).
    key, sizes = combined_key(frame)
    slot, cell, cell_keys, counts = _cell_counts(
        key, int(np.prod(sizes, dtype="int64")), code, len(points)
    )
    n_cells = len(cell_keys)
    if fixed:
        scales = tuple(np.full(n_cells, end, dtype="int64") for end in fixed)
        low = valid & (code <= 2)  # value <= scale_min + 1
    else:
        scales = _scatter_last(cell, n_cells, smin), _scatter_last(cell, n_cells, smax)
        low = valid & (value <= smin + 1)  # NaN compares False
    cells = _cells_frame(frame, split_key(cell_keys, sizes), counts, points, *scales)
    # Cells are sorted by key and the group is the last key part, so an item's cells are
    # consecutive: item_of_cell numbers the items 0..k-1 in cell order.
    item_key = cell_keys // sizes[-1]
    item_of_cell = np.cumsum(np.r_[False, item_key[1:] != item_key[:-1]])[:n_cells]
    rows = _Rows(frame["response_id"].to_numpy(), cell, code, item_of_cell)
    answered = _answered(rows, slot, presence_limit)
    if fixed:
        item_scale_max = np.full(rows.n_items, fixed[1], dtype="int64")
    else:
        item_scale_max = _scatter_last(rows.items(), rows.n_items, smax)
    return RatingCounts(
        cells=cells,
        points=tuple(int(p) for p in points),
        comments=_comments(frame, low, cell),
        answers=len(frame),
        item_scale_max=item_scale_max,
        **answered,
    )


def _fixed_scale(smin: np.ndarray, smax: np.ndarray, valid: np.ndarray) -> tuple[int, int] | None:
    """(scale_min, scale_max) when every row has the same scale and some row counts."""
    if not len(smin) or (smin != smin[0]).any() or (smax != smax[0]).any():
        return None
    return (int(smin[0]), int(smax[0])) if valid.any() else None


def _value_codes(value: np.ndarray, valid: np.ndarray, lowest: int, n_points: int) -> np.ndarray:
    """value - lowest + 1 (1..points) for the rows that count, 0 for the others."""
    if lowest >= -127 and lowest + n_points <= 127:
        with np.errstate(invalid="ignore"):
            # NaN and the values of rows that do not count are overwritten below.
            code = value.astype(np.int8)
        code -= lowest - 1
    else:
        code = np.where(valid, value - (lowest - 1), 0.0).astype(np.int32)
    code *= valid
    return code


def _cell_counts(
    key: np.ndarray, space: int, code: np.ndarray, n_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Count each (cell, value code) in one bincount.

    Returns the intp slot buffer (free for reuse), per row its cell (0..k-1 in sorted key
    order, k for the rows that do not count, whose code is 0), the k sorted distinct keys of
    the counted rows and the (k x points) counts.
    """
    n_codes = n_points + 1
    if space * n_codes <= max(4 * len(key), 1 << 20):
        # Count straight into the key space (a lookup table is O(n); np.unique would sort).
        slot = np.multiply(key, n_codes, dtype=np.intp)
        slot += code
        by_key = np.bincount(slot, minlength=space * n_codes).reshape(space, n_codes)
        cell_keys = np.flatnonzero(by_key[:, 1:].any(axis=1))
        n_cells = len(cell_keys)
        # The cell of each slot; code 0 (a row that does not count) is the discard cell.
        lookup = np.full((space, n_codes), n_cells, dtype=np.int16 if n_cells < 2**15 else np.intp)
        lookup[cell_keys, 1:] = np.arange(n_cells)[:, None]
        return slot, lookup.ravel().take(slot), cell_keys, by_key[cell_keys, 1:]
    cell, cell_keys = dense_codes(key, space, code > 0)
    n_cells = len(cell_keys)
    slot = cell * n_codes
    slot += code
    counts = np.bincount(slot, minlength=(n_cells + 1) * n_codes)
    return slot, cell, cell_keys, counts.reshape(n_cells + 1, n_codes)[:n_cells, 1:]


def _scatter_last(index: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    """result[i] = the last of ``values`` whose ``index`` is i (index ``size`` is discarded)."""
    result = np.zeros(size + 1, dtype="int64")
    result[index] = values
    return result[:size]


@dataclass(frozen=True)
class _Rows:
    """Per row of the frame: response id, cell (n_cells: discard), value code (0: none);
    and the item of each cell."""

    response_id: np.ndarray
    cell: np.ndarray
    code: np.ndarray
    item_of_cell: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.item_of_cell)

    @property
    def n_items(self) -> int:
        return int(self.item_of_cell[-1]) + 1 if self.n_cells else 0

    def items(self) -> np.ndarray:
        """The item of each row (n_items for the rows that do not count)."""
        lookup = np.append(self.item_of_cell, self.n_items).astype(np.intp)
        return lookup.take(self.cell)


def rating_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for the rows that count: rating answers with a value."""
    types = frame["type"].array
    if "rating" not in types.categories:
        return np.zeros(len(frame), dtype=bool)
    code = types.categories.get_loc("rating")
    answered = np.isnan(frame["value"].to_numpy())
    np.logical_not(answered, out=answered)
    answered &= types.codes == code
    return answered


def aggregate(counts: RatingCounts, by: Sequence[str]) -> pd.DataFrame:
    """Sum the cells over everything except the key columns ``by`` (a subset of ``KEYS``).

    Returns one row per combination of ``by`` present in the round (missing codes kept as
    their own row, sorted last), with ``scale_min`` (min), ``scale_max`` (max), the additive
    columns, the ``count_<v>`` columns and ``respondents``: distinct responses with at least
    one answered rating in the row. ``by=()`` gives a single row for the whole round.
    """
    by = tuple(by)
    if not by:
        return pd.DataFrame(aggregate_columns(counts, by))
    if by not in counts._aggregates:
        counts._aggregates[by] = pd.DataFrame(aggregate_columns(counts, by))
    return counts._aggregates[by].copy()


def aggregate_columns(counts: RatingCounts, by: Sequence[str]) -> dict[str, object]:
    """The columns of ``aggregate(counts, by)``, computed anew: key categoricals and numpy
    arrays, for callers that add columns before making one frame."""
    columns = ["scale_min", "scale_max", *ADDITIVE, *counts.count_columns]
    if not by:
        return _whole_round(counts, columns)
    cells = counts.cells
    # numpy on the few hundred cells: a pandas groupby costs milliseconds of overhead per table.
    ids, first = group_ids(cells, by)
    n_groups = len(first)
    table: dict[str, object] = {key: cells[key].array.take(first) for key in by}
    table["scale_min"] = np.full(n_groups, np.iinfo("int64").max)
    np.minimum.at(table["scale_min"], ids, cells["scale_min"].to_numpy())
    table["scale_max"] = np.full(n_groups, np.iinfo("int64").min)
    np.maximum.at(table["scale_max"], ids, cells["scale_max"].to_numpy())
    # All additive and count columns summed in one pass over a cells x columns matrix.
    sums = np.zeros((n_groups, len(columns) - 2), dtype="int64")
    np.add.at(sums, ids, counts.summed)
    for j, name in enumerate(columns[2:]):
        table[name] = sums[:, j]
    table["respondents"] = counts.distinct_respondents(ids, n_groups)
    return table


def group_ids(table: pd.DataFrame, by: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The row order of ``table.groupby(by, observed=True, dropna=False, sort=True)`` over
    categorical columns ``by``: each row's group number (groups sorted by category code,
    missing codes last) and the first row of each group."""
    key = np.zeros(len(table), dtype="int64")
    for name in by:
        codes = table[name].array.codes.astype("int64")
        size = int(codes.max(initial=-1)) + 2
        codes[codes < 0] = size - 1
        key *= size
        key += codes
    _, first, ids = np.unique(key, return_index=True, return_inverse=True)
    return ids.reshape(-1).astype(np.intp), first


def _whole_round(counts: RatingCounts, columns: list[str]) -> dict[str, object]:
    cells = counts.cells
    row: dict[str, object] = {c: np.array([int(cells[c].sum())]) for c in columns}
    row["scale_min"] = np.array([int(cells["scale_min"].min()) if len(cells) else 1])
    row["scale_max"] = np.array([int(cells["scale_max"].max()) if len(cells) else 5])
    row["respondents"] = np.array([counts.rating_respondents])
    return row


def combined_key(frame: pd.DataFrame, keys: Sequence[str] = KEYS) -> tuple[np.ndarray, list[int]]:
    """One integer per row combining the category codes of ``keys`` (missing codes as 0): the
    narrowest of int16, int32 and int64 that holds the key space (less memory traffic)."""
    sizes = [len(frame[name].array.categories) + 1 for name in keys]
    space = int(np.prod(sizes, dtype="int64")) if sizes else 1
    dtype = next(t for t in ("int16", "int32", "int64") if space < np.iinfo(t).max)
    key = np.zeros(len(frame), dtype=dtype)
    for name, size in zip(keys, sizes):
        key *= size
        key += frame[name].array.codes
    # Every code is shifted by 1 (missing -1 -> 0): one constant, added once.
    key += sum(int(np.prod(sizes[i + 1 :], dtype="int64")) for i in range(len(sizes)))
    return key, sizes


def plain_keys(codes: pd.Series) -> np.ndarray:
    """A categorical key column as an object array of its strings, None where missing."""
    array = codes.array
    return np.append(np.asarray(array.categories, dtype=object), None).take(array.codes)


def key_tuples(table: pd.DataFrame, by: Sequence[str]) -> list[tuple]:
    """Each row's categorical keys ``by`` as a tuple of plain strings (None when missing), to
    match rows across rounds, whose categories differ; unique for an ``aggregate`` table."""
    return list(zip(*(plain_keys(table[key]) for key in by))) if by else [()] * len(table)


def split_key(keys: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """The per-column codes of ``combined_key`` values (0 = missing)."""
    parts = []
    for size in reversed(sizes):
        keys, part = np.divmod(keys, size)
        parts.append(part)
    return parts[::-1]


def dense_codes(
    key: np.ndarray, space: int, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Map the valid keys to 0..k-1 in sorted key order, invalid rows to k.

    Returns (codes, the k sorted distinct valid keys).
    """
    valid = np.ones(len(key), dtype=bool) if valid is None else valid
    if space <= max(4 * len(key), 1 << 20):
        # A lookup table over the key space is O(n); np.unique would sort the whole column.
        present = np.bincount(np.where(valid, key, space), minlength=space + 1)[:space] > 0
        distinct = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        return np.where(valid, lookup[np.minimum(key, space - 1)], len(distinct)), distinct
    distinct, inverse = np.unique(np.where(valid, key, -1), return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(distinct) and distinct[0] == -1:
        distinct, inverse = distinct[1:], inverse - 1
    return np.where(valid, inverse, len(distinct)), distinct


def _points(smin: np.ndarray, smax: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Every scale point of the counted rows (1..5 when there are none)."""
    if not valid.any():
        return np.arange(1, 6)
    # Only the counted rows' scales (the scale columns may be int16: no int64 sentinel here).
    lowest, highest = int(smin[valid].min()), int(smax[valid].max())
    return np.arange(lowest, highest + 1)


def _cells_frame(
    frame: pd.DataFrame,
    parts: list[np.ndarray],
    counts: np.ndarray,
    points: np.ndarray,
    cell_min: np.ndarray,
    cell_max: np.ndarray,
) -> pd.DataFrame:
    data = {}
    for key, part in zip(KEYS, parts):
        categories = frame[key].array.categories
        data[key] = pd.Categorical.from_codes(part - 1, categories=categories)
    data["scale_min"], data["scale_max"] = cell_min, cell_max
    top = points[None, :] >= (cell_max - 1)[:, None]
    bottom = points[None, :] <= (cell_min + 1)[:, None]
    data["n"] = counts.sum(axis=1)
    data["satisfied"] = (counts * top).sum(axis=1)
    data["dissatisfied"] = (counts * bottom).sum(axis=1)
    data["total"] = counts @ points
    data["total_sq"] = counts @ (points * points)
    for j, point in enumerate(points):
        data[f"count_{point}"] = counts[:, j]
    return pd.DataFrame(data)


def response_codes(response: np.ndarray) -> tuple[np.ndarray, int]:
    """Response ids as 0..r-1 codes: an offset when ids are dense, else a hash factorisation."""
    offset, codes, n_responses = _response_offset(response)
    return (response - offset if codes is None else codes), n_responses


def _response_offset(response: np.ndarray) -> tuple[int, np.ndarray | None, int]:
    """(offset, None, r) when the codes are response - offset (dense ids), else (0, codes, r)."""
    if len(response) == 0:
        return 0, None, 0
    lo, hi = int(response.min()), int(response.max())
    if hi - lo < 4 * len(response) + 1024:
        return lo, None, hi - lo + 1
    codes, uniques = pd.factorize(response)
    return 0, codes.astype("int64"), len(uniques)


def _answered(rows: _Rows, buffer: np.ndarray, limit: int) -> dict[str, object]:
    """Which response answered which cell (see ``RatingCounts``), respondent totals and the
    item x response ratings. ``buffer`` is an intp array of one slot per row, overwritten."""
    n_cells = rows.n_cells
    offset, codes, n_responses = _response_offset(rows.response_id)
    if n_responses * (n_cells + 1) > limit:
        return _answered_pairs(rows)
    # One cell-major matrix: row k holds each response's value code in cell k (0 = none);
    # the discard cell's row marks every response that has any row in the frame.
    slot = np.multiply(rows.cell, n_responses, out=buffer, dtype=np.intp)
    slot += rows.response_id if codes is None else codes
    slot -= offset
    matrix = np.zeros((n_cells + 1) * n_responses, dtype=rows.code.dtype)
    matrix[slot] = rows.code + (rows.code == 0)  # nonzero: the discard cell marks its response
    matrix = matrix.reshape(n_cells + 1, n_responses)
    patterns, pattern_counts = _distinct_columns(matrix[:n_cells])
    return {
        "patterns": patterns, "pattern_counts": pattern_counts, "pairs": None,
        "respondents": int(np.count_nonzero(matrix.any(axis=0))),
        "rating_respondents": int(pattern_counts[patterns.any(axis=1)].sum()),
        "item_ratings": _merge_cells(matrix[:n_cells], rows),
    }  # fmt: skip


def _merge_cells(matrix: np.ndarray, rows: _Rows) -> np.ndarray:
    """The item x response ratings from the cell x response codes: an item's cells (one per
    group) are consecutive rows. A response that rated one item in two groups needs the frame
    order to keep its last answer, so that (rare) case goes back to the rows."""
    item_of_cell = rows.item_of_cell
    bounds = np.flatnonzero(np.r_[True, item_of_cell[1:] != item_of_cell[:-1], True])
    if rows.n_items == rows.n_cells:
        return matrix.copy()
    merged = np.empty((rows.n_items, matrix.shape[1]), dtype=matrix.dtype)
    for item, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
        np.add.reduce(matrix[start:stop], axis=0, out=merged[item])
    # Codes are positive, so a sum over two answers loses a nonzero entry.
    if np.count_nonzero(merged) < np.count_nonzero(matrix):
        return _item_ratings(rows)
    return merged


def _item_ratings(rows: _Rows) -> np.ndarray:
    """Item x response matrix of value codes (0 = not rated), the last answer winning."""
    response, n_responses = response_codes(rows.response_id)
    slot = rows.items() * n_responses
    slot += response
    # Rows that do not count land in a last, discarded item.
    flat = np.zeros((rows.n_items + 1) * n_responses, dtype=rows.code.dtype)
    flat[slot] = rows.code
    return flat.reshape(rows.n_items + 1, n_responses)[: rows.n_items].copy()


def _answered_pairs(rows: _Rows) -> dict[str, object]:
    """The bookkeeping of ``_answered`` for rounds too large for a presence matrix."""
    response, _ = response_codes(rows.response_id)
    n_cells = rows.n_cells
    width = n_cells + 1  # the discard cell: every row of the frame marks its response
    pairs = np.unique(response * width + rows.cell)
    counted = pairs[pairs % width < n_cells]
    return {
        "patterns": None, "pattern_counts": None,
        "pairs": (counted // width) * n_cells + counted % width,
        "respondents": len(np.unique(pairs // width)),
        "rating_respondents": len(np.unique(counted // width)),
        "item_ratings": _item_ratings(rows),
    }  # fmt: skip


def _row_codes(words: np.ndarray) -> np.ndarray:
    """Number the distinct rows of a uint64 matrix 0, 1, ... in order of first occurrence."""
    code = pd.factorize(words[:, 0])[0]
    for column in words.T[1:]:
        word_code, uniques = pd.factorize(column)
        code = pd.factorize(code * len(uniques) + word_code)[0]
    return code


def _distinct_columns(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns of ``matrix != 0`` (cells x responses), as rows, and how often
    each occurs, in order of first occurrence.

    Each column is packed into 64-bit words and the words are factorised one by one (hashing
    is faster than sorting), so this is linear in the number of responses. np.packbits is slow
    across rows, so the bits are packed here, one cell row at a time.
    """
    n_cells, n_columns = matrix.shape
    if n_cells == 0 or n_columns == 0:
        return np.zeros((0, n_cells), dtype=bool), np.zeros(0, dtype="int64")
    n_bytes = -(-n_cells // 64) * 8
    n_lanes = -(-n_columns // 8)
    # Byte j of packed[b] is response j's bits of cells 8b..8b+7; the shifts and ors run on
    # uint64 words, eight responses (one byte each) at a time.
    packed = np.zeros((n_bytes, n_lanes), dtype=np.uint64)
    bit = np.zeros(n_lanes * 8, dtype=bool)
    lanes = bit.view(np.uint64)
    for cell in range(n_cells):
        np.not_equal(matrix[cell], 0, out=bit[:n_columns])
        packed[cell // 8] |= lanes << np.uint64(cell % 8)
    columns = packed.view(np.uint8)[:, :n_columns]
    code = _row_codes(np.ascontiguousarray(columns.T).view(np.uint64))
    n_codes = int(code.max()) + 1
    # Columns sharing a code are identical, so any of them can stand for the pattern.
    last = np.empty(n_codes, dtype="int64")
    last[code] = np.arange(len(code))
    counts = np.bincount(code, minlength=n_codes)
    return np.ascontiguousarray((matrix[:, last] != 0).T), counts.astype("int64")


def _comments(frame: pd.DataFrame, low: np.ndarray, cell: np.ndarray) -> pd.DataFrame:
    """Comments given with bottom-two-box ratings (``low``), ordered by response_id."""
    low = np.flatnonzero(low)
    # Test for a comment only on the low ratings: most of a big round's rows have none.
    rows = low[~frame["comment"].array.take(low).isna()]
    response = frame["response_id"].to_numpy().take(rows)
    order = np.argsort(response, kind="stable")
    rows = rows[order]
    # Column by column: frame.iloc would gather every column of the frame.
    table = {"cell": cell.take(rows).astype(np.intp)}
    for name in KEYS:
        codes = frame[name].array
        table[name] = pd.Categorical.from_codes(
            codes.codes.take(rows), dtype=codes.dtype, validate=False
        )
    table["response_id"] = response[order]
    table["value"] = frame["value"].to_numpy().take(rows)
    table["scale_min"] = frame["scale_min"].to_numpy().take(rows).astype("int64")
    table["comment"] = frame["comment"].array.take(rows)
    return pd.DataFrame(table)
