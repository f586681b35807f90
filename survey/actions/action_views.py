"""One corrective action: its page with the evidence and history, and the loop's forms."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from survey import corrective
from survey.actions import bp
from survey.actions.forms import (
    ActionTakenForm,
    AssignForm,
    AttachmentForm,
    InvestigationForm,
    StepForm,
    StepUpdateForm,
    TransitionForm,
)
from survey.actions.views import _names, _today, action_access
from survey.converters import MAX_ID
from survey.corrective import attachments, evidence, texts
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    ActionAttachment,
    ActionStep,
    CorrectiveAction,
    Round,
    User,
    utcnow,
)


@bp.get("/<int:action_id>")
@action_access
def detail(action: CorrectiveAction):
    return _render_detail(action)


def _chosen_round() -> Round | None:
    """The later round the reader picked to verify against (``?verify=``), if any."""
    chosen = request.args.get("verify", type=int)
    return db.session.get(Round, chosen) if chosen and 0 < chosen <= MAX_ID else None


def _render_detail(action: CorrectiveAction, status: int = 200, **forms):
    lang, found = current_language(), evidence.gather(action, _chosen_round())
    forms.setdefault("assign_form", _assign_form(action, filled=True))
    forms.setdefault("investigation_form", _investigation_form(action))
    forms.setdefault("step_form", _step_form(action))
    forms.setdefault("taken_form", ActionTakenForm(formdata=None, obj=action))
    forms.setdefault("attachment_form", AttachmentForm(formdata=None))
    return render_template(
        "actions/detail.html",
        action=action,
        evidence=found,
        alt=evidence.alt_text(found, lang),
        names=_names([action]),
        today=_today(),
        texts=texts,
        moves=[
            (t, corrective.unmet(action, t, found.verification.proposal))
            for t in corrective.allowed_moves(current_user, action)
        ],
        move_form=TransitionForm(),
        comments=Counter(action.comments).most_common(),
        round_names=dict(db.session.execute(select(Round.id, Round.name)).all()),
        step_forms={
            s.id: StepUpdateForm(formdata=None, done=s.done_at is not None, outcome=s.outcome)
            for s in action.steps
        },
        can_edit=corrective.can_edit(current_user, action),
        is_lead=corrective.is_lead(current_user),
        max_mb=attachments.max_bytes() // 2**20,
        **forms,
    ), status


@bp.get("/<int:action_id>/chart.png")
@action_access
def chart(action: CorrectiveAction):
    # The page's heading names the item; a long question would not fit as the chart's title.
    png = evidence.chart_png(
        evidence.gather(action), current_language(), _("Answers in each round")
    )
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-cache"})


def _apply(action: CorrectiveAction, change: Callable[[], object], done: str, anchor: str):
    """Run a domain change: commit and say so, or roll back and show why it was refused."""
    try:
        change()
    except corrective.ActionError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for("actions.detail", action_id=action.id, _anchor=anchor))


def _people(action: CorrectiveAction) -> list[SelectChoice]:
    return [
        SelectChoice(u.id, u.shown_name)
        for u in db.session.scalars(corrective.owner_candidates(action))
    ]


def _assign_form(action: CorrectiveAction, filled: bool = False) -> AssignForm:
    form = AssignForm(formdata=None, obj=action) if filled else AssignForm()
    form.owner_id.choices = _people(action)
    return form


@bp.post("/<int:action_id>/assign")
@action_access
def assign(action: CorrectiveAction):
    if not corrective.is_lead(current_user):
        abort(403)
    form = _assign_form(action)
    if not form.validate_on_submit():
        return _render_detail(action, 400, assign_form=form)
    owner = db.get_or_404(User, form.owner_id.data)
    return _apply(
        action,
        lambda: corrective.assign(action, owner, form.due_date.data, current_user, utcnow()),
        _("Owner and due date saved."),
        "assign",
    )


def _investigation_form(action: CorrectiveAction) -> InvestigationForm:
    form = InvestigationForm(formdata=None, obj=action)
    # Set after obj: WTForms reads ``elsewhere`` from the action (True/False), which matches
    # none of the choices, so the answer showed as "Not yet checked" and a re-save erased it.
    form.elsewhere.data = {True: "yes", False: "no"}.get(action.elsewhere, "")
    return form


@bp.post("/<int:action_id>/investigation")
@action_access
def investigation(action: CorrectiveAction):
    if not corrective.can_edit(current_user, action):
        abort(403)
    form = InvestigationForm()
    if not form.validate_on_submit():
        return _render_detail(action, 400, investigation_form=form)
    return _apply(
        action,
        lambda: corrective.record(action, "investigation", current_user, utcnow(), **form.values()),
        _("Investigation saved."),
        "investigation",
    )


def _step_form(action: CorrectiveAction, posted: bool = False) -> StepForm:
    form = StepForm() if posted else StepForm(formdata=None, owner_id=action.owner_id)
    form.owner_id.choices = _people(action)
    return form


@bp.post("/<int:action_id>/steps")
@action_access
def step_add(action: CorrectiveAction):
    if not corrective.can_edit(current_user, action):
        abort(403)
    form = _step_form(action, posted=True)
    if not form.validate_on_submit():
        return _render_detail(action, 400, step_form=form)
    owner = db.get_or_404(User, form.owner_id.data)
    return _apply(
        action,
        lambda: corrective.add_step(
            action,
            form.kind.data,
            form.description.data,
            owner,
            form.due_date.data,
            current_user,
            utcnow(),
        ),
        _("Step added to the plan."),
        "plan",
    )


@bp.post("/<int:action_id>/steps/<int:step_id>")
@action_access
def step_update(action: CorrectiveAction, step_id: int):
    step = db.get_or_404(ActionStep, step_id)
    if step.action_id != action.id:
        abort(404)
    if not corrective.can_edit_step(current_user, step):
        abort(403)
    form = StepUpdateForm()
    if not form.validate_on_submit():
        return _render_detail(action, 400)
    return _apply(
        action,
        lambda: corrective.update_step(
            step, form.done.data, form.outcome.data or "", current_user, utcnow()
        ),
        _("Step saved."),
        f"step-{step.id}",
    )


@bp.post("/<int:action_id>/action-taken")
@action_access
def action_taken(action: CorrectiveAction):
    if not corrective.can_edit(current_user, action):
        abort(403)
    form = ActionTakenForm()
    if not form.validate_on_submit():
        return _render_detail(action, 400, taken_form=form)
    return _apply(
        action,
        lambda: corrective.record(
            action, "action_taken", current_user, utcnow(), action_taken=form.action_taken.data
        ),
        _("Saved what was done."),
        "done",
    )


@bp.post("/<int:action_id>/move")
@action_access
def move(action: CorrectiveAction):
    form = TransitionForm()
    transition = corrective.TRANSITIONS.get(form.transition.data or "")
    if transition and not corrective.can_move(current_user, action, transition):
        abort(403)
    if not form.validate_on_submit():
        flash(_("The request could not be read; please try again."), "error")
        return redirect(url_for("actions.detail", action_id=action.id))
    against = db.session.get(Round, int(form.against.data)) if form.against.data else None
    if form.against.data and against is None:
        # A verdict is made on the figures the page showed; another round's would be a
        # different verdict than the one the lead confirmed.
        flash(_("The round to verify against no longer exists; please choose again."), "error")
        return redirect(url_for("actions.detail", action_id=action.id, _anchor="verification"))
    return _apply(
        action,
        lambda: corrective.move(
            action,
            form.transition.data,
            current_user,
            utcnow(),
            form.text.data or "",
            against,
        ),
        _("The action is now: %(status)s.", status=corrective.status_label(transition.target))
        if transition
        else "",
        "status",
    )


@bp.post("/<int:action_id>/attachments")
@action_access
def attachment_add(action: CorrectiveAction):
    # Room for the largest allowed file plus the form around it (the site-wide limit is lower).
    request.max_content_length = attachments.max_bytes() + 64 * 1024
    form = AttachmentForm()
    if not form.validate_on_submit():
        return _render_detail(action, 400, attachment_form=form)
    return _apply(
        action,
        lambda: attachments.store(action, form.file.data, current_user, utcnow()),
        _("File attached."),
        "files",
    )


@bp.get("/<int:action_id>/attachments/<int:attachment_id>")
@action_access
def attachment(action: CorrectiveAction, attachment_id: int):
    found = db.get_or_404(ActionAttachment, attachment_id)
    if found.action_id != action.id:
        abort(404)
    return attachments.serve(found)
