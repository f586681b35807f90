"""What each review page shows, assembled from a round's cached results.

The views parse the URL, call one function here and render; nothing here touches answers
(they are reduced in ``survey.results`` and ``analysis``): the loops below run over summary
rows, a few dozen at most.
"""

from __future__ import annotations

from typing import Any

from flask import abort, url_for

from analysis import benchmarks
from analysis.drivers import MIN_PAIRS_PLACED, all_weak
from questionnaires import tabulated_as
from survey import feedback_cases, office_time, questionnaire_templates, rounds
from survey.corrective.queue import actions_of_item, note_of_item
from survey.corrective.texts import status_labels
from survey.extensions import db
from survey.formatting import records
from survey.models import Round, User, utcnow
from survey.questionnaire_store import to_model
from survey.results import (
    Labels,
    RoundResults,
    charts,
    comments_query,
    comparisons,
    data_versions,
    rating_scale,
    round_progress,
    round_results,
)
from survey.results.charts import Chart
from survey.results.numbers import number_items

COMMENTS_PER_PAGE = 50
# Far beyond any round's comments, and small enough that its offset fits any database.
LAST_PAGE = 1_000_000
ITEM_KEY = ("question", "served_unit")


def offices_page(user: User, code: str | None, lang: str, min_offices: int) -> dict[str, Any]:
    """The comparison page of the shared template ``code`` (the first in use when None)."""
    # Each shared template's latest revision: sharing links the sharing office's version,
    # so each is in use somewhere.
    shared = questionnaire_templates.latest_revisions()
    chosen = next((t for t in shared if t.code == code), shared[0] if shared else None)
    page: dict[str, Any] = {"shared": shared, "chosen": chosen, "lang": lang}
    if chosen is None:
        return page
    today = office_time.local_date(utcnow())
    led = comparisons.led_offices(user)
    page["items"] = comparisons.shared_items(chosen.code, lang)
    page["benchmark"] = comparisons.benchmark(
        chosen.code, lang, today, min_offices, visible={o.id for o in led}
    )
    page["min_offices"] = max(min_offices, benchmarks.FLOOR)  # what the page counts by
    page["columns"] = (
        comparisons.side_by_side(chosen.code, [o.id for o in led], lang, today)
        if len(led) > 1
        else []
    )
    return page


def index_page(archived: bool = False) -> dict[str, Any]:
    """Every round in use (or every archived one), newest first, with its response rate and
    number of responses."""
    rows = list(db.session.scalars(rounds.newest_first(archived)))
    return {
        "rounds": rows,
        "progress": rounds.progress_by_round(),
        "responses": {rid: v[0] for rid, v in data_versions([r.id for r in rows]).items()},
        "empty_progress": rounds.Progress(0, 0, 0),
        # The lead's other queue: the public's poor ratings awaiting a reply.
        "cases": feedback_cases.counts(office_time.local_date(utcnow())),
    }


def round_page(round_: Round, lang: str, sealed: bool = False) -> dict[str, Any]:
    """The dashboard of one round (see templates/review/round.html for what it shows); when
    its figures are `sealed` for the reader (``survey.results.sealing``), the response rate
    and the number of responses only, and no figure reaches the template."""
    results = round_results(round_)
    labels = results.labels[lang]
    if sealed:
        progress, group_progress = round_progress(round_, results)
        return {
            "round": round_,
            "labels": labels,
            "lang": lang,
            "sealed": True,
            "progress": progress,
            "group_progress": group_progress,
            "responses": results.responses,
            "sources": dict(results.sources),
        }
    page = _common(round_, results, labels, lang)
    page.update(
        group_progress=round_progress(round_, results)[1],
        responses=results.responses,
        sources=dict(results.sources),
        headline=_weighted_rows(results, results.categories, "categories", ("category",)),
        below=records(results.below),
        items=_weighted_rows(results, results.items, "items", ITEM_KEY),
        withheld=records(results.disclosure.withheld) if results.disclosure else [],
        groups=records(results.groups),
        heat=heat_rows(results, labels),
        units=records(results.served_units),
        comparison=_comparison(results),
        drivers=_drivers(results),
        weak_drivers=all_weak(results.drivers),
        unplaced_drivers=charts.unplaced_note(results),
        overall_weighted=records(results.weighted["round"])[0] if results.weighted else None,
        scale=rating_scale(round_.version, results.definition),
        numbers=number_items(round_, results.conditional_withheld, results.definition),
        charts={
            kind: chart_info(round_, results, Chart(kind, lang))
            for kind in charts.kinds_on("round")
        },
    )
    return page


def _common(round_: Round, results: RoundResults, labels: Labels, lang: str) -> dict[str, Any]:
    return {
        "round": round_,
        "results": results,
        "labels": labels,
        "lang": lang,
        "progress": round_progress(round_, results)[0],
        "small_groups": results.small_groups(),
        "summary": results.summary,
    }


def _weighted_rows(results: RoundResults, table, kind: str, keys: tuple[str, ...]) -> list:
    """Rows of ``table`` with the weighted rate, interval and effective n beside the unweighted ones
    when the round sets group weights."""
    rows = records(table)
    if not results.weighted:
        return rows
    weighted = {tuple(r[k] for k in keys): r for r in records(results.weighted[kind])}
    for row in rows:
        extra = weighted.get(tuple(row[k] for k in keys), {})
        for name in ("weighted_rate", "weighted_ci_low", "weighted_ci_high", "weighted_n_eff"):
            row[name] = extra.get(name)
    return rows


def heat_rows(results: RoundResults, labels: Labels) -> dict[str, Any]:
    """The group x category table: a row per group, a cell per category (None when the group
    did not answer the category), suppressed cells flagged and without figures."""
    cells = {(r["group"], r["category"]): r for r in records(results.group_categories)}
    groups = [g for g in labels.groups if any(key[0] == g for key in cells)]
    categories = [c for c in labels.category_order if any(key[1] == c for key in cells)]
    return {
        "categories": categories,
        "rows": [(g, [cells.get((g, c)) for c in categories]) for g in groups],
    }


def _comparison(results: RoundResults) -> dict[str, Any] | None:
    if results.comparison is None:
        return None
    items = records(results.comparison.items)
    items.sort(key=lambda r: (r["difference"] is None, r["difference"] or 0))
    return {
        "round_id": results.comparison.round_id,
        "name": results.comparison.name,
        "categories": records(results.comparison.categories),
        "items": items,
    }


def _drivers(results: RoundResults) -> list[dict[str, Any]]:
    rows = records(results.drivers)
    order = {
        "concentrate_here": 0,
        "keep_up_the_good_work": 1,
        "low_priority": 2,
        "possible_overkill": 3,
        None: 4,
    }
    return sorted(rows, key=lambda r: (order[r["quadrant"]], -(r["importance"] or 0)))


def chart_info(round_: Round, results: RoundResults, chart: Chart) -> dict[str, str]:
    """The URLs (PNG and SVG, with the data version against stale browser caches) and the alt
    text of one chart."""
    args = {"round_id": round_.id, "kind": chart.kind, "lang": chart.lang, "v": results.version_tag}
    if chart.category:
        args["category"] = chart.category
    return {
        "kind": chart.kind,
        "png": url_for("review.chart", fmt="png", **args),
        "svg": url_for("review.chart", fmt="svg", **args),
        "alt": charts.alt(results, chart),
    }


def category_page(round_: Round, category: str, lang: str) -> dict[str, Any]:
    """One category: its headline figure, its items, its groups and its change."""
    results = round_results(round_)
    labels = results.labels[lang]
    headline = [r for r in records(results.categories) if r["category"] == category]
    if not headline:
        abort(404)
    page = _common(round_, results, labels, lang)
    order = {code: i for i, code in enumerate(labels.question_order)}
    items = [
        r
        for r in _weighted_rows(results, results.items, "items", ITEM_KEY)
        if r["category"] == category
    ]
    items.sort(key=lambda r: order.get(r["question"], len(order)))
    page.update(
        category=category,
        headline=headline[0],
        items=items,
        groups=[r for r in records(results.group_categories) if r["category"] == category],
        change=_row_of(
            results.comparison.categories if results.comparison else None, category=category
        ),
        charts={
            kind: chart_info(round_, results, Chart(kind, lang, category))
            for kind in charts.kinds_on("category")
        },
    )
    return page


def _row_of(table, **where: Any) -> dict[str, Any] | None:
    if table is None:
        return None
    for row in records(table):
        if all(row[k] == v for k, v in where.items()):
            return row
    return None


def item_page(round_: Round, question: str, served_unit: str | None, lang: str) -> dict:
    """One item: its figure, the distribution of its answers, its groups, its change, its
    place among the drivers and its latest comments."""
    results = round_results(round_)
    labels = results.labels[lang]
    rows = [
        r
        for r in records(results.items)
        if r["question"] == question and (served_unit is None or r["served_unit"] == served_unit)
    ]
    if not rows:
        abort(404)
    item = rows[0]
    page = _common(round_, results, labels, lang)
    page.update(
        item=item,
        scale=to_model(round_.version).question(question).scale,
        points=_points(round_, question, item, lang),
        groups=[
            r
            for r in records(results.group_items)
            if r["question"] == question and r["served_unit"] == item["served_unit"]
        ],
        change=_row_of(
            results.comparison.items if results.comparison else None,
            question=question,
            served_unit=item["served_unit"],
        ),
        driver=_row_of(results.drivers, question=question, served_unit=item["served_unit"]),
        min_pairs_placed=MIN_PAIRS_PLACED,
        comments=db.session.scalars(
            comments_query(round_, question=question, **_undisclosed(results)).limit(5)
        ).all(),
        actions=actions_of_item(question, item["served_unit"]),
        note=note_of_item(round_.id, question, item["served_unit"]),
        action_statuses=status_labels(),
    )
    return page


def _points(round_: Round, question: str, item: dict, lang: str) -> list[dict[str, Any]]:
    """Each scale point of the item with its label, count and share of the answers."""
    scale = to_model(round_.version).question(question).scale
    n = item["n"] or 0
    return [
        {
            "value": p.value,
            "label": p.label.get(lang),
            "count": item.get(f"count_{p.value}") or 0,
            "share": (item.get(f"count_{p.value}") or 0) / n if n else None,
        }
        for p in scale.points
    ]


def group_page(round_: Round, group: str, lang: str) -> dict[str, Any]:
    """One respondent group's figures; a group below the anonymity threshold shows none."""
    results = round_results(round_)
    labels = results.labels[lang]
    rows = [r for r in records(results.groups) if r["group"] == group]
    if not rows and group not in labels.groups:
        abort(404)
    page = _common(round_, results, labels, lang)
    hidden = not rows or rows[0]["suppressed"] or group in results.small_groups()
    page.update(
        group=group,
        row=rows[0] if rows else None,
        hidden=hidden,
        categories=[]
        if hidden
        else [r for r in records(results.group_categories) if r["group"] == group],
        items=[] if hidden else [r for r in records(results.group_items) if r["group"] == group],
    )
    return page


def unit_page(round_: Round, served_unit: str, lang: str) -> dict[str, Any]:
    """One served unit's scorecard: its overall figure, its categories and its items."""
    results = round_results(round_)
    labels = results.labels[lang]
    rows = [r for r in records(results.served_units) if r["served_unit"] == served_unit]
    if not rows:
        abort(404)
    page = _common(round_, results, labels, lang)
    page.update(
        unit=served_unit,
        row=rows[0],
        categories=[r for r in records(results.unit_categories) if r["served_unit"] == served_unit],
        items=[r for r in records(results.scorecards) if r["served_unit"] == served_unit],
    )
    return page


def comments_page(round_: Round, filters: dict[str, Any], page_number: int, lang: str) -> dict:
    """The round's comments and free-text answers, filtered and paged; groups below the
    anonymity threshold are never named (nor offered as a filter)."""
    results = round_results(round_)
    labels = results.labels[lang]
    query = comments_query(round_, **_undisclosed(results), **filters)
    page = _common(round_, results, labels, lang)
    page.update(
        filters={k: v for k, v in filters.items() if v is not None},
        query_args={k: v for k, v in filters.items() if v is not None},
        comments=db.paginate(query, page=page_number, per_page=COMMENTS_PER_PAGE, error_out=False),
    )
    return page


def _undisclosed(results: RoundResults) -> dict[str, Any]:
    """What a comment list leaves out or does not attribute (see ``comments_query``)."""
    return results.undisclosed()


def rating_points(round_: Round) -> list[int]:
    """Every point of the round's rating scales, for the comments' rating filter."""
    questions = to_model(round_.version).questions()
    rated = tabulated_as("satisfaction")
    return sorted({v for q in questions if q.type in rated and q.scale for v in q.scale.values})
