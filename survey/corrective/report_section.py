"""The corrective-action register as a section of the management-review PDF (ISO 9001:2015
10.2, and 9.3.2 b: the status of actions from previous reviews).

It lists the actions the round's low scores opened and the earlier actions that this round
verified, with the counts of the register export. The report module caches each PDF; the
``stamp`` below changes whenever an action of the round changes (or a day passes, which can
make one overdue), so a cached report never shows a stale register.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

import analysis
from survey import corrective
from survey.corrective import texts
from survey.extensions import db
from survey.formatting import percent
from survey.models import ActionEvent, CorrectiveAction, Round, utcnow
from survey.results.report import registry

if TYPE_CHECKING:
    from reportlab.platypus import Flowable

    from survey.results.report import ReportContext


def _of_round(round_: Round):
    """The actions the round's register lists: opened from its low scores, opened earlier and
    noted again by its low scores (the rules add an event, never a second action), or
    verified by it, also when a later round verified them again after this one found them
    not effective."""
    return or_(
        CorrectiveAction.round_id == round_.id,
        CorrectiveAction.verification_round_id == round_.id,
        CorrectiveAction.id.in_(_fired_again(round_)),
        CorrectiveAction.id.in_(_verdicts_on(round_)),
    )


def _fired_again(round_: Round) -> list[int]:
    # The round sits in the event's JSON data; the rule_fired events are few, so they are
    # read rather than queried inside JSON, which SQLite and PostgreSQL spell differently.
    events = db.session.execute(
        select(ActionEvent.action_id, ActionEvent.data).where(ActionEvent.kind == "rule_fired")
    )
    return sorted({a for a, data in events if (data or {}).get("round_id") == round_.id})


def _verdicts_on(round_: Round) -> dict[int, dict]:
    """Each action's latest verdict against the round, as the history keeps it: the action's
    own figures are only its latest verdict's, which may be another round's."""
    events = db.session.execute(
        select(ActionEvent.action_id, ActionEvent.data)
        .where(ActionEvent.kind == "transition")
        .order_by(ActionEvent.at, ActionEvent.id)
    )
    found = {}
    for action_id, data in events:
        record = (data or {}).get("verification")
        if record and record.get("round_id") == round_.id:
            found[action_id] = record
    return found


def stamp(round_: Round) -> str:
    """Changes with every event of the round's actions, and with the date."""
    today = corrective.local_today(utcnow())
    count, last = db.session.execute(
        select(func.count(ActionEvent.id), func.max(ActionEvent.id))
        .join(CorrectiveAction, ActionEvent.action_id == CorrectiveAction.id)
        .where(_of_round(round_))
    ).one()
    return f"{today:%Y%m%d}-{count}-{last or 0}"


@registry.section(60, stamp=stamp)
def action_register(context: ReportContext) -> list[Flowable]:
    # ReportLab here, when a report is built: the app registers this section at its start.
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    from survey.results.report import tables as report_tables

    s, labels = context.styles, context.labels
    actions = list(
        db.session.scalars(
            select(CorrectiveAction).where(_of_round(context.round)).order_by(CorrectiveAction.id)
        )
    )
    flow: list[Flowable] = [context.chapter(_("Corrective actions (ISO 9001, 10.2)"))]
    if not actions:
        return flow + [
            s.para(_("No corrective action was opened from this round or verified by it."))
        ]
    today = corrective.local_today(utcnow())
    stats = corrective.register_stats(actions, today)
    median = (
        "–"
        if stats.median_days_to_close is None
        else _("%(days)s days", days=stats.median_days_to_close)
    )
    flow.append(
        s.para(
            _(
                "The actions opened from this round's low scores, earlier actions that its low "
                "scores found again, and earlier actions that this round verified. Open: %(open)s; overdue: %(overdue)s; closed as effective: %(closed)s; "
                "cancelled: %(cancelled)s; median time to close: %(median)s.",
                open=stats.open,
                overdue=stats.overdue,
                closed=stats.closed,
                cancelled=stats.cancelled,
                median=median,
            )
        )
    )
    statuses = corrective.status_labels()
    names = corrective.question_texts(actions, context.lang)
    verdicts = _verdicts_on(context.round)
    body, marked = [], set()
    for index, action in enumerate(actions):
        overdue = corrective.is_overdue(action, today)
        if overdue:
            marked.add(index)
        status = statuses[action.status] + (f" ({_('overdue')})" if overdue else "")
        unit = labels.served_units.get(action.served_unit, action.served_unit or "")
        item = names[(action.round_id, action.question_code)]
        body.append(
            [
                f"#{action.id}",
                _("%(item)s (%(unit)s)", item=item, unit=unit) if unit else item,
                f"{texts.RULE_LABELS.get(action.rule, action.rule)}: "
                f"{_observed(action)} (n = {action.n})",
                status,
                _owner_and_due(action),
                _verification(action, verdicts.get(action.id)),
            ]
        )
    flow.append(
        report_tables.table(
            context,
            [
                "#",
                _("Item (served unit)"),
                _("Why it was opened"),
                _("Status"),
                _("Owner, due date"),
                _("Verification"),
            ],
            body,
            [12, 46, 36, 28, 28, 30],
            set(),
            marked,
        )
    )
    return flow + [Spacer(1, 3 * mm)]


def _observed(action: CorrectiveAction) -> str:
    if analysis.measures(action.rule) == "mean":
        return f"{action.observed:.2f}"
    return percent(action.observed)


def _owner_and_due(action: CorrectiveAction) -> str:
    if action.owner is None:
        return _("not assigned yet")
    owner = action.owner.shown_name
    if action.due_date is None:
        return owner
    return _("%(owner)s, due %(day)s", owner=owner, day=action.due_date.isoformat())


def _verification(action: CorrectiveAction, on_round: dict | None) -> str:
    """The verdict made against the report's round when there is one (a later round may have
    verified the action again since), else the action's latest."""
    if on_round is not None:
        before, after = on_round.get("rate_before"), on_round.get("rate_after")
        name, result = on_round.get("round"), on_round.get("result")
    elif action.verification_round is not None:
        before, after = action.rate_before, action.rate_after
        name, result = action.verification_round.name, action.result
    else:
        return "–"
    if after is None:
        return "–"
    verdict = {"effective": _("effective"), "not_effective": _("not effective")}.get(
        result or "", ""
    )
    return f"{percent(before)} → {percent(after)} ({name}) {verdict}".strip()
