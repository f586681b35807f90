"""The charts of the review pages and the report: which table each chart draws, in which language, and its cache name.

Drawing is ``analysis.charts``; this module picks the round's table, orders it as the
questionnaire does, passes the labels of the current language and keeps the PNG or SVG in
``survey.results.file_cache``, so a page of ten charts draws none of them twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from flask_babel import ngettext
from matplotlib.figure import Figure

import analysis
from analysis.drivers import MIN_PAIRS_PLACED, unplaced
from survey.results import file_cache
from survey.results.tables import RoundResults

KINDS = ("rates", "distribution", "heatmap", "trend", "quadrant")
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
# Pixels per inch of the PNGs: 100 on screen (a 9-inch chart is 900 px wide), 200 in print.
SCREEN_DPI = 100


@dataclass(frozen=True)
class Chart:
    """One chart of a round: its kind, language and, for a category's page, the category."""

    kind: str
    lang: str
    category: str | None = None

    def name(self, fmt: str, dpi: int = SCREEN_DPI) -> str:
        scope = f"-{self.category}" if self.category else ""
        return f"{self.kind}{scope}-{self.lang}-{dpi}.{fmt}"


def table(results: RoundResults, chart: Chart) -> pd.DataFrame:
    """The table the chart draws (the alt text describes the same table)."""
    if chart.kind in ("rates", "distribution"):
        items = results.items
        if chart.category:
            items = items[(items["category"].astype("str") == chart.category).to_numpy()]
        return items.reset_index(drop=True)
    if chart.kind == "heatmap":
        labels = results.labels[chart.lang]
        return _ordered(
            results.group_categories,
            {"group": list(labels.groups), "category": list(labels.category_order)},
        )
    if chart.kind == "trend":
        return results.history
    return results.drivers


def _ordered(frame: pd.DataFrame, orders: dict[str, list[str]]) -> pd.DataFrame:
    """Rows ordered by the given code orders (unknown codes last, by code)."""
    keys = {}
    for column, order in orders.items():
        position = {code: i for i, code in enumerate(order)}
        keys[f"_{column}"] = frame[column].astype("str").map(position).fillna(len(order))
    sort = [*keys, *orders]
    return frame.assign(**keys).sort_values(sort, kind="stable").drop(columns=list(keys))


def figure(results: RoundResults, chart: Chart) -> Figure:
    """The matplotlib Figure of the chart, labelled in the chart's language."""
    labels = results.labels[chart.lang]
    data = table(results, chart)
    if chart.kind == "rates":
        return analysis.charts.rate_chart(
            data,
            threshold=results.threshold,
            lang=chart.lang,
            labels=labels.short("questions", "served_units"),
        )
    if chart.kind == "distribution":
        return analysis.charts.distribution_chart(
            data, lang=chart.lang, labels=labels.short("questions", "served_units")
        )
    if chart.kind == "heatmap":
        return analysis.charts.heatmap_chart(
            data,
            lang=chart.lang,
            anonymity_threshold=results.anonymity_threshold,
            labels=labels.short("groups", "categories"),
        )
    if chart.kind == "trend":
        return analysis.charts.trend_chart(
            data,
            round_labels=results.round_names,
            lang=chart.lang,
            labels=labels.short("categories"),
        )
    return analysis.charts.quadrant_chart(
        data, lang=chart.lang, labels=labels.short("questions", "served_units")
    )


def alt(results: RoundResults, chart: Chart) -> str:
    """The alt text of the chart (``analysis.charts.alt_text``) in the chart's language."""
    labels = results.labels[chart.lang]
    names = labels.of("questions", "served_units", "groups", "categories")
    return analysis.charts.alt_text(
        chart.kind,
        table(results, chart),
        chart.lang,
        names,
        threshold=results.threshold,
        anonymity_threshold=results.anonymity_threshold,
    )


def image(results: RoundResults, chart: Chart, fmt: str = "png", dpi: int = SCREEN_DPI) -> bytes:
    """The chart as PNG or SVG bytes, drawn once per data version and kept in the cache."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}")

    def draw() -> bytes:
        fig = figure(results, chart)
        if fmt == "svg":
            return analysis.charts.to_svg(fig)
        return analysis.charts.to_png(fig, dpi=dpi)

    return file_cache.cached_bytes(
        results.round_id, results.version_tag, chart.name(fmt, dpi), draw
    )


def unplaced_note(results: RoundResults) -> str | None:
    """Why some items have no quadrant, if some have none (the dashboard's and the report's)."""
    count = unplaced(results.drivers)
    if not count:
        return None
    return ngettext(
        "%(num)s item was rated together with the overall item by fewer than %(k)s "
        "respondents: it has no quadrant, since a correlation over so few answers could be "
        "anything from weak to strong.",
        "%(num)s items were rated together with the overall item by fewer than %(k)s "
        "respondents: they have no quadrant, since a correlation over so few answers could be "
        "anything from weak to strong.",
        count,
        k=MIN_PAIRS_PLACED,
    )
