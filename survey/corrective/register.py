"""The action register for the management review: one row per action with its source figures,
investigation, verification and whole history, plus open/overdue/closed counts and the median
time to close. CSV (UTF-8 with BOM, so that Excel reads the Chinese) and Excel (openpyxl:
sheets Register, History and Summary). Every text cell goes through ``safe_cell``, so a comment
that starts with "=" is never run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from survey import corrective
from survey.corrective import texts
from survey.models import ActionEvent, CorrectiveAction
from survey.spreadsheets import safe_cell

COLUMNS = (
    "id", "status", "round", "question", "question_text", "category", "served_unit", "group",
    "rule", "observed", "n", "ci_low", "ci_high", "threshold", "evidence", "p_value",
    "p_adjusted", "test", "severity",
    "comments", "owner",
    "due_date", "overdue", "opened", "closed", "days_to_close", "containment", "cause_method",
    "cause_category", "root_cause", "elsewhere", "elsewhere_note", "action_taken",
    "verification_round", "rate_before", "rate_after", "verification_p", "result",
    "cancel_reason", "history",
)  # fmt: skip
HISTORY_COLUMNS = ("action", "at", "who", "event", "from", "to", "text")


def _who(event: ActionEvent) -> str:
    if event.actor is None:
        return "system"
    return event.actor.shown_name


def history_line(event: ActionEvent) -> str:
    """One event as text: when, who, what, status change and text."""
    change = (
        f" {event.from_status} → {event.to_status}"
        if (event.from_status != event.to_status)
        else ""
    )
    text = f": {event.text}" if event.text else ""
    return (
        f"{event.at:%Y-%m-%d %H:%M} {_who(event)} · "
        f"{texts.EVENT_LABELS.get(event.kind, event.kind)}{change}{text}"
    )


def row(action: CorrectiveAction, question_text: str, today: date) -> list[object]:
    closed_days = (
        (action.closed_at - action.created_at).total_seconds() / 86400
        if action.status == "closed" and action.closed_at
        else None
    )
    owner = action.owner.shown_name if action.owner else None
    return [
        action.id,
        action.status,
        action.round.name,
        action.question_code,
        question_text,
        action.category,
        action.served_unit,
        action.group_code,
        action.rule,
        action.observed,
        action.n,
        action.ci_low,
        action.ci_high,
        action.threshold,
        action.evidence,
        action.p_value,
        action.p_adjusted,
        action.p_test,
        round(action.severity, 3),
        "\n".join(action.comments),
        owner,
        _iso(action.due_date),
        "yes" if corrective.is_overdue(action, today) else "no",
        _iso(action.created_at),
        _iso(action.closed_at),
        round(closed_days, 1) if closed_days is not None else None,
        action.containment,
        action.cause_method,
        action.cause_category,
        action.root_cause,
        {True: "yes", False: "no"}.get(action.elsewhere),
        action.elsewhere_note,
        action.action_taken,
        action.verification_round.name if action.verification_round else None,
        action.rate_before,
        action.rate_after,
        action.verification_p,
        action.result,
        action.cancel_reason,
        "\n".join(history_line(e) for e in action.events),
    ]


def _iso(value: object) -> str | None:
    return (
        value.isoformat(sep=" ", timespec="minutes")
        if hasattr(value, "hour")
        else (value.isoformat() if value else None)
    )


def _rows(actions: Sequence[CorrectiveAction], lang: str, today: date) -> list[list[object]]:
    names = corrective.question_texts(actions, lang)
    return [
        [safe_cell(v) for v in row(a, names[(a.round_id, a.question_code)], today)] for a in actions
    ]


def summary_rows(actions: Sequence[CorrectiveAction], today: date) -> list[list[object]]:
    stats = corrective.register_stats(actions, today)
    return [
        ["open", stats.open],
        ["overdue", stats.overdue],
        ["closed", stats.closed],
        ["cancelled", stats.cancelled],
        ["median_days_to_close", stats.median_days_to_close],
    ]


def to_csv(actions: Sequence[CorrectiveAction], lang: str, today: date) -> str:
    """The register, then a blank line and the summary figures as ``name,value`` rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_rows(actions, lang, today))
    writer.writerow([])
    writer.writerows(summary_rows(actions, today))
    return out.getvalue()


def to_xlsx(actions: Sequence[CorrectiveAction], lang: str, today: date) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Register"
    _table(sheet, COLUMNS, _rows(actions, lang, today))
    history = book.create_sheet("History")
    events = [
        [
            safe_cell(v)
            for v in (
                e.action_id,
                _iso(e.at),
                _who(e),
                str(texts.EVENT_LABELS.get(e.kind, e.kind)),
                e.from_status,
                e.to_status,
                e.text,
            )
        ]
        for a in actions
        for e in a.events
    ]
    _table(history, HISTORY_COLUMNS, events)
    _table(book.create_sheet("Summary"), ("figure", "value"), summary_rows(actions, today))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(sheet, header: Sequence[str], rows: list[list[object]]) -> None:
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        # Control characters are not allowed in the file format; a comment may carry one.
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
        )
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
