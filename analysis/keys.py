"""Keys of cells: the four key columns combined into one integer and split again, dense codes,
and plain (string) keys for lookups across rounds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# The columns that make a cell: an item (question, its category and served unit) and a
# respondent group.
KEYS = ("question", "category", "served_unit", "group")


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
