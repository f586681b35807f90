"""The counts of a round grown by its new responses, without going back to the old answers.

``merge_counts(base, delta)`` returns the ``RatingCounts`` of the answers of both (``delta``'s
responses are new: none of them is in ``base``, and their ids are higher), equal in every
table computed from it to ``rating_counts`` of all the answers at once. Everything the counts
hold is a sum over responses or a list of them:

- cells: the counts and sums of each (question, category, served_unit, group) add up;
- answer patterns: the distinct patterns of both, with their counts added; each response keeps
  its pattern;
- the item x response ratings and the response ids: the columns of both, side by side;
- comments: those of ``base``, then those of ``delta`` (ordered by response id);
- what ``analysis.clusters`` and ``analysis.drivers`` keep per counts (respondents' moments per
  row, the drivers' joint counts per item and per random group of respondents) add up too, so
  the merged counts carry them: a dashboard after one new response sums, it does not rescan.

Counts kept as pairs (rounds too large for a presence matrix) are not merged: ``None``, and the
caller counts everything again. ``tests/analysis/test_merging.py`` checks, on generated rounds,
that every table of the merged counts equals that of the counts of all answers.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis import clusters, drivers
from analysis.counts import ADDITIVE, CELL_GROUPS, RatingCounts
from analysis.frames import SCALE_COLUMNS
from analysis.keys import KEYS, key_tuples

# Comment tables kept apart before the small ones are joined (see _merged_comment_parts).
MAX_COMMENT_PARTS = 32


def merge_counts(base: RatingCounts, delta: RatingCounts) -> RatingCounts | None:
    """The counts of ``base``'s and ``delta``'s responses together (see the module rules), or
    None when they cannot be merged exactly."""
    if base.patterns is None or delta.patterns is None:
        return None
    if base.response_ids is None or delta.response_ids is None:
        return None
    if not len(delta.cells) and not delta.respondents:
        return base
    if not len(base.cells) and not base.respondents:
        return delta
    # A side without any rating has the default points (1..5), which say nothing of the scale.
    sides = [counts.points for counts in (base, delta) if len(counts.cells)] or [base.points]
    points = tuple(range(min(p[0] for p in sides), max(p[-1] for p in sides) + 1))
    added = _added_cells(base, delta, points)
    if added is not None:
        cells, base_at, delta_at = added
    else:
        categories = {key: _union(base.cells[key], delta.cells[key]) for key in KEYS}
        cells, base_at, delta_at = _merged_cells(base, delta, points, categories)
    patterns, pattern_counts, response_pattern = _merged_patterns(
        base, delta, cells, base_at, delta_at
    )
    items = _items(cells)
    item_ratings, item_satisfied_from = _merged_ratings(base, delta, items, points)
    merged = RatingCounts(
        cells=cells,
        points=points,
        patterns=patterns,
        pattern_counts=pattern_counts,
        pairs=None,
        comment_parts=_merged_comment_parts(base, delta),
        respondents=base.respondents + delta.respondents,
        rating_respondents=base.rating_respondents + delta.rating_respondents,
        answers=base.answers + delta.answers,
        item_ratings=item_ratings,
        item_satisfied_from=item_satisfied_from,
        response_pattern=response_pattern,
        response_ids=_appended(base, "response_ids", base.response_ids, delta.response_ids),
    )
    merged._clusters[GROWTH] = base._clusters.get(GROWTH, {})
    if added is not None:
        # The same cells in the same order (only their sums changed): the same groupings,
        # kept in one dict that every counts grown this way shares.
        merged._clusters[CELL_GROUPS] = base._clusters.setdefault(CELL_GROUPS, {})
    _carry_sums(base, delta, merged, items)
    return merged


# The buffers behind the per-response arrays of merged counts (kept in ``_clusters``): each
# array is a view of the first columns of a buffer with room to spare, so that a merge writes
# the new responses' columns after them instead of copying a million columns each time.
GROWTH = "growth"
# The per-response arrays that merges append to (along their last axis).
APPENDED = ("item_ratings", "response_pattern", "response_ids")


def _capacity(width: int) -> int:
    """Columns of a new buffer for ``width`` filled ones: a quarter more (at least 1,024).
    Appending stays a constant cost per response (a copy every width / 4 responses), and a
    million responses' buffers hold 25% more than their arrays, not twice as much: the
    arrays are ~36 MB at a million responses, and the worker drawing a report holds them."""
    return width + max(width // 4, 1024)


def with_room(array: np.ndarray, dtype: npt.DTypeLike = None) -> tuple[np.ndarray, dict]:
    """``array`` (as ``dtype``) copied to the start of a new buffer with room after it, and
    the buffer's record to keep in the counts' ``_clusters[GROWTH]`` under its name. For
    counts read from a saved tally (``survey.results.snapshots``): the one copy made there
    (or the conversion to the wider type) is the one the first merge would otherwise make,
    a fresh process's first page after one new response (0.27 s at a million responses)."""
    width = array.shape[-1]
    buffer = np.empty((*array.shape[:-1], _capacity(width)), dtype=dtype or array.dtype)
    buffer[..., :width] = array
    return buffer[..., :width], {"buffer": buffer, "filled": width}


def _is_start_of(array: np.ndarray, buffer: np.ndarray) -> bool:
    """Whether ``array`` is the view ``buffer[..., :n]``."""
    return (
        array.__array_interface__["data"][0] == buffer.__array_interface__["data"][0]
        and array.strides == buffer.strides
    )


def _appended(base: RatingCounts, name: str, old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``old`` and ``new`` side by side (along the last axis) as a view of a buffer kept for
    ``name``: appended in place when ``old`` is the buffer's filled part (no other merge has
    appended to it since), else copied into a new buffer with room (``_capacity``)."""
    growth = base._clusters.setdefault(GROWTH, {})
    width = old.shape[-1] + new.shape[-1]
    kept = growth.get(name)
    dtype = np.result_type(old.dtype, new.dtype)
    if (
        kept is not None
        and kept["filled"] == old.shape[-1]
        and kept["buffer"].shape[:-1] == old.shape[:-1] == new.shape[:-1]
        and kept["buffer"].shape[-1] >= width
        and kept["buffer"].dtype == dtype
        and _is_start_of(old, kept["buffer"])
    ):
        buffer = kept["buffer"]
    else:
        buffer = np.zeros((*old.shape[:-1], _capacity(width)), dtype=dtype)
        buffer[..., : old.shape[-1]] = old
        kept = growth[name] = {"buffer": buffer}
    buffer[..., old.shape[-1] : width] = new
    kept["filled"] = width
    return buffer[..., :width]


def _union(first: pd.Series, second: pd.Series) -> pd.Index:
    """The categories of both columns, sorted as ``astype("category")`` sorts them."""
    return first.array.categories.union(second.array.categories).sort_values()


def _recode(column: pd.Series, categories: pd.Index) -> pd.Categorical:
    return pd.Categorical(column.astype("object"), categories=categories)


def _added_cells(
    base: RatingCounts, delta: RatingCounts, points: tuple[int, ...]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
    """The usual case, quickly: every cell of ``delta`` is one of ``base``'s, on its points;
    the base's cells (same order, same categories) with the delta's sums added. None when a
    cell or a point is new (``_merged_cells`` then sorts them all again)."""
    if points != base.points:
        return None
    for key in KEYS:  # a category the base has not seen (even without a cell) sorts anew
        if not delta.cells[key].array.categories.isin(base.cells[key].array.categories).all():
            return None
    at = base._clusters.get(CELL_ROWS)
    if at is None:
        at = base._clusters[CELL_ROWS] = {key: i for i, key in enumerate(_cell_keys(base.cells))}
    try:
        rows = np.array([at[key] for key in _cell_keys(delta.cells)], dtype=np.intp)
    except KeyError:
        return None
    columns = {key: base.cells[key].array for key in KEYS}
    for name in SCALE_COLUMNS:
        column = base.cells[name].to_numpy(dtype="int64").copy()
        column[rows] = delta.cells[name].to_numpy(dtype="int64")  # the delta's scale wins
        columns[name] = column
    for name in [*ADDITIVE, *(f"count_{v}" for v in points)]:
        column = base.cells[name].to_numpy(dtype="int64").copy()
        if name in delta.cells:
            np.add.at(column, rows, delta.cells[name].to_numpy(dtype="int64"))
        columns[name] = column
    cells = pd.DataFrame(columns)
    return cells, np.arange(len(cells), dtype=np.intp), rows


# A counts' row of each cell key (kept in ``_clusters``), for ``_added_cells``.
CELL_ROWS = "cell rows"


def _cell_keys(cells: pd.DataFrame) -> list[tuple]:
    return key_tuples(cells, KEYS)


def _merged_cells(
    base: RatingCounts, delta: RatingCounts, points: tuple[int, ...], categories: dict
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The merged cells, sorted as ``rating_counts`` sorts them (by category code, missing
    first), and where each of ``base``'s and ``delta``'s cells went."""
    count_columns = [f"count_{v}" for v in points]
    parts = []
    for counts in (base, delta):
        table = pd.DataFrame({key: _recode(counts.cells[key], categories[key]) for key in KEYS})
        for name in SCALE_COLUMNS:
            table[name] = counts.cells[name].to_numpy(dtype="int64")
        for name in [*ADDITIVE, *count_columns]:
            table[name] = (
                counts.cells[name].to_numpy(dtype="int64")
                if name in counts.cells
                else np.zeros(len(counts.cells), dtype="int64")
            )
        parts.append(table)
    both = pd.concat(parts, ignore_index=True)
    # The sort key of rating_counts: each category code + 1 (missing: 0), column by column.
    key = np.zeros(len(both), dtype="int64")
    for name in KEYS:
        size = len(categories[name]) + 1
        key = key * size + (both[name].array.codes.astype("int64") + 1)
    distinct, position = np.unique(key, return_inverse=True)
    position = position.reshape(-1)
    first = np.zeros(len(distinct), dtype=np.intp)
    # The delta's scale of a cell wins (the later rows), as rating_counts keeps the last.
    first[position] = np.arange(len(both))
    cells = pd.DataFrame({name: both[name].array.take(first) for name in KEYS})
    for name in SCALE_COLUMNS:
        cells[name] = both[name].to_numpy().take(first)
    sums = np.zeros((len(distinct), len(ADDITIVE) + len(count_columns)), dtype="int64")
    np.add.at(sums, position, both[[*ADDITIVE, *count_columns]].to_numpy(dtype="int64"))
    for j, name in enumerate([*ADDITIVE, *count_columns]):
        cells[name] = sums[:, j]
    return cells, position[: len(base.cells)], position[len(base.cells) :]


def _merged_patterns(
    base: RatingCounts,
    delta: RatingCounts,
    cells: pd.DataFrame,
    base_at: np.ndarray,
    delta_at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct patterns of both over the merged cells, their counts and each response's
    pattern (``base``'s responses first)."""
    widened, weights, of_response = [], [], []
    for counts, at in ((base, base_at), (delta, delta_at)):
        patterns, pattern_counts = counts.patterns, counts.pattern_counts
        of_response.append(counts.response_pattern)
        if not len(patterns):
            # Responses without any rating cell (only other answers): one empty pattern.
            patterns = np.zeros((1, len(at)), dtype=bool)
            pattern_counts = np.array([len(counts.response_pattern)], dtype="int64")
            of_response[-1] = np.zeros(len(counts.response_pattern), dtype="int64")
        wide = np.zeros((len(patterns), len(cells)), dtype=bool)
        wide[:, at] = patterns
        widened.append(wide)
        weights.append(pattern_counts)
    distinct, inverse = np.unique(np.concatenate(widened), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    pattern_counts = np.bincount(
        inverse, weights=np.concatenate(weights), minlength=len(distinct)
    ).astype("int64")
    n_base = len(widened[0])
    old_codes = inverse[:n_base]
    if np.array_equal(old_codes, np.arange(n_base)):
        # The base's patterns kept their numbers (the usual case): its responses' too.
        kept = of_response[0].astype("int64", copy=False)
    else:
        kept = old_codes.take(of_response[0])
    response_pattern = _appended(
        base, "response_pattern", kept, inverse[n_base:].take(of_response[1]).astype("int64")
    )
    return np.ascontiguousarray(distinct), pattern_counts, response_pattern


def _items(cells: pd.DataFrame) -> list[tuple]:
    """The items (question, category, served_unit) in the order of their first cell: the rows
    of ``item_ratings``."""
    keys = key_tuples(cells, clusters.ITEM_KEYS)
    return list(dict.fromkeys(keys))


def _merged_ratings(
    base: RatingCounts, delta: RatingCounts, items: list[tuple], points: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The item x response ratings of both, over the merged items; the base's columns are
    appended to in place when its items and codes are unchanged (``_appended``)."""
    at = {item: i for i, item in enumerate(items)}
    dtype = np.result_type(base.item_ratings.dtype, delta.item_ratings.dtype)
    if len(points) + 1 > np.iinfo(dtype).max:
        dtype = np.int32
    blocks, satisfied_from = [], np.zeros(len(items), dtype="int64")
    for counts in (base, delta):
        rows = [at[item] for item in _items(counts.cells)]
        part = counts.item_ratings
        shift = counts.points[0] - points[0]
        if rows == list(range(len(items))) and not shift and part.dtype == dtype:
            block = part  # already over the merged items, with the same codes
        else:
            block = np.zeros((len(items), part.shape[1]), dtype=dtype)
            # Code c stands for points[0] + c - 1: the same value may have a higher code now.
            block[rows] = np.where(part > 0, part + shift, 0) if shift else part
        blocks.append(block)
        satisfied_from[rows] = counts.item_satisfied_from  # the delta's, where it has the item
    return _appended(base, "item_ratings", *blocks), satisfied_from


def _merged_comment_parts(base: RatingCounts, delta: RatingCounts) -> tuple[pd.DataFrame, ...]:
    """The comment tables of both, put together only when read (``RatingCounts.comments``):
    a new response adds its table instead of a copy of every comment. The small tables that
    pile up after many merges are joined now and then, the first (big) one left as it is."""
    parts = (*base.comment_parts, *delta.comment_parts)
    if len(parts) > MAX_COMMENT_PARTS:
        # Two parts at least: a single part is read as it is, its cells those of its counts.
        rest = [part for part in parts[1:] if len(part)] or [parts[1]]
        parts = (parts[0], _joined(rest))
    return parts


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Several comment tables as one, each key column's categories the union of theirs."""
    categories = {
        key: functools.reduce(
            pd.Index.union, [part[key].array.categories for part in parts]
        ).sort_values()
        for key in KEYS
    }
    frames = []
    for part in parts:
        table = part.copy()
        for key in KEYS:
            table[key] = _recode(table[key], categories[key])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _carry_sums(base: RatingCounts, delta: RatingCounts, merged: RatingCounts, items) -> None:
    """Keep on the merged counts the sums ``base`` already holds, plus ``delta``'s."""
    for memo, kept in base._clusters.items():
        if not isinstance(memo, tuple) or not memo:
            continue
        if memo[0] == "moments":
            added = clusters.moments_by_key(delta, memo[1])
            merged._clusters[memo] = clusters.merge_moments(kept, added)
        elif memo[0] == "drivers" and kept.hashed and base.points == merged.points:
            # The joint counts are by code (value - points[0] + 1): both sides on the same
            # points, or they would not line up.
            if not len(delta.cells):
                if kept.items == items:  # nothing rated: nothing to add
                    merged._clusters[memo] = kept
                continue
            if delta.points != merged.points:
                continue  # counted again when asked (rounds of several scales)
            added = drivers.driver_sums(delta, memo[1], hashed=True)
            sums = kept.merge(added, items)
            if sums is not None:
                merged._clusters[memo] = sums
