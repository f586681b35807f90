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

The keys of cells are in ``analysis.keys``; who answered which cell in ``analysis.respondents``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from analysis.frames import RATED_TYPES, SCALE_COLUMNS, empty_frame
from analysis.keys import KEYS, combined_key, dense_codes, group_ids, split_key
from analysis.respondents import Rows, who_answered

ADDITIVE = ("n", "satisfied", "dissatisfied", "total", "total_sq")
# The scale columns an aggregate row takes the lowest of (of the others, the highest).
LOWEST_OF = ("scale_min", "satisfied_from")
# Above this many (response x cell) booleans the distinct-respondent bookkeeping switches from a
# dense matrix to sorted pairs, to stay well under the memory budget.
PRESENCE_LIMIT = 100_000_000
# Where ``RatingCounts.cell_groups`` keeps its groupings (in ``_clusters``).
CELL_GROUPS = "cell groups"


@dataclass(frozen=True)
class RatingCounts:
    """Answered ratings of one round (``type == "rating"``, value not NaN), reduced to cells.

    - ``cells``: one row per (question, category, served_unit, group) with at least one
      answered rating: the key columns (categoricals, missing kept as NaN), the scale columns
      (``scale_min``, ``scale_max``, ``satisfied_from``, ``dissatisfied_to``: see
      ``analysis.frames``), ``n``, ``satisfied`` (value >= satisfied_from: the top two points
      of the scale, or as it declares), ``dissatisfied`` (value <= dissatisfied_to),
      ``total`` (sum of values), ``total_sq`` (sum of squares) and ``count_<v>`` for every
      whole number v from the lowest to the highest scale point of the round.
    - ``patterns`` / ``pattern_counts``: which cells a response answered, as the distinct
      True/False rows (pattern x cell) and how many responses share each; most responses of a
      round answer the same items, so this is small. Very large rounds keep ``pairs`` instead
      (the sorted distinct ``response * n_cells + cell`` codes) and ``patterns`` is None.
    - ``comments``: the comments given with dissatisfied ratings (value <= dissatisfied_to),
      put together on first use from ``comment_parts`` (counts grown by new responses,
      ``analysis.merging``, add a part instead of copying every comment each time):
      ``cell`` (row of ``cells``), key columns, ``response_id``, ``value``, ``scale_min``,
      ``comment``, ordered by ``response_id``.
    - ``respondents``: distinct response_id in the frame (any question type);
      ``rating_respondents``: those with at least one answered rating; ``answers``: rows.
    - ``item_ratings``: each response's rating of each item (question, category, served_unit)
      as an item x response matrix of value - points[0] + 1, 0 when not rated; a response rating
      an item twice keeps its last answer (frame order). Items are numbered in the order of
      their first row in ``cells``; ``item_satisfied_from`` is the satisfied_from of each item's
      last counted row. ``analysis.drivers`` pairs an item with the overall item from these, and
      ``analysis.clusters`` sums each respondent's satisfied and answered ratings per row.
    - ``response_pattern``: the row of ``patterns`` of each response (the columns of
      ``item_ratings``); None when ``pairs`` are kept instead. ``analysis.clusters`` finds each
      response's group from it.

    ``aggregate`` keeps each table it computes on the counts (a few rows each) and hands out
    copies: the review pages ask for the item and category sums several times per round;
    ``analysis.metrics.metrics_of`` keeps those sums with their metrics the same way.
    """

    cells: pd.DataFrame
    points: tuple[int, ...]
    patterns: np.ndarray | None
    pattern_counts: np.ndarray | None
    pairs: np.ndarray | None
    comment_parts: tuple[pd.DataFrame, ...]
    respondents: int
    rating_respondents: int
    answers: int
    item_ratings: np.ndarray
    item_satisfied_from: np.ndarray
    response_pattern: np.ndarray | None = None
    # The response id of each column of ``item_ratings`` (None: unknown, as in hand-made counts).
    response_ids: np.ndarray | None = None
    _aggregates: dict[tuple[str, ...], pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _metrics: dict[tuple[str, ...], pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Per-respondent matrices and sums of ``analysis.clusters``, computed once.
    _clusters: dict[object, object] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def comments(self) -> pd.DataFrame:
        """The comments of every part, their keys as the cells' categories and ``cell`` the
        row of ``cells`` with those keys, ordered by response (parts are in response order)."""
        if len(self.comment_parts) == 1:
            return self.comment_parts[0]
        return joined_comments(self.cells, self.comment_parts)

    @property
    def count_columns(self) -> list[str]:
        return [f"count_{v}" for v in self.points]

    def cell_groups(self, by: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``group_ids(self.cells, by)``, computed once per ``by`` and kept (read-only): a
        round's tables ask for the same few groupings of the cells some fifty times. Counts
        grown by new responses into the same cells carry them (``analysis.merging``)."""
        by = tuple(by)
        kept = self._clusters.setdefault(CELL_GROUPS, {})
        found = kept.get(by)
        if found is None:
            ids, first = group_ids(self.cells, by)
            ids.flags.writeable = first.flags.writeable = False
            found = kept[by] = (ids, first)
        return found

    @cached_property
    def summed(self) -> np.ndarray:
        """The cells' additive and count columns (``ADDITIVE``, then ``count_columns``) as one
        int64 matrix of cells x columns, for ``aggregate`` to sum in one pass."""
        columns = [*ADDITIVE, *self.count_columns]
        return np.column_stack([self.cells[name].to_numpy(dtype="int64") for name in columns])

    def without_items(self, withheld: np.ndarray) -> RatingCounts:
        """These counts without the items whose cells are marked in ``withheld`` (one flag per
        cell; an item's cells are all marked or none): what the tables of a round may sum
        once items with too few respondents are withheld (``analysis.disclosure``)."""
        keep = ~np.asarray(withheld, dtype=bool)
        if keep.all():
            return self
        new_index = np.cumsum(keep) - 1
        n_kept = int(keep.sum())
        patterns, pattern_counts, pairs = self.patterns, self.pattern_counts, self.pairs
        if patterns is not None:
            patterns = np.ascontiguousarray(patterns[:, keep])
            rating_respondents = int(pattern_counts[patterns.any(axis=1)].sum())
        else:
            response, cell = np.divmod(pairs, len(self.cells))
            kept = keep[cell]
            pairs = response[kept] * n_kept + new_index[cell[kept]]
            rating_respondents = len(np.unique(response[kept]))
        comments = self.comments[keep[self.comments["cell"].to_numpy()]].copy()
        comments["cell"] = new_index[comments["cell"].to_numpy()].astype(np.intp)
        # Items are numbered in the order of their first cell; a withheld item loses its row.
        rank, _ = self.cell_groups(("question", "category", "served_unit"))
        first = np.flatnonzero(np.r_[True, rank[1:] != rank[:-1]]) if len(rank) else rank
        kept_items = keep[first]
        return RatingCounts(
            cells=self.cells[keep].reset_index(drop=True),
            points=self.points,
            patterns=patterns,
            pattern_counts=pattern_counts,
            pairs=pairs,
            comment_parts=(comments.reset_index(drop=True),),
            respondents=self.respondents,
            rating_respondents=rating_respondents,
            answers=self.answers,
            item_ratings=self.item_ratings[kept_items],
            item_satisfied_from=self.item_satisfied_from[kept_items],
            # The same responses in the same order: each keeps its pattern (now narrower).
            response_pattern=self.response_pattern,
            response_ids=self.response_ids,
        )

    def distinct_respondents(self, cell_group: np.ndarray, n_groups: int) -> np.ndarray:
        """Distinct responses per group of cells (``cell_group[k]`` = group id of cell k)."""
        if n_groups == 0 or len(cell_group) == 0:
            return np.zeros(n_groups, dtype="int64")
        if self.patterns is not None:
            # pattern x group: does the pattern answer any cell of the group? (a matrix product;
            # ufunc.reduceat along rows is slow, and float32 counts this small are exact)
            member = np.zeros((len(cell_group), n_groups), dtype=np.float32)
            member[np.arange(len(cell_group)), cell_group] = 1
            # OpenBLAS's sgemm kernels can raise the FE_INVALID flag on 0/1 inputs (its padding
            # holds stale values; numpy/numpy#24067, OpenBLAS#1924): the product itself is exact,
            # and a 0/1 product has no invalid value to report. Seen once in CI on an AMD EPYC.
            with np.errstate(invalid="ignore"):
                merged = (self.patterns.astype(np.float32) @ member) > 0
            return (self.pattern_counts @ merged).astype("int64")
        n_cells = len(self.cells)
        response, cell = np.divmod(self.pairs, n_cells)
        distinct = np.unique(response * n_groups + cell_group[cell])
        return np.bincount(distinct % n_groups, minlength=n_groups)


def joined_comments(cells: pd.DataFrame, parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Comment tables of several sets of responses as one over ``cells`` (see
    ``RatingCounts.comments``): keys recoded to the cells' categories, ``cell`` found again."""
    frames = []
    for part in parts:
        table = part.copy()
        for key in KEYS:
            table[key] = pd.Categorical(
                table[key].astype("object"), categories=cells[key].array.categories
            )
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    if not len(table):
        return table
    codes = [cells[key].array.codes.astype("int64") for key in KEYS]
    lookup = {key: row for row, key in enumerate(zip(*codes))}
    wanted = zip(*(table[key].array.codes.astype("int64") for key in KEYS))
    table["cell"] = np.fromiter((lookup[key] for key in wanted), dtype=np.intp, count=len(table))
    return table


def as_counts(data: pd.DataFrame | RatingCounts) -> RatingCounts:
    """``data`` itself if it is already a ``RatingCounts``, else ``rating_counts(data)``."""
    return data if isinstance(data, RatingCounts) else rating_counts(data)


def rating_counts(frame: pd.DataFrame, *, presence_limit: int = PRESENCE_LIMIT) -> RatingCounts:
    """Reduce an answer frame (see ``analysis.frames``) to its rating cells in one pass.

    Only ``type == "rating"`` rows with a value count; nps, choice, multi and text answers and
    unanswered ratings (NaN) are left out of every satisfaction figure. A cell's scale is the
    scale of its rows (fixed per question in a questionnaire version): a rating is satisfied
    when its value is at least the row's ``satisfied_from``, dissatisfied when at most its
    ``dissatisfied_to``.
    """
    if len(frame.columns) == 0:
        frame = empty_frame()
    # The per-row arrays are few and narrow (int8/int16 codes, one reused intp buffer): at two
    # million rows, allocating and first touching a fresh array costs as much as computing it.
    valid = rating_mask(frame)
    scale = [frame[name].to_numpy() for name in SCALE_COLUMNS]
    smin, smax, sfrom, dto = scale
    # One scale for the whole round (the usual case) spares every per-row scale pass below.
    fixed = _fixed_scale(scale, valid)
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
        scales = [np.full(n_cells, end, dtype="int64") for end in fixed]
        low = valid & (code <= fixed[3] - fixed[0] + 1)  # value <= dissatisfied_to
    else:
        scales = [_scatter_last(cell, n_cells, column) for column in scale]
        low = valid & (value <= dto)  # NaN compares False
    cells = _cells_frame(frame, split_key(cell_keys, sizes), counts, points, scales)
    # Cells are sorted by key and the group is the last key part, so an item's cells are
    # consecutive: item_of_cell numbers the items 0..k-1 in cell order.
    item_key = cell_keys // sizes[-1]
    item_of_cell = np.cumsum(np.r_[False, item_key[1:] != item_key[:-1]])[:n_cells]
    rows = Rows(frame["response_id"].to_numpy(), cell, code, item_of_cell)
    answered = who_answered(rows, slot, presence_limit)
    if fixed:
        item_satisfied_from = np.full(rows.n_items, fixed[2], dtype="int64")
    else:
        item_satisfied_from = _scatter_last(rows.items(), rows.n_items, sfrom)
    return RatingCounts(
        cells=cells,
        points=tuple(int(p) for p in points),
        comment_parts=(_comments(frame, low, cell),),
        answers=len(frame),
        item_satisfied_from=item_satisfied_from,
        **answered,
    )


def _fixed_scale(scale: list[np.ndarray], valid: np.ndarray) -> tuple[int, ...] | None:
    """The ``SCALE_COLUMNS`` values when every row has the same and some row counts."""
    if not len(valid) or any((column != column[0]).any() for column in scale):
        return None
    return tuple(int(column[0]) for column in scale) if valid.any() else None


def _value_codes(value: np.ndarray, valid: np.ndarray, lowest: int, n_points: int) -> np.ndarray:
    """value - lowest + 1 (1..points) for the rows that count, 0 for the others."""
    # One byte when the values and their codes both fit: -127..127 (so that lowest - 1 does
    # too) and at most 127 points (a code of 1..201 on -100..100 would wrap around).
    if lowest >= -127 and lowest + n_points <= 128 and n_points <= 127:
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


def rating_mask(frame: pd.DataFrame) -> np.ndarray:
    """True for the rows that count: answers with a value to the types tabulated as
    satisfaction (``RATED_TYPES``: rating)."""
    types = frame["type"].array
    codes = [types.categories.get_loc(t) for t in RATED_TYPES if t in types.categories]
    if not codes:
        return np.zeros(len(frame), dtype=bool)
    answered = np.isnan(frame["value"].to_numpy())
    np.logical_not(answered, out=answered)
    # One rated type (today's registry): a comparison, twice as fast as isin on 2 million rows.
    answered &= types.codes == codes[0] if len(codes) == 1 else np.isin(types.codes, codes)
    return answered


def aggregate(counts: RatingCounts, by: Sequence[str]) -> pd.DataFrame:
    """Sum the cells over everything except the key columns ``by`` (a subset of ``KEYS``).

    Returns one row per combination of ``by`` present in the round (missing codes kept as
    their own row, sorted last), with ``scale_min`` and ``satisfied_from`` (the lowest of
    its cells), ``scale_max`` and ``dissatisfied_to`` (the highest; a row of one scale has that
    scale's), the additive columns, the ``count_<v>`` columns and ``respondents``: distinct responses with at least
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
    columns = [*SCALE_COLUMNS, *ADDITIVE, *counts.count_columns]
    if not by:
        return _whole_round(counts, columns)
    cells = counts.cells
    # numpy on the few hundred cells: a pandas groupby costs milliseconds of overhead per table.
    ids, first = counts.cell_groups(by)
    n_groups = len(first)
    table: dict[str, object] = {key: cells[key].array.take(first) for key in by}
    for name in SCALE_COLUMNS:
        lowest = name in LOWEST_OF
        table[name] = np.full(n_groups, np.iinfo("int64").max if lowest else np.iinfo("int64").min)
        (np.minimum if lowest else np.maximum).at(table[name], ids, cells[name].to_numpy())
    # All additive and count columns summed in one pass over a cells x columns matrix.
    sums = np.zeros((n_groups, len(columns) - len(SCALE_COLUMNS)), dtype="int64")
    np.add.at(sums, ids, counts.summed)
    for j, name in enumerate(columns[len(SCALE_COLUMNS) :]):
        table[name] = sums[:, j]
    table["respondents"] = counts.distinct_respondents(ids, n_groups)
    return table


def _whole_round(counts: RatingCounts, columns: list[str]) -> dict[str, object]:
    cells = counts.cells
    row: dict[str, object] = {c: np.array([int(cells[c].sum())]) for c in columns}
    for name, default in zip(SCALE_COLUMNS, (1, 5, 4, 2)):
        column = cells[name]
        extreme = column.min() if name in LOWEST_OF else column.max()
        row[name] = np.array([int(extreme) if len(cells) else default])
    row["respondents"] = np.array([counts.rating_respondents])
    return row


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
    scales: list[np.ndarray],
) -> pd.DataFrame:
    data = {}
    for key, part in zip(KEYS, parts):
        categories = frame[key].array.categories
        data[key] = pd.Categorical.from_codes(part - 1, categories=categories)
    data.update(zip(SCALE_COLUMNS, scales))
    top = points[None, :] >= data["satisfied_from"][:, None]
    bottom = points[None, :] <= data["dissatisfied_to"][:, None]
    data["n"] = counts.sum(axis=1)
    data["satisfied"] = (counts * top).sum(axis=1)
    data["dissatisfied"] = (counts * bottom).sum(axis=1)
    data["total"] = counts @ points
    data["total_sq"] = counts @ (points * points)
    for j, point in enumerate(points):
        data[f"count_{point}"] = counts[:, j]
    return pd.DataFrame(data)


def _comments(frame: pd.DataFrame, low: np.ndarray, cell: np.ndarray) -> pd.DataFrame:
    """Comments given with dissatisfied ratings (``low``), ordered by response_id."""
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
