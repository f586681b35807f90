"""Counts of the choice questions (one choice, several choices), under the anonymity rule.

A choice question is published for the round as a whole only, never by respondent group, so
no group's choices can be worked out by subtracting one published count from another. A
question answered by fewer than ``k`` respondents is withheld (its counts would be theirs),
as is one that only groups never named answered (an anonymous round's groups of one unit):
the same rules as ``analysis.disclosure`` applies to rating items.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.frames import empty_frame

COUNTED_TYPES = ("choice", "multi")
# How ``survey.responses`` stores the codes of a multi answer in its text.
MULTI_SEPARATOR = ","


def choice_tally(frame: pd.DataFrame) -> pd.DataFrame:
    """The choice answers of an answer frame reduced to counts: one row per (question, type,
    group, answer text) with ``n``, the respondents who gave it. Additive: the tally of two
    sets of responses is the sum of theirs (``merge_choice_tallies``), and ``choice_table``
    needs nothing else."""
    chosen = frame["type"].isin(COUNTED_TYPES).to_numpy() & frame["text"].notna().to_numpy()
    if not chosen.any():  # new responses without a choice answer: nothing to group
        return _no_choices().copy()
    return _tally_of(frame[chosen])


def _tally_of(answered: pd.DataFrame) -> pd.DataFrame:
    # A respondent who answered twice (never, with the unique constraint) counts once.
    answered = answered.drop_duplicates(["response_id", "question"], keep="last")
    table = pd.DataFrame(
        {
            "question": answered["question"].astype("str").to_numpy(),
            "type": answered["type"].astype("str").to_numpy(),
            "group": answered["group"].astype("object").to_numpy(),
            "text": answered["text"].astype("str").to_numpy(),
        }
    )
    return _summed(table.assign(n=1))


@functools.cache
def _no_choices() -> pd.DataFrame:
    """The tally of an answer frame without a choice answer (kept: grouping nothing costs
    milliseconds, for the new responses of every dashboard)."""
    return _tally_of(empty_frame())


def merge_choice_tallies(*tallies: pd.DataFrame) -> pd.DataFrame:
    """The tally of several disjoint sets of responses together."""
    counted = [tally for tally in tallies if len(tally)]
    if len(counted) == 1:  # the others add nothing (a copy: callers own what they get)
        return counted[0].copy()
    return _summed(pd.concat(tallies, ignore_index=True))


def _is_tally(data: pd.DataFrame) -> bool:
    return "n" in data.columns and "response_id" not in data.columns


def _summed(table: pd.DataFrame) -> pd.DataFrame:
    keys = ["question", "type", "group", "text"]
    summed = table.groupby(keys, dropna=False, sort=True)["n"].sum().reset_index()
    summed["n"] = summed["n"].astype("int64")
    return summed


def choice_table(data: pd.DataFrame, k: int, unnamed_groups: Iterable[str] = ()) -> pd.DataFrame:
    """One row per (question, choice code chosen at least once): question, type, respondents
    (who answered the question), choice, count (respondents who chose it), withheld. Withheld
    questions keep one row with choice and count missing, so that the caller can say so.

    ``data`` is an answer frame or its ``choice_tally``."""
    tally = (
        data
        if "n" in data.columns and "text" in data.columns and "response_id" not in data.columns
        else choice_tally(data)
    )
    columns = ["question", "type", "respondents", "choice", "count", "withheld"]
    if tally.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    question = tally["question"]
    n = tally["n"]
    respondents = n.groupby(question.to_numpy()).sum()
    unnamed = list(unnamed_groups)
    named = ~tally["group"].isin(unnamed)
    named_by_question = (n * named).groupby(question.to_numpy()).sum()
    withheld = (respondents < k) | (named_by_question.reindex(respondents.index) == 0)
    codes = tally["text"].str.split(MULTI_SEPARATOR)
    lengths = codes.str.len().to_numpy()
    chosen = pd.DataFrame(
        {
            "question": question.to_numpy().repeat(lengths),
            "choice": np.concatenate(codes.to_numpy()) if len(codes) else [],
            "n": n.to_numpy().repeat(lengths),
        }
    )
    counts = (
        chosen.groupby(["question", "choice"], sort=False)["n"].sum().rename("count").reset_index()
    )
    types = tally.groupby("question")["type"].first()
    counts["type"] = counts["question"].map(types.astype("str"))
    counts["respondents"] = counts["question"].map(respondents)
    counts["withheld"] = counts["question"].map(withheld).astype(bool)
    hidden = counts[counts["withheld"]].drop_duplicates("question").assign(choice=None, count=None)
    table = pd.concat([counts[~counts["withheld"]], hidden], ignore_index=True)
    table.loc[table["withheld"], "respondents"] = None
    return (
        table[columns]
        .sort_values(["question", "choice"], na_position="last")
        .reset_index(drop=True)
    )
