from __future__ import annotations

import time

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from survey import responses
from survey.extensions import db
from survey.i18n import current_language
from survey.models import Invitation, utcnow
from survey.questionnaire_store import to_model
from survey.respond import bp
from survey.respond.forms import SurveyForm, form_for, restore
from survey.security import limiter, token_limit, unknown_token

# Wrong links from one address are throttled on a counter of their own (not the logins').
token_guard = limiter.limit(token_limit, deduct_when=unknown_token, scope="invitation-token")

SWITCH_PREFIX = "switch-"
# Invitations this browser has opened by their link; pages address them by id, never token.
SESSION_KEY = "invitations"
MAX_REMEMBERED = 20


@bp.after_request
def private_page(response):
    # The URL carries the personal token and the page the answers: no caching, no Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _by_token(token: str) -> Invitation:
    invitation = db.first_or_404(db.select(Invitation).where(Invitation.token == token))
    if invitation.status == "revoked":
        abort(404)  # a revoked link looks exactly like one that never existed
    remembered = [i for i in session.get(SESSION_KEY, []) if i != invitation.id]
    session[SESSION_KEY] = (remembered + [invitation.id])[-MAX_REMEMBERED:]
    return invitation


def _invitation(invitation_id: int) -> Invitation:
    """An invitation this browser opened by its link; any other id is answered as unknown."""
    if invitation_id not in session.get(SESSION_KEY, []):
        abort(404)
    invitation = db.get_or_404(Invitation, invitation_id)
    if invitation.status == "revoked":
        abort(404)
    return invitation


@bp.get("/<token>")
@token_guard
def enter(token: str):
    """The personal link: exchanged for the session, then the survey at a URL without the
    token, so that it stays out of the history, the address bar and any Referer."""
    invitation = _by_token(token)
    lang = request.args.get("lang")
    return redirect(url_for("respond.page", invitation_id=invitation.id, lang=lang), code=303)


# Built questionnaires of frozen versions (a version a round has used can no longer change), by
# (version id, group code), kept per process for MODEL_TTL seconds: building one from the
# database was the largest cost of a respondent's page and submit. The TTL bounds how long a
# renamed group or served unit keeps its old label on the survey page.
_MODELS: dict[tuple[int, str], tuple[float, object]] = {}
MODEL_TTL = 60.0


def _questionnaire(invitation: Invitation):
    """The version as the invitation's group sees it, built once per request (and kept for a
    while in the process when the version is frozen)."""
    if "questionnaire" not in g:
        version = invitation.round.version
        key = (version.id, invitation.group.code)
        hit = _MODELS.get(key)
        now = time.monotonic()
        if version.frozen and hit is not None and now - hit[0] < MODEL_TTL:
            g.questionnaire = hit[1]
        else:
            g.questionnaire = to_model(version).for_group(key[1])
            if version.frozen:
                _MODELS[key] = (now, g.questionnaire)
    return g.questionnaire


def _form(invitation: Invitation, final: bool) -> SurveyForm:
    return form_for(_questionnaire(invitation), current_language(), enforce_required=final)()


def _render(invitation: Invitation, form: SurveyForm, status: int = 200):
    page = render_template("respond/page.html", invitation=invitation, form=form,
                           questionnaire=_questionnaire(invitation), lang=current_language())
    return page, status


def _not_open(invitation: Invitation, status: int):
    return render_template("respond/closed.html", round=invitation.round, now=utcnow()), status


def _submitted(invitation: Invitation, status: int = 200):
    return render_template("respond/submitted.html", invitation=invitation), status


@bp.get("/i/<int:invitation_id>")
def page(invitation_id: int):
    invitation = _invitation(invitation_id)
    if invitation.status == "submitted":
        return _submitted(invitation)
    if not invitation.round.accepts_answers(utcnow()):
        return _not_open(invitation, 200)
    if invitation.status == "sent":
        responses.mark_opened(invitation.id)
    form_class = form_for(_questionnaire(invitation), current_language())
    return _render(invitation, restore(form_class, invitation.draft))


@bp.post("/<token>")
@token_guard
def submit_by_token(token: str):
    """A form posted straight to the link (scripts, old pages): the same as from the page."""
    return _handle_post(_by_token(token))


@bp.post("/i/<int:invitation_id>")
def submit(invitation_id: int):
    return _handle_post(_invitation(invitation_id))


def _handle_post(invitation: Invitation):
    if invitation.status == "submitted":
        return _submitted(invitation)
    action = request.form.get("action", "submit")
    form = _form(invitation, final=action == "submit")
    if form.foreign_fields(request.form.keys()):
        flash(_("The form contained answers to questions that are not in this survey; "
                "nothing was stored. Please check your answers and send them again."), "error")
        return _render(invitation, form, 400)
    try:
        if action == "submit":
            return _submit(invitation, form)
        return _save(invitation, form, action)
    except responses.AlreadySubmitted:
        return _submitted(invitation)
    except responses.NotAccepting:
        return _not_open(invitation, 409)


def _submit(invitation: Invitation, form: SurveyForm):
    if not form.validate():
        # Refused only for unanswered questions? Then what was typed is saved all the same.
        draft_form = _form(invitation, final=False)
        if draft_form.validate():
            responses.save_draft(invitation, draft_form.draft(), utcnow())
        return _render(invitation, form, 400)
    try:
        responses.submit(invitation, form.answers(), form.comments(), form.submission_key.data,
                         utcnow(), language=current_language())
    except responses.Conflict:
        flash(_("Your answers could not be stored this time. Please send them again."), "error")
        form.submission_key.data = None
        return _render(invitation, type(form)(formdata=None, data=form.draft()), 409)
    return redirect(url_for("respond.done", invitation_id=invitation.id), code=303)


def _save(invitation: Invitation, form: SurveyForm, action: str):
    """Save and continue later; also the language switch, which saves before it reloads."""
    if not form.validate():
        return _render(invitation, form, 400)
    responses.save_draft(invitation, form.draft(), utcnow())
    lang = action.removeprefix(SWITCH_PREFIX) if action.startswith(SWITCH_PREFIX) else None
    if lang is None:
        flash(_("Your answers are saved. You can come back with the same link to finish."),
              "success")
    return redirect(url_for("respond.page", invitation_id=invitation.id, lang=lang))


@bp.get("/i/<int:invitation_id>/done")
def done(invitation_id: int):
    invitation = _invitation(invitation_id)
    if invitation.status != "submitted":
        return redirect(url_for("respond.page", invitation_id=invitation_id))
    return render_template("respond/done.html", invitation=invitation)
