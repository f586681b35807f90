"""records(): the rows of a table as plain values, column by column, equal to the rows that
DataFrame.to_dict(orient="records") gave before, value for value and type for type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.formatting import plain_value, records


def by_to_dict(table: pd.DataFrame, columns=None) -> list[dict]:
    if columns is not None:
        table = table[list(columns)]
    return [
        {name: plain_value(value) for name, value in row.items()}
        for row in table.to_dict(orient="records")
    ]


def same(first: list[dict], second: list[dict]) -> bool:
    return first == second and all(
        type(a[name]) is type(b[name]) for a, b in zip(first, second) for name in a
    )


def test_records_equal_the_rows_of_to_dict_for_every_kind_of_column():
    table = pd.DataFrame(
        {
            "category": pd.Categorical(["a", None, "b"]),
            "int": np.array([1, 2, 3], dtype="int64"),
            "small": np.array([1, 2, 3], dtype="int8"),
            "unsigned": np.array([1, 2, 3], dtype="uint16"),
            "float": [0.5, np.nan, 2.0],
            "float32": np.array([0.5, np.nan, 1], dtype="float32"),
            "bool": [True, False, True],
            "object": pd.Series([np.int64(3), None, "x"], dtype=object),
            "str": pd.Series(["x", None, "z"], dtype="str"),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "date": pd.to_datetime(["2020-01-01", None, "2021-01-01"]),
        }
    )
    assert same(records(table), by_to_dict(table))
    assert same(records(table, ["int", "float"]), by_to_dict(table, ["int", "float"]))
    assert records(table.iloc[:0]) == by_to_dict(table.iloc[:0]) == []
    assert records(table[[]]) == by_to_dict(table[[]]) == [{}, {}, {}]


def test_records_of_a_rounds_tables_equal_those_of_to_dict(known_round):
    from survey.results import round_results

    results = round_results(known_round)
    for name in ("categories", "items", "below", "groups", "group_categories", "drivers"):
        table = getattr(results, name)
        assert same(records(table), by_to_dict(table)), name
