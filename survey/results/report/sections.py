"""The report's opening sections: title and findings, and the method of monitoring (ISO 9001
9.1.2)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from survey.formatting import percent, point_list, records
from survey.responses import SOURCE_NAMES
from survey.results.labels import rating_scale
from survey.results.report.document import ReportContext, section
from survey.results.report.styles import LINE, STRIPE, TEXT_WIDTH
from survey.results.report.tables import count, interval, table


@section(10)
def title_block(context: ReportContext) -> list[Flowable]:
    s, r, results = context.styles, context.round, context.results
    questionnaire = r.version.title_zh if context.lang == "zh" else r.version.title_en
    flow: list[Flowable] = [
        s.para(_("Client satisfaction: management review"), s.title),
        s.para(f"{r.name} · {questionnaire} (v{r.version.number})", s.subtitle),
    ]
    if results.empty:
        flow.append(s.para(_("No responses yet: this report has no figures to show.")))
        return flow
    summary = results.summary
    facts = [
        (
            percent(context.progress.rate, 0) if context.progress.rate is not None else "–",
            _(
                "response rate (%(s)s of %(i)s invitations)",
                s=context.progress.submitted,
                i=context.progress.invited,
            ),
        ),
        (
            percent(summary.rate),
            _(
                "of all ratings satisfied (95%% interval %(ci)s, n = %(n)s ratings, "
                "effective n = %(e)s)",
                ci=interval(summary.ci_low, summary.ci_high),
                n=count(summary.n),
                e=count(summary.n_eff),
            ),
        ),
        (
            str(len(results.below)),
            ngettext(
                "item below the %(t)s threshold",
                "items below the %(t)s threshold",
                len(results.below),
                t=percent(results.threshold, 0),
            ),
        ),
    ]
    cells = [
        [
            Paragraph(
                s.text(value),
                ParagraphStyle("big", parent=s.title, fontSize=18, leading=22, spaceAfter=0),
            ),
            s.para(what, s.small),
        ]
        for value, what in facts
    ]
    box = Table(
        [[c[0] for c in cells], [c[1] for c in cells]],
        colWidths=[TEXT_WIDTH / 3] * 3,
        hAlign="LEFT",
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), STRIPE),
                ("LINEAFTER", (0, 0), (1, -1), 0.4, LINE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
            ]
        )
    )
    flow += [box, Spacer(1, 4 * mm), *findings(context)]
    return flow


def findings(context: ReportContext) -> list[Flowable]:
    """Plain sentences a reader of the management review needs first."""
    s, results, labels = context.styles, context.results, context.labels
    lines = []
    categories = records(results.categories)
    meets = [r for r in categories if r["status"] == "meets"]
    lines.append(
        _(
            "%(m)s of %(n)s categories meet the satisfaction threshold of %(t)s.",
            m=len(meets),
            n=len(categories),
            t=percent(results.threshold, 0),
        )
    )
    for row in records(results.below)[:3]:
        lines.append(
            _(
                "Lowest: %(item)s, %(rate)s satisfied (95%% interval %(ci)s, n = %(n)s).",
                item=labels.questions.get(row["question"], row["question"]),
                rate=percent(row["rate"]),
                ci=interval(row["ci_low"], row["ci_high"]),
                n=count(row["n"]),
            )
        )
    if results.comparison is not None:
        changes = records(results.comparison.categories)
        down = [r for r in changes if r["significant"] and r["direction"] == "down"]
        up = [r for r in changes if r["significant"] and r["direction"] == "up"]
        lines.append(
            _(
                "Since %(name)s: %(d)s categories fell and %(u)s rose significantly "
                "(two-proportion z-test, p < 0.05).",
                name=results.comparison.name,
                d=len(down),
                u=len(up),
            )
        )
    items = [s.para("• " + line) for line in lines]
    return [s.para(_("Findings"), s.h2), *items]


def _what_was_asked(context: ReportContext) -> str:
    """The scale and what counts as satisfied on it: the round's one rating scale, or the
    rule when its items use several."""
    scale = rating_scale(context.round.version)
    if scale is None:
        return _(
            "What: %(n)s rating items. An answer in the top two points of its item's scale "
            "(the top one on a scale of three points, or the points the scale names) counts "
            "as satisfied; the satisfaction rate of an item or category is the share of its "
            "answered ratings that are satisfied, with a 95%% Wilson interval.",
            n=context.results.summary.items,
        )
    ordered = sorted(scale.points, key=lambda p: p.value)
    return _(
        "What: %(n)s rating items on a %(k)s-point scale from %(low)s (%(low_value)s) to "
        "%(high)s (%(high_value)s). An answer of %(points)s counts as satisfied; the "
        "satisfaction rate of an item or category is the share of its answered ratings "
        "that are satisfied, with a 95%% Wilson interval.",
        n=context.results.summary.items,
        k=len(ordered),
        low=ordered[0].label.get(context.lang),
        low_value=ordered[0].value,
        high=ordered[-1].label.get(context.lang),
        high_value=ordered[-1].value,
        points=point_list(scale.satisfied_values),
    )


@section(20)
def method(context: ReportContext) -> list[Flowable]:
    s, r, results, labels = context.styles, context.round, context.results, context.labels
    flow: list[Flowable] = [context.chapter(_("Method of monitoring (ISO 9001, 9.1.2)"))]
    groups = ", ".join(labels.groups.get(g, g) for g, _p in context.group_progress) or "–"
    flow.append(
        s.para(
            _(
                "Who was asked: %(groups)s. %(i)s invitations were issued, one "
                "personal link per respondent unit or named person.",
                groups=groups,
                i=context.progress.invited,
            )
        )
    )
    sources = ", ".join(f"{_source(k)} {v:,}" for k, v in sorted(results.sources.items()))
    flow.append(
        s.para(
            _(
                "How: a web questionnaire opened from the personal invitation link, "
                "on a phone or a desk PC, in Chinese or English; paper questionnaires "
                "and feedback given at meetings were keyed in by the office. "
                "Responses by source: %(sources)s.",
                sources=sources or "–",
            )
        )
    )
    flow.append(
        s.para(
            _(
                "When: the round was open from %(o)s to %(c)s; responses arrived "
                "between %(f)s and %(l)s.",
                o=_date(r.opens_at),
                c=_date(r.closes_at),
                f=_date(results.first_response),
                l=_date(results.last_response),
            )
        )
    )
    flow.append(s.para(_what_was_asked(context)))
    flow.append(
        s.para(
            _(
                "Anonymity: a respondent group with fewer than %(k)s respondents is "
                "never reported on its own; its answers count in every total.%(a)s",
                k=results.anonymity_threshold,
                a=(
                    " " + _("The round is anonymous: responses keep no unit.")
                    if r.anonymous
                    else ""
                ),
            )
        )
    )
    rows = [
        [
            labels.groups.get(g, g),
            count(p.invited),
            count(p.submitted),
            percent(p.rate, 0) if p.rate is not None else "–",
        ]
        for g, p in context.group_progress
    ]
    rows.append(
        [
            _("All groups"),
            count(context.progress.invited),
            count(context.progress.submitted),
            percent(context.progress.rate, 0) if context.progress.rate is not None else "–",
        ]
    )
    flow.append(s.para(_("Response rate by respondent group"), s.h2))
    flow.append(
        table(
            context,
            [_("Respondent group"), _("Invited"), _("Submitted"), _("Response rate")],
            rows,
            [70, 25, 25, 25],
            {1, 2, 3},
        )
    )
    return flow


def unit_name(labels, code: str | None) -> str:
    return labels.served_units.get(code, code) if code else _("No served unit")


def _source(code: str) -> str:
    return str(SOURCE_NAMES.get(code, code))


def _date(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d")
