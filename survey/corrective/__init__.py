"""Corrective actions (ISO 9001:2015, 10.2): from the low-score rules to a verified closure.

The loop is a table, ``TRANSITIONS``: open -> investigating -> planned -> implemented ->
verification -> closed, with "not effective" back to investigating, reopen, and cancel with a
reason. A transition not in the table, or one whose precondition is unmet, raises
``ActionError`` with a message for the reader; nothing is changed then.

Rules to actions: ``run_rules(round_)`` runs ``analysis.run_rules`` on the round (thresholds
and enabled rules from ``Round.thresholds``, the previous round of the same questionnaire for
the drop rule) and keeps one candidate per (question, served unit), the most severe. An item
with an open action gets an event, never a second action (``CorrectiveAction.open_key`` is
unique); an item whose action from the same round was closed or cancelled, or whose action was
closed as effective on this round's answers, is left alone, so that running the rules again
never brings back what the lead already dealt with. A lowest rating with a comment becomes a
note on the item (``ItemNote``), which the lead may turn into an action (``note_to_action``).

Every change appends an ``ActionEvent`` (who, when, status from and to, text); no function here
changes or deletes one, and the model refuses to.

The package, one module per part of the loop: ``states`` (the table), ``access`` (who may do
what), ``history`` (the events), ``workflow`` (moves, assignment, plan), ``verification``,
``rules`` (from the low-score rules to actions; it runs when a round closes, through the
``survey.rounds.round_closed`` signal), ``queue`` (filters and the register's figures),
``texts`` (names of codes), and the features around them: ``attachments``, ``evidence``,
``register`` (the Excel register), ``reminders``, ``summaries`` ("you said, we did"),
``report_section`` (the PDF report's section). This module re-exports the loop's API.
"""

# In dependency order: each module imports only those above it.
from survey.corrective.access import (
    can_edit,
    can_edit_step,
    can_move,
    can_view,
    involves,
    is_lead,
    my_actions,
)
from survey.corrective.history import add_event
from survey.corrective.queue import (
    QueueFilter,
    RegisterStats,
    is_overdue,
    local_today,
    open_actions_by_item,
    open_notes,
    queue,
    register_stats,
)
from survey.corrective.rules import RuleRun, note_to_action, run_rules
from survey.corrective.states import (
    ACTIVE,
    CAUSE_CATEGORIES,
    CAUSE_METHODS,
    ENDED,
    TRANSITIONS,
    ActionError,
    Transition,
    open_key,
)
from survey.corrective.texts import (
    group_names,
    question_texts,
    status_label,
    status_labels,
    unit_names,
)
from survey.corrective.verification import (
    Candidate,
    Verification,
    after_frame,
    candidates,
    default_round,
    group_shown,
    implemented_at,
    item_frame,
    verify,
)
from survey.corrective.workflow import (
    add_step,
    allowed_moves,
    assign,
    move,
    owner_candidates,
    record,
    unmet,
    update_step,
)

__all__ = [
    "ACTIVE",
    "CAUSE_CATEGORIES",
    "CAUSE_METHODS",
    "ENDED",
    "TRANSITIONS",
    "ActionError",
    "Candidate",
    "QueueFilter",
    "RegisterStats",
    "RuleRun",
    "Transition",
    "Verification",
    "add_event",
    "after_frame",
    "add_step",
    "allowed_moves",
    "assign",
    "can_edit",
    "can_edit_step",
    "can_move",
    "can_view",
    "candidates",
    "default_round",
    "group_shown",
    "group_names",
    "implemented_at",
    "involves",
    "is_lead",
    "is_overdue",
    "item_frame",
    "local_today",
    "move",
    "note_to_action",
    "open_actions_by_item",
    "open_notes",
    "my_actions",
    "open_key",
    "owner_candidates",
    "queue",
    "question_texts",
    "record",
    "register_stats",
    "run_rules",
    "status_label",
    "status_labels",
    "unit_names",
    "unmet",
    "update_step",
    "verify",
]
