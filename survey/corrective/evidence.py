"""What an action's page shows as evidence: the item's figures and answer distribution in the
source round and, once there is one, the next round (the verification)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import analysis
from analysis import charts
from survey import corrective, rounds
from survey.models import CorrectiveAction
from survey.results import answers_frame


@dataclass(frozen=True)
class Evidence:
    verification: corrective.Verification
    # One item_table row per round shown; "question" holds a key of ``labels`` (the round).
    table: pd.DataFrame
    labels: dict[str, str]


def gather(action: CorrectiveAction) -> Evidence:
    """Reads each round's answers once, for the verification and the distribution alike."""
    later = rounds.next_round(action.round)
    before = answers_frame(action.round)
    after = answers_frame(later) if later else analysis.empty_frame()
    check = corrective.verify(action, (before, after))
    parts, labels = [], {}
    for round_, frame, group in (
        (action.round, before, action.group_code),
        (later, after, check.group),
    ):
        rows = analysis.item_table(corrective.item_frame(frame, action, group))
        if round_ is None or rows.empty:
            continue
        key = f"round-{round_.id}"
        labels[key] = round_.name
        parts.append(rows.assign(question=key, served_unit=None, category=None))
    empty = analysis.item_table(analysis.empty_frame())
    table = pd.concat(parts, ignore_index=True) if parts else empty
    return Evidence(check, table, labels)


def chart_png(evidence: Evidence, lang: str, title: str) -> bytes:
    figure = charts.distribution_chart(
        evidence.table, lang=lang, labels=evidence.labels, title=title
    )
    return charts.to_png(figure)


def alt_text(evidence: Evidence, lang: str) -> str:
    return charts.alt_text("distribution", evidence.table, lang, evidence.labels)
