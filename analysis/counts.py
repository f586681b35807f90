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
rating of an item with their overall rating, so the counts also keep a compact response x item
matrix of ratings (one byte per response and item). (``trend_table`` splits rounds, so it takes
the frame itself.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
      as a response x item matrix of value - points[0] + 1, 0 when not rated; a response rating
      an item twice keeps its last answer (frame order). Items are numbered in the order of
      their first row in ``cells``; ``item_scale_max`` is the scale_max of each item's last
      counted row. ``analysis.drivers`` pairs an item with the overall item from these.
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

    @property
    def count_columns(self) -> list[str]:
        return [f"count_{v}" for v in self.points]

    def distinct_respondents(self, cell_group: np.ndarray, n_groups: int) -> np.ndarray:
        """Distinct responses per group of cells (``cell_group[k]`` = group id of cell k)."""
        if n_groups == 0 or len(cell_group) == 0:
            return np.zeros(n_groups, dtype="int64")
        if self.patterns is not None:
            order = np.argsort(cell_group, kind="stable")
            starts = np.searchsorted(cell_group[order], np.arange(n_groups))
            merged = np.logical_or.reduceat(self.patterns[:, order], starts, axis=1)
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
    cell, cell_keys, counts = _cell_counts(key, int(np.prod(sizes, dtype="int64")), valid, code,
                                           len(points))  # fmt: skip
    n_cells = len(cell_keys)
    parts = split_key(cell_keys, sizes)
    if fixed:
        scales = tuple(np.full(n_cells, end, dtype="int64") for end in fixed)
    else:
        scales = _scatter_last(cell, n_cells, smin), _scatter_last(cell, n_cells, smax)
    cells = _cells_frame(frame, parts, counts, points, *scales)
    response, n_responses = response_codes(frame["response_id"].to_numpy())
    answered = _answered(response, n_responses, cell, n_cells, presence_limit)
    # Cells are sorted by key and the group is the last key part, so an item's cells are
    # consecutive; item_of_cell numbers the items 0..k-1 (the discard cell maps to k).
    item_key = cell_keys // sizes[-1]
    item_of_cell = np.cumsum(np.r_[False, item_key[1:] != item_key[:-1]])
    n_items = int(item_of_cell[-1]) + 1 if n_cells else 0
    item = np.append(item_of_cell, n_items).astype(cell.dtype).take(cell)
    item_scale_max = (
        np.full(n_items, fixed[1], dtype="int64") if fixed
        else _scatter_last(item, n_items, smax)
    )  # fmt: skip
    return RatingCounts(
        cells=cells,
        points=tuple(int(p) for p in points),
        comments=_comments(frame, valid, cell, value, fixed[0] if fixed else smin),
        answers=len(frame),
        item_ratings=_item_ratings(response, n_responses, item, n_items, code, valid),
        item_scale_max=item_scale_max,
        **answered,
    )


def _fixed_scale(smin: np.ndarray, smax: np.ndarray, valid: np.ndarray) -> tuple[int, int] | None:
    """(scale_min, scale_max) when every row has the same scale and some row counts."""
    if not len(smin) or smin.min() != smin.max() or smax.min() != smax.max():
        return None
    return (int(smin[0]), int(smax[0])) if valid.any() else None


def _value_codes(value: np.ndarray, valid: np.ndarray, lowest: int, n_points: int) -> np.ndarray:
    """value - lowest point for the rows that count, 0 for the others (small integers)."""
    dtype = np.int8 if n_points < 127 else np.int32
    return np.where(valid, value - lowest, 0.0).astype(dtype)


def _cell_counts(
    key: np.ndarray, space: int, valid: np.ndarray, code: np.ndarray, n_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row its cell (0..k-1 in sorted key order, k for the rows that do not count), the k
    sorted distinct keys of the counted rows, and the (k x points) counts of each value."""
    if (space + 1) * n_points <= max(4 * len(key), 1 << 20):
        # Count straight into the key space (a lookup table is O(n); np.unique would sort).
        keyed = np.where(valid, key, space)
        slot = keyed * n_points
        slot += code
        by_key = np.bincount(slot, minlength=(space + 1) * n_points).reshape(space + 1, -1)
        cell_keys = np.flatnonzero(by_key[:space].any(axis=1))
        lookup = np.full(space + 1, len(cell_keys), dtype=key.dtype)
        lookup[cell_keys] = np.arange(len(cell_keys))
        return lookup.take(keyed), cell_keys, by_key[cell_keys]
    cell, cell_keys = dense_codes(key, space, valid)
    n_cells = len(cell_keys)
    counts = np.bincount(cell * n_points + code, minlength=(n_cells + 1) * n_points)
    return cell, cell_keys, counts.reshape(n_cells + 1, n_points)[:n_cells]


def _scatter_last(index: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    """result[i] = the last of ``values`` whose ``index`` is i (index ``size`` is discarded)."""
    result = np.zeros(size + 1, dtype="int64")
    result[index] = values
    return result[:size]


def _item_ratings(
    response: np.ndarray,
    n_responses: int,
    item: np.ndarray,
    n_items: int,
    code: np.ndarray,
    valid: np.ndarray,
) -> np.ndarray:
    """Response x item matrix of value code + 1 (0 = not rated); the last answer wins."""
    width = n_items + 1  # rows that do not count land in a last, discarded column
    flat = np.zeros(n_responses * width, dtype=code.dtype)
    slot = response * width
    slot += item
    flat[slot] = code + valid
    return flat.reshape(n_responses, width)[:, :n_items].copy()


def rating_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for the rows that count: rating answers with a value."""
    types = frame["type"].array
    if "rating" not in types.categories:
        return np.zeros(len(frame), dtype=bool)
    code = types.categories.get_loc("rating")
    return (types.codes == code) & ~np.isnan(frame["value"].to_numpy())


def aggregate(counts: RatingCounts, by: Sequence[str]) -> pd.DataFrame:
    """Sum the cells over everything except the key columns ``by`` (a subset of ``KEYS``).

    Returns one row per combination of ``by`` present in the round (missing codes kept as
    their own row, sorted last), with ``scale_min`` (min), ``scale_max`` (max), the additive
    columns, the ``count_<v>`` columns and ``respondents``: distinct responses with at least
    one answered rating in the row. ``by=()`` gives a single row for the whole round.
    """
    by = list(by)
    cells = counts.cells
    columns = ["scale_min", "scale_max", *ADDITIVE, *counts.count_columns]
    if not by:
        return _whole_round(counts, columns)
    grouped = cells.groupby(by, observed=True, dropna=False, sort=True)
    table = grouped[columns].sum()
    table["scale_min"] = grouped["scale_min"].min()
    table["scale_max"] = grouped["scale_max"].max()
    ids = grouped.ngroup().to_numpy()
    table["respondents"] = counts.distinct_respondents(ids, grouped.ngroups)
    table = table.reset_index()
    for key in by:
        # groupby on an empty frame loses the categorical dtype; keep the frame's categories.
        table[key] = table[key].astype(cells[key].dtype)
    return table


def _whole_round(counts: RatingCounts, columns: list[str]) -> pd.DataFrame:
    cells = counts.cells
    row = {c: [int(cells[c].sum())] for c in columns}
    row["scale_min"] = [int(cells["scale_min"].min())] if len(cells) else [1]
    row["scale_max"] = [int(cells["scale_max"].max())] if len(cells) else [5]
    row["respondents"] = [counts.rating_respondents]
    return pd.DataFrame(row)


def combined_key(
    frame: pd.DataFrame, keys: Sequence[str] = KEYS
) -> tuple[np.ndarray, list[int]]:
    """One integer per row combining the category codes of ``keys`` (missing codes as 0):
    int32 when the key space allows (half the memory traffic of int64), else int64."""
    sizes = [len(frame[name].array.categories) + 1 for name in keys]
    space = int(np.prod(sizes, dtype="int64")) if sizes else 1
    key = np.zeros(len(frame), dtype="int32" if space < 2**31 - 1 else "int64")
    for name, size in zip(keys, sizes):
        key *= size
        key += frame[name].array.codes
        key += 1
    return key, sizes


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
    lowest = int(np.where(valid, smin, np.iinfo("int64").max).min())
    highest = int(np.where(valid, smax, np.iinfo("int64").min).max())
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
    if len(response) == 0:
        return response.astype("int64"), 0
    lo, hi = int(response.min()), int(response.max())
    if hi - lo < 4 * len(response) + 1024:
        return response - lo, hi - lo + 1
    codes, uniques = pd.factorize(response)
    return codes.astype("int64"), len(uniques)


def _answered(
    response: np.ndarray, n_responses: int, cell: np.ndarray, n_cells: int, limit: int
) -> dict[str, object]:
    """Which response answered which cell (see ``RatingCounts``), and respondent totals."""
    width = n_cells + 1  # the discard cell: every row of the frame marks its response
    if n_responses * width > limit:
        pairs = np.unique(response * width + cell)
        counted = pairs[pairs % width < n_cells]
        return {
            "patterns": None, "pattern_counts": None,
            "pairs": (counted // width) * n_cells + counted % width,
            "respondents": len(np.unique(pairs // width)),
            "rating_respondents": len(np.unique(counted // width)),
        }  # fmt: skip
    seen = np.zeros(n_responses * width, dtype=bool)
    seen[response * width + cell] = True
    seen = seen.reshape(n_responses, width)
    patterns, pattern_counts = _distinct_rows(seen[:, :n_cells])
    return {
        "patterns": patterns, "pattern_counts": pattern_counts, "pairs": None,
        "respondents": int(seen.any(axis=1).sum()),
        "rating_respondents": int(pattern_counts[patterns.any(axis=1)].sum()),
    }  # fmt: skip


def _distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean matrix and how often each occurs.

    Rows are packed into 64-bit words and factorised word by word (hashing is faster than
    sorting the rows), so this is linear in the number of responses.
    """
    n_columns = matrix.shape[1]
    if n_columns == 0 or len(matrix) == 0:
        return np.zeros((0, n_columns), dtype=bool), np.zeros(0, dtype="int64")
    packed = np.packbits(matrix, axis=1)
    padded = np.zeros((len(packed), -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    words = padded.view(np.uint64)
    code = np.zeros(len(words), dtype="int64")
    for column in words.T:
        word_code, uniques = pd.factorize(column)
        code = pd.factorize(code * len(uniques) + word_code)[0]
    n_codes = int(code.max()) + 1
    # Rows sharing a code are identical, so any of them can stand for the pattern.
    first = np.empty(n_codes, dtype="int64")
    first[code] = np.arange(len(code))
    counts = np.bincount(code, minlength=n_codes)
    return matrix[first], counts.astype("int64")


def _comments(
    frame: pd.DataFrame,
    valid: np.ndarray,
    cell: np.ndarray,
    value: np.ndarray,
    smin: np.ndarray | int,
) -> pd.DataFrame:
    """Comments given with bottom-two-box ratings (value <= scale_min + 1), by response_id."""
    low = np.flatnonzero(valid & (value <= smin + 1))  # NaN compares False
    # Test for a comment only on the low ratings: most of a big round's rows have none.
    rows = low[~frame["comment"].array.take(low).isna()]
    response = frame["response_id"].to_numpy().take(rows)
    order = np.argsort(response, kind="stable")
    rows = rows[order]
    # Column by column: frame.iloc would gather every column of the frame.
    table = {"cell": cell.take(rows).astype(np.intp)}
    for name in KEYS:
        table[name] = frame[name].array.take(rows)
    table["response_id"] = response[order]
    for name in ("value", "scale_min"):
        table[name] = frame[name].to_numpy().take(rows)
    table["comment"] = frame["comment"].array.take(rows)
    return pd.DataFrame(table)
