"""The only place where database rows become DataFrames for `analysis`.

Besides the answer frame of a round, this module keeps each round's analysed results in a
per-process cache (``round_results``) keyed by the round's *data version*: the count and the
highest id of its responses, and of the earlier rounds it is compared with, plus the round's
settings. A new response changes the version, so the next request recomputes; every other
request reads the cached tables.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

import analysis
from survey import rounds
from survey.extensions import db
from survey.models import (
    Answer,
    Question,
    QuestionnaireVersion,
    RespondentGroup,
    Response,
    Round,
    Unit,
)
from survey.questionnaire_store import to_model

FRAME_COLUMNS = (
    "response_id",
    "group",
    "unit",
    "question_id",
    "value",
    "text",
    "comment",
    "source",
)
# How many earlier rounds of the same questionnaire the trend shows besides the round itself.
HISTORY = 4
# Rounds whose results a process keeps; a dashboard rarely needs more than a handful.
CACHED_ROUNDS = 16
LANGUAGES = ("zh", "en")


def answers_frame(round_: Round) -> pd.DataFrame:
    """The tidy answer frame of a round (see analysis.frames): one query for the responses,
    one for the answers' numbers, one for the few answers with text and one for the version's
    questions; never a query per answer.

    Question attributes (code, category, served unit, type, scale bounds) come from the
    round's questionnaire version by question id, so renaming nothing in a later version
    changes what an old round's answers mean.
    """
    responses = _responses(round_.id)
    response_id, question_id, value = _answer_numbers(round_.id)
    if len(response_id) == 0:
        return analysis.empty_frame()
    questions = _question_table(round_.version_id)
    # Positions instead of ids, so that every per-response or per-question column is a gather.
    row = responses.index.get_indexer(response_id)
    qpos = questions.index.get_indexer(question_id)
    frame = pd.DataFrame({"round_id": np.full(len(row), round_.id), "response_id": response_id})
    for name in ("group", "unit", "source"):
        frame[name] = responses[name].array.take(row)
    for name in ("question", "category", "served_unit", "type"):
        frame[name] = questions[name].astype("category").array.take(qpos)
    frame["value"] = value
    for name in ("scale_min", "scale_max"):
        frame[name] = questions[name].to_numpy(dtype="float64").take(qpos)
    positions = pd.Index(row * len(questions) + qpos)
    frame["text"], frame["comment"] = _answer_texts(
        round_.id, positions, responses.index, questions.index
    )
    return analysis.answer_frame(frame)


def _responses(round_id: int) -> pd.DataFrame:
    """The round's responses by id: group and unit codes and source, as categoricals."""
    rows = plain_rows(
        select(Response.id, RespondentGroup.code, Unit.code, Response.source)
        .join(RespondentGroup, Response.group_id == RespondentGroup.id)
        .outerjoin(Unit, Response.unit_id == Unit.id)
        .where(Response.round_id == round_id)
    )
    table = pd.DataFrame.from_records(rows, columns=["id", "group", "unit", "source"])
    for name in ("group", "unit", "source"):
        table[name] = table[name].astype("category")
    return table.set_index("id")


def _answer_numbers(round_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(response_id, question_id, value) of every answer of the round as numpy arrays.

    A big round has two million answers, and SQLAlchemy's Row objects then cost more than the
    query itself; so the typed select runs on the DBAPI cursor of the session's own connection
    (same transaction) and the plain tuples go straight into numpy.
    """
    query = (
        select(Answer.response_id, Answer.question_id, Answer.value)
        .join(Response, Answer.response_id == Response.id)
        .where(Response.round_id == round_id)
    )
    rows = plain_rows(query)
    if not rows:
        empty = np.zeros(0, dtype="int64")
        return empty, empty, np.zeros(0)
    array = np.array(rows, dtype="float64")
    return array[:, 0].astype("int64"), array[:, 1].astype("int64"), array[:, 2]


def plain_rows(query: Select) -> list[tuple]:
    """All rows of ``query`` as plain tuples, read through the session's DBAPI connection in
    the session's transaction: for the few queries that return millions of rows, where each
    SQLAlchemy Row costs a microsecond or more (and pandas checks each for namedtuple
    fields)."""
    connection = db.session.connection()
    compiled = query.compile(dialect=connection.dialect)
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _answer_texts(
    round_id: int, positions: pd.Index, responses: pd.Index, questions: pd.Index
) -> tuple[pd.Series, pd.Series]:
    """Text and comment columns aligned with the answer rows (most answers have neither).

    ``positions`` holds each answer row's response position x number of questions + question
    position; (response, question) is unique per answer, so it locates every text row.
    """
    rows = plain_rows(
        select(Answer.response_id, Answer.question_id, Answer.text, Answer.comment)
        .join(Response, Answer.response_id == Response.id)
        .where(
            Response.round_id == round_id,
            or_(Answer.text.is_not(None), Answer.comment.is_not(None)),
        )
    )
    text = np.full(len(positions), None, dtype=object)
    comment = np.full(len(positions), None, dtype=object)
    if rows:
        table = pd.DataFrame.from_records(rows, columns=["response", "question", "text", "comment"])
        keys = responses.get_indexer(table["response"]) * len(questions) + questions.get_indexer(
            table["question"]
        )
        at = positions.get_indexer(keys)
        text[at] = table["text"].to_numpy(dtype=object)
        comment[at] = table["comment"].to_numpy(dtype=object)
    return pd.Series(text, dtype="str"), pd.Series(comment, dtype="str")


def _question_table(version_id: int) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for q in db.session.scalars(select(Question).where(Question.version_id == version_id)):
        values = [p["value"] for p in q.scale["points"]] if q.scale else [None]
        records.append(
            {
                "question_id": q.id,
                "question": q.code,
                "category": q.category,
                "served_unit": q.served_unit,
                "type": q.type,
                "scale_min": min(values) if q.scale else None,
                "scale_max": max(values) if q.scale else None,
            }
        )
    return pd.DataFrame.from_records(records).set_index("question_id")


def satisfaction_table(round_: Round) -> pd.DataFrame:
    """Per item: n, satisfied, rate with its 95% Wilson interval and the mean, lowest first."""
    table = analysis.item_table(answers_frame(round_))
    return lowest_first(table)


def lowest_first(table: pd.DataFrame) -> pd.DataFrame:
    """Items ordered by rate, lowest first (ties by question code), items without a rate last:
    the order of ``flask analyse``, the API and the dashboard."""
    return table.sort_values(["rate", "question"], na_position="last").reset_index(drop=True)


# --- a round's results, cached --------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """Display texts of one language for the codes in a round's tables, and the
    questionnaire's order of questions and categories.

    A category has no label of its own in a questionnaire file: it takes the title of the
    section that holds all its rating questions and no other category's, else the text of its
    only question, else its code.
    """

    lang: str
    questions: dict[str, str]
    categories: dict[str, str]
    groups: dict[str, str]
    served_units: dict[str, str]
    question_order: tuple[str, ...]
    category_order: tuple[str, ...]

    def of(self, *kinds: str) -> dict[str, str]:
        """One mapping, e.g. ``of("groups", "categories")``."""
        merged: dict[str, str] = {}
        for kind in kinds:
            merged.update(getattr(self, kind))
        return merged

    def short(self, *kinds: str) -> dict[str, str]:
        """``of(*kinds)`` shortened for chart axes (see ``short_label``)."""
        return {code: short_label(text) for code, text in self.of(*kinds).items()}


SHORT_LABEL = 56
PARENTHESIS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def short_label(text: str, width: int = SHORT_LABEL) -> str:
    """A label for a chart axis: a closing parenthesis dropped ("The city's environment (air,
    water and green space)" -> "The city's environment"), then at most ``width`` characters
    (a Chinese character counts two), cut at a word and marked with "…"."""
    text = PARENTHESIS.sub("", text).strip() or text
    used, cut = 0, len(text)
    for index, ch in enumerate(text):
        used += 2 if "\u2e80" <= ch <= "\uffef" else 1
        if used > width:
            cut = index
            break
    if cut == len(text):
        return text
    head = text[:cut]
    if " " in head and not ("\u2e80" <= head[-1] <= "\uffef"):
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + "…"


def labels_for(version: QuestionnaireVersion, lang: str) -> Labels:
    """The labels of a questionnaire version in ``lang`` (see ``Labels``)."""
    definition = to_model(version)
    ratings = [q for q in definition.questions() if q.type == "rating"]
    categories: dict[str, str] = {}
    for code in dict.fromkeys(q.category for q in ratings if q.category):
        mine = [q for q in ratings if q.category == code]
        sections = [s for s in definition.sections if any(q.category == code for q in s.questions)]
        only = [
            s
            for s in sections
            if all(q.category in (code, None) for q in s.questions if q.type == "rating")
        ]
        if len(sections) == 1 and only:
            categories[code] = only[0].title.get(lang)
        elif len(mine) == 1:
            categories[code] = mine[0].text.get(lang)
        else:
            categories[code] = code
    return Labels(
        lang=lang,
        questions={q.code: q.text.get(lang) for q in definition.questions()},
        categories=categories,
        groups={g.code: g.label.get(lang) for g in definition.groups},
        served_units={u.code: u.label.get(lang) for u in definition.served_units},
        question_order=tuple(q.code for q in definition.questions()),
        category_order=tuple(categories),
    )


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
    counts: analysis.RatingCounts
    items: pd.DataFrame
    categories: pd.DataFrame
    below: pd.DataFrame
    groups: pd.DataFrame
    group_categories: pd.DataFrame
    group_items: pd.DataFrame
    served_units: pd.DataFrame
    unit_categories: pd.DataFrame
    scorecards: pd.DataFrame
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
    labels: dict[str, Labels] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.responses == 0

    def small_groups(self) -> set[str]:
        """Groups with fewer respondents than the anonymity threshold in the whole round."""
        return {g for g, n in self.group_sizes.items() if n < self.anonymity_threshold}

    @property
    def version_tag(self) -> str:
        """A short, file-name-safe tag of everything the results depend on (responses of this
        and the earlier rounds, settings), for file caches and URLs."""
        digest = hashlib.sha256(repr(self.key).encode()).hexdigest()[:16]
        return f"{self.responses}-{digest}"


def rate_threshold(round_: Round) -> float:
    return float((round_.thresholds or {}).get("rate", 0.80))


def previous_rounds(round_: Round, limit: int = HISTORY) -> list[Round]:
    """Up to ``limit`` other rounds of the same questionnaire created before this one, newest
    first (ties of creation time: the lower id is older)."""
    version = round_.version
    query = (
        select(Round)
        .join(QuestionnaireVersion, Round.version_id == QuestionnaireVersion.id)
        .where(
            QuestionnaireVersion.questionnaire_id == version.questionnaire_id,
            Round.id != round_.id,
            or_(
                Round.created_at < round_.created_at,
                (Round.created_at == round_.created_at) & (Round.id < round_.id),
            ),
        )
        .order_by(Round.created_at.desc(), Round.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def data_versions(round_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(number of responses, highest response id) per round: a new response changes it
    (responses are never edited or deleted).

    Two small queries per round: each is answered from the round_id index alone, in a few
    milliseconds at 100,000 responses, where one grouped query over several rounds is ten
    times slower on SQLite.
    """
    versions = {}
    for round_id in round_ids:
        count = db.session.scalar(select(func.count()).where(Response.round_id == round_id))
        last = db.session.scalar(select(func.max(Response.id)).where(Response.round_id == round_id))
        versions[round_id] = (int(count or 0), int(last or 0))
    return versions


class _Cache:
    """A small per-process LRU of computed values, safe to use from several threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
            return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.values[key] = value
            self.values.move_to_end(key)
            while len(self.values) > self.size:
                self.values.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.values.clear()


_RESULTS = _Cache(CACHED_ROUNDS)
_COUNTS = _Cache(CACHED_ROUNDS * 2)
_COMPUTING = threading.Lock()


def clear_cache() -> None:
    """Forget every cached result of this process (tests, and after editing data by hand)."""
    _RESULTS.clear()
    _COUNTS.clear()
    with _PROGRESS_LOCK:
        _PROGRESS.clear()


def round_results(round_: Round) -> RoundResults:
    """The round's results, from the cache when neither its responses, nor those of the rounds
    it is compared with, nor its settings changed since they were computed.

    Costs one small query when cached. Otherwise the answer frame is loaded once and every
    table computed from it; earlier rounds are reduced to rating counts once and kept.
    """
    earlier = previous_rounds(round_)
    versions = data_versions([round_.id, *(r.id for r in earlier)])
    key = _key(round_, earlier, versions)
    cached = _RESULTS.get(round_.id)
    if cached is not None and cached.key == key:
        return cached
    # One computation at a time: a second request for the same round then finds it cached.
    with _COMPUTING:
        cached = _RESULTS.get(round_.id)
        if cached is not None and cached.key == key:
            return cached
        results = _compute(round_, earlier, versions, key)
        _RESULTS.put(round_.id, results)
        return results


def _key(round_: Round, earlier: list[Round], versions: dict[int, tuple[int, int]]) -> tuple:
    settings = (
        round_.anonymity_threshold,
        repr(sorted((round_.thresholds or {}).items())),
        repr(sorted((round_.weights or {}).items())),
        round_.version_id,
        tuple((r.id, r.name) for r in earlier),
        round_.name,
    )
    return (round_.id, versions[round_.id], tuple(versions[r.id] for r in earlier), settings)


def _counts_of(round_: Round, version: tuple[int, int]) -> analysis.RatingCounts:
    cached = _COUNTS.get((round_.id, version))
    if cached is None:
        cached = analysis.rating_counts(answers_frame(round_))
        _COUNTS.put((round_.id, version), cached)
    return cached


def _compute(round_: Round, earlier: list[Round], versions: dict, key: tuple) -> RoundResults:
    frame = answers_frame(round_)
    counts = analysis.rating_counts(frame)
    _COUNTS.put((round_.id, versions[round_.id]), counts)
    threshold, k = rate_threshold(round_), round_.anonymity_threshold
    older = [(r, _counts_of(r, versions[r.id])) for r in reversed(earlier)]
    facts = _response_facts(round_.id)
    return RoundResults(
        round_id=round_.id,
        key=key,
        threshold=threshold,
        anonymity_threshold=k,
        summary=analysis.summary(counts),
        counts=counts,
        items=lowest_first(analysis.item_table(counts)),
        categories=_in_order(analysis.headline_table(counts, threshold), round_),
        below=analysis.below_threshold_table(counts, threshold),
        groups=analysis.by_group(counts, k),
        group_categories=analysis.by_group_category(counts, k),
        group_items=analysis.by_group_question(counts, k),
        served_units=analysis.scorecard_table(counts, threshold, level="unit"),
        unit_categories=analysis.scorecard_table(counts, threshold, level="category"),
        scorecards=analysis.scorecard_table(counts, threshold, level="question"),
        drivers=analysis.driver_table(counts),
        weighted=_weighted(counts, round_.weights),
        comparison=_comparison(older[-1] if older else None, counts),
        history=_history([*older, (round_, counts)]),
        round_names={r.id: r.name for r, _ in [*older, (round_, counts)]},
        labels={lang: labels_for(round_.version, lang) for lang in LANGUAGES},
        **facts,
    )


def _in_order(table: pd.DataFrame, round_: Round) -> pd.DataFrame:
    """Categories in the questionnaire's order (codes it does not know last, by code)."""
    order = {code: i for i, code in enumerate(labels_for(round_.version, "en").category_order)}
    position = table["category"].astype("str").map(order).fillna(len(order))
    return (
        table.assign(_order=position.to_numpy())
        .sort_values(["_order", "category"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _weighted(counts: analysis.RatingCounts, weights: dict | None) -> dict | None:
    if not weights:
        return None
    return {
        "round": analysis.weighted_table(counts, weights, by=()),
        "categories": analysis.weighted_table(counts, weights, by=("category",)),
        "items": analysis.weighted_table(counts, weights),
    }


def _comparison(
    previous: tuple[Round, analysis.RatingCounts] | None, counts: analysis.RatingCounts
) -> Comparison | None:
    if previous is None:
        return None
    round_, before = previous
    return Comparison(
        round_id=round_.id,
        name=round_.name,
        categories=analysis.compare_rounds(before, counts, by=("category",)),
        items=analysis.compare_rounds(before, counts),
    )


def _history(rounds: list[tuple[Round, analysis.RatingCounts]]) -> pd.DataFrame:
    """Per-category rates per round, oldest first, in the shape of ``analysis.trend_table``;
    built from each round's counts (and ``compare_rounds`` for the change) so that earlier
    rounds never need their answers loaded again."""
    columns = ["category", "n", "satisfied", "rate", "ci_low", "ci_high"]
    parts, before = [], None
    for index, (round_, counts) in enumerate(rounds):
        table = analysis.category_table(counts)[columns].copy()
        table["category"] = table["category"].astype("str")
        if before is None:
            change = pd.DataFrame(
                {
                    "category": table["category"],
                    "difference": np.nan,
                    "p_value": np.nan,
                    "significant": False,
                }
            )
        else:
            change = analysis.compare_rounds(before, counts, by=("category",))[
                ["category", "difference", "p_value", "significant"]
            ]
        table = table.merge(change, on="category", how="left")
        table.insert(0, "round_index", index)
        table.insert(0, "round_id", round_.id)
        parts.append(table)
        before = counts
    return pd.concat(parts, ignore_index=True)


def _response_facts(round_id: int) -> dict[str, Any]:
    groups = db.session.execute(
        select(RespondentGroup.code, func.count(Response.id))
        .join(Response, Response.group_id == RespondentGroup.id)
        .where(Response.round_id == round_id)
        .group_by(RespondentGroup.code)
    ).all()
    sources = db.session.execute(
        select(Response.source, func.count())
        .where(Response.round_id == round_id)
        .group_by(Response.source)
    ).all()
    first, last = db.session.execute(
        select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
            Response.round_id == round_id
        )
    ).one()
    return {
        "group_sizes": {code: int(n) for code, n in groups},
        "sources": {source: int(n) for source, n in sources},
        "responses": sum(int(n) for _, n in sources),
        "first_response": first,
        "last_response": last,
    }


# Invitations change without a new response (issued, opened), so the response rate is kept
# for a short while only; at 100,000 invitations counting them costs about 0.1 s.
PROGRESS_SECONDS = 30
_PROGRESS: dict[int, tuple[float, str, tuple]] = {}
_PROGRESS_LOCK = threading.Lock()


def round_progress(round_: Round, results: RoundResults) -> tuple[rounds.Progress, list]:
    """The round's response rate overall and per respondent group [(group code, Progress)],
    recounted after ``PROGRESS_SECONDS`` or when a response arrives."""
    now = time.monotonic()
    with _PROGRESS_LOCK:
        cached = _PROGRESS.get(round_.id)
    if cached and cached[1] == results.version_tag and now - cached[0] < PROGRESS_SECONDS:
        return cached[2]
    groups = [(group.code, p) for group, p in rounds.progress_by_group(round_)]
    total = rounds.Progress(
        sum(p.invited for _, p in groups),
        sum(p.started for _, p in groups),
        sum(p.submitted for _, p in groups),
    )
    with _PROGRESS_LOCK:
        _PROGRESS[round_.id] = (now, results.version_tag, (total, groups))
    return total, groups


def records(table: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """A summary table's rows as plain dicts for templates and JSON: NaN becomes None, numpy
    numbers Python numbers, categoricals their code strings."""
    if columns is not None:
        table = table[list(columns)]
    rows = []
    for row in table.to_dict(orient="records"):
        rows.append({name: _plain(value) for name, value in row.items()})
    return rows


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def comments_query(
    round_: Round,
    question: str | None = None,
    group: str | None = None,
    rating: int | None = None,
    hidden_groups: Iterable[str] = (),
) -> Select:
    """The round's follow-up comments and free-text answers as a select of Answer rows (each
    with its response and respondent group loaded), newest response first, to page through.

    Filters: question code, respondent group code, rating value. A group in ``hidden_groups``
    (below the anonymity threshold) selects nothing when filtered on by itself; its answers
    still appear in the unfiltered list, where the page does not name the group.
    """
    query = (
        select(Answer)
        .join(Answer.response)
        .join(Response.group)
        .options(contains_eager(Answer.response).contains_eager(Response.group))
        .where(
            Response.round_id == round_.id,
            or_(
                Answer.comment.is_not(None),
                Answer.question_id.in_(_text_questions(round_.version_id)),
            ),
        )
        .order_by(Answer.response_id.desc(), Answer.id)
    )
    if question:
        query = query.where(Answer.question_code == question)
    if group:
        query = query.where(
            RespondentGroup.code == group, RespondentGroup.code.not_in(list(hidden_groups))
        )
    if rating is not None:
        query = query.where(Answer.value == rating)
    return query


def _text_questions(version_id: int) -> Select:
    return select(Question.id).where(Question.version_id == version_id, Question.type == "text")
