"""The quality lead's public-feedback page (figures per service point, repeated complaints,
flagged bursts, the case queue) and each case's page."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from survey import audit, feedback_cases, office_time, public_ratings, tenancy
from survey.extensions import db
from survey.feedback import bp
from survey.feedback.forms import CloseForm, ConfirmForm, ContactForm, DeadlineForm
from survey.i18n import current_language
from survey.models import FeedbackCase, PublicRating, utcnow
from survey.permissions import role_required
from survey.public_ratings import REASON_LABELS, SCORE_LABELS
from survey.service_points import KIND_LABELS

LEAD = "quality_lead"  # role_required lets admin in as well
# A service point's satisfaction rate is shown from this many ratings on.
MIN_SHOWN = 5
FIGURES_DAYS = 30


def hour_of(moment) -> str:
    """The office's date and hour of a rating, not its minute: at a counter with one clerk,
    the exact time of an anonymous rating would name the citizen."""
    start = moment.replace(minute=0, second=0, microsecond=0)
    return _("%(date)s, %(start)s–%(end)s", date=format_date(start, "medium"),
             start=format_time(start, "HH:mm"), end=format_time(start + timedelta(hours=1), "HH:mm"))  # fmt: skip


def _labels() -> dict:
    return {
        "scores": SCORE_LABELS,
        "reasons": REASON_LABELS,
        "outcomes": feedback_cases.OUTCOME_LABELS,
        "statuses": feedback_cases.STATUS_LABELS,
        "kinds": KIND_LABELS,
    }


@bp.get("/")
@role_required(LEAD)
def index():
    now = utcnow()
    today = office_time.local_date(now)
    which = request.args.get("show", "active")
    if which not in feedback_cases.QUEUES:
        which = "active"
    office_id = tenancy.current_office_id()
    deadline = DeadlineForm(days=feedback_cases.deadline_days(office_id))
    return render_template(
        "feedback/index.html",
        which=which,
        cases=feedback_cases.queue(which, today),
        counts=feedback_cases.counts(today),
        figures=public_ratings.figures(now - timedelta(days=FIGURES_DAYS)),
        repeats=feedback_cases.repeats(now),
        flagged=public_ratings.flagged(),
        deadline=deadline,
        confirm=ConfirmForm(),
        today=today,
        min_shown=MIN_SHOWN,
        figures_days=FIGURES_DAYS,
        is_overdue=feedback_cases.is_overdue,
        hour_of=hour_of,
        lang=current_language(),
        labels=_labels(),
    )


@bp.post("/settings")
@role_required(LEAD)
def settings():
    form = DeadlineForm()
    if form.validate_on_submit():
        feedback_cases.set_deadline_days(tenancy.current_office_id(), form.days.data)
        db.session.commit()
        flash(
            _("New cases are due %(days)s working days after the rating.", days=form.days.data),
            "success",
        )
    else:
        flash(_("The deadline is 1 to 30 working days."), "error")
    return redirect(url_for("feedback.index"))


def _rating(rating_id: int) -> PublicRating:
    """The rating of the URL, locked until the commit, and its case with it (PostgreSQL): a
    lead closing the case meanwhile waits, or is waited for (see _case)."""
    rating = db.session.get(PublicRating, rating_id, with_for_update=True)
    if rating is None:
        abort(404)
    db.session.execute(
        select(FeedbackCase.id).where(FeedbackCase.rating_id == rating.id).with_for_update()
    )
    return rating


@bp.post("/ratings/<int:rating_id>/set-aside")
@role_required(LEAD)
def set_aside(rating_id: int):
    rating = _rating(rating_id)
    if ConfirmForm().validate_on_submit() and rating.flag == "burst":
        public_ratings.set_aside(rating, current_user, utcnow())
        audit.record("rating_set_aside", f"public_rating:{rating.id}", status="set_aside")
        db.session.commit()
        flash(
            _("The rating was set aside: it no longer counts, and its case is closed."), "success"
        )
    return redirect(url_for("feedback.index", _anchor="flagged"))


@bp.post("/ratings/<int:rating_id>/keep")
@role_required(LEAD)
def keep(rating_id: int):
    rating = _rating(rating_id)
    if ConfirmForm().validate_on_submit() and rating.flag == "burst":
        public_ratings.keep(rating)
        audit.record("rating_kept", f"public_rating:{rating.id}")
        db.session.commit()
        flash(_("The rating was kept as genuine."), "success")
    return redirect(url_for("feedback.index", _anchor="flagged"))


def _case(case_id: int, for_update: bool = False) -> FeedbackCase:
    """The case of the URL; ``for_update``: locked until the commit (PostgreSQL), so that two
    leads closing it at once (or a double click) record one closing, not two."""
    case = db.session.get(FeedbackCase, case_id, with_for_update=for_update)
    if case is None:
        abort(404)
    return case


def _render_case(case: FeedbackCase, contact=None, close=None, status: int = 200):
    today = office_time.local_date(utcnow())
    page = render_template(
        "feedback/case.html",
        case=case,
        rating=case.rating,
        contact_form=contact or ContactForm(),
        close_form=_close_form(case, close),
        overdue=feedback_cases.is_overdue(case, today),
        on_time=feedback_cases.on_time(case),
        lang=current_language(),
        labels=_labels(),
        hour_of=hour_of,
    )
    return page, status


def _close_form(case: FeedbackCase, form: CloseForm | None = None) -> CloseForm:
    """The closing form offering only the outcomes this case may have now."""
    form = form or CloseForm()
    allowed = feedback_cases.outcomes_for(case)
    form.outcome.choices = [c for c in form.outcome.choices if c.value in allowed]
    return form


@bp.get("/cases/<int:case_id>")
@role_required(LEAD)
def case(case_id: int):
    return _render_case(_case(case_id))


@bp.post("/cases/<int:case_id>/contact")
@role_required(LEAD)
def case_contact(case_id: int):
    case = _case(case_id, for_update=True)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            feedback_cases.record_contact(case, current_user, form.note.data, utcnow())
        except feedback_cases.CaseError as error:
            flash(str(error), "error")
            return _render_case(case, contact=form, status=400)
        db.session.commit()
        flash(_("The contact was recorded."), "success")
        return redirect(url_for("feedback.case", case_id=case.id))
    return _render_case(case, contact=form, status=400)


@bp.post("/cases/<int:case_id>/close")
@role_required(LEAD)
def case_close(case_id: int):
    case = _case(case_id, for_update=True)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            feedback_cases.close(case, current_user, form.reply.data, form.outcome.data, utcnow())
        except feedback_cases.CaseError as error:
            flash(str(error), "error")
            return _render_case(case, close=form, status=400)
        db.session.commit()
        flash(_("The case was closed."), "success")
        return redirect(url_for("feedback.case", case_id=case.id))
    return _render_case(case, close=form, status=400)
