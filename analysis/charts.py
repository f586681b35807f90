"""Charts of the satisfaction tables as ``matplotlib.figure.Figure`` objects (never pyplot).

Every chart takes the table an ``analysis`` function returned, ``lang`` ("zh" or "en"),
``labels`` (code -> display text, supplied by the caller; codes without one are shown as they
are) and ``title`` (None for the default title). Chinese needs a CJK font: the first of
``CJK_FONTS`` known to matplotlib is set on each Figure's texts (never in the global rcParams),
with DejaVu Sans as the fallback for glyphs it lacks. Without a CJK font, charts fall back to
English, and a caller's label that the fonts cannot draw is replaced by its code, so no glyph
is ever missing.

Colours come from colour-blind-safe palettes (ColorBrewer PuOr, Okabe-Ito); all text is dark
grey on white or on light cells, with contrast above 4.5:1.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from analysis.chart_text import alt_text  # noqa: F401 (re-exported)
from analysis.drivers import QUADRANTS
from analysis.metrics import below

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Droid Sans Fallback")
LATIN_FONT = "DejaVu Sans"
TEXT_COLOUR = "#222222"  # 15.9:1 on white
MUTED_TEXT = "#555555"  # 7.5:1 on white
GRID_COLOUR = "#d0d0d0"
# ColorBrewer PuOr (colour-blind safe), dark ends for the extreme answers; neutral is grey.
SCALE_COLOURS = ("#b35806", "#f1a340", "#bdbdbd", "#998ec3", "#542788")
BELOW_COLOUR = "#D55E00"  # Okabe-Ito vermillion
MEETS_COLOUR = "#0072B2"  # Okabe-Ito blue
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
# Light PuOr ramp for the heat map, so dark text stays readable on every cell.
HEAT_COLOURS = ("#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3")
HEAT_MAP = LinearSegmentedColormap.from_list("light_puor", HEAT_COLOURS)
HIDDEN_COLOUR = "#e6e6e6"

STRINGS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "distribution_title": "Distribution of ratings by item",
        "rates_title": "Satisfaction rate by item",
        "trend_title": "Satisfaction rate by round",
        "heatmap_title": "Satisfaction rate by respondent group and category",
        "quadrant_title": "Importance and performance of items",
        "share": "Share of answers (%)",
        "rate": "Satisfaction rate (%)",
        "importance": "Importance (correlation with overall satisfaction)",
        "round": "Round",
        "very_dissatisfied": "Very dissatisfied",
        "dissatisfied": "Dissatisfied",
        "neutral": "Neutral",
        "satisfied": "Satisfied",
        "very_satisfied": "Very satisfied",
        "below": "Below threshold",
        "meets": "At or above threshold",
        "threshold": "Threshold {pct}",
        "hidden": "hidden",
        "no_data": "No answers",
        "concentrate_here": "Concentrate here",
        "keep_up_the_good_work": "Keep up the good work",
        "low_priority": "Low priority",
        "possible_overkill": "Possible overkill",
        "median": "Median",
        "unplaced": "○ not placed: its quadrant is not stable across bootstrap resamples of the "
        "respondents,\nor its correlation may be none. Bars: 95% interval of importance.",
    },
    "zh": {
        "distribution_title": "各项目评价分布",
        "rates_title": "各项目满意率",
        "trend_title": "各轮次满意率",
        "heatmap_title": "各类服务对象分类满意率",
        "quadrant_title": "项目重要性与表现",
        "share": "答案占比（%）",
        "rate": "满意率（%）",
        "importance": "重要性（与总体满意度的相关系数）",
        "round": "轮次",
        "very_dissatisfied": "很不满意",
        "dissatisfied": "不满意",
        "neutral": "一般",
        "satisfied": "满意",
        "very_satisfied": "很满意",
        "below": "低于目标值",
        "meets": "达到目标值",
        "threshold": "目标值 {pct}",
        "hidden": "不单列",
        "no_data": "无答案",
        "concentrate_here": "重点改进",
        "keep_up_the_good_work": "继续保持",
        "low_priority": "次要改进",
        "possible_overkill": "可能过度投入",
        "median": "中位数",
        "unplaced": "○ 未归类：按答卷人重抽样（bootstrap）时所属象限不稳定，或相关性可能为零。\n"
        "竖线：重要性的95%区间。",
    },
}
CLASSES = ("very_dissatisfied", "dissatisfied", "neutral", "satisfied", "very_satisfied")


# --- fonts and labels ---------------------------------------------------------------------


def cjk_font_name() -> str | None:
    """The first of ``CJK_FONTS`` that matplotlib's font manager knows, or None.

    matplotlib lists the system fonts once and keeps the list in its cache directory, so a
    font installed later (``make system-deps`` after a first run) would stay unseen; when no
    CJK font is known, the system's font files are looked at once more and any CJK font among
    them is added.
    """
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in known), None)
    if found is None and _add_installed_cjk_fonts():
        return cjk_font_name()
    return found


_looked_for_installed_fonts = False


def _add_installed_cjk_fonts() -> bool:
    """Add the CJK font files found on the system to matplotlib's font manager (once per
    process); True if any was added."""
    global _looked_for_installed_fonts
    if _looked_for_installed_fonts:
        return False
    _looked_for_installed_fonts = True
    added = False
    for path in font_manager.findSystemFonts():
        if any(
            part in path.lower() for part in ("wqy", "cjk", "sourcehansans", "droidsansfallback")
        ):
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):
                continue  # an unreadable file is no reason to fail a chart
    return added


class _Style:
    """The language and fonts of one chart, and the texts drawn in them."""

    def __init__(self, lang: str, labels: Mapping[str, str] | None) -> None:
        cjk = cjk_font_name()
        wants_zh = lang.lower().startswith("zh")
        self.lang = "zh" if wants_zh and cjk else "en"
        if cjk is None:
            self.families = [LATIN_FONT]
        elif self.lang == "zh":
            self.families = [cjk, LATIN_FONT]
        else:
            self.families = [LATIN_FONT, cjk]
        self.labels = labels or {}
        self._glyphs = _charmaps(self.families)

    def text(self, key: str, **fields: object) -> str:
        return STRINGS[self.lang][key].format(**fields)

    def drawable(self, text: str) -> bool:
        return all(ord(ch) in self._glyphs or ch.isspace() for ch in text)

    def label(self, code: object) -> str:
        """The caller's label for a code, or the code itself if the fonts cannot draw it;
        drawn as typed (see ``as_typed``)."""
        code = "–" if code is None or (isinstance(code, float) and np.isnan(code)) else str(code)
        text = str(self.labels.get(code, code))
        return as_typed(text if self.drawable(text) else code)

    def title(self, title: str | None, default_key: str) -> str:
        if title is not None and self.drawable(title):
            return as_typed(title)
        return self.text(default_key)


def as_typed(text: str) -> str:
    """Text that matplotlib draws as it was typed: a pair of "$" would otherwise start its
    math mode, and a label such as "$\\frac{$" would stop the chart from being drawn at all."""
    return text.replace("$", r"\$")


def _charmaps(families: list[str]) -> set[int]:
    glyphs: set[int] = set()
    for family in families:
        path = font_manager.findfont(font_manager.FontProperties(family=family))
        glyphs.update(font_manager.get_font(path).get_charmap())
    return glyphs


def _wrap(text: str, width: int = 30, lines: int = 3) -> str:
    """Wrap a label to ``width`` columns (a Chinese character counts two), at most ``lines``.

    Latin text breaks at spaces and after "." or "_", so codes like ``services.documents``
    wrap too; Chinese text may break between any two characters.
    """
    parts, line, used = [], "", 0
    for chunk in re.findall(r"[^\s._]*[._]?\s*", text):
        if not chunk:
            continue
        pieces = list(chunk) if _wide(chunk[0]) else [chunk]
        for piece in pieces:
            cost = sum(2 if _wide(ch) else 1 for ch in piece.rstrip())
            if line and used + cost > width:
                parts.append(line.rstrip())
                line, used = "", 0
            line, used = line + piece, used + sum(2 if _wide(ch) else 1 for ch in piece)
    parts.append(line.rstrip())
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] += "…"
    return "\n".join(parts)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _item_texts(table: pd.DataFrame, style: _Style) -> list[str]:
    """Question labels; a question rated for several served units gets the unit appended."""
    questions = table["question"].astype("str")
    repeated = questions.duplicated(keep=False).to_numpy()
    units = table["served_unit"] if "served_unit" in table.columns else [None] * len(table)
    return [
        f"{style.label(question)} ({style.label(unit)})" if twice else style.label(question)
        for question, unit, twice in zip(questions, units, repeated)
    ]


def _item_labels(table: pd.DataFrame, style: _Style) -> list[str]:
    return [_wrap(text) for text in _item_texts(table, style)]


def _shorten(text: str, width: int = 24) -> str:
    """One line of at most ``width`` columns (a Chinese character counts two)."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if _wide(ch) else 1
        if used > width:
            return text[:i] + "…"
    return text


# --- figure plumbing ----------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # Agg canvas: text extents for the layout, PNG without pyplot
    return fig


def _finish(fig: Figure, style: _Style) -> Figure:
    """Set the chart's fonts on every text, and on tick labels the axes may create later."""
    for text in fig.findobj(Text):
        text.set_fontfamily(style.families)
        if text.get_color() in ("black", "k", "#000000"):
            text.set_color(TEXT_COLOUR)
    for ax in fig.axes:
        ax.tick_params(labelfontfamily=style.families, colors=TEXT_COLOUR)
    return fig


def _empty(fig: Figure, style: _Style, title: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, color=TEXT_COLOUR)
    ax.text(0.5, 0.5, style.text("no_data"), ha="center", va="center", color=MUTED_TEXT)
    return _finish(fig, style)


def _percent(value: float, _position: float) -> str:
    return f"{abs(value):.0f}%"


def to_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, figsize x dpi pixels (no tight bounding box), in RGB: on a
    white face the alpha channel is opaque everywhere, and a reader decoding the PNG would
    build a soft mask from it besides the colours. Drawn as ``savefig`` draws it, the pixels
    read where Agg drew them (savefig copied them first: 15 MB at 200 dpi)."""
    from PIL import Image  # matplotlib's own dependency, loaded with it

    dpi_before, face_before = fig.dpi, fig.get_facecolor()
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    try:
        fig.set_dpi(dpi)
        fig.set_facecolor("white")
        canvas.draw()
        pixels = canvas.buffer_rgba()
        size = (pixels.shape[1], pixels.shape[0])
        rgb = Image.frombuffer("RGBA", size, pixels, "raw", "RGBA", 0, 1).convert("RGB")
    finally:
        fig.set_dpi(dpi_before)
        fig.set_facecolor(face_before)
    buffer = io.BytesIO()
    rgb.save(buffer, format="png", dpi=(dpi, dpi))
    return buffer.getvalue()


def to_svg(fig: Figure) -> bytes:
    """The figure as SVG (UTF-8 XML text; glyphs as paths, so no font is needed to view it,
    nor to draw it into the PDF report), whatever a matplotlibrc says."""
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", facecolor="white", metadata={"Date": None})
    return buffer.getvalue()


# --- the charts ---------------------------------------------------------------------------


def class_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Per row, the share (0..1) of answers in each of ``CLASSES``: the lowest point (very
    dissatisfied), the other dissatisfied points (up to ``dissatisfied_to``), the points in
    between (neutral), the satisfied points (from ``satisfied_from``) but the highest, and the
    highest point (very satisfied). A scale of 3 points has no "dissatisfied" or "satisfied"
    class: only its ends are (very) dissatisfied and satisfied."""
    values = {c: np.zeros(len(table)) for c in CLASSES}
    lo = table["scale_min"].to_numpy()
    hi = table["scale_max"].to_numpy()
    bottom = table["dissatisfied_to"].to_numpy()
    top = table["satisfied_from"].to_numpy()
    for column in [c for c in table.columns if c.startswith("count_")]:
        point = int(column.removeprefix("count_"))
        count = table[column].to_numpy(dtype="float64")
        values["very_dissatisfied"] += np.where(point == lo, count, 0)
        values["dissatisfied"] += np.where((point > lo) & (point <= bottom), count, 0)
        values["neutral"] += np.where((point > bottom) & (point < top), count, 0)
        values["satisfied"] += np.where((point >= top) & (point < hi), count, 0)
        values["very_satisfied"] += np.where(point == hi, count, 0)
    n = table["n"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({c: np.where(n > 0, v / n, np.nan) for c, v in values.items()})


def distribution_chart(
    items: pd.DataFrame,
    *,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Diverging stacked bars of each item's answers (an ``item_table``): dissatisfied to the
    left of zero, neutral centred on zero, satisfied to the right; first item at the top."""
    style = _Style(lang, labels)
    fig = _figure(9, 1.6 + 0.45 * max(len(items), 1))
    if items.empty:
        return _empty(fig, style, style.title(title, "distribution_title"))
    ax = fig.add_subplot()
    shares = class_shares(items) * 100
    y = np.arange(len(items))
    half = shares["neutral"].to_numpy() / 2
    starts = {
        "very_dissatisfied": -half - shares["dissatisfied"] - shares["very_dissatisfied"],
        "dissatisfied": -half - shares["dissatisfied"],
        "neutral": -half,
        "satisfied": half,
        "very_satisfied": half + shares["satisfied"],
    }
    for name, colour in zip(CLASSES, SCALE_COLOURS):
        ax.barh(y, shares[name], left=starts[name], color=colour, label=style.text(name),
                edgecolor="white", linewidth=0.5)  # fmt: skip
    ax.axvline(0, color=MUTED_TEXT, linewidth=0.8)
    ax.set_yticks(y, labels=_item_labels(items, style))
    ax.set_ylim(len(items) - 0.5, -0.5)
    ax.set_xlim(-100, 100)
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_xlabel(style.text("share"))
    ax.set_title(style.title(title, "distribution_title"))
    fig.legend(loc="outside lower center", ncols=5, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, style)


def rate_chart(
    items: pd.DataFrame,
    *,
    threshold: float = 0.80,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Satisfaction rate per item (an ``item_table``) as bars with the 95% Wilson interval as
    error bars and the threshold as a dashed line; items below it (exact comparison, see
    ``analysis.metrics.below``) in vermillion, the others in blue. Rows keep their order."""
    style = _Style(lang, labels)
    fig = _figure(9, 1.6 + 0.45 * max(len(items), 1))
    if items.empty:
        return _empty(fig, style, style.title(title, "rates_title"))
    ax = fig.add_subplot()
    rate = items["rate"].to_numpy(dtype="float64") * 100
    low = items["ci_low"].to_numpy(dtype="float64") * 100
    high = items["ci_high"].to_numpy(dtype="float64") * 100
    is_below = below(items["satisfied"], items["n"], threshold)
    y = np.arange(len(items))
    ax.barh(y, np.nan_to_num(rate), color=np.where(is_below, BELOW_COLOUR, MEETS_COLOUR))
    ax.errorbar(np.nan_to_num(rate), y, xerr=np.nan_to_num([rate - low, high - rate]),
                fmt="none", ecolor=TEXT_COLOUR, capsize=3, linewidth=1)  # fmt: skip
    ax.axvline(threshold * 100, color=TEXT_COLOUR, linestyle="--", linewidth=1.2)
    # Figures in a column right of 100%, clear of the error bars and the threshold line.
    for yi, r, n in zip(y, rate, items["n"]):
        text = f"n={int(n)}" if np.isnan(r) else f"{r:.0f}% (n={int(n)})"
        ax.text(102, yi, text, va="center", fontsize=8, color=MUTED_TEXT)
    ax.set_yticks(y, labels=_item_labels(items, style))
    ax.set_ylim(len(items) - 0.5, -0.5)
    ax.set_xlim(0, 125)
    ax.set_xticks(np.arange(0, 101, 20))
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_xlabel(style.text("rate"))
    ax.set_title(style.title(title, "rates_title"))
    handles = [
        Patch(color=BELOW_COLOUR, label=style.text("below")),
        Patch(color=MEETS_COLOUR, label=style.text("meets")),
        Line2D([], [], color=TEXT_COLOUR, linestyle="--",
               label=style.text("threshold", pct=f"{threshold * 100:g}%")),
    ]  # fmt: skip
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, style)


def trend_chart(
    trend: pd.DataFrame,
    *,
    key: str = "category",
    round_labels: Mapping[int, str] | None = None,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Rate per round for each ``key`` value (a ``trend_table``), with interval error bars;
    rounds on the x axis in ``round_index`` order, labelled by ``round_labels`` or their id."""
    style = _Style(lang, labels)
    fig = _figure(9, 5)
    if trend.empty:
        return _empty(fig, style, style.title(title, "trend_title"))
    ax = fig.add_subplot()
    rounds = trend.drop_duplicates("round_index").sort_values("round_index")
    for i, (code, rows) in enumerate(trend.groupby(key, sort=False, dropna=False)):
        rows = rows.sort_values("round_index")
        rate = rows["rate"].to_numpy(dtype="float64") * 100
        error = [rate - rows["ci_low"] * 100, rows["ci_high"] * 100 - rate]
        ax.errorbar(rows["round_index"], rate, yerr=np.nan_to_num(np.asarray(error, float)),
                    color=SERIES_COLOURS[i % 7], marker=MARKERS[i % 7], capsize=3,
                    label=_wrap(style.label(code), 24))  # fmt: skip
    names = round_labels or {}
    ax.set_xticks(rounds["round_index"],
                  labels=[style.label(names.get(r, r)) for r in rounds["round_id"]])  # fmt: skip
    ax.set_xlim(-0.5, len(rounds) - 0.5)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_xlabel(style.text("round"))
    ax.set_ylabel(style.text("rate"))
    ax.set_title(style.title(title, "trend_title"))
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.6)
    fig.legend(loc="outside right center", frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, style)


def heatmap_chart(
    table: pd.DataFrame,
    *,
    rows: str = "group",
    columns: str = "category",
    anonymity_threshold: int = 5,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Rate per (group, category) cell of a ``by_group_category`` table: the rate in each
    cell; suppressed cells hatched grey and marked "n<k", never with a number."""
    style = _Style(lang, labels)
    row_codes = list(dict.fromkeys(table[rows].astype("str"))) if len(table) else []
    col_codes = list(dict.fromkeys(table[columns].astype("str"))) if len(table) else []
    fig = _figure(max(6, 1.6 + 1.3 * len(col_codes)), 1.8 + 0.6 * max(len(row_codes), 1))
    if table.empty:
        return _empty(fig, style, style.title(title, "heatmap_title"))
    ax = fig.add_subplot()
    grid = np.full((len(row_codes), len(col_codes)), np.nan)
    hidden = np.zeros(grid.shape, dtype=bool)
    present = np.zeros(grid.shape, dtype=bool)
    for r, c, rate, suppressed in zip(table[rows].astype("str"), table[columns].astype("str"),
                                      table["rate"], table["suppressed"]):  # fmt: skip
        i, j = row_codes.index(r), col_codes.index(c)
        grid[i, j], hidden[i, j], present[i, j] = rate * 100, bool(suppressed), True
    # Cells as quads (vector), not an image: imshow resampled the grid to the output's pixels
    # in float arrays, 70 MB at the report's 200 dpi for a few dozen cells.
    image = ax.pcolormesh(np.arange(len(col_codes) + 1) - 0.5,
                          np.arange(len(row_codes) + 1) - 0.5,
                          np.ma.masked_invalid(grid), cmap=HEAT_MAP, vmin=0, vmax=100)  # fmt: skip
    ax.set_xlim(-0.5, len(col_codes) - 0.5)
    ax.set_ylim(len(row_codes) - 0.5, -0.5)  # the first row on top, as imshow drew it
    for (i, j), value in np.ndenumerate(grid):
        if hidden[i, j]:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=HIDDEN_COLOUR,
                                   hatch="///", edgecolor="#9a9a9a", linewidth=0))  # fmt: skip
            text = style.text("hidden", k=anonymity_threshold)
        else:
            text = f"{value:.0f}%" if present[i, j] and not np.isnan(value) else "–"
        ax.text(j, i, text, ha="center", va="center", color=TEXT_COLOUR, fontsize=10)
    ax.set_xticks(range(len(col_codes)), labels=[_wrap(style.label(c), 16) for c in col_codes])
    ax.set_yticks(range(len(row_codes)), labels=[_wrap(style.label(r), 20) for r in row_codes])
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colorbar.set_label(style.text("rate"))
    ax.set_title(style.title(title, "heatmap_title"))
    return _finish(fig, style)


def quadrant_chart(
    drivers: pd.DataFrame,
    *,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Importance (y) against performance (x, satisfaction rate) per item of a
    ``driver_table``, split at the medians into the four named quadrants. The candidates of
    the quadrants are drawn (``point_quadrant``: a correlation over enough pairs), each with
    the 95% bootstrap interval of its importance when the table has it; an item placed in a
    quadrant (``quadrant``, stable) is filled in its quadrant's colour, an unplaced one is an
    empty grey circle. Items without a correlation or with too few pairs are left out."""
    style = _Style(lang, labels)
    fig = _figure(9, 7)
    shown = drivers[drivers["importance"].notna() & drivers["rate"].notna()]
    candidates = "point_quadrant" if "point_quadrant" in shown else "quadrant"
    if candidates in shown:
        shown = shown[shown[candidates].notna()]
    if shown.empty:
        return _empty(fig, style, style.title(title, "quadrant_title"))
    ax = fig.add_subplot()
    x = shown["rate"].to_numpy(dtype="float64") * 100
    y = shown["importance"].to_numpy(dtype="float64")
    placed = shown["quadrant"].notna().to_numpy()
    colours = [SERIES_COLOURS[QUADRANTS.index(q)] if q in QUADRANTS else MUTED_TEXT
               for q in shown["quadrant"].astype("object")]  # fmt: skip
    ax.scatter(x, y, c=np.where(placed, colours, "none"), edgecolors=colours, s=40, zorder=3)
    if {"importance_low", "importance_high"} <= set(shown.columns):
        low = shown["importance_low"].to_numpy(dtype="float64")
        high = shown["importance_high"].to_numpy(dtype="float64")
        bars = np.nan_to_num(np.vstack([y - low, high - y]), nan=0.0).clip(min=0)
        ax.errorbar(x, y, yerr=bars, fmt="none", ecolor=MUTED_TEXT, elinewidth=0.8,
                    alpha=0.6, zorder=2)  # fmt: skip

    ax.axvline(np.median(x), color=MUTED_TEXT, linestyle="--", linewidth=1)
    ax.axhline(np.median(y), color=MUTED_TEXT, linestyle="--", linewidth=1)
    corners = {"concentrate_here": (0.02, 0.98, "left", "top"),
               "keep_up_the_good_work": (0.98, 0.98, "right", "top"),
               "low_priority": (0.02, 0.02, "left", "bottom"),
               "possible_overkill": (0.98, 0.02, "right", "bottom")}  # fmt: skip
    for name, (cx, cy, ha, va) in corners.items():
        ax.text(cx, cy, style.text(name), transform=ax.transAxes, ha=ha, va=va,
                color=MUTED_TEXT, fontsize=10)  # fmt: skip
    _pad_limits(ax, x, y)
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    # An unplaced item's empty circle is explained under the axis.
    note = "" if placed.all() else "\n" + style.text("unplaced")
    ax.set_xlabel(style.text("rate") + note)
    ax.set_ylabel(style.text("importance"))
    ax.set_title(style.title(title, "quadrant_title"))
    ax.spines[["top", "right"]].set_visible(False)
    _finish(fig, style)
    _label_points(ax, x, y, [_shorten(t) for t in _item_texts(shown, style)], style)
    return fig


# Where a point's label may go, in points from the point, nearest first: beside it to the right
# or left, then further up or down, where a thin line leads back to the point.
LABEL_SIDES = tuple(
    (dx, dy, "left" if dx > 0 else "right", "bottom" if dy > 0 else "top")
    for dy in (3, -3, 14, -14, 25, -25)
    for dx in (4, -4)
)
LEADER_FROM = 10  # points of vertical offset from which a line leads to the point


def _label_points(
    ax: object, x: np.ndarray, y: np.ndarray, texts: list[str], style: _Style
) -> None:
    """Label each point at the nearest place where its label stays inside the axes and covers
    no label placed before, and if possible no other point; the most important items are
    placed first; a label with no free place goes right of its point. Items of similar
    importance and rate cluster, and labels written all to the right of their points ran into
    each other."""
    fig = ax.figure
    scale = fig.dpi / 72  # offsets are in points, extents in pixels
    fig.draw_without_rendering()  # the constrained layout settles the axes first
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    centres = ax.transData.transform(np.column_stack([x, y]))
    radius = 4 * scale  # a marker of size 40 is about 6 points across
    markers = [
        Bbox.from_extents(cx - radius, cy - radius, cx + radius, cy + radius) for cx, cy in centres
    ]
    labels: list[Bbox] = []

    def label(i: int, side: tuple) -> Text:
        dx, dy, ha, va = side
        leader = (
            {"arrowstyle": "-", "color": MUTED_TEXT, "linewidth": 0.6, "shrinkA": 0, "shrinkB": 3}
            if abs(dy) >= LEADER_FROM
            else None
        )
        text = ax.annotate(
            texts[i],
            (x[i], y[i]),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=8,
            color=TEXT_COLOUR,
            fontfamily=style.families,
            arrowprops=leader,
        )
        text.set_in_layout(False)  # the axes stay where the layout put them
        return text

    def fits(box: Bbox, avoid: list[Bbox]) -> bool:
        padded = box.padded(scale)  # a point of space between labels, at any resolution
        return (
            frame.contains(box.x0, box.y0)
            and frame.contains(box.x1, box.y1)
            and not any(padded.overlaps(other) for other in avoid)
        )

    for i in np.argsort(-y, kind="stable"):
        other_markers = markers[:i] + markers[i + 1 :]
        # Measured once: the label's box on any side follows from its size.
        text = label(i, LABEL_SIDES[0])
        extent = text.get_window_extent(renderer)
        text.remove()
        cx, cy = centres[i]
        boxes = {}
        for side in LABEL_SIDES:
            dx, dy, ha, va = side
            x0 = cx + dx * scale - (extent.width if ha == "right" else 0)
            y0 = cy + dy * scale - (extent.height if va == "top" else 0)
            boxes[side] = Bbox.from_bounds(x0, y0, extent.width, extent.height)
        chosen = next(
            (side for side in LABEL_SIDES if fits(boxes[side], labels + other_markers)), None
        ) or next((side for side in LABEL_SIDES if fits(boxes[side], labels)), LABEL_SIDES[0])
        label(i, chosen)
        labels.append(boxes[chosen])


def _pad_limits(ax: object, x: np.ndarray, y: np.ndarray) -> None:
    """Room around the points for the corner names: 15% of the span (or a fixed margin)."""
    for values, setter, margin in ((x, ax.set_xlim, 5.0), (y, ax.set_ylim, 0.05)):
        span = max(values.max() - values.min(), margin)
        setter(values.min() - 0.15 * span, values.max() + 0.15 * span)
