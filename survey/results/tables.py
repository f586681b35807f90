"""A round's analysed results, computed once per data version and kept (see ``cache``)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

import analysis
from analysis.threads import one_blas_thread
from questionnaires import conditions
from questionnaires.model import Questionnaire
from survey import rounds
from survey.models import (
    Round,
)
from survey.questionnaire_store import to_model
from survey.results import snapshots, tally
from survey.results.cache import (
    COMPUTING,
    COUNTS,
    EARLIER_TRENDS,
    PROGRESS,
    PROGRESS_LOCK,
    PROGRESS_SECONDS,
    RESULTS,
    TALLIES,
    data_versions,
)
from survey.results.frames import lowest_first
from survey.results.labels import Labels, labels_for
from survey.results.other_groups import merged_groups

# How many earlier rounds of the same questionnaire the trend shows besides the round itself.
HISTORY = 4
# Rounds whose results a process keeps; a dashboard rarely needs more than a handful.
CACHED_ROUNDS = 16
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Comparison:
    """This round against the previous one (``analysis.compare_rounds``), by category and
    by item."""

    round_id: int
    name: str
    categories: pd.DataFrame
    items: pd.DataFrame


@dataclass(frozen=True)
class RoundResults:
    """Everything the review pages, exports, report and API show for one round.

    Tables are those of ``analysis`` on the round's answer frame; groups are suppressed below
    the round's anonymity threshold, the rate threshold is the round's (default 0.80).
    ``items`` is ordered lowest rate first; ``categories`` (the headline table) in the
    questionnaire's order. ``weighted`` is None unless the round sets group weights, else
    {"round", "categories", "items"} tables from ``analysis.weighted_table``. ``history`` is
    the per-category trend over up to ``HISTORY`` earlier rounds of the same questionnaire
    and this one (oldest first), each row with its change from the round before and the
    two-proportion test; ``comparison`` compares with the previous round (the latest other
    round of the same questionnaire created before this one).
    """

    round_id: int
    key: tuple
    threshold: float
    anonymity_threshold: int
    summary: analysis.Summary
    # None in a copy made to draw the tables only (``tables_only``).
    counts: analysis.RatingCounts | None
    items: pd.DataFrame
    categories: pd.DataFrame
    below: pd.DataFrame
    groups: pd.DataFrame
    group_categories: pd.DataFrame
    served_units: pd.DataFrame
    drivers: pd.DataFrame
    weighted: dict[str, pd.DataFrame] | None
    comparison: Comparison | None
    history: pd.DataFrame
    round_names: dict[int, str]
    group_sizes: dict[str, int]
    sources: dict[str, int]
    responses: int
    first_response: datetime | None
    last_response: datetime | None
    disclosure: analysis.Disclosure | None = None
    hidden_cells: frozenset[tuple[str | None, str]] = frozenset()
    labels: dict[str, Labels] = field(default_factory=dict)
    # The choice answers' tally of the published questions (``choices`` is computed from it).
    choice_tally: pd.DataFrame | None = None
    unnamed_groups: frozenset[str] = frozenset()
    # Questions left out of every figure and list because whether they were asked depends on
    # answers that are withheld (``_published``).
    conditional_withheld: frozenset[str] = frozenset()
    # The round's questionnaire (``to_model`` of its version, frozen while the round uses it),
    # read once with the results: reading it costs as much as a few tables.
    definition: Questionnaire | None = None

    # Tables the dashboard does not show are computed when first asked for (the exports, the
    # API and the corrective rules do), so that a dashboard after a new response does not
    # wait for them. The same inputs, the same tables: only when they are computed changes.

    @cached_property
    def group_items(self) -> pd.DataFrame:
        return analysis.by_group_question(self.disclosure)

    @cached_property
    def unit_categories(self) -> pd.DataFrame:
        return analysis.scorecard_table(self.counts, self.threshold, level="category")

    @cached_property
    def scorecards(self) -> pd.DataFrame:
        return analysis.scorecard_table(self.counts, self.threshold, level="question")

    @cached_property
    def choices(self) -> pd.DataFrame | None:
        """The choice questions' counts, for the round as a whole (``analysis.choice_table``)."""
        if self.choice_tally is None:
            return None
        return analysis.choice_table(
            self.choice_tally, self.anonymity_threshold, self.unnamed_groups
        )

    @property
    def empty(self) -> bool:
        return self.responses == 0

    def tables_only(self) -> RoundResults:
        """A copy with the tables computed so far and none of the answers they were computed
        from (``counts``, ``disclosure``: the round's tally, each response's ratings and
        comments): what the report draws, in a process that then lets the answers go
        (``cache.forget_round``). Tables computed on first use from the counts fail in the
        copy instead of being computed from nothing (the choices, from their own tally, do
        not)."""
        tables = replace(self, counts=None, disclosure=None)
        lazy = {n for n, v in vars(RoundResults).items() if isinstance(v, cached_property)}
        tables.__dict__.update((n, v) for n, v in self.__dict__.items() if n in lazy)
        return tables

    def small_groups(self) -> set[str]:
        """The groups never reported on their own ("other groups"): those with fewer
        respondents than the anonymity threshold, and the smallest others hidden with them so
        that they cannot be told apart (``analysis.disclosure``)."""
        return {g for g in self.disclosure.hidden_groups if g is not None}

    def names_group(self, group: str | None, question: str) -> bool:
        """Whether an answer of ``group`` to ``question`` may be attributed to its group: not
        when the group, or its cell of that question, is hidden."""
        return group not in self.disclosure.hidden_groups and (group, question) not in (
            self.hidden_cells
        )

    def undisclosed(self) -> dict[str, Any]:
        """What a comment list leaves out or does not attribute (``comments_query``'s
        arguments): the same for the review pages and the API."""
        return {
            "hidden_groups": self.small_groups(),
            "withheld_questions": self.withheld_questions,
            "hidden_cells": self.hidden_cells,
            "unlisted_questions": self.conditional_withheld,
        }

    @property
    def withheld_questions(self) -> set[str]:
        """Questions with an item withheld for having too few respondents, and those whose
        being asked depends on withheld answers."""
        return {str(q) for q in self.disclosure.withheld["question"]} | self.conditional_withheld

    @property
    def version_tag(self) -> str:
        """A short, file-name-safe tag of everything the results depend on (responses of this
        and the earlier rounds, settings), for file caches and URLs."""
        digest = hashlib.sha256(repr(self.key).encode()).hexdigest()[:16]
        return f"{self.responses}-{digest}"


def satisfaction_table(round_: Round) -> pd.DataFrame:
    """Per published item: n, satisfied, rate with its 95% Wilson interval and the mean,
    lowest first (``flask analyse``): items too few answered to publish are not in it."""
    return round_results(round_).items


def round_results(round_: Round) -> RoundResults:
    """The round's results, from the cache when neither its responses, nor those of the rounds
    it is compared with, nor its settings changed since they were computed.

    Costs one small query when cached. Otherwise the answer frame is loaded once and every
    table computed from it; earlier rounds are reduced to rating counts once and kept.
    """
    earlier, versions, key = _inputs(round_)
    cached = RESULTS.get(round_.id)
    if cached is not None and cached.key == key:
        return cached
    # One computation at a time: a second request for the same round then finds it cached.
    with COMPUTING:
        cached = RESULTS.get(round_.id)
        if cached is not None and cached.key == key:
            return cached
        # One BLAS thread: the products are small and the workers share the cores
        # (``analysis.threads``).
        with one_blas_thread():
            results = _compute(round_, earlier, versions, key)
        RESULTS.put(round_.id, results)
        return results


def results_key(round_: Round) -> tuple:
    """What the round's results depend on (its responses and those of the rounds it is
    compared with, and its settings): equal keys, equal results. A few small queries, without
    computing anything (``RoundResults.key`` once computed)."""
    return _inputs(round_)[2]


def _inputs(round_: Round) -> tuple[list[Round], dict[int, tuple[int, int]], tuple]:
    earlier = rounds.earlier_rounds(round_, HISTORY)
    versions = data_versions([round_.id, *(r.id for r in earlier)])
    return earlier, versions, _key(round_, earlier, versions)


def _unnamed(round_: Round) -> frozenset[str]:
    """The groups an anonymous round never names, whatever their size: those of one unit."""
    return merged_groups(round_) if round_.anonymous else frozenset()


def _key(round_: Round, earlier: list[Round], versions: dict[int, tuple[int, int]]) -> tuple:
    settings = (
        round_.anonymity_threshold,
        repr(sorted((round_.thresholds or {}).items())),
        repr(sorted((round_.weights or {}).items())),
        round_.version_id,
        # An earlier round's threshold and its unnamed groups (an anonymous round's groups of
        # one unit) decide which of its items are withheld.
        tuple((r.id, r.name, r.anonymity_threshold, _counts_key(r)[1:]) for r in earlier),
        round_.name,
        # The workbook's and the report's cover list these: an edited round must not keep
        # serving the old dates, status or anonymity.
        round_.status,
        round_.opens_at,
        round_.closes_at,
        round_.anonymous,
        # Issuing or revoking invitations changes which groups have a single unit.
        tuple(sorted(_unnamed(round_))),
    )
    return (round_.id, versions[round_.id], tuple(versions[r.id] for r in earlier), settings)


def _counts_key(round_: Round) -> tuple:
    """What a round's published counts depend on besides its responses."""
    return (
        round_.id,
        round_.anonymity_threshold,
        round_.anonymous,
        tuple(sorted(_unnamed(round_))),
    )


def _counts_of(round_: Round, version: tuple[int, int]) -> analysis.RatingCounts:
    """The round's published counts (``analysis.disclosure``: without withheld items)."""
    cached = COUNTS.get((version, *_counts_key(round_)))
    if cached is None:
        definition = to_model(round_.version)
        k = round_.anonymity_threshold
        counted = _tally(round_, version)
        cached = _published(counted, definition, k, _unnamed(round_))[1].counts
        COUNTS.put((version, *_counts_key(round_)), cached)
    return cached


def _tally(round_: Round, version: tuple[int, int]) -> tally.Tally:
    """The round's tally at ``version``: the kept one grown by the new responses, or counted
    afresh when there is none or it cannot be grown exactly (``survey.results.tally``)."""
    kept = TALLIES.get(round_.id)
    if kept is None or kept[0].version_id != round_.version_id:
        # A fresh process: the saved tally, if any (``snapshots``), then the responses since.
        loaded = snapshots.load(round_)
        kept = (loaded, loaded.responses) if loaded is not None else None
    if kept is not None:
        grown = tally.grow(kept[0], round_, version)
        if grown is not None:
            saved = kept[1]
            if snapshots.due(grown, saved):
                if snapshots.due(grown, kept[0].responses):
                    # This request read that many responses itself: saving them costs less.
                    snapshots.save_later(grown)
                else:
                    snapshots.refresh(round_.id)  # in the background worker
                saved = grown.responses  # asked for: not again for every request
            TALLIES.put(round_.id, (grown, saved))
            return grown
    fresh = tally.full(round_)
    snapshots.save_later(fresh)  # the count took far longer than saving it
    TALLIES.put(round_.id, (fresh, fresh.responses))
    return fresh


def _compute(round_: Round, earlier: list[Round], versions: dict, key: tuple) -> RoundResults:
    counted = _tally(round_, versions[round_.id])
    threshold, k = rounds.thresholds_of(round_).rate, round_.anonymity_threshold
    # Every table is computed from what the round may publish: withheld items left out of
    # all totals, group rows hidden where a small cell could otherwise be worked out.
    # The definition is read once here: reading it costs as much as a few tables.
    definition = to_model(round_.version)
    labels = {lang: labels_for(round_.version, lang, definition) for lang in LANGUAGES}
    _, disclosure, left_out = _published(counted, definition, k, _unnamed(round_))
    counts = disclosure.counts
    COUNTS.put((versions[round_.id], *_counts_key(round_)), counts)
    older = [(r, _counts_of(r, versions[r.id])) for r in reversed(earlier)]
    comparison = _comparison(older[-1] if older else None, counts, k)
    # What the earlier rounds' rows of the trend depend on (they are closed: their responses
    # and settings only change by an edit, which changes this).
    earlier_key = (k, tuple((r.id, versions[r.id], *_counts_key(r)[1:]) for r, _ in older))
    choices = counted.choices[~counted.choices["question"].isin(left_out)]
    return RoundResults(
        round_id=round_.id,
        key=key,
        threshold=threshold,
        anonymity_threshold=k,
        summary=analysis.summary(counts),
        counts=counts,
        items=lowest_first(analysis.item_table(counts)),
        categories=_in_order(analysis.headline_table(counts, threshold), labels["en"]),
        below=analysis.below_threshold_table(counts, threshold, k),
        groups=analysis.by_group(disclosure),
        group_categories=analysis.by_group_category(disclosure),
        served_units=analysis.scorecard_table(counts, threshold, level="unit"),
        drivers=_drivers(analysis.driver_table(counts), k),
        weighted=_weighted(disclosure, round_.weights),
        comparison=comparison,
        history=_history(older, (round_, counts), k, comparison, earlier_key),
        round_names={r.id: r.name for r, _ in [*older, (round_, counts)]},
        labels=labels,
        disclosure=disclosure,
        hidden_cells=_hidden_cells(disclosure),
        choice_tally=choices,
        unnamed_groups=frozenset(_unnamed(round_)),
        conditional_withheld=left_out,
        definition=definition,
        **counted.facts,
    )


def _published(
    counted: tally.Tally, definition: Questionnaire, k: int, unnamed: set[str]
) -> tuple[analysis.RatingCounts, analysis.Disclosure, frozenset[str]]:
    """The rating counts the round may publish, their disclosure, and the questions left out.

    A question asked only when an earlier answer says so (``show_if``) repeats that answer: how
    many answered it, whether anyone did, what they wrote. When the answers it depends on are
    withheld (fewer than ``k`` respondents, or withheld by ``analysis.disclose``), it is left
    out of everything, or its figures would give them away (``conditions.dependents``)."""
    counts = counted.counts
    if not counted.responses or not conditions.has_conditions(definition):
        return counts, analysis.disclose(counts, k, unnamed), frozenset()
    respondents = counted.question_respondents
    withheld = {question for question, n in respondents.items() if n < k}
    questions = counts.cells["question"].astype("str")
    while True:
        left_out = conditions.dependents(definition, withheld)
        published = counts.without_items(questions.isin(left_out).to_numpy())
        disclosure = analysis.disclose(published, k, unnamed)
        more = {str(q) for q in disclosure.withheld["question"]} - withheld
        if not more:  # the withheld set only grows: this ends
            return published, disclosure, left_out
        withheld |= more


def _in_order(table: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """Categories in the questionnaire's order (codes it does not know last, by code)."""
    order = {code: i for i, code in enumerate(labels.category_order)}
    codes = [code if isinstance(code, str) else None for code in table["category"].tolist()]
    # A sort of a few rows in Python and one take: pandas' sort of two columns costs more.
    # Unknown codes last, by code; a missing one after them (pandas' sort puts NaN last).
    rows = sorted(
        range(len(codes)),
        key=lambda i: (order.get(codes[i], len(order)), codes[i] is None, codes[i] or ""),
    )
    return table.take(rows).reset_index(drop=True)


def _weighted(disclosure: analysis.Disclosure, weights: dict | None) -> dict | None:
    if not weights:
        return None
    return {
        "round": analysis.weighted_table(disclosure, weights, by=()),
        "categories": analysis.weighted_table(disclosure, weights, by=("category",)),
        "items": analysis.weighted_table(disclosure, weights),
    }


def _drivers(drivers: pd.DataFrame, k: int) -> pd.DataFrame:
    """The driver table without the correlations of fewer than ``k`` pairs: a correlation is
    a figure about the people who rated both items, and too few of them to publish."""
    few = drivers["pairs"].to_numpy() < k
    if not few.any():
        return drivers
    drivers = drivers.copy()
    for column in ("importance", "importance_low", "importance_high", "stability"):
        if column in drivers:
            drivers.loc[few, column] = np.nan
    drivers.loc[few, "quadrant"] = None
    if "point_quadrant" in drivers:
        drivers.loc[few, "point_quadrant"] = None
    return drivers


def _hidden_cells(disclosure: analysis.Disclosure) -> frozenset[tuple[str | None, str]]:
    """(group, question) of every hidden group cell, for the comment lists."""
    cells = disclosure.counts.cells
    hidden = disclosure.hidden_cells
    groups = cells["group"].astype("object").where(cells["group"].notna(), None)
    return frozenset(zip(groups[hidden].tolist(), cells["question"].astype("str")[hidden].tolist()))


def _comparison(
    previous: tuple[Round, analysis.RatingCounts] | None, counts: analysis.RatingCounts, k: int
) -> Comparison | None:
    """Each table is one family of tests (Benjamini-Hochberg); rows with fewer than ``k``
    respondents in either round are not tested."""
    if previous is None:
        return None
    round_, before = previous
    return Comparison(
        round_id=round_.id,
        name=round_.name,
        categories=analysis.compare_rounds(before, counts, by=("category",), anonymity_threshold=k),
        items=analysis.compare_rounds(before, counts, anonymity_threshold=k),
    )


HISTORY_COLUMNS = ["category", "n", "satisfied", "rate", "ci_low", "ci_high"]
CHANGE_COLUMNS = ["category", "difference", "p_value", "test", "p_adjusted", "significant"]


def _history(
    older: list[tuple[Round, analysis.RatingCounts]],
    current: tuple[Round, analysis.RatingCounts],
    k: int,
    comparison: Comparison | None,
    earlier_key: tuple,
) -> pd.DataFrame:
    """Per-category rates per round, oldest first, in the shape of ``analysis.trend_table``;
    built from each round's counts (and ``compare_rounds`` for the change, one family of
    tests per pair of rounds) so that earlier rounds never need their answers loaded again.

    The earlier rounds' rows are kept (``cache.EARLIER_TRENDS``, by ``earlier_key``): a new response
    of this round changes none of them. This round's change from the previous one is the
    comparison's by category (the same test of the same counts)."""
    kept = EARLIER_TRENDS.get(earlier_key)
    if kept is None:
        kept = []
        for index, (round_, counts) in enumerate(older):
            before = older[index - 1][1] if index else None
            kept.append(_history_rows(round_, index, counts, _change(before, counts, k)))
        EARLIER_TRENDS.put(earlier_key, kept)
    round_, counts = current
    if comparison is None:
        change = _change(None, counts, k)
    else:
        change = comparison.categories[CHANGE_COLUMNS]
    return pd.concat([*kept, _history_rows(round_, len(older), counts, change)], ignore_index=True)


def _change(
    before: analysis.RatingCounts | None, counts: analysis.RatingCounts, k: int
) -> pd.DataFrame:
    """Each category's change from ``before`` (none for the first round)."""
    if before is not None:
        return analysis.compare_rounds(before, counts, by=("category",), anonymity_threshold=k)[
            CHANGE_COLUMNS
        ]
    categories = analysis.category_table(counts)["category"].astype("str")
    return pd.DataFrame(
        {
            "category": categories,
            "difference": np.nan,
            "p_value": np.nan,
            "test": None,
            "p_adjusted": np.nan,
            "significant": False,
        }
    )


def _history_rows(
    round_: Round, index: int, counts: analysis.RatingCounts, change: pd.DataFrame
) -> pd.DataFrame:
    table = analysis.category_table(counts)[HISTORY_COLUMNS].copy()
    table["category"] = table["category"].astype("str")
    table = table.merge(change, on="category", how="left")
    table.insert(0, "round_index", index)
    table.insert(0, "round_id", round_.id)
    return table


def round_progress(round_: Round, results: RoundResults) -> tuple[rounds.Progress, list]:
    """The round's response rate overall and per respondent group [(group code, Progress)],
    recounted after ``PROGRESS_SECONDS`` (see ``cache``), or at once when the round's
    settings changed (``results`` come from another key than the count's)."""
    now = time.monotonic()
    settings = results.key[-1]
    with PROGRESS_LOCK:
        cached = PROGRESS.get(round_.id)
    if cached and cached[1] == settings and now - cached[0] < PROGRESS_SECONDS:
        return cached[2]
    groups = [(group.code, p) for group, p in rounds.progress_by_group(round_)]
    total = rounds.Progress(
        sum(p.invited for _, p in groups),
        sum(p.started for _, p in groups),
        sum(p.submitted for _, p in groups),
    )
    with PROGRESS_LOCK:
        PROGRESS[round_.id] = (now, settings, (total, groups))
    return total, groups
