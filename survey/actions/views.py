"""The corrective-action queue, each action's page with its evidence and history, the loop's
forms, the register export and the "you said, we did" summaries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import wraps

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from survey import audit, corrective
from survey.actions import attachments, bp, evidence, register, texts
from survey.actions import summaries as group_summaries  # the view below is called summaries
from survey.actions.forms import (
    ActionTakenForm,
    AssignForm,
    AttachmentForm,
    InvestigationForm,
    QueueFilterForm,
    RunRulesForm,
    StepForm,
    StepUpdateForm,
    SummaryForm,
    TransitionForm,
)
from survey.auth.decorators import role_required
from survey.extensions import db
from survey.i18n import current_language
from survey.models import (
    ActionAttachment,
    ActionStep,
    CorrectiveAction,
    Round,
    Unit,
    User,
    utcnow,
)

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
    return render_template(
        "actions/index.html",
        page=page,
        form=form,
        today=today,
        stats=corrective.register_stats(everything, today),
        names=_names(page.items),
        run_form=_run_rules_form() if corrective.is_lead(current_user) else None,
        filtered=any(v for k, v in request.args.items() if k != "page"),
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
    form.category.choices = [SelectChoice("", _("All"))] + [
        SelectChoice(c, c) for c in sorted(categories)
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
    form.round_id.choices = [
        SelectChoice(r.id, f"{r.name} ({_status_word(r.status)})") for r in _rounds()
    ]
    return form


def _status_word(status: str) -> str:
    return {"open": _("open"), "closed": _("closed")}.get(status, status)


def _names(actions) -> dict:
    lang = current_language()
    return {
        "questions": corrective.question_texts(actions, lang),
        "units": corrective.unit_names(lang),
        "groups": corrective.group_names(lang),
        "statuses": corrective.status_labels(),
    }


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
                "fired again.",
                round=round_.name,
                created=len(run.created),
                again=len(run.fired_again),
            ),
            "success",
        )
    else:
        flash(_("Choose a round to run the rules on."), "error")
    return redirect(url_for("actions.index"))


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


# --- one action ------------------------------------------------------------------------


@bp.get("/<int:action_id>")
@action_access
def detail(action: CorrectiveAction):
    return _render_detail(action)


def _render_detail(action: CorrectiveAction, status: int = 200, **forms):
    lang, found = current_language(), evidence.gather(action)
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
    elsewhere = {True: "yes", False: "no"}.get(action.elsewhere, "")
    return InvestigationForm(formdata=None, obj=action, elsewhere=elsewhere)


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
    return _apply(
        action,
        lambda: corrective.move(
            action, form.transition.data, current_user, utcnow(), form.text.data or ""
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


# --- you said, we did ------------------------------------------------------------------


@bp.get("/summaries")
@role_required(LEAD)
def summaries():
    return render_template("actions/summaries.html", rounds=_rounds(with_actions=True))


@bp.get("/summaries/<int:round_id>")
@role_required(LEAD)
def summary_round(round_id: int):
    return _render_summaries(db.get_or_404(Round, round_id))


def _render_summaries(round_: Round, status: int = 200, posted: tuple | None = None):
    lang, rows = current_language(), []
    for group, summary, closed in group_summaries.summary_groups(round_):
        if posted and posted[0] == group.code:
            form = posted[1]
        elif summary:
            form = SummaryForm(formdata=None, obj=summary)
        else:
            said, did = group_summaries.summary_draft(round_, group.code, lang)
            form = SummaryForm(formdata=None, you_said=said, we_did=did)
        rows.append((group, summary, closed, form))
    return render_template("actions/summary_round.html", round=round_, rows=rows), status


@bp.post("/summaries/<int:round_id>/<group>")
@role_required(LEAD)
def summary_publish(round_id: int, group: str):
    round_ = db.get_or_404(Round, round_id)
    form = SummaryForm()
    if not form.validate_on_submit():
        return _render_summaries(round_, 400, (group, form))
    try:
        group_summaries.publish_summary(
            round_, group, form.you_said.data, form.we_did.data, current_user, utcnow()
        )
    except corrective.ActionError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Published: respondents of this group see it on their next invitation."), "success")
    return redirect(url_for("actions.summary_round", round_id=round_id, _anchor=group))


# --- blocks other pages show -----------------------------------------------------------


@bp.app_template_global()
def actions_home() -> dict | None:
    """For the start page: the lead's queue figures, or the owner's own open actions."""
    if not current_user.is_authenticated:
        return None
    if corrective.is_lead(current_user):
        everything = db.session.scalars(select(CorrectiveAction)).all()
        return {"lead": True, "stats": corrective.register_stats(everything, _today())}
    mine = corrective.my_actions(current_user)
    return {"lead": False, "mine": mine, "names": _names(mine), "today": _today()} if mine else None


@bp.app_template_global()
def you_said_we_did(invitation):
    return group_summaries.shown_for(invitation) if invitation is not None else None


def home_template(template: str) -> str:
    """The start page with the corrective-action block on top, for the lead and for owners;
    ``template`` unchanged for everyone else."""
    if current_user.is_authenticated and (
        corrective.is_lead(current_user) or corrective.my_actions(current_user)
    ):
        return "actions/home_" + template.rsplit("/", 1)[-1]
    return template


@bp.app_template_filter("pct1")
def percent_one_decimal(value: float | None) -> str:
    """A rate as a percentage with one decimal: 0.799 is 79.9%, never rounded up to 80%."""
    return "–" if value is None else f"{value * 100:.1f}%"


@bp.app_template_filter("pct")
def percent_as_set(value: float | None) -> str:
    """A threshold as it was set: 0.8 is 80%, 0.825 is 82.5%."""
    return "–" if value is None else f"{value * 100:g}%"
