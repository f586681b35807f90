"""Who answered which cell: the bookkeeping behind distinct-respondent counts (the anonymity
rule counts respondents, which are not additive) and the item x response matrix of ratings
the driver view pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rows:
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


def response_codes(response: np.ndarray) -> tuple[np.ndarray, int]:
    """Response ids as 0..r-1 codes: an offset when ids are dense, else a hash factorisation."""
    offset, codes, n_responses, _ = _response_offset(response)
    return (response - offset if codes is None else codes), n_responses


def _response_offset(response: np.ndarray) -> tuple[int, np.ndarray | None, int, np.ndarray]:
    """(offset, None, r, ids) when the codes are response - offset (dense ids), else
    (0, codes, r, ids); ids: the response id of each code (of every id in the range when
    dense, some of which may be absent from the frame)."""
    if len(response) == 0:
        return 0, None, 0, np.zeros(0, dtype="int64")
    lo, hi = int(response.min()), int(response.max())
    if hi - lo < 4 * len(response) + 1024:
        return lo, None, hi - lo + 1, np.arange(lo, hi + 1, dtype="int64")
    codes, uniques = pd.factorize(response)
    return 0, codes.astype("int64"), len(uniques), np.asarray(uniques, dtype="int64")


def who_answered(rows: Rows, buffer: np.ndarray, limit: int) -> dict[str, object]:
    """Which response answered which cell (see ``RatingCounts``), respondent totals and the
    item x response ratings. ``buffer`` is an intp array of one slot per row, overwritten."""
    n_cells = rows.n_cells
    offset, codes, n_responses, ids = _response_offset(rows.response_id)
    if n_responses * (n_cells + 1) > limit:
        return {**_answered_pairs(rows), "response_ids": ids}
    # One cell-major matrix: row k holds each response's value code in cell k (0 = none);
    # the discard cell's row marks every response that has any row in the frame.
    slot = np.multiply(rows.cell, n_responses, out=buffer, dtype=np.intp)
    slot += rows.response_id if codes is None else codes
    slot -= offset
    matrix = np.zeros((n_cells + 1) * n_responses, dtype=rows.code.dtype)
    matrix[slot] = rows.code + (rows.code == 0)  # nonzero: the discard cell marks its response
    matrix = matrix.reshape(n_cells + 1, n_responses)
    patterns, pattern_counts, response_pattern = _distinct_columns(matrix[:n_cells])
    return {
        "patterns": patterns, "pattern_counts": pattern_counts, "pairs": None,
        "response_pattern": response_pattern,
        "respondents": int(np.count_nonzero(matrix.any(axis=0))),
        "rating_respondents": int(pattern_counts[patterns.any(axis=1)].sum()),
        "item_ratings": _merge_cells(matrix[:n_cells], rows),
        "response_ids": ids,
    }  # fmt: skip


def _merge_cells(matrix: np.ndarray, rows: Rows) -> np.ndarray:
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


def _item_ratings(rows: Rows) -> np.ndarray:
    """Item x response matrix of value codes (0 = not rated), the last answer winning."""
    response, n_responses = response_codes(rows.response_id)
    slot = rows.items() * n_responses
    slot += response
    # Rows that do not count land in a last, discarded item.
    flat = np.zeros((rows.n_items + 1) * n_responses, dtype=rows.code.dtype)
    flat[slot] = rows.code
    return flat.reshape(rows.n_items + 1, n_responses)[: rows.n_items].copy()


def _answered_pairs(rows: Rows) -> dict[str, object]:
    """The bookkeeping of ``who_answered`` for rounds too large for a presence matrix."""
    response, _ = response_codes(rows.response_id)
    n_cells = rows.n_cells
    width = n_cells + 1  # the discard cell: every row of the frame marks its response
    pairs = np.unique(response * width + rows.cell)
    counted = pairs[pairs % width < n_cells]
    return {
        "patterns": None, "pattern_counts": None,
        "pairs": (counted // width) * n_cells + counted % width, "response_pattern": None,
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


def _distinct_columns(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct columns of ``matrix != 0`` (cells x responses), as rows, how often each
    occurs, in order of first occurrence, and the pattern of each response (column).

    Each column is packed into 64-bit words and the words are factorised one by one (hashing
    is faster than sorting), so this is linear in the number of responses. np.packbits is slow
    across rows, so the bits are packed here, one cell row at a time.
    """
    n_cells, n_columns = matrix.shape
    if n_cells == 0 or n_columns == 0:
        empty = np.zeros(0, dtype="int64")
        return np.zeros((0, n_cells), dtype=bool), empty, np.zeros(n_columns, dtype="int64")
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
    return np.ascontiguousarray((matrix[:, last] != 0).T), counts.astype("int64"), code
