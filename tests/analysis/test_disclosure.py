"""What a round publishes cannot be used to work out the answers of fewer respondents than the
anonymity threshold: the attacks of a reader holding every published table, tried on many
generated rounds.

The attacker sees each table the review pages, exports and API publish (``published_rows``),
knows which cells (question x category x served unit x group) each shown row sums, and adds
and subtracts rows at will. A set of cells is revealed exactly when its indicator vector is a
linear combination of the shown rows' (``derivable``); the tests check every row of every
combination of the keys, and the subtractions a person would try first, one by one.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from analysis import (
    answer_frame,
    by_group,
    by_group_category,
    by_group_question,
    by_served_unit,
    category_table,
    disclose,
    item_table,
    rating_counts,
    scorecard_table,
    summary,
    weighted_table,
)
from analysis.counts import RatingCounts
from analysis.disclosure import derivable
from analysis.keys import KEYS, group_ids
from analysis.metrics import ITEM_KEYS

GROUP_SIZES = (1, 1, 2, 3, 4, 6, 8, 15, 30)


def generated_round(seed: int) -> pd.DataFrame:
    """A round with 2-5 groups of 1-30 respondents, 2-8 items in 1-3 categories, some items
    rating several served units, some asked of only some groups, some answered by few."""
    rng = np.random.default_rng(seed)
    groups = {f"g{i}": int(rng.choice(GROUP_SIZES)) for i in range(int(rng.integers(2, 6)))}
    n_items, n_categories = int(rng.integers(2, 9)), int(rng.integers(1, 4))
    units = ["u1", "u2", "u3"][: int(rng.integers(1, 4))]
    asked = {(g, i): rng.random() < 0.8 for g in groups for i in range(n_items)}
    answering = {(g, i): rng.choice([0.2, 0.6, 1.0]) for g in groups for i in range(n_items)}
    several_units = {i: rng.random() < 0.3 for i in range(n_items)}
    rows, respondent = [], 0
    for group, size in groups.items():
        for _ in range(size):
            respondent += 1
            for i in range(n_items):
                for unit in units if several_units[i] else [None]:
                    if asked[group, i] and rng.random() < answering[group, i]:
                        rows.append({
                            "round_id": 1, "response_id": respondent, "group": group,
                            "served_unit": unit, "category": f"c{i % n_categories}",
                            "question": f"q{i}", "type": "rating",
                            "value": float(rng.integers(1, 6)), "comment": None,
                        })  # fmt: skip
    return answer_frame(rows)


def cell_sets(counts: RatingCounts, keys: tuple[str, ...]) -> tuple[pd.DataFrame, list]:
    """Each row of the ``keys`` combination as its key values and its cells' indices."""
    ids, first = group_ids(counts.cells, keys)
    rows = counts.cells[list(keys)].iloc[first].astype("object").reset_index(drop=True)
    return rows.where(rows.notna(), None), [np.flatnonzero(ids == r) for r in range(len(first))]


def published_rows(frame: pd.DataFrame, k: int) -> list[tuple[str, dict, float, float]]:
    """Every shown row of every table a round publishes: (table, keys, n, satisfied)."""
    published = disclose(rating_counts(frame), k)
    counts = published.counts
    tables = {
        "round": (pd.DataFrame([summary(counts).__dict__]), ()),
        "categories": (category_table(counts), ("category",)),
        "items": (item_table(counts), ("question", "category", "served_unit")),
        "units": (by_served_unit(published), ("served_unit",)),
        "unit categories": (
            scorecard_table(counts, level="category"),
            ("served_unit", "category"),
        ),  # fmt: skip
        "unit items": (scorecard_table(counts), ("served_unit", "category", "question")),
        "groups": (by_group(published), ("group",)),
        "group categories": (by_group_category(published), ("group", "category")),
        "group items": (by_group_question(published), ("group", *ITEM_KEYS)),
    }
    rows = []
    for name, (table, keys) in tables.items():
        shown = table[~published.hidden(keys)]
        for record in shown.to_dict("records"):
            key = {k: (None if record[k] != record[k] else str(record[k])) for k in keys}
            rows.append((name, key, float(record["n"]), float(record["satisfied"])))
    return rows


def withheld_cells(counts: RatingCounts, k: int) -> np.ndarray:
    """The cells of the items the round says it withholds (the attacker knows which)."""
    withheld = disclose(counts, k).withheld
    cells = counts.cells
    mask = np.zeros(len(cells), dtype=bool)
    for item in withheld.astype("object").itertuples(index=False):
        match = np.ones(len(cells), dtype=bool)
        for name, value in zip(withheld.columns, item):
            column = cells[name].astype("object")
            match &= (column == value).to_numpy() if value == value else column.isna().to_numpy()
        mask |= match
    return mask


def as_vectors(counts: RatingCounts, rows: list, k: int) -> np.ndarray:
    """The shown rows as 0/1 vectors over the round's cells: a row sums its key's cells except
    those of withheld items."""
    cells = counts.cells[list(KEYS)].astype("object")
    cells = cells.where(cells.notna(), None)
    outside = withheld_cells(counts, k)
    vectors = []
    for _, key, _, _ in rows:
        match = np.ones(len(cells), dtype=bool)
        for name, value in key.items():
            match &= (cells[name] == value).to_numpy() if value is not None else (
                cells[name].isna().to_numpy()
            )  # fmt: skip
        vectors.append(match & ~outside)
    return np.array(vectors, dtype="float64").reshape(len(rows), len(cells))


def respondents(counts: RatingCounts, cells: np.ndarray) -> int:
    member = np.ones(len(counts.cells), dtype=np.intp)
    member[cells] = 0
    return int(counts.distinct_respondents(member, 2)[0])


def small_sets(counts: RatingCounts, k: int) -> list[tuple[tuple, np.ndarray]]:
    """Every row of every combination of the four keys with fewer than k respondents, with and
    without the cells of withheld items."""
    outside = np.flatnonzero(withheld_cells(counts, k))
    found = []
    for size in range(len(KEYS) + 1):
        for keys in combinations(KEYS, size):
            rows, sets = cell_sets(counts, keys)
            for r, cells in enumerate(sets):
                for part in (cells, np.setdiff1d(cells, outside)):
                    if len(part) and respondents(counts, part) < k:
                        found.append((tuple(rows.iloc[r]) if keys else (), part))
    return found


ROUNDS = range(40)


@pytest.mark.parametrize("seed", ROUNDS)
@pytest.mark.parametrize("k", [3, 5])
def test_no_small_set_of_cells_can_be_derived_from_everything_published(seed, k):
    frame = generated_round(seed)
    counts = rating_counts(frame)
    rows = published_rows(frame, k)
    vectors = as_vectors(counts, rows, k)
    # Each shown row reports what its cells sum to: the tables agree with the attacker's model.
    n_of_cell = counts.cells["n"].to_numpy(dtype="float64")
    assert np.allclose(vectors @ n_of_cell, [n for _, _, n, _ in rows])
    targets = small_sets(counts, k)
    matrix = np.array([np.isin(np.arange(len(counts.cells)), c) for _, c in targets], float)
    leaks = derivable(vectors, matrix.reshape(len(targets), len(counts.cells)))
    assert not leaks.any(), [targets[i][0] for i in np.flatnonzero(leaks)]


@pytest.mark.parametrize("seed", ROUNDS)
@pytest.mark.parametrize("k", [3, 5])
def test_no_pair_or_triple_of_cells_below_k_can_be_derived(seed, k):
    """Sets that are no table's row: one hidden group's answers to two items of different
    categories, say (found by review: 19 + 7 - (75 - 25 - 15 - 15) gave a hidden group's 6
    answers to two items from 4 respondents)."""
    frame = generated_round(seed)
    counts = rating_counts(frame)
    vectors = as_vectors(counts, published_rows(frame, k), k)
    n = len(counts.cells)
    sizes = (2, 3) if n <= 40 else (2,)
    candidates = [
        list(c) for size in sizes for c in combinations(range(n), size)
        if respondents(counts, np.array(c)) < k
    ]  # fmt: skip
    if not candidates:
        return
    matrix = np.zeros((len(candidates), n))
    for i, cells in enumerate(candidates):
        matrix[i, cells] = 1.0
    leaks = derivable(vectors, matrix)
    assert not leaks.any(), [candidates[i] for i in np.flatnonzero(leaks)]


@pytest.mark.parametrize("seed", ROUNDS)
def test_every_shown_row_has_at_least_k_respondents(seed):
    frame = generated_round(seed)
    counts = rating_counts(frame)
    rows = published_rows(frame, 5)
    vectors = as_vectors(counts, rows, 5)
    for (table, key, _, _), vector in zip(rows, vectors):
        assert respondents(counts, np.flatnonzero(vector)) >= 5, (table, key)


@pytest.mark.parametrize("seed", ROUNDS)
def test_no_margin_minus_its_shown_parts_leaves_fewer_than_k_respondents(seed):
    """The subtraction a person tries first: a total minus the rows shown inside it."""
    frame = generated_round(seed)
    counts = rating_counts(frame)
    rows = published_rows(frame, 5)
    vectors = as_vectors(counts, rows, 5).astype(bool)
    tables = np.array([table for table, _, _, _ in rows])
    for whole in vectors:
        inside = (vectors <= whole).all(axis=1) & (vectors.sum(axis=1) < whole.sum())
        # The parts from one table at a time: a table's rows never overlap.
        for table in set(tables[inside]):
            rest = whole & ~vectors[inside & (tables == table)].any(axis=0)
            if rest.any():
                assert respondents(counts, np.flatnonzero(rest)) >= 5, table


def _round(*parts: tuple[str, str, int, list[float]]) -> pd.DataFrame:
    """Rows of (group, question, first respondent, values)."""
    rows = []
    for group, question, start, values in parts:
        for i, value in enumerate(values):
            rows.append({
                "round_id": 1, "response_id": start + i, "group": group, "served_unit": None,
                "category": "liaison" if question == "liaison" else "services",
                "question": question, "type": "rating", "value": value, "comment": None,
            })  # fmt: skip
    return answer_frame(rows)


def test_the_round_total_minus_the_groups_shown_does_not_give_a_small_group():
    # 7 mayors, 23 departments, 1 CPPCC office: the CPPCC's answers are in the round total.
    frame = _round(("mayors", "q1", 1, [5.0] * 7), ("departments", "q1", 10, [4.0] * 23),
                   ("cppcc", "q1", 50, [1.0]))  # fmt: skip
    published = disclose(rating_counts(frame), 5)
    groups = by_group(published).set_index("group")
    # Hidden together with the next smallest group: only their sum is derivable.
    assert groups["suppressed"].to_dict() == {"cppcc": True, "departments": False, "mayors": True}
    assert published.hidden_groups == {"cppcc", "mayors"}


def test_an_item_asked_of_one_small_group_is_not_published_nor_counted():
    frame = _round(("mayors", "q1", 1, [5.0] * 7), ("departments", "q1", 10, [4.0] * 23),
                   ("cppcc", "liaison", 50, [1.0]))  # fmt: skip
    published = disclose(rating_counts(frame), 5)
    assert item_table(published.counts)["question"].tolist() == ["q1"]
    assert published.withheld["question"].tolist() == ["liaison"]
    # No total contains it, so none can be subtracted to find it.
    assert summary(published.counts).n == 30


def test_weighted_figures_reveal_nothing_beyond_the_hidden_groups_together():
    # Two shown groups and two hidden ones (the single CPPCC office and the 4 congress
    # offices); with equal weights the hidden groups' rate would be 4 x weighted - the others'.
    frame = _round(("mayors", "q1", 1, [5.0] * 7), ("departments", "q1", 10, [4.0] * 20 + [1.0] * 3),
                   ("cppcc", "q1", 50, [1.0]), ("congress", "q1", 60, [5.0] * 4))  # fmt: skip
    weights = {"mayors": 0.25, "departments": 0.25, "cppcc": 0.25, "congress": 0.25}
    published = disclose(rating_counts(frame), 5)
    assert published.hidden_groups == {"cppcc", "congress"}
    weighted = weighted_table(published, weights, by=())["weighted_rate"].iloc[0]
    # The hidden stratum is the two groups together: 4 of 5 satisfied, weight 0.5.
    assert weighted == pytest.approx(0.25 * 1 + 0.25 * 20 / 23 + 0.5 * 4 / 5)
    # Whereas weighting each hidden group on its own would have given away the CPPCC's 0%.
    assert weighted != pytest.approx(0.25 * 1 + 0.25 * 20 / 23 + 0.25 * 0 + 0.25 * 1)


def test_a_group_cell_with_few_respondents_is_hidden_with_a_complement_in_both_directions():
    # Departments are many, but only 2 of them answered q2: that cell and enough others go.
    frame = _round(("mayors", "q1", 1, [5.0] * 7), ("departments", "q1", 10, [4.0] * 23),
                   ("mayors", "q2", 1, [5.0] * 7), ("departments", "q2", 10, [2.0] * 2))  # fmt: skip
    table = by_group_question(disclose(rating_counts(frame), 5)).set_index(["group", "question"])
    hidden = table["suppressed"]
    assert hidden[("departments", "q2")]
    assert hidden[("mayors", "q2")]  # else q2's total minus the mayors gives it
    # and the departments' q1 cell, else their group total minus q1 gives it.
    assert hidden[("departments", "q1")]


def test_a_weighted_hidden_group_is_weighted_together_with_the_unweighted_hidden_ones():
    # Found by review: A and B shown (10 each); H1 (2 people, weighted 0.2) and H2 (4 people,
    # not weighted) hidden. Weighting H1 alone, weighted_n - 20 - 20 gave its 4 answers and
    # (weighted - 0.4 rate_A - 0.4 rate_B) / 0.2 its rate: 0, both dissatisfied.
    frame = _round(("A", "q1", 1, [5.0] * 6 + [2.0] * 4), ("B", "q1", 20, [4.0] * 7 + [1.0] * 3),
                   ("H1", "q1", 40, [1.0] * 2), ("H2", "q1", 50, [5.0] * 4))  # fmt: skip
    published = disclose(rating_counts(frame), 5)
    assert published.hidden_groups == {"H1", "H2"}
    row = weighted_table(published, {"A": 0.4, "B": 0.4, "H1": 0.2}, by=()).iloc[0]
    # What a reader can take out is the hidden groups together: 6 answers, 4 of them satisfied.
    assert row["weighted_n"] - 10 - 10 == 6 and row["weighted_respondents"] - 20 == 6
    assert (row["weighted_rate"] - 0.4 * 0.6 - 0.4 * 0.7) / 0.2 == pytest.approx(4 / 6)


def test_an_item_only_unnamed_groups_answered_is_withheld():
    # An anonymous round's one-unit group (six people of the CPPCC office) answers the liaison
    # item alone: published, that item would be the office's own figure.
    frame = _round(("departments", "q1", 1, [4.0] * 10), ("cppcc", "q1", 20, [5.0] * 6),
                   ("cppcc", "liaison", 20, [1.0] * 6))  # fmt: skip
    published = disclose(rating_counts(frame), 5, unnamed_groups=["cppcc"])
    assert published.withheld["question"].tolist() == ["liaison"]
    assert disclose(rating_counts(frame), 5).withheld.empty  # a named round publishes it
