"""Rounds, invitations and response tracking for the office staff."""

from __future__ import annotations

from decimal import Decimal

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from survey import audit, invitations, mail, office_time, responses, rounds
from survey.design import bp
from survey.design.round_forms import IssueForm, RoundForm, parse_weights, weights_text
from survey.design.round_presenters import history_entries
from survey.extensions import db
from survey.form_errors import error_text
from survey.i18n import current_language
from survey.models import (
    RESPONSE_SOURCES,
    Invitation,
    QuestionnaireVersion,
    RespondentGroup,
    Round,
    Unit,
    utcnow,
)
from survey.permissions import role_required
from survey.post_form import EmptyForm
from survey.questionnaire_form import form_for
from survey.questionnaire_store import to_model

STAFF = ("designer",)


@bp.get("/rounds")
@role_required(*STAFF)
def rounds_index():
    rounds.close_due_rounds(utcnow())
    db.session.commit()
    archived = request.args.get("archived") == "1"
    return render_template(
        "design/rounds.html",
        rounds=db.session.scalars(rounds.newest_first(archived)),
        archived=archived,
        progress=rounds.progress_by_round(),
        empty_progress=rounds.Progress(0, 0, 0),
    )


def _round_form(round_: Round | None = None) -> RoundForm:
    form = RoundForm()
    lang = current_language()
    published = db.session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.status == "published")
        .order_by(QuestionnaireVersion.id.desc())
    )
    versions = list(published)
    if round_ is not None and round_.version not in versions:
        versions.append(round_.version)
    form.version_id.choices = [
        SelectChoice(v.id, f"{v.title_zh if lang == 'zh' else v.title_en} · v{v.number}")
        for v in versions
    ]
    groups = db.session.scalars(select(RespondentGroup).order_by(RespondentGroup.position))
    form.audience_groups.choices = [SelectChoice(g.code, g.label(lang)) for g in groups]
    units = db.session.scalars(select(Unit).where(Unit.kind == "respondent").order_by(Unit.id))
    form.audience_units.choices = [SelectChoice(u.code, u.name(lang)) for u in units]
    return form


@bp.route("/rounds/new", methods=["GET", "POST"])
@role_required(*STAFF)
def round_create():
    form = _round_form()
    if form.validate_on_submit():
        try:
            round_ = rounds.create(
                form.name.data,
                db.get_or_404(QuestionnaireVersion, form.version_id.data),
                **_round_settings(form),
            )
        except rounds.RoundError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Round created. Issue invitations, then open it."), "success")
            return redirect(url_for("design.round_detail", round_id=round_.id))
    return render_template("design/round_new.html", form=form)


def _round_settings(form: RoundForm) -> dict:
    # Open from the start of the first day to the end of the last day (office time, as typed).
    opens, closes = form.opens_at.data, form.closes_at.data
    return {
        "opens_at": office_time.start_of(opens) if opens else None,
        "closes_at": office_time.end_of(closes) if closes else None,
        "anonymous": form.anonymous.data,
        "anonymity_threshold": form.anonymity_threshold.data,
        "thresholds": {
            "rate": float(form.rate_threshold.data) / 100,
            "mean": float(form.mean_threshold.data),
        },
        "weights": parse_weights(
            form.weights.data,
            form.audience_groups.data or [c.value for c in form.audience_groups.choices],
        ),
        "audience_groups": form.audience_groups.data or [],
        "audience_units": form.audience_units.data or [],
    }


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def round_edit(round_id: int):
    """The creation form, filled with the round's settings; the domain refuses what would break
    a promise made to those who answered."""
    round_ = db.get_or_404(Round, round_id)
    if round_.archived_at:
        flash(str(rounds.ARCHIVED), "error")
        return redirect(url_for("design.round_detail", round_id=round_id))
    form = _round_form(round_)
    form.submit.label.text = _("Save changes")
    if request.method == "GET":
        _fill(form, round_)
    if form.validate_on_submit():
        settings = _round_settings(form)
        _keep_untouched(form, round_, settings)
        version = db.get_or_404(QuestionnaireVersion, form.version_id.data)
        try:
            changes = rounds.update(round_, form.name.data, version, **settings)
        except rounds.RoundError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("The settings are saved.") if changes else _("Nothing was changed."), "success")
            return redirect(url_for("design.round_detail", round_id=round_id))
    return render_template("design/round_edit.html", form=form, round=round_)


def _keep_untouched(form: RoundForm, round_: Round, settings: dict) -> None:
    """Settings shown rounded (a weight, a moment as its day) and posted back unchanged keep
    their exact value, so that saving records no change nobody made."""
    if form.weights.data == weights_text(round_.weights):
        settings["weights"] = round_.weights
    if round_.opens_at and form.opens_at.data == office_time.local_date(round_.opens_at):
        settings["opens_at"] = round_.opens_at
    if round_.closes_at and form.closes_at.data == office_time.last_day(round_.closes_at):
        settings["closes_at"] = round_.closes_at


def _fill(form: RoundForm, round_: Round) -> None:
    thresholds = rounds.thresholds_of(round_)
    form.name.data, form.version_id.data = round_.name, round_.version_id
    form.opens_at.data = office_time.local_date(round_.opens_at) if round_.opens_at else None
    form.closes_at.data = office_time.last_day(round_.closes_at) if round_.closes_at else None
    form.anonymous.data = round_.anonymous
    form.anonymity_threshold.data = round_.anonymity_threshold
    # As many decimals as stored (82.25 stays 82.25, not 82.2 saved back by an unrelated edit).
    percent = f"{thresholds.rate * 100:.4f}".rstrip("0")
    form.rate_threshold.data = Decimal(percent + "0" if percent.endswith(".") else percent)
    form.mean_threshold.data = Decimal(f"{thresholds.mean:.2f}")
    form.weights.data = weights_text(round_.weights)
    form.audience_groups.data = list(round_.audience_groups or [])
    form.audience_units.data = list(round_.audience_units or [])


@bp.route("/rounds/<int:round_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF)
def round_delete(round_id: int):
    """A confirmation page first; the round goes only on its POST."""
    round_ = db.get_or_404(Round, round_id)
    form = EmptyForm()
    if form.validate_on_submit():
        name = round_.name
        try:
            rounds.delete(round_)
        except rounds.RoundError as error:
            flash(str(error), "error")
            return redirect(url_for("design.round_detail", round_id=round_id))
        db.session.commit()
        flash(_("The round %(name)s is deleted.", name=name), "success")
        return redirect(url_for("design.rounds_index"))
    refusal = rounds.deletion_refused(round_)
    return render_template(
        "design/round_delete.html",
        round=round_,
        button=form,
        refusal=refusal,
        progress=rounds.progress_of(round_),
    )


@bp.get("/rounds/<int:round_id>")
@role_required(*STAFF)
def round_detail(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    issue_form = IssueForm()
    issue_form.group.choices = _group_choices(round_)
    status, group = request.args.get("status") or None, request.args.get("group") or None
    page = db.paginate(invitations.listing(round_, status, group), per_page=50, error_out=False)
    return render_template(
        "design/round.html",
        round=round_,
        progress=rounds.progress_of(round_),
        by_group=rounds.progress_by_group(round_),
        by_unit=rounds.progress_by_unit(round_),
        page=page,
        status=status,
        group=group,
        issue_form=issue_form,
        button=EmptyForm(),
        invitation_url=invitations.invitation_url,
        history=history_entries(rounds.history(round_)),
        messages=mail.of_round(round_.id),
        mail_statuses=mail.STATUS_LABELS,
        mail_kinds=mail.KIND_LABELS,
        past_close=round_.status != "open"
        and round_.closes_at is not None
        and round_.closes_at <= utcnow(),
    )


def _group_choices(round_: Round) -> list[SelectChoice]:
    lang = current_language()
    codes = round_.audience_groups or round_.version.group_codes
    groups = db.session.scalars(
        select(RespondentGroup)
        .where(RespondentGroup.code.in_(codes))
        .order_by(RespondentGroup.position)
    )
    return [SelectChoice("", _("All groups of the round"))] + [
        SelectChoice(g.code, g.label(lang)) for g in groups
    ]


@bp.post("/rounds/<int:round_id>/open")
@role_required(*STAFF)
def round_open(round_id: int):
    return _change_state(round_id, rounds.open_round, _("The round is open."))


@bp.post("/rounds/<int:round_id>/close")
@role_required(*STAFF)
def round_close(round_id: int):
    return _change_state(round_id, rounds.close_round, _("The round is closed."))


@bp.post("/rounds/<int:round_id>/archive")
@role_required(*STAFF)
def round_archive(round_id: int):
    return _change_state(round_id, rounds.archive, _("The round is archived."))


@bp.post("/rounds/<int:round_id>/unarchive")
@role_required(*STAFF)
def round_unarchive(round_id: int):
    return _change_state(round_id, rounds.unarchive, _("The round is back in the list."))


def _change_state(round_id: int, change, message: str):
    round_ = db.get_or_404(Round, round_id)
    if EmptyForm().validate_on_submit():
        try:
            change(round_, utcnow())
        except rounds.RoundError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(message, "success")
            if round_.status == "closed" and round_.results_held:
                flash(
                    _(
                        "Its figures are held back: some group received fewer than %(k)s new "
                        "responses since the round was first closed, and the figures would show "
                        "their answers by difference. Reopen the round to collect more.",
                        k=round_.anonymity_threshold,
                    ),
                    "warning",
                )
    return redirect(url_for("design.round_detail", round_id=round_id))


@bp.post("/rounds/<int:round_id>/invitations")
@role_required(*STAFF)
def invitations_issue(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if round_.archived_at:
        flash(str(rounds.ARCHIVED), "error")
        return redirect(url_for("design.round_detail", round_id=round_id))
    form = IssueForm()
    form.group.choices = _group_choices(round_)
    if not form.validate_on_submit():
        flash(
            _("Please check the invitation settings: %(errors)s", errors=error_text(form)), "error"
        )
        return redirect(url_for("design.round_detail", round_id=round_id))
    try:
        made = (
            invitations.issue_named(round_, form.named.data)
            if form.named.data
            else invitations.issue_for_round(round_, form.count.data, form.group.data or None)
        )
    except invitations.InvitationError as error:
        db.session.rollback()
        flash(_("Nothing was issued: %(reason)s", reason=str(error)), "error")
    else:
        db.session.commit()
        flash(_("%(n)s invitations issued.", n=len(made)), "success")
    return redirect(url_for("design.round_detail", round_id=round_id))


@bp.get("/rounds/<int:round_id>/invitations.csv")
@role_required(*STAFF)
def invitations_csv(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    audit.record("export", target=f"round:{round_.id}", kind="invitations")
    db.session.commit()
    lines = invitations.csv_lines(round_, invitations.of_round(round_), current_language())
    filename = f"invitations-round-{round_.id}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/rounds/<int:round_id>/send")
@role_required(*STAFF)
def invitations_send(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    reminder = request.form.get("reminder") == "1"
    if round_.archived_at:
        flash(str(rounds.ARCHIVED), "error")
    elif EmptyForm().validate_on_submit():
        mailing = (
            invitations.remind(round_)
            if reminder
            else invitations.send(invitations.of_round(round_))
        )
        db.session.commit()
        flash(
            _(
                "%(n)s e-mails queued for sending: the messages panel shows how it goes.",
                n=mailing.queued,
            ),
            "success",
        )
        if mailing.no_address:
            flash(
                _(
                    "%(n)s open invitations have no e-mail address: give them their link from "
                    "the list or the CSV.",
                    n=mailing.no_address,
                ),
                "info",
            )
        if mailing.already:
            flash(
                _("%(n)s had been e-mailed before and were not sent again.", n=mailing.already),
                "info",
            )
    return redirect(url_for("design.round_detail", round_id=round_id))


@bp.post("/rounds/<int:round_id>/mail/retry")
@role_required(*STAFF)
def mail_retry(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if round_.archived_at:
        # The page offers no button then; a stale page or a script must not send either.
        flash(str(rounds.ARCHIVED), "error")
    elif EmptyForm().validate_on_submit():
        count = mail.retry_failed(round_.id)
        flash(_("%(n)s failed e-mails queued again.", n=count), "success")
    return redirect(url_for("design.round_detail", round_id=round_id) + "#messages")


@bp.post("/invitations/<int:invitation_id>/revoke")
@role_required(*STAFF)
def invitation_revoke(invitation_id: int):
    invitation = db.get_or_404(Invitation, invitation_id)
    if invitation.round.archived_at:
        flash(str(rounds.ARCHIVED), "error")
    elif EmptyForm().validate_on_submit():
        try:
            invitations.revoke(invitation)
        except invitations.InvitationError as error:
            flash(error.reason, "error")
        else:
            db.session.commit()
            flash(_("The invitation is revoked; its link no longer works."), "success")
    return redirect(url_for("design.round_detail", round_id=invitation.round_id))


@bp.route("/invitations/<int:invitation_id>/key-in/<source>", methods=["GET", "POST"])
@role_required(*STAFF)
def invitation_key_in(invitation_id: int, source: str):
    """Staff key in a paper questionnaire or meeting feedback through the survey's own form."""
    invitation = db.get_or_404(Invitation, invitation_id)
    if source not in RESPONSE_SOURCES[1:] or invitation.status in ("submitted", "revoked"):
        abort(404)
    questionnaire = to_model(invitation.round.version).for_group(invitation.group.code)
    form = form_for(questionnaire, current_language())()
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and not form.foreign_fields(request.form) and form.validate():
        try:
            responses.submit(
                invitation,
                form.answers(),
                form.comments(),
                form.submission_key.data,
                utcnow(),
                source=source,
                language=current_language(),
                entered_by=current_user.id,
            )
        except (responses.AlreadySubmitted, responses.NotAccepting):
            # The form comes back as typed: nothing keyed in is lost while the round reopens.
            flash(
                _("Nothing was stored: the invitation has answered or the round is not open."),
                "error",
            )
            status = 409
        else:
            flash(
                _("The response was stored as %(source)s.", source=responses.SOURCE_NAMES[source]),
                "success",
            )
            return redirect(url_for("design.round_detail", round_id=invitation.round_id))
    return render_template(
        "respond/page.html",
        invitation=invitation,
        questionnaire=questionnaire,
        form=form,
        lang=current_language(),
        key_in_source=source,
        accepting=invitation.round.accepts_answers(utcnow()),
        form_action=request.path,
    ), status
