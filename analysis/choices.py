"""Counts of the choice questions (one choice, several choices), under the anonymity rule.

A choice question is published for the round as a whole only, never by respondent group, so
no group's choices can be worked out by subtracting one published count from another. A
question answered by fewer than ``k`` respondents is withheld (its counts would be theirs),
as is one that only groups never named answered (an anonymous round's groups of one unit):
the same rules as ``analysis.disclosure`` applies to rating items.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

COUNTED_TYPES = ("choice", "multi")
# How ``survey.responses`` stores the codes of a multi answer in its text.
MULTI_SEPARATOR = ","


def choice_table(frame: pd.DataFrame, k: int, unnamed_groups: Iterable[str] = ()) -> pd.DataFrame:
    """One row per (question, choice code chosen at least once): question, type, respondents
    (who answered the question), choice, count (respondents who chose it), withheld. Withheld
    questions keep one row with choice and count missing, so that the caller can say so."""
    answered = frame[frame["type"].isin(COUNTED_TYPES) & frame["text"].notna()]
    columns = ["question", "type", "respondents", "choice", "count", "withheld"]
    if answered.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    # A respondent who answered twice (never, with the unique constraint) counts once.
    answered = answered.drop_duplicates(["response_id", "question"], keep="last")
    question = answered["question"].astype("str")
    respondents = question.value_counts()
    unnamed = list(unnamed_groups)
    named = ~answered["group"].astype("object").isin(unnamed)
    named_by_question = named.groupby(question.to_numpy()).sum()
    withheld = (respondents < k) | (named_by_question.reindex(respondents.index) == 0)
    codes = answered["text"].astype("str").str.split(MULTI_SEPARATOR)
    chosen = pd.DataFrame(
        {
            "question": question.to_numpy().repeat(codes.str.len().to_numpy()),
            "choice": np.concatenate(codes.to_numpy()) if len(codes) else [],
        }
    )
    counts = chosen.value_counts(["question", "choice"]).rename("count").reset_index()
    types = answered.assign(question=question).groupby("question", observed=True)["type"].first()
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
