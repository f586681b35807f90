"""The charts of the review pages and the report: which table each chart draws, in which language, and its cache name.

Drawing is ``analysis.charts``; this module picks the round's table, orders it as the
questionnaire does, passes the labels of the current language and keeps the PNG or SVG in
``survey.results.file_cache``, so a page of ten charts draws none of them twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from flask_babel import ngettext

import analysis
from analysis import chart_text
from analysis.drivers import MIN_PAIRS_PLACED, RESAMPLES, STABLE_SHARE, unplaced
from survey.results import file_cache
from survey.results.tables import RoundResults

if TYPE_CHECKING:  # matplotlib loads with analysis.charts, on the first chart drawn
    from matplotlib.figure import Figure

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


@dataclass(frozen=True)
class ChartKind:
    """A kind of chart and every facet of it: the table it draws (the alt text describes the
    same table), how it is drawn (``analysis.charts``), and where it appears. Its alt text is
    ``analysis.chart_text.alt_text`` of its name."""

    name: str
    table: Callable[[RoundResults, Chart], pd.DataFrame]
    draw: Callable[[pd.DataFrame, RoundResults, Chart], Figure]
    on_round_page: bool = True
    on_category_page: bool = False


def _items(results: RoundResults, chart: Chart) -> pd.DataFrame:
    items = results.items
    if chart.category:
        items = items[(items["category"].astype("str") == chart.category).to_numpy()]
    return items.reset_index(drop=True)


def _group_categories(results: RoundResults, chart: Chart) -> pd.DataFrame:
    labels = results.labels[chart.lang]
    return _ordered(
        results.group_categories,
        {"group": list(labels.groups), "category": list(labels.category_order)},
    )


def _ordered(frame: pd.DataFrame, orders: dict[str, list[str]]) -> pd.DataFrame:
    """Rows ordered by the given code orders (unknown codes last, by code)."""
    keys = {}
    for column, order in orders.items():
        position = {code: i for i, code in enumerate(order)}
        keys[f"_{column}"] = frame[column].astype("str").map(position).fillna(len(order))
    sort = [*keys, *orders]
    return frame.assign(**keys).sort_values(sort, kind="stable").drop(columns=list(keys))


def _item_labels(results: RoundResults, chart: Chart) -> dict[str, str]:
    return results.labels[chart.lang].short("questions", "served_units")


def _draw_rates(data: pd.DataFrame, results: RoundResults, chart: Chart) -> Figure:
    return analysis.charts.rate_chart(
        data, threshold=results.threshold, lang=chart.lang, labels=_item_labels(results, chart)
    )


def _draw_distribution(data: pd.DataFrame, results: RoundResults, chart: Chart) -> Figure:
    return analysis.charts.distribution_chart(
        data, lang=chart.lang, labels=_item_labels(results, chart)
    )


def _draw_heatmap(data: pd.DataFrame, results: RoundResults, chart: Chart) -> Figure:
    return analysis.charts.heatmap_chart(
        data,
        lang=chart.lang,
        anonymity_threshold=results.anonymity_threshold,
        labels=results.labels[chart.lang].short("groups", "categories"),
    )


def _draw_trend(data: pd.DataFrame, results: RoundResults, chart: Chart) -> Figure:
    return analysis.charts.trend_chart(
        data,
        round_labels=results.round_names,
        lang=chart.lang,
        labels=results.labels[chart.lang].short("categories"),
    )


def _draw_quadrant(data: pd.DataFrame, results: RoundResults, chart: Chart) -> Figure:
    return analysis.charts.quadrant_chart(
        data, lang=chart.lang, labels=_item_labels(results, chart)
    )


#: Every chart kind, in the order the round's page shows them.
CHART_KINDS: dict[str, ChartKind] = {
    kind.name: kind
    for kind in (
        ChartKind("rates", _items, _draw_rates, on_category_page=True),
        ChartKind("distribution", _items, _draw_distribution, on_category_page=True),
        ChartKind("heatmap", _group_categories, _draw_heatmap),
        ChartKind("trend", lambda results, chart: results.history, _draw_trend),
        ChartKind("quadrant", lambda results, chart: results.drivers, _draw_quadrant),
    )
}


def kinds_on(page: str) -> list[str]:
    """The chart kinds a page shows: ``round`` or ``category``."""
    return [k.name for k in CHART_KINDS.values() if getattr(k, f"on_{page}_page")]


def table(results: RoundResults, chart: Chart) -> pd.DataFrame:
    """The table the chart draws (the alt text describes the same table)."""
    return CHART_KINDS[chart.kind].table(results, chart)


def figure(results: RoundResults, chart: Chart) -> Figure:
    """The matplotlib Figure of the chart, labelled in the chart's language."""
    return CHART_KINDS[chart.kind].draw(table(results, chart), results, chart)


def alt(results: RoundResults, chart: Chart) -> str:
    """The alt text of the chart (``analysis.chart_text.alt_text``) in the chart's language."""
    labels = results.labels[chart.lang]
    names = labels.of("questions", "served_units", "groups", "categories")
    return chart_text.alt_text(
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
    """Why some items with a correlation have no quadrant, if some have none (the dashboard's
    and the report's): one sentence per reason (``analysis.drivers.REASONS``)."""
    counts = unplaced(results.drivers)
    if not counts:
        return None
    notes = []
    if counts.get("too_few_pairs"):
        notes.append(_too_few_pairs(counts["too_few_pairs"]))
    if counts.get("may_not_matter"):
        notes.append(
            ngettext(
                "%(num)s item has no quadrant: its importance is above the median, but its 95%% "
                "bootstrap interval reaches 0, so it may not matter at all.",
                "%(num)s items have no quadrant: their importance is above the median, but "
                "their 95%% bootstrap intervals reach 0, so they may not matter at all.",
                counts["may_not_matter"],
            )
        )
    if counts.get("unstable"):
        notes.append(
            ngettext(
                "%(num)s item has no quadrant: in more than %(p)s of %(b)s bootstrap resamples "
                "of the respondents it fell in another quadrant.",
                "%(num)s items have no quadrant: in more than %(p)s of %(b)s bootstrap "
                "resamples of the respondents they fell in another quadrant.",
                counts["unstable"],
                p=f"{1 - STABLE_SHARE:.0%}",
                b=f"{RESAMPLES:,}",
            )
        )
    return " ".join(notes)


def _too_few_pairs(count: int) -> str:
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
