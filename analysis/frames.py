"""The tidy answer frame: one row per answer, the contract between the app and ``analysis``.

The app builds the records in one SQL query (``survey/results.py``); everything in ``analysis``
reads only the columns below. Code columns are categoricals because a round of 100,000
responses has two million answers but only a few dozen distinct codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

# What analysis needs to know of the question-type registry (questionnaires.types): the
# names in its order (the categories of the type column), those whose value is a number, and
# those tabulated as satisfaction. Written out, because analysis imports nothing of the
# questionnaire format; tests/analysis/test_frames.py ties them to the registry.
QUESTION_TYPES = ("rating", "nps", "choice", "multi", "text", "integer", "note")
NUMERIC_TYPES = ("rating", "nps")
RATED_TYPES = ("rating",)
SOURCES = ("web", "paper", "meeting")

# Column -> dtype of the normalised frame, in this order. The scale columns take the narrowest
# of int16, int32 and int64 that holds the round's scales (int16 for any real questionnaire):
# checking two million of them for one shared scale then reads a quarter of the memory.
COLUMNS: Mapping[str, str] = {
    "round_id": "int64",
    "response_id": "int64",
    "group": "category",
    "unit": "category",
    "served_unit": "category",
    "question": "category",
    "category": "category",
    "type": "category",
    "value": "float64",
    "scale_min": "int16",
    "scale_max": "int16",
    "satisfied_from": "int16",
    "dissatisfied_to": "int16",
    "text": "str",
    "comment": "str",
    "source": "category",
}
REQUIRED = ("round_id", "response_id", "group", "question", "type")
CODE_COLUMNS = ("group", "unit", "served_unit", "question", "category")
# Default scales: the labelled 1..5 rating scale, and the fixed scale of a type whose
# definition cannot choose one (nps: 0..10).
DEFAULT_SCALES = {"nps": (0, 10)}
DEFAULT_SCALE = (1, 5)
# The scale columns: its ends, its lowest satisfied and its highest dissatisfied value.
SCALE_COLUMNS = ("scale_min", "scale_max", "satisfied_from", "dissatisfied_to")
# Without satisfied_from / dissatisfied_to, the top two and bottom two whole numbers of the
# scale count (one each on a scale of 3 points or fewer), as questionnaires.model.default_boxes.
DEFAULT_BOXES = 2
SMALL_SCALE_POINTS = 3


def empty_frame() -> pd.DataFrame:
    """An answer frame with no rows and the contract's columns and dtypes."""
    data = {name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()}
    data["type"] = pd.Series(pd.Categorical([], categories=QUESTION_TYPES))
    data["source"] = pd.Series(pd.Categorical([], categories=SOURCES))
    return pd.DataFrame(data)


def answer_frame(records: Iterable[Mapping] | pd.DataFrame) -> pd.DataFrame:
    """Normalise answer records (mappings or a DataFrame) to the tidy answer frame.

    Rules:
    - ``round_id``, ``response_id``, ``group``, ``question`` and ``type`` are required and
      never missing; the other columns are optional and filled with missing values
      (``source``: ``web``).
    - ``type`` must be one of rating, nps, choice, multi, text; ``source`` one of web, paper,
      meeting (or missing).
    - ``value`` is kept only for rating and nps answers; it is NaN for the other types and for
      unanswered items. Rating and nps values must be whole numbers within
      ``[scale_min, scale_max]``; missing scales default to 1..5 (0..10 for nps).
    - ``satisfied_from`` is the lowest value counted as satisfied and ``dissatisfied_to`` the
      highest counted as dissatisfied, as the questionnaire's scale says (a scale of 1, 3, 5,
      7, 9 whose top two points are satisfied has 7 and 3). Missing, they default to the top
      two and bottom two whole numbers of ``[scale_min, scale_max]`` (one each when the scale
      spans 3 or fewer): 4 and 2 on 1..5. A rating scale must keep them apart:
      ``scale_min <= dissatisfied_to < satisfied_from <= scale_max``.
    - Empty or blank ``text`` and ``comment`` strings become missing.
    - Extra columns are dropped; the column order is that of ``COLUMNS``.

    Raises ``ValueError`` naming the offending column or question. Vectorised throughout.
    """
    frame = (
        records if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(list(records))
    )
    if frame.empty and not set(REQUIRED) <= set(frame.columns):
        return empty_frame()
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise ValueError(f"answer records lack required column(s): {', '.join(missing)}")
    n = len(frame)
    out = {
        "round_id": _integers(frame["round_id"], "round_id"),
        "response_id": _integers(frame["response_id"], "response_id"),
    }
    for name in CODE_COLUMNS:
        out[name] = _codes(frame[name] if name in frame.columns else None, n)
    for name in ("group", "question"):
        if out[name].isna().any():
            raise ValueError(f"column {name!r} has missing values")
    out["type"] = _fixed_codes(frame["type"], QUESTION_TYPES, "type")
    out["value"] = _values(frame.get("value"), out["type"], n)
    out.update(zip(SCALE_COLUMNS, _scales(frame, out["type"])))
    out["text"] = _strings(frame.get("text"), n)
    out["comment"] = _strings(frame.get("comment"), n)
    if "source" in frame.columns:
        out["source"] = _fixed_codes(frame["source"], SOURCES, "source")
    else:
        out["source"] = pd.Categorical.from_codes(np.zeros(n, dtype="int8"), categories=SOURCES)
    result = pd.DataFrame({k: _bare(v) for k, v in out.items()}, copy=False)
    _check_values(result)
    return result


def _bare(values: pd.Series | np.ndarray | pd.Categorical) -> np.ndarray | pd.Categorical:
    # Drop the caller's index so the new frame gets a plain RangeIndex.
    return values.array if isinstance(values, pd.Series) else values


def _integers(series: pd.Series, name: str) -> pd.Series:
    if series.isna().any():
        raise ValueError(f"column {name!r} has missing values")
    return series.astype("int64")


def _codes(series: pd.Series | None, n: int) -> pd.Categorical:
    """A categorical of string codes with sorted categories; blank strings count as missing."""
    if series is None:
        return pd.Categorical.from_codes(np.full(n, -1), categories=pd.Index([], dtype="str"))
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.array.codes, series.array.categories
    else:
        # One hash pass (factorize) and a sort of the few distinct codes: astype("category")
        # would hash the two million strings twice.
        codes, uniques = pd.factorize(series)
    names = pd.Index(uniques).astype("str")
    keep = np.array([bool(name.strip()) for name in names], dtype=bool)
    order = np.argsort(names.to_numpy(dtype=object)[keep], kind="stable")
    lookup = np.full(len(names) + 1, -1)  # last slot: missing (-1) stays missing
    lookup[np.flatnonzero(keep)[order]] = np.arange(len(order))
    categories = names[keep][order]
    return pd.Categorical.from_codes(lookup[codes], categories=categories)


def _fixed_codes(series: pd.Series, allowed: tuple[str, ...], name: str) -> pd.Categorical:
    """A categorical with exactly the allowed categories; unknown codes are an error."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cat = series.array
        unknown = sorted(set(cat.categories.astype("str")) - set(allowed))
        if unknown and np.isin(cat.codes, [cat.categories.get_loc(u) for u in unknown]).any():
            raise ValueError(f"column {name!r} has unknown value(s): {', '.join(unknown)}")
        return cat.set_categories(list(allowed))
    codes, uniques = pd.factorize(series)
    names = [str(u) for u in uniques]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise ValueError(f"column {name!r} has unknown value(s): {', '.join(unknown)}")
    lookup = np.array([allowed.index(u) for u in names] + [-1], dtype="int64")
    return pd.Categorical.from_codes(lookup[codes], categories=list(allowed))


def _values(series: pd.Series | None, types: pd.Categorical, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, np.nan)
    values = pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    numeric = _type_mask(types, NUMERIC_TYPES)
    # Values belong to rating and nps answers only ("NaN otherwise").
    return np.where(numeric, values, np.nan)


def _type_mask(types: pd.Categorical, wanted: tuple[str, ...]) -> np.ndarray:
    codes = [types.categories.get_loc(t) for t in wanted]
    return np.isin(types.codes, codes)


def _scales(frame: pd.DataFrame, types: pd.Categorical) -> list[np.ndarray]:
    """The ``SCALE_COLUMNS``, defaults filled in, in the narrowest integer type holding all."""
    fixed = [(_type_mask(types, (name,)), scale) for name, scale in DEFAULT_SCALES.items()]
    result = []
    for end, name in enumerate(("scale_min", "scale_max")):
        fill = np.full(len(types), DEFAULT_SCALE[end])
        for mask, scale in fixed:
            fill = np.where(mask, scale[end], fill)
        result.append(_given(frame, name, fill))
    lo, hi = result
    # int64 before the arithmetic: the given scales may be wide.
    boxes = np.where(hi.astype("int64") - lo + 1 > SMALL_SCALE_POINTS, DEFAULT_BOXES, 1)
    result.append(_given(frame, "satisfied_from", hi - boxes + 1))
    result.append(_given(frame, "dissatisfied_to", lo + boxes - 1))
    low = min(float(np.min(r, initial=0)) for r in result)
    high = max(float(np.max(r, initial=0)) for r in result)
    dtype = next(
        (t for t in ("int16", "int32") if np.iinfo(t).min <= low and high <= np.iinfo(t).max),
        "int64",
    )
    return [r.astype(dtype) for r in result]


def _given(frame: pd.DataFrame, name: str, fill: np.ndarray) -> np.ndarray:
    """Column ``name`` of the records where given, ``fill`` where absent or missing."""
    if name not in frame.columns:
        return fill
    given = pd.to_numeric(frame[name]).to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(given), fill, given)


def _strings(series: pd.Series | None, n: int) -> pd.Series:
    if series is None or (series.dtype == object and series.isna().all()):
        return pd.Series(np.nan, index=pd.RangeIndex(n), dtype="str")
    series = series.astype("str")
    # Only the present strings are stripped: most rows of a big round have no text.
    present = series.notna().to_numpy()
    if present.any():
        blank = series[present].str.strip().eq("").to_numpy()
        if blank.any():
            series = series.copy()
            series.iloc[np.flatnonzero(present)[blank]] = np.nan
    return series


def _check_values(frame: pd.DataFrame) -> None:
    """Numeric answers must be whole numbers within their scale; a rating scale's satisfied
    and dissatisfied points must lie on it and apart."""
    numeric = _type_mask(frame["type"].array, NUMERIC_TYPES)
    value = frame["value"].to_numpy()
    lo = frame["scale_min"].to_numpy()
    hi = frame["scale_max"].to_numpy()
    answered = numeric & ~np.isnan(value)
    bad = answered & ((value < lo) | (value > hi) | (value != np.round(value)))
    if bad.any():
        question = frame["question"].iloc[int(np.argmax(bad))]
        raise ValueError(
            f"{int(bad.sum())} numeric answer(s) outside their scale or not whole numbers, "
            f"first for question {question!r}"
        )
    rating = _type_mask(frame["type"].array, RATED_TYPES)
    top = frame["satisfied_from"].to_numpy()
    bottom = frame["dissatisfied_to"].to_numpy()
    wrong = rating & ((bottom < lo) | (top <= bottom) | (hi < top))
    if wrong.any():
        question = frame["question"].iloc[int(np.argmax(wrong))]
        raise ValueError(
            f"rating scale of question {question!r} needs scale_min <= dissatisfied_to < "
            "satisfied_from <= scale_max"
        )
