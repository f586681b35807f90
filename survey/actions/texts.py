"""Names of the corrective-action codes in the reader's language (lazy: read in a request)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
    "confirmed": _l("Confirmed: the whole %(ci)s interval is below the threshold", ci="95%"),
    "possible": _l("Possible: only the observed value is below the threshold"),
}
PROPOSALS = {
    "effective": _l("Effective: the next round meets the threshold"),
    "not_effective": _l("Not effective: the next round is still below the threshold"),
    "no_data": _l("No figure yet: the next round has no answers to this item"),
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
