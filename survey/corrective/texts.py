"""Names of the corrective-action codes in the reader's language: lazy labels read in a
request, and the names of statuses, questions, units and groups."""

from __future__ import annotations

from collections.abc import Iterable

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import select

from survey.extensions import db
from survey.models import CorrectiveAction, Question, RespondentGroup, Round, Unit
from survey.results.labels import labels_for

TRANSITION_LABELS = {
    "start_investigation": _l("Start the investigation"),
    "plan": _l("The plan is ready"),
    "implement": _l("Mark as implemented"),
    "request_verification": _l("Ask for verification"),
    "close": _l("Confirm effective and close"),
    "not_effective": _l("Not effective: investigate again"),
    "reopen": _l("Reopen"),
    "cancel": _l("Cancel the action"),
}
# What the text box of a transition asks for; transitions without one need no text.
TRANSITION_PROMPTS = {
    "not_effective": _l("What does the next round show, and what is to be looked at again?"),
    "reopen": _l("Why is the action reopened?"),
    "cancel": _l("Why is the action cancelled?"),
}
EVENT_LABELS = {
    "created": _l("Opened by the low-score rules"),
    "rule_fired": _l("The rules fired again"),
    "assigned": _l("Owner and due date set"),
    "investigation": _l("Investigation recorded"),
    "step_added": _l("Step added to the plan"),
    "step_updated": _l("Step updated"),
    "action_taken": _l("What was done recorded"),
    "attachment": _l("Evidence file attached"),
    "transition": _l("Status changed"),
    "reminder": _l("Reminder sent"),
}
STEP_KINDS = {
    "immediate": _l("Immediate (containment)"),
    "corrective": _l("Corrective"),
    "preventive": _l("Preventive"),
    "improvement": _l("Improvement"),
}
CAUSE_METHODS = {"five_whys": _l("5 whys"), "cause_category": _l("Cause category")}
CAUSE_CATEGORIES = {
    "people": _l("People (skills, staffing)"),
    "method": _l("Method (procedure, rules)"),
    "process": _l("Process (hand-overs, deadlines)"),
    "communication": _l("Communication"),
    "resources": _l("Resources (equipment, systems)"),
    "environment": _l("Environment (outside the office)"),
}
RULE_LABELS = {
    "rate_below": _l("Satisfaction rate below the threshold"),
    "mean_below": _l("Mean score below the threshold"),
    "significant_drop": _l("Significant drop from the previous round"),
    "single_low_with_comment": _l("A lowest rating with a comment"),
}
EVIDENCE_LABELS = {
    # "95% i" would read as a printf placeholder: the percentage goes in as a value.
    "confirmed": _l(
        "Confirmed: the whole %(ci)s interval is below the threshold, from enough respondents",
        ci="95%",
    ),
    "possible": _l(
        "Possible: the observed value is below the threshold, but the interval reaches it "
        "or too few people answered"
    ),
}
# What "confirmed" and "possible" mean for a drop from the previous round, and for a note.
DROP_EVIDENCE_LABELS = {
    "confirmed": _l(
        "Confirmed: significant after the correction for many tests, and the whole %(ci)s "
        "interval of the change lies below zero",
        ci="95%",
    ),
    "possible": _l(
        "Possible: significant after the correction for many tests, but the %(ci)s interval "
        "of the change reaches zero",
        ci="95%",
    ),
}
NOTE_EVIDENCE = _l(
    "Possible: one respondent's rating and comment are never confirmed by themselves"
)
TEST_LABELS = {"z": _l("two-proportion z-test"), "fisher": _l("Fisher's exact test")}
PROPOSALS = {
    "effective": _l("Effective: the answers after the fix meet the threshold"),
    "not_effective": _l("Not effective: the answers after the fix are still below the threshold"),
    "no_data": _l("No figure yet: no answers to this item since the fix"),
}
FIELD_LABELS = {
    "containment": _l("Immediate containment"),
    "cause_method": _l("Root-cause method"),
    "cause_category": _l("Cause category"),
    "root_cause": _l("Root cause"),
    "elsewhere": _l("Same problem elsewhere"),
    "elsewhere_note": _l("Where, or how it was checked"),
    "action_taken": _l("What was done"),
}
# How a recorded value reads, per field whose values are codes.
FIELD_VALUES = {
    "cause_method": CAUSE_METHODS,
    "cause_category": CAUSE_CATEGORIES,
    "elsewhere": {True: _l("Yes"), False: _l("No")},
}


def evidence_label(rule: str, evidence: str) -> str:
    """What the evidence class of an action found by ``rule`` means."""
    if rule == "single_low_with_comment":
        return str(NOTE_EVIDENCE)
    labels = DROP_EVIDENCE_LABELS if rule == "significant_drop" else EVIDENCE_LABELS
    return str(labels.get(evidence, evidence))


def question_texts(actions: Iterable[CorrectiveAction], lang: str) -> dict[tuple[int, str], str]:
    """(round id, question code) -> the question's text in its round's version."""
    actions = list(actions)
    versions = {a.round.version_id for a in actions}
    rows = db.session.execute(
        select(Question.version_id, Question.code, Question.text_zh, Question.text_en).where(
            Question.version_id.in_(versions)
        )
    )
    by_version = {(v, c): (en if lang == "en" else zh) for v, c, zh, en in rows}
    return {
        (a.round_id, a.question_code): by_version.get(
            (a.round.version_id, a.question_code), a.question_code
        )
        for a in actions
    }


def category_names(lang: str) -> dict[str, str]:
    """Category code -> its label (a section title or question text, see results.labels), for
    the categories of all actions; the label of the newest round's questionnaire wins."""
    rounds = db.session.scalars(
        select(Round)
        .where(Round.id.in_(select(CorrectiveAction.round_id).distinct()))
        .order_by(Round.created_at, Round.id)
    )
    names: dict[str, str] = {}
    for version in dict.fromkeys(r.version for r in rounds):
        names.update(labels_for(version, lang).categories)
    return names


def unit_names(lang: str) -> dict[str, str]:
    rows = db.session.scalars(select(Unit).where(Unit.kind == "served"))
    return {u.code: u.name(lang) for u in rows}


def group_names(lang: str) -> dict[str, str]:
    return {g.code: g.label(lang) for g in db.session.scalars(select(RespondentGroup))}


STATUS_TEXT = {
    "open": "Open",
    "investigating": "Investigating",
    "planned": "Action planned",
    "implemented": "Implemented",
    "verification": "Verification",
    "closed": "Closed (effective)",
    "cancelled": "Cancelled",
}


def status_labels() -> dict[str, str]:
    """Status -> its name in the reader's language (English outside a request)."""
    if not has_request_context():
        return dict(STATUS_TEXT)
    # A context of their own: a round is "open" too, and its word differs from an action's.
    return {
        "open": pgettext("action status", "Open"),
        "investigating": pgettext("action status", "Investigating"),
        "planned": pgettext("action status", "Action planned"),
        "implemented": pgettext("action status", "Implemented"),
        "verification": pgettext("action status", "Verification"),
        "closed": pgettext("action status", "Closed (effective)"),
        "cancelled": pgettext("action status", "Cancelled"),
    }


def status_label(status: str) -> str:
    return status_labels()[status]


def action_names(actions: Iterable[CorrectiveAction], lang: str) -> dict[str, dict]:
    """Every name a list of actions shows: question texts, served units, groups, statuses."""
    return {
        "questions": question_texts(actions, lang),
        "units": unit_names(lang),
        "groups": group_names(lang),
        "statuses": status_labels(),
    }
