"""Which rows of a round's published tables are hidden, so that nobody can work out the answers
of fewer respondents than the anonymity threshold: not from one table, and not by subtracting
published rows from each other, across any of the round's tables.

Every published figure (n, satisfied, the count of each scale point, sums for the mean) is a
sum over the round's *cells*: (question, category, served unit, respondent group) combinations
(see ``analysis.counts``). A published row is therefore a set of cells, and a reader who has
several rows can add and subtract them: the round's total minus the groups shown gives the
hidden group; an item asked of two groups, one hidden, gives the hidden one by difference.
Statistical offices protect such tables by *secondary (complementary) suppression* (Hundepool
et al., Statistical Disclosure Control, 2012, ch. 4; the rules of tau-argus and sdcTable);
this module does the same, in three steps:

1. **Items too small to publish.** An item (a question, or a question about one served unit)
   answered by fewer than ``k`` distinct respondents is *withheld*: not shown, and its answers
   left out of every published total (round, category, served unit, group), since any total
   that included them would give them away by subtraction, or force hiding whole categories
   to prevent it. Every published item then has at least ``k`` respondents, and so does every
   total of items. (Typically: liaison questions asked only of two one-office groups.)
2. **Groups too small for the round.** A respondent group with fewer than ``k`` respondents
   in the whole round is hidden in every table that reports groups. If that leaves a single
   hidden group, or hidden groups with fewer than ``k`` respondents together, the smallest
   shown groups are hidden with them until neither is true: their answers are then only ever
   reported together, as "other groups", whose figures are the round's minus the groups shown.
   (An anonymous round also hides its groups of a single unit this way, whatever their size,
   and withholds the items only such groups answered: those would be the units' figures.)
   Within the groups shown, a row (a group's item, a group's category) with fewer than ``k``
   respondents is hidden too (*primary suppression*).
3. **Complementary suppression.** For every published row (a *margin*) and every finer
   published table that splits it (an item into its groups, a category into its items, a
   group into its categories, ...), the hidden parts of the margin must be none, or at least
   two whose respondents together reach ``k``; otherwise the smallest shown part is hidden too
   (the margin itself when no part is left). Hiding one row can break another margin, so the
   rule runs until nothing changes.

The result is then checked the way an attacker would: a set of cells can be worked out from
the published rows exactly when its indicator vector lies in their linear span. Every row of
every combination of the four keys (published or not) with fewer than ``k`` respondents is
tested, and so are *regions* of cells with fewer than ``k`` respondents together, in which no
combination of published rows may fall at all (a small group's cells; pairs and maximal sets
of small cells within a group or an item): one hidden group's answers to two items of
different categories is no table's row, but may still be a sum and difference of published
ones. Should one be derivable (the margin rule is a heuristic), the published row with the
fewest respondents that takes part in a derivation is hidden and the steps run again. Rounds
too large for that check (more than ``EXACT_CHECK_CELLS`` cells) rely on the margin rule
alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts
from analysis.keys import KEYS
from analysis.metrics import ITEM_KEYS
from analysis.threads import one_blas_thread

ANONYMITY_THRESHOLD = 5
# The tables a round's pages, exports, report and API publish, as sets of their key columns
# (the order of the keys does not change which cells a row sums).
PUBLISHED: tuple[frozenset[str], ...] = tuple(
    frozenset(keys)
    for keys in (
        (),
        ("category",),
        ITEM_KEYS,
        ("served_unit",),
        ("served_unit", "category"),
        ("group",),
        ("group", "category"),
        KEYS,
    )
)
# Above this many cells the exact (linear algebra) check would cost seconds per round.
EXACT_CHECK_CELLS = 1500


@dataclass(frozen=True)
class _Table:
    ids: np.ndarray  # the row of each cell
    first: np.ndarray  # a cell of each row
    respondents: np.ndarray  # distinct respondents of each row


@dataclass(frozen=True)
class Disclosure:
    """What a round may publish at anonymity threshold ``threshold``.

    ``counts`` are the round's counts without the withheld items: every published table is
    computed from them. ``withheld`` lists the withheld items (question, category,
    served_unit). ``hidden_groups`` are the respondent groups never reported on their own (group codes, None
    for answers without a group): reported together they are "other groups". ``hidden(by)``
    says which rows of ``aggregate(counts, by)`` (in its order) are hidden; ``by`` must be one
    of the ``PUBLISHED`` key sets. ``hidden_cells`` marks each of the counts' cells whose own
    figures are hidden in the finest table (the group cells).
    """

    threshold: int
    counts: RatingCounts
    withheld: pd.DataFrame
    hidden_groups: frozenset[str | None]
    _tables: dict[frozenset[str], _Table]
    _hidden: dict[frozenset[str], np.ndarray]

    def hidden(self, by: Sequence[str]) -> np.ndarray:
        keys = frozenset(by)
        if keys not in self._hidden:
            raise ValueError(
                f"{tuple(by)} is not a published breakdown; published: "
                + ", ".join(str(tuple(sorted(k))) for k in PUBLISHED)
            )
        if not len(self.counts.cells):
            return np.ones(0 if by else 1, dtype=bool)
        # The rows of ``by`` in its own order are the canonical rows in another order.
        _, first = self.counts.cell_groups(by)
        return self._hidden[keys].take(self._tables[keys].ids.take(first))

    @property
    def hidden_cells(self) -> np.ndarray:
        return self._hidden[frozenset(KEYS)].take(self._tables[frozenset(KEYS)].ids)

    def published_sets(self) -> list[np.ndarray]:
        """Each published row as the indices of its cells (for checks and tests)."""
        return [
            np.flatnonzero(table.ids == row)
            for keys, table in self._tables.items()
            for row in np.flatnonzero(~self._hidden[keys])
        ]


def disclose(
    counts: RatingCounts,
    threshold: int = ANONYMITY_THRESHOLD,
    unnamed_groups: Iterable[str] = (),
) -> Disclosure:
    """What the round may publish (see the module rules), computed once per threshold and kept
    on the counts. ``unnamed_groups`` are hidden in step 2 whatever their size (an anonymous
    round's groups of a single unit: their answers are that unit's)."""
    key = ("__disclosure__", threshold, tuple(sorted(unnamed_groups)))
    kept = counts._aggregates.get(key)
    if kept is None:
        kept = _compute(counts, threshold, frozenset(unnamed_groups))
        counts._aggregates[key] = kept
    return kept


def _compute(all_counts: RatingCounts, k: int, unnamed: frozenset[str]) -> Disclosure:
    items = _table(all_counts, ITEM_KEYS)
    withheld_items = items.respondents < k
    if unnamed and len(items.first):
        # An item only unnamed groups answered is their figure under another name.
        group = all_counts.cells["group"].astype("object")
        named = ~group.isin(list(unnamed)).to_numpy()
        withheld_items |= np.bincount(items.ids, weights=named, minlength=len(items.first)) == 0
    withheld = pd.DataFrame(
        {key: all_counts.cells[key].array.take(items.first[withheld_items]) for key in ITEM_KEYS}
    )
    counts = all_counts.without_items(withheld_items.take(items.ids))
    cells = counts.cells
    tables = {keys: _table(counts, keys) for keys in PUBLISHED}
    hidden = {keys: table.respondents < k for keys, table in tables.items()}
    groups = _hidden_groups(counts, tables[frozenset(["group"])], k, unnamed)
    group_codes = cells["group"].array.codes
    hidden_group_cells = np.isin(group_codes, groups) if len(groups) else np.zeros(len(cells), bool)
    for keys, table in tables.items():
        if "group" in keys and len(groups):
            rows = np.unique(table.ids[hidden_group_cells])
            hidden[keys][rows] = True
    relations = [(parent, child) for parent in PUBLISHED for child in PUBLISHED if parent < child]
    state = _State.of(tables, hidden, k)
    check = len(cells) <= EXACT_CHECK_CELLS
    targets = _small_sets(counts, k) if check else []
    regions = _small_regions(counts, k) if check else []
    for _ in range(len(cells) * len(PUBLISHED) + 1):
        _complete(counts, state, relations, k)
        if not check:
            break
        row = _derivation_breaker(state, targets, regions, len(cells))
        if row is None:
            break
        state.hide(*row)
    categories = cells["group"].array.categories
    names = frozenset(None if code < 0 else str(categories[code]) for code in groups)
    return Disclosure(k, counts, withheld, names, tables, state.hidden)


def _table(counts: RatingCounts, keys: Iterable[str]) -> _Table:
    by = tuple(key for key in KEYS if key in keys)
    if not len(counts.cells):
        empty = np.zeros(0, dtype=np.intp)
        return _Table(empty, empty, np.zeros(0, dtype="int64"))
    ids, first = counts.cell_groups(by)
    return _Table(ids, first, counts.distinct_respondents(ids, len(first)))


def _respondents_of(counts: RatingCounts, members: np.ndarray, n_sets: int) -> np.ndarray:
    """Distinct respondents of each of ``n_sets`` disjoint cell sets (``members[c]`` is the set
    of cell c, ``n_sets`` for cells in none)."""
    return counts.distinct_respondents(members, n_sets + 1)[:n_sets]


def _hidden_groups(
    counts: RatingCounts, groups: _Table, k: int, unnamed: frozenset[str]
) -> np.ndarray:
    """Category codes (-1: no group) of the groups hidden in every group table (step 2)."""
    cells = counts.cells
    if not len(cells):
        return np.zeros(0, dtype="int64")
    codes = cells["group"].array.codes.astype("int64").take(groups.first)
    names = np.asarray(cells["group"].array.categories, dtype=object)
    named = np.array([code >= 0 and str(names[code]) in unnamed for code in codes.tolist()])
    hidden = (groups.respondents < k) | named.astype(bool)
    order = np.argsort(groups.respondents, kind="stable")
    while hidden.any() and not hidden.all():
        members = np.where(hidden.take(groups.ids), 0, 1)
        together = _respondents_of(counts, members, 1)[0]
        if hidden.sum() >= 2 and together >= k:
            break
        hidden[next(i for i in order if not hidden[i])] = True
    return codes[hidden]


@dataclass
class _State:
    """The hidden rows of every table while complements are chosen. Rows of different tables
    summing the same cells (a group that alone answered an item, a category of one item) are
    one row to a reader: hiding one hides them all. Rows *pinned* to the tables without groups
    (items, categories, served units, the round) are never chosen as complements: those tables
    stay whole, and a group row equal to one of their rows is published by it anyway."""

    tables: dict[frozenset[str], _Table]
    hidden: dict[frozenset[str], np.ndarray]
    pinned: dict[frozenset[str], np.ndarray]
    same: dict[frozenset[str], np.ndarray]
    members: list[list[tuple[frozenset[str], int]]]

    @classmethod
    def of(cls, tables: dict[frozenset[str], _Table], hidden: dict, k: int) -> _State:
        ids: dict[tuple, int] = {}
        same = {}
        for keys, table in tables.items():
            sigs = [tuple(np.flatnonzero(table.ids == row)) for row in range(len(table.first))]
            same[keys] = np.array([ids.setdefault(sig, len(ids)) for sig in sigs], dtype=np.intp)
        members: list[list[tuple[frozenset[str], int]]] = [[] for _ in ids]
        for keys, classes in same.items():
            for row, c in enumerate(classes.tolist()):
                members[c].append((keys, row))
        plain = np.zeros(len(ids), dtype=bool)
        for keys, classes in same.items():
            if "group" not in keys:
                plain[classes] = True
        pinned = {keys: plain[classes] for keys, classes in same.items()}
        # Start from nothing hidden, then hide (with their twins) the rows below the threshold
        # and the rows of the hidden groups, except pinned ones: a pinned group row's figures
        # are published by its twin anyway (below the threshold, the twin is hidden too).
        state = cls(tables, {keys: np.zeros_like(h) for keys, h in hidden.items()}, pinned,
                    same, members)  # fmt: skip
        for keys, table in tables.items():
            start = (table.respondents < k) | (hidden[keys] & ~pinned[keys])
            for row in np.flatnonzero(start).tolist():
                state.hide(keys, row)
        return state

    def hide(self, keys: frozenset[str], row: int) -> None:
        for twin_keys, twin in self.members[self.same[keys][row]]:
            self.hidden[twin_keys][twin] = True


def _complete(
    counts: RatingCounts,
    state: _State,
    relations: list[tuple[frozenset[str], frozenset[str]]],
    k: int,
) -> None:
    """Step 3, until no margin changes: the hidden parts of a shown margin are none, or at
    least two reaching ``k`` respondents together. The complement is the smallest part that is
    not pinned; failing that the margin itself, if not pinned; failing that the smallest
    part."""
    tables, hidden, pinned = state.tables, state.hidden, state.pinned
    changed = True
    while changed:
        changed = False
        for parent_keys, child_keys in relations:
            parent, child = tables[parent_keys], tables[child_keys]
            shown_parent, hidden_child = ~hidden[parent_keys], hidden[child_keys]
            n_parents = len(parent.first)
            # The parent row of each child row, and how many hidden parts each parent has.
            parent_of = parent.ids.take(child.first)
            n_hidden = np.bincount(parent_of[hidden_child], minlength=n_parents)
            candidates = shown_parent & (n_hidden > 0)
            if not candidates.any():
                continue
            in_hidden_part = hidden_child.take(child.ids)
            members = np.where(in_hidden_part, parent.ids, n_parents)
            together = _respondents_of(counts, members, n_parents)
            unsafe = np.flatnonzero(candidates & ((n_hidden < 2) | (together < k)))
            for row in unsafe.tolist():
                parts = np.flatnonzero((parent_of == row) & ~hidden_child)
                free = parts[~pinned[child_keys].take(parts)]
                if len(free):
                    state.hide(child_keys, int(free[np.argmin(child.respondents.take(free))]))
                elif not pinned[parent_keys][row] or not len(parts):
                    state.hide(parent_keys, row)
                else:
                    state.hide(child_keys, int(parts[np.argmin(child.respondents.take(parts))]))
                changed = True
                # The flags of this relation changed under the loop: look at it again.
                break


def _small_sets(counts: RatingCounts, k: int) -> np.ndarray:
    """Every row of every combination of the keys with fewer than ``k`` respondents, as a
    (distinct) sets x cells 0/1 matrix: what must never be derivable."""
    n_cells = len(counts.cells)
    found: dict[tuple[int, ...], None] = {}
    for size in range(len(KEYS) + 1):
        for keys in combinations(KEYS, size):
            table = _table(counts, keys)
            small = np.flatnonzero(table.respondents < k)
            if len(small):
                order = np.argsort(table.ids, kind="stable")
                bounds = np.searchsorted(table.ids[order], np.arange(len(table.first) + 1))
                for row in small.tolist():
                    found.setdefault(tuple(order[bounds[row] : bounds[row + 1]].tolist()))
    matrix = np.zeros((len(found), n_cells))
    for i, cells in enumerate(found):
        matrix[i, list(cells)] = 1.0
    return matrix


def _published_matrix(
    tables: dict[frozenset[str], _Table], hidden: dict[frozenset[str], np.ndarray], n_cells: int
) -> tuple[np.ndarray, list[tuple[frozenset[str], int]]]:
    rows, names = [], []
    for keys, table in tables.items():
        for row in np.flatnonzero(~hidden[keys]).tolist():
            rows.append(table.ids == row)
            names.append((keys, row))
    return np.array(rows, dtype="float64").reshape(len(rows), n_cells), names


def row_space(published: np.ndarray) -> np.ndarray:
    """An orthonormal basis (cells x rank) of the span of the published rows."""
    if not published.size:
        return np.zeros((published.shape[1] if published.ndim == 2 else 0, 0))
    # The row space of the published rows is spanned by the eigenvectors of PᵀP with a
    # nonzero eigenvalue (cells x cells: cheaper than an SVD of the taller P). The rows are
    # 0/1, so a nonzero eigenvalue is far from rounding noise.
    # One BLAS thread: several web workers share the cores, and a multithreaded
    # eigendecomposition of this size on busy cores takes ten times longer, not less.
    with one_blas_thread():
        values, vectors = np.linalg.eigh(published.T @ published)
    return vectors[:, values > max(values.max(), 1.0) * 1e-9]


def derivable(published: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which target sets (rows of 0/1 over cells) are linear combinations of the published
    rows: exactly what adding and subtracting published figures can reveal."""
    if not len(targets):
        return np.zeros(0, dtype=bool)
    if not published.size:
        return np.zeros(len(targets), dtype=bool)
    basis = row_space(published)
    residual = targets - (targets @ basis) @ basis.T
    return np.abs(residual).max(axis=1) < 1e-6


def region_leak(basis: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """A combination of published rows that involves only the cells of ``region`` (indices),
    as a vector over all cells, or None when there is none: the cells of a region with fewer
    than k respondents must stay out of reach in *any* combination, not only as a table row.

    With ``basis`` orthonormal, a vector of the row space lies inside the region exactly when
    its coordinates outside are 0, i.e. when the region's block of the basis has a singular
    value of 1."""
    if not basis.shape[1] or not len(region):
        return None
    with one_blas_thread():
        u, sigma, _ = np.linalg.svd(basis[region].T, full_matrices=False)
    if sigma.max() < 1 - 1e-9:
        return None
    return u[:, int(np.argmax(sigma))] @ basis.T


def _small_regions(counts: RatingCounts, k: int) -> list[np.ndarray]:
    """Sets of cells with fewer than ``k`` respondents together, none of whose combinations
    may be derivable: each small group's cells; the small groups together; and, among the
    small cells of each item and those of each group large enough to be shown, every pair
    and, from each cell, the largest set that stays below ``k`` respondents (adding the
    smallest cells first). A small group's own cells are covered by its whole."""
    cells = counts.cells
    n_cells = len(cells)
    if not n_cells:
        return []
    own = counts.distinct_respondents(np.arange(n_cells), n_cells)
    small = own < k
    group_of, firsts = counts.cell_groups(("group",))
    item_of, _ = counts.cell_groups(ITEM_KEYS)
    group_sizes = counts.distinct_respondents(group_of, len(firsts))
    small_groups = np.flatnonzero(group_sizes < k)
    candidates = [np.flatnonzero(group_of == g) for g in small_groups]
    candidates.append(np.flatnonzero(np.isin(group_of, small_groups)))
    if counts.patterns is not None:
        blocks = [np.flatnonzero((group_of == g) & small) for g in np.flatnonzero(group_sizes >= k)]
        blocks += [np.flatnonzero((item_of == i) & small) for i in np.unique(item_of).tolist()]
        for block in blocks:
            candidates.extend(_small_sets_within(counts, block, own, k))
    regions: dict[tuple[int, ...], None] = {}
    for members in candidates:
        key = tuple(sorted(members.tolist()))
        if len(key) > 1 and key not in regions:
            mask = np.ones(n_cells, dtype=np.intp)
            mask[list(key)] = 0
            if _respondents_of(counts, mask, 1)[0] < k:
                regions[key] = None
    return [np.array(region, dtype=np.intp) for region in regions]


def _small_sets_within(
    counts: RatingCounts, block: np.ndarray, own: np.ndarray, k: int
) -> list[np.ndarray]:
    """Every pair of ``block``'s cells, and from each cell the largest set growing by the
    smallest cells while below ``k`` respondents; from the answer patterns, vectorised."""
    if len(block) < 2:
        return []
    present = counts.patterns[:, block]  # patterns x block cells
    weights = counts.pattern_counts.astype("float64")
    # Respondents of each pair: own a + own b - those who answered both.
    # Counts only: a FE_INVALID flag from the BLAS kernel is spurious (see RatingCounts).
    with np.errstate(invalid="ignore"):
        both = (present.T * weights) @ present.astype("float64")
    pair_union = own[block][:, None] + own[block][None, :] - both
    found = [block[[a, b]] for a, b in zip(*np.nonzero(np.triu(pair_union < k, 1)))]
    order = np.argsort(own[block], kind="stable")
    for start in order.tolist():
        grown = present[:, start].copy()
        members = [start]
        for cell in order.tolist():
            if cell != start and weights @ (grown | present[:, cell]) < k:
                grown |= present[:, cell]
                members.append(cell)
        if len(members) > 1:
            found.append(block[members])
    return found


def _derivation_breaker(
    state: _State, targets: np.ndarray, regions: list[np.ndarray], n_cells: int
) -> tuple[frozenset[str], int] | None:
    """A published row to hide because a small set can be derived with it, or None."""
    if not len(targets) and not regions:
        return None
    published, names = _published_matrix(state.tables, state.hidden, n_cells)
    if not published.size:
        return None
    basis = row_space(published)
    residual = targets - (targets @ basis) @ basis.T if len(targets) else targets
    found = np.flatnonzero(np.abs(residual).max(axis=1) < 1e-6) if len(targets) else []
    if len(found):
        target = targets[found[0]]
        inside = target > 0
    else:
        for region in regions:
            target = region_leak(basis, region)
            if target is not None:
                inside = np.zeros(n_cells, dtype=bool)
                inside[region] = True
                break
        else:
            return None
    # The minimum-norm combination of published rows giving the target: its rows take part.
    weights = np.linalg.lstsq(published.T, target, rcond=None)[0]
    taking_part = np.flatnonzero(np.abs(weights) > 1e-9)
    outside = [i for i in taking_part if not (published[i] @ inside)]
    free = [i for i in outside if not state.pinned[names[i][0]][names[i][1]]]
    choice = free or outside or list(taking_part)
    respondents = [state.tables[names[i][0]].respondents[names[i][1]] for i in choice]
    return names[choice[int(np.argmin(respondents))]]
