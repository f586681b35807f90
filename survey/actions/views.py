"""The corrective-action queue, each action's page with its evidence and history, the loop's
forms, the register export and the "you said, we did" summaries."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from survey import audit, corrective, feedback_cases, rounds
from survey.actions import bp
from survey.actions.forms import (
    NoteActionForm,
    QueueFilterForm,
    RunRulesForm,
)
from survey.corrective import register, texts
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    CorrectiveAction,
    ItemNote,
    Round,
    Unit,
    User,
    utcnow,
)
from survey.permissions import role_required
from survey.public_ratings import REASON_LABELS

LEAD = "quality_lead"  # role_required lets admin in as well


def action_access(view: Callable) -> Callable:
    """Load the action of the URL; 403 unless the user may see it (lead, owner, step owner)."""

    @wraps(view)
    @login_required
    def wrapped(action_id: int, **kwargs):
        action = db.get_or_404(CorrectiveAction, action_id)
        if not corrective.can_view(current_user, action):
            abort(403)
        return view(action, **kwargs)

    return wrapped


def _today():
    return corrective.local_today(utcnow())


# --- the queue -------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    if not (corrective.is_lead(current_user) or corrective.involves(current_user)):
        abort(403)
    form, today = _filter_form(), _today()
    page = db.paginate(
        corrective.queue(form.filters(), current_user, today), per_page=50, error_out=False
    )
    everything = db.session.scalars(
        corrective.queue(corrective.QueueFilter(status="all"), current_user, today)
    ).all()
    lead = corrective.is_lead(current_user)
    notes = db.session.scalars(corrective.open_notes()).all() if lead else []
    return render_template(
        "actions/index.html",
        page=page,
        form=form,
        today=today,
        stats=corrective.register_stats(everything, today),
        names=_names([*page.items, *notes]),
        notes=notes,
        note_form=NoteActionForm() if lead else None,
        open_actions=corrective.open_actions_by_item(notes),
        run_form=_run_rules_form() if lead else None,
        filtered=any(v for k, v in request.args.items() if k != "page"),
        # The public's repeated complaints: causes for the lead to take up as actions.
        repeats=feedback_cases.repeats(utcnow()) if lead else [],
        reason_labels=REASON_LABELS,
        lang=current_language(),
    )


def _filter_form() -> QueueFilterForm:
    form = QueueFilterForm(formdata=request.args)
    lang, labels = current_language(), corrective.status_labels()
    form.status.choices = (
        [SelectChoice("active", _("Open (all steps before closing)"))]
        + [SelectChoice(s, labels[s]) for s in labels]
        + [SelectChoice("all", _("All"))]
    )
    owners = db.session.scalars(
        select(User)
        .join(CorrectiveAction, CorrectiveAction.owner_id == User.id)
        .distinct()
        .order_by(User.id)
    )
    form.owner.choices = [SelectChoice("", _("Anyone"))] + [
        SelectChoice(str(u.id), u.shown_name) for u in owners
    ]
    units = db.session.scalars(select(Unit).where(Unit.kind == "served").order_by(Unit.id))
    form.served_unit.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(u.code, u.name(lang)) for u in units
    ]
    categories = db.session.scalars(
        select(CorrectiveAction.category).distinct().where(CorrectiveAction.category.is_not(None))
    )
    category_names = texts.category_names(lang)
    form.category.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(c, category_names.get(c, c)) for c in sorted(categories)
    ]
    form.round.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(str(r.id), r.name) for r in _rounds(with_actions=True)
    ]
    return form


def _rounds(with_actions: bool = False) -> list[Round]:
    query = select(Round).where(Round.status != "draft").order_by(Round.created_at.desc())
    if with_actions:
        query = query.where(Round.id.in_(select(CorrectiveAction.round_id)))
    return list(db.session.scalars(query))


def _run_rules_form() -> RunRulesForm:
    form = RunRulesForm()
    # Closed rounds with released figures only: an action shows its figures to its owner,
    # and figures of an open (or held) round taken at two runs would show, by difference, the
    # answers given in between (survey.results.sealing). A round's close runs the rules.
    form.round_id.choices = [
        SelectChoice(r.id, f"{r.name} ({_status_word(r.status)})")
        for r in _rounds()
        if r.results_final
    ]
    return form


def _status_word(status: str) -> str:
    return str(rounds.STATUS_LABELS.get(status, status))


def _names(actions) -> dict:
    return texts.action_names(actions, current_language())


@bp.post("/run-rules")
@role_required(LEAD)
def run_rules():
    form = _run_rules_form()
    if form.validate_on_submit():
        round_ = db.get_or_404(Round, form.round_id.data)
        run = corrective.run_rules(round_, utcnow(), current_user)
        db.session.commit()
        flash(
            _(
                "Rules run on %(round)s: %(created)s new actions; %(again)s open actions "
                "fired again; %(notes)s new or changed notes on items.",
                round=round_.name,
                created=len(run.created),
                again=len(run.fired_again),
                notes=len(run.notes),
            ),
            "success",
        )
    else:
        flash(_("Choose a round to run the rules on."), "error")
    return redirect(url_for("actions.index"))


@bp.post("/notes/<int:note_id>/action")
@role_required(LEAD)
def note_to_action(note_id: int):
    """The lead turns a note on an item into a corrective action (history and audit trail)."""
    note = db.get_or_404(ItemNote, note_id)
    if not NoteActionForm().validate_on_submit():
        abort(400)
    try:
        action = corrective.note_to_action(note, current_user, utcnow())
    except corrective.ActionError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("actions.index", _anchor="notes"))
    db.session.commit()
    flash(_("The note is now corrective action #%(id)s.", id=action.id), "success")
    return redirect(url_for("actions.detail", action_id=action.id))


@bp.get("/register.<fmt>")
@role_required(LEAD)
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    today = _today()
    query = corrective.queue(_filter_form().filters(default_status="all"), current_user, today)
    actions = db.session.scalars(query).all()
    audit.record("export", target="actions:register", kind=fmt, count=len(actions))
    db.session.commit()
    if fmt == "csv":
        body, mimetype = register.to_csv(actions, current_language(), today), "text/csv"
    else:
        body = register.to_xlsx(actions, current_language(), today)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"corrective-actions-{today.isoformat()}.{fmt}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
