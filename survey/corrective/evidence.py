"""What an action's page shows as evidence: the item's figures and answer distribution in the
source round and, once there is one, the later round it is verified against (only the answers
given after the action was implemented)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import analysis
from analysis import chart_text
from survey import corrective
from survey.models import CorrectiveAction, Round
from survey.results import answers_frame


@dataclass(frozen=True)
class Evidence:
    verification: corrective.Verification
    # The later rounds the lead may choose from, with why one cannot serve.
    candidates: list[corrective.Candidate]
    # One item_table row per round shown; "question" holds a key of ``labels`` (the round).
    table: pd.DataFrame
    labels: dict[str, str]


def gather(action: CorrectiveAction, chosen: Round | None = None) -> Evidence:
    """Reads each round's answers once, for the verification and the distribution alike.
    ``chosen``: the later round to verify against, when the reader picked one of the
    candidates; otherwise ``corrective.default_round``."""
    options = corrective.candidates(action)
    if chosen is None and action.status == "closed":
        chosen = action.verification_round  # the round the verdict was made on
    if chosen is None or chosen not in [c.round for c in options]:
        chosen = corrective.default_round(options)
    later = chosen
    before = answers_frame(action.round)
    after = corrective.after_frame(later, action)
    check = corrective.verify(action, (before, after), later)
    parts, labels = [], {}
    # The source round's group cell as its dashboard shows it now (a later answer may have
    # made it a complement to hide), else the whole item.
    source_group = action.group_code
    if source_group and not corrective.group_shown(action.round, action, source_group):
        source_group = None
    for round_, frame, group in (
        (action.round, before, source_group),
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
    return Evidence(check, options, table, labels)


def chart_png(evidence: Evidence, lang: str, title: str) -> bytes:
    figure = analysis.charts.distribution_chart(
        evidence.table, lang=lang, labels=evidence.labels, title=title
    )
    return analysis.charts.to_png(figure)


def alt_text(evidence: Evidence, lang: str) -> str:
    return chart_text.alt_text("distribution", evidence.table, lang, evidence.labels)
