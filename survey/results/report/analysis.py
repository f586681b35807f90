"""The analysis and evaluation sections (ISO 9001 9.1.3): categories, items below the
threshold, groups, served units, the trend and the drivers."""

from __future__ import annotations

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Spacer,
)

from analysis.drivers import RESAMPLES, STABLE_SHARE, WEAK_CORRELATION, all_weak
from survey.formatting import percent, records
from survey.results.charts import unplaced_note
from survey.results.report.document import ReportContext, section
from survey.results.report.sections import unit_name
from survey.results.report.tables import count, interval, pvalue, signed_points, status_text, table


@section(30)
def analysis_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    if results.empty:
        return []
    flow: list[Flowable] = [
        context.chapter(_("Analysis and evaluation (ISO 9001, 9.1.3)")),
        s.para(_("2.1 Satisfaction by category"), s.h2),
    ]
    weighted = (
        {r["category"]: r for r in records(results.weighted["categories"])}
        if results.weighted
        else {}
    )
    head = [_("Category"), _("Items"), _("n (effective)"), _("Satisfied"), _("95% CI"), _("Status")]
    widths = [58, 12, 18, 18, 28, 34]
    if weighted:
        head.insert(5, _("Weighted (n_eff)"))
        widths.insert(5, 28)
    rows, marked = [], set()
    for index, row in enumerate(records(results.categories)):
        line = [
            labels.categories.get(row["category"], row["category"]),
            row["items"],
            f"{count(row['n'])} ({count(row['n_eff'])})",
            percent(row["rate"]),
            interval(row["ci_low"], row["ci_high"]),
            status_text(row["status"]),
        ]
        if weighted:
            w = weighted.get(row["category"], {})
            line.insert(
                5, f"{percent(w.get('weighted_rate'))} ({w.get('weighted_n_eff') or 0:.0f})"
            )
        rows.append(line)
        if row["status"] == "below":
            marked.add(index)
    flow.append(
        table(context, head, rows, widths, {1, 2, 3, 4} | ({5} if weighted else set()), marked)
    )
    flow.append(
        s.para(
            _(
                "Below threshold: the whole 95%% interval lies below %(t)s; possibly "
                "below: only the rate does.",
                t=percent(results.threshold, 0),
            ),
            s.small,
        )
    )
    flow.append(
        s.para(
            _(
                "n counts answered ratings; one respondent rates several items of a category "
                "and their ratings go together, so each interval is taken at the effective n "
                "in brackets (n divided by the design effect, never more than the "
                "respondents): it counts respondents, not answers."
            ),
            s.small,
        )
    )
    # The items below the threshold fill the page under the table; the tall chart follows.
    flow += below_threshold(context)
    flow += context.chart("rates")
    flow += groups_section(context)
    flow += units_section(context)
    return flow


def below_threshold(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    flow: list[Flowable] = [
        s.para(_("2.2 Items below the threshold of %(t)s", t=percent(results.threshold, 0)), s.h2)
    ]
    rows = records(results.below)
    if not rows:
        return flow + [s.para(_("No item is below the threshold."))]
    body = [
        [
            labels.questions.get(r["question"], r["question"]),
            unit_name(labels, r["served_unit"]),
            count(r["n"]),
            percent(r["rate"]),
            interval(r["ci_low"], r["ci_high"]),
            _("confirmed") if r["evidence"] == "confirmed" else _("possible"),
        ]
        for r in rows
    ]
    flow.append(
        table(
            context,
            [_("Item"), _("Served unit"), _("n"), _("Satisfied"), _("95% CI"), _("Evidence")],
            body,
            [64, 28, 16, 18, 28, 22],
            {2, 3, 4},
        )
    )
    flow.append(
        s.para(
            _(
                "“Confirmed”: the whole 95%% interval lies below the threshold and at least "
                "%(k)s people answered. “Possible”: the rate is below, but the interval reaches "
                "the threshold or too few answered to be sure.",
                k=results.anonymity_threshold,
            )
        )
    )
    return flow


def groups_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    body = []
    for r in records(results.groups):
        name = labels.groups.get(r["group"], r["group"])
        if r["suppressed"]:
            body.append(
                [name, _("not shown on its own (anonymity): in the totals only"), "", "", ""]
            )
        else:
            body.append(
                [
                    name,
                    count(r["respondents"]),
                    count(r["n"]),
                    percent(r["rate"]),
                    interval(r["ci_low"], r["ci_high"]),
                ]
            )
    flow: list[Flowable] = [
        s.para(_("2.3 Respondent groups"), s.h2),
        table(
            context,
            [_("Respondent group"), _("Respondents"), _("n"), _("Satisfied"), _("95% CI")],
            body,
            [60, 34, 22, 22, 32],
            {1, 2, 3, 4},
        ),
        Spacer(1, 3 * mm),
    ]
    return flow + context.chart("heatmap")


def units_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    body = [
        [
            unit_name(labels, r["served_unit"]),
            count(r["n"]),
            percent(r["rate"]),
            interval(r["ci_low"], r["ci_high"]),
            status_text(r["status"]),
        ]
        for r in records(results.served_units)
    ]
    return [
        s.para(_("2.4 Served units"), s.h2),
        table(
            context,
            [_("Served unit"), _("n"), _("Satisfied"), _("95% CI"), _("Status")],
            body,
            [56, 22, 22, 32, 36],
            {1, 2, 3},
        ),
    ]


@section(40)
def trend_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    if results.empty:
        return []
    flow: list[Flowable] = [context.chapter(_("Trend since the previous round"))]
    if results.comparison is None:
        return flow + [s.para(_("No earlier round of this questionnaire to compare with."))]
    comparison = results.comparison
    flow.append(
        s.para(
            _(
                "Against “%(name)s”. The change of each category is tested with the pooled "
                "two-proportion z-test, or with Fisher's exact test (marked *) where an "
                "expected count is below 5; a category with fewer than %(k)s respondents in "
                "either round is not tested. The p-values are adjusted for the number of "
                "tests (Benjamini–Hochberg); a change is significant when the adjusted p is "
                "below 0.05.",
                name=comparison.name,
                k=results.anonymity_threshold,
            )
        )
    )
    body, marked = [], set()
    for index, r in enumerate(records(comparison.categories)):
        exact = " *" if r.get("test") == "fisher" else ""
        body.append(
            [
                labels.categories.get(r["category"], r["category"]),
                f"{percent(r['rate_before'])} ({count(r['n_before'])})",
                f"{percent(r['rate_after'])} ({count(r['n_after'])})",
                signed_points(r["difference"]),
                pvalue(r["p_value"]) + exact,
                pvalue(r.get("p_adjusted")),
                _("yes") if r["significant"] else _("no"),
            ]
        )
        if r["significant"] and r["direction"] == "down":
            marked.add(index)
    flow.append(
        table(
            context,
            [
                _("Category"),
                f"{comparison.name} (n)",
                f"{context.round.name} (n)",
                _("Change"),
                _("p-value"),
                _("Adjusted p"),
                _("Significant"),
            ],
            body,
            [44, 28, 28, 20, 18, 18, 18],
            {1, 2, 3, 4, 5},
            marked,
        )
    )
    flow.append(Spacer(1, 3 * mm))
    return flow + context.chart("trend")


@section(50)
def drivers_section(context: ReportContext) -> list[Flowable]:
    s, results, labels = context.styles, context.results, context.labels
    if results.empty or results.drivers["importance"].notna().sum() == 0:
        return []
    flow: list[Flowable] = [
        context.chapter(_("What drives overall satisfaction")),
        s.para(
            _(
                "Importance is the correlation of each item with the overall satisfaction "
                "item; performance is its satisfaction rate. Items of high importance and "
                "low performance are where improvement matters most."
            )
        ),
        s.para(
            _(
                "Each importance has a 95%% bootstrap interval (%(b)s resamples of the "
                "respondents, fixed seed); an item is placed in a quadrant only where it falls "
                "in the same quadrant in at least %(p)s of the resamples.",
                b=f"{RESAMPLES:,}",
                p=f"{STABLE_SHARE:.0%}",
            ),
            s.small,
        ),
    ]
    if all_weak(results.drivers):
        flow.append(
            s.para(
                _(
                    "Every correlation is weak (|r| < %(w)s): the ranking of importance "
                    "below is not reliable.",
                    w=WEAK_CORRELATION,
                )
            )
        )
    note = unplaced_note(results)
    if note:
        flow.append(s.para(note))
    rows = records(results.drivers)
    focus = [r for r in rows if r["quadrant"] == "concentrate_here"]
    if focus:
        names = "; ".join(
            f"{labels.questions.get(r['question'], r['question'])} "
            f"({percent(r['rate'], 0)}, r = {r['importance']:.2f})"
            for r in focus
        )
        flow.append(s.para(_("Concentrate here: %(items)s.", items=names)))
    flow += context.chart("quadrant")
    return flow + context.chart("distribution")
