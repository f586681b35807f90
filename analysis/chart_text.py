"""The alt text of the charts: one or two sentences describing a chart's table, in zh or en.

Apart from ``analysis.charts`` because a page that shows charts needs their alt text at once
but their images only when the browser asks: the alt text must not load matplotlib (a fresh
process paid a quarter of a second for it on its first dashboard)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from analysis.metrics import below

ALT: Mapping[str, Mapping[str, str]] = {
    "en": {
        "rates": "Satisfaction rate by item, {k} items; lowest: {name} {rate} (n={n}).",
        "rates_below": " {b} below the {t} threshold.",
        "distribution": "Distribution of ratings for {k} items; most dissatisfied answers: "
        "{name}, {share} dissatisfied (n={n}).",
        "trend": "Satisfaction rate of {k} series across {r} round(s); lowest in the latest "
        "round: {name} {rate}.",
        "heatmap": "Satisfaction rate by respondent group and category, {g} groups x {c} "
        "categories; {h} cells hidden to protect groups of fewer than {t} respondents.",
        "heatmap_lowest": " Lowest shown: {name} {rate}.",
        "quadrant": "Importance against performance for {k} items; concentrate here: {names}.",
        "empty": "No answers to show.",
        "none": "none",
        "sep": ", ",
    },
    "zh": {
        "rates": "各项目满意率，共{k}项；最低：{name} {rate}（n={n}）。",
        "rates_below": "{b}项低于目标值{t}。",
        "distribution": "{k}个项目的评价分布；不满意比例最高：{name}，不满意{share}（n={n}）。",
        "trend": "{k}个系列在{r}轮调查中的满意率；最近一轮最低：{name} {rate}。",
        "heatmap": "各类服务对象分类满意率，{g}类对象×{c}个分类；为保护答卷人少于{t}人的群体，{h}个单元格未单列显示。",
        "heatmap_lowest": "显示的最低值：{name} {rate}。",
        "quadrant": "{k}个项目的重要性与表现；重点改进：{names}。",
        "empty": "没有可显示的答案。",
        "none": "无",
        "sep": "、",
    },
}


def alt_text(
    kind: str,
    table: pd.DataFrame,
    lang: str = "zh",
    labels: Mapping[str, str] | None = None,
    *,
    threshold: float = 0.80,
    anonymity_threshold: int = 5,
    key: str = "category",
) -> str:
    """One or two sentences describing a chart for the img alt attribute.

    ``kind`` is the chart: ``rates``, ``distribution``, ``trend``, ``heatmap`` or
    ``quadrant``; ``table`` the table the chart was drawn from. Alt text is not drawn, so it
    keeps the requested language (zh or en) and the caller's labels whatever the fonts.
    """
    words = ALT["zh" if lang.lower().startswith("zh") else "en"]
    names = labels or {}
    if table.empty:
        return words["empty"]
    if kind not in _ALT_BUILDERS:
        raise ValueError(f"unknown chart kind {kind!r}; known: {', '.join(_ALT_BUILDERS)}")
    options = {"threshold": threshold, "anonymity_threshold": anonymity_threshold, "key": key}
    return _ALT_BUILDERS[kind](table, words, names, options)


def _pct(value: float) -> str:
    return "–" if value != value else f"{value * 100:.0f}%"


def _name(names: Mapping[str, str], code: object) -> str:
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return "–"
    return str(names.get(str(code), code))


def _alt_rates(
    table: pd.DataFrame, words: Mapping[str, str], names: Mapping[str, str], options: dict
) -> str:
    lowest = table.loc[table["rate"].idxmin()] if table["rate"].notna().any() else table.iloc[0]
    text = words["rates"].format(k=len(table), name=_name(names, lowest["question"]),
                                 rate=_pct(lowest["rate"]), n=int(lowest["n"]))  # fmt: skip
    count = int(below(table["satisfied"], table["n"], options["threshold"]).sum())
    return text + words["rates_below"].format(b=count, t=f"{options['threshold'] * 100:g}%")


def _alt_distribution(
    table: pd.DataFrame, words: Mapping[str, str], names: Mapping[str, str], options: dict
) -> str:
    share = table["dissatisfied_share"]
    worst = table.loc[share.idxmax()] if share.notna().any() else table.iloc[0]
    return words["distribution"].format(k=len(table), name=_name(names, worst["question"]),
                                        share=_pct(worst["dissatisfied_share"]),
                                        n=int(worst["n"]))  # fmt: skip


def _alt_trend(
    table: pd.DataFrame, words: Mapping[str, str], names: Mapping[str, str], options: dict
) -> str:
    key = options["key"]
    latest = table[table["round_index"] == table["round_index"].max()]
    worst = latest.loc[latest["rate"].idxmin()] if latest["rate"].notna().any() else latest.iloc[0]
    return words["trend"].format(
        k=table[key].nunique(dropna=False), r=table["round_index"].nunique(),
        name=_name(names, worst[key]), rate=_pct(worst["rate"]),
    )  # fmt: skip


def _alt_heatmap(
    table: pd.DataFrame, words: Mapping[str, str], names: Mapping[str, str], options: dict
) -> str:
    text = words["heatmap"].format(g=table["group"].nunique(), c=table["category"].nunique(),
                                   h=int(table["suppressed"].sum()),
                                   t=options["anonymity_threshold"])  # fmt: skip
    shown = table[~table["suppressed"].astype(bool) & table["rate"].notna()]
    if shown.empty:
        return text
    worst = shown.loc[shown["rate"].idxmin()]
    name = f"{_name(names, worst['group'])} / {_name(names, worst['category'])}"
    return text + words["heatmap_lowest"].format(name=name, rate=_pct(worst["rate"]))


def _alt_quadrant(
    table: pd.DataFrame, words: Mapping[str, str], names: Mapping[str, str], options: dict
) -> str:
    focus = table[table["quadrant"].astype("str") == "concentrate_here"]
    listed = words["sep"].join(_name(names, q) for q in focus["question"]) or words["none"]
    return words["quadrant"].format(k=int(table["quadrant"].notna().sum()), names=listed)


_ALT_BUILDERS: Mapping[str, Callable[..., str]] = {
    "rates": _alt_rates,
    "distribution": _alt_distribution,
    "trend": _alt_trend,
    "heatmap": _alt_heatmap,
    "quadrant": _alt_quadrant,
}
