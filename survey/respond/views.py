from __future__ import annotations

import dataclasses
import re
import secrets

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import csrf
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict
from wtforms import ValidationError

from survey import responses, tenancy
from survey.corrective.summaries import shown_for
from survey.database import reads_first, reads_only
from survey.extensions import db
from survey.i18n import current_language
from survey.models import Invitation, QuestionnaireVersion, utcnow
from survey.questionnaire_form import (
    BASE_FIELD,
    COMMENT_SUFFIX,
    CONTROL_FIELDS,
    REF_FIELD,
    Complete,
    SurveyForm,
    blank_hidden_tag,
    complete_submit,
    csrf_field_name,
    field_name,
    restore,
)
from survey.questionnaire_store import to_model
from survey.respond import bp
from survey.respond.built import Built, built_versions
from survey.respond.visit import UnitSeen, Visit, by_token, visit
from survey.security import limiter, never_limited, token_limit, unknown_token

# Wrong links from one address are throttled on a counter of their own (not the logins').
token_guard = limiter.limit(token_limit, deduct_when=unknown_token, scope="invitation-token")
# The pages addressed by id have no rate limit of any kind (the personal link has, above; a
# wrong id gets the same page whether it exists or not): the limiter is told to skip them.
never_limited("respond.page", "respond.submit", "respond.done")


SWITCH_PREFIX = "switch-"
# Invitations this browser has opened by their link; pages address them by id, never token.
SESSION_KEY = "invitations"
# Beside each id, a mark of the link it was opened with: an id alone would let a browser reach
# another invitation that later got the same id (SQLite reuses the highest id of a deleted
# draft round's invitations).
REFS_KEY = "invitation_refs"
MAX_REMEMBERED = 20


@bp.after_request
def private_page(response):
    # The URL carries the personal token and the page the answers: no caching, no Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _by_token(token: str) -> int:
    """The id of the invitation of a personal link, remembered in this browser's session."""
    found = by_token(token)
    if found is None or found.status == "revoked":
        abort(404)  # a revoked link looks exactly like one that never existed
    _remember(found.id, token)
    return found.id


def _link_mark(invitation_id: int, token: str) -> str:
    return responses.draft_ref(invitation_id, token)[-16:]


def _remember(invitation_id: int, token: str) -> None:
    remembered = [i for i in session.get(SESSION_KEY, []) if i != invitation_id]
    kept = (remembered + [invitation_id])[-MAX_REMEMBERED:]
    refs = session.get(REFS_KEY, {})
    session[SESSION_KEY] = kept
    session[REFS_KEY] = {str(i): refs[str(i)] for i in kept if str(i) in refs} | {
        str(invitation_id): _link_mark(invitation_id, token)
    }


def _load(invitation_id: int) -> Visit:
    found = visit(invitation_id)
    if found is None or found.status == "revoked":
        abort(404)
    return found


def _invitation(invitation_id: int) -> Visit:
    """An invitation this browser opened by its link. Any other id gets the page that asks for
    the personal link again, the same whether the id exists or not (a bookmark, or a session
    that ended)."""
    if invitation_id not in session.get(SESSION_KEY, []):
        abort(Response(render_template("respond/expired.html"), 404))
    found = _load(invitation_id)
    if session.get(REFS_KEY, {}).get(str(invitation_id)) != _link_mark(found.id, found.token):
        abort(Response(render_template("respond/expired.html"), 404))
    # Only now, the link shown: the rest of the request works for its office (survey.tenancy).
    tenancy.enter(found.office_id)
    return found


def _recovered(invitation_id: int) -> Visit | None:
    """The invitation of answers posted after this browser's session was lost (browser
    restarted, another server): the form's reference to it (survey.responses.draft_ref), or
    None when it does not match."""
    ref = request.form.get(REF_FIELD, "")
    found = visit(invitation_id) if ref else None
    if found is None or found.status == "revoked":
        return None
    if not responses.draft_ref_matches(ref, found.id, found.token):
        return None
    tenancy.enter(found.office_id)
    return found


@bp.get("/<token>")
@token_guard
def enter(token: str):
    """The personal link: exchanged for the session, then the survey at a URL without the
    token, so that it stays out of the history, the address bar and any Referer."""
    reads_only(db.session)
    invitation_id = _by_token(token)
    # What the survey page would add to the session goes in now, with the invitation: the
    # form's CSRF secret, and Flask-Login's mark of a session it has not seen before ("basic"
    # session protection, set the first time a request asks who the user is: the page's
    # header does). The page then leaves the session as it is and sends no new cookie (its
    # signing, and the browser's storing it, on every respondent's page).
    generate_csrf()
    current_user.is_authenticated  # noqa: B018 -- asked for Flask-Login's mark, see above
    lang = request.args.get("lang")
    return redirect(url_for("respond.page", invitation_id=invitation_id, lang=lang), code=303)


def _built(invitation: Visit) -> Built:
    """The invitation's version as its group sees it, once per request (and kept in the app
    while the version is frozen, see survey.respond.built)."""
    if "built" not in g:
        version_id, group = invitation.round.version_id, invitation.group_code
        g.built = built_versions().get(
            version_id,
            group,
            invitation.round.frozen,
            lambda: to_model(db.session.get(QuestionnaireVersion, version_id)).for_group(group),
        )
    return g.built


def _form(invitation: Visit, final: bool) -> SurveyForm:
    # The posted form fields only, as complete_submit reads them: Flask-WTF's default would
    # also take uploaded files and a JSON body, which the survey's page never sends.
    form_class = _built(invitation).form_class(current_language(), enforce_required=final)
    return form_class(formdata=request.form)


def _render(
    invitation: Visit, form: SurveyForm, status: int = 200, base: str | None = None, **slots
):
    built, lang = _built(invitation), current_language()
    context = {
        "form": form,
        "draft_ref": responses.draft_ref(invitation.id, invitation.token),
        "draft_base": base if base is not None else _posted_base(invitation),
        "questionnaire": built.questionnaire,
        "lang": lang,
        "you_said": built.summary(
            invitation.round_id, lambda: shown_for(db.session.get(Invitation, invitation.id))
        ),
    }
    if not form.errors and not form.draft():
        # The unanswered form's questions are the same for every invitation of the group.
        context["questions_html"] = built.blank_questions(
            lang,
            lambda: render_template(
                "respond/_questions.html",
                questionnaire=built.questionnaire,
                lang=lang,
                form=built.form_class(lang)(formdata=None),
            ),
        )
    context.update(slots)
    return render_template("respond/page.html", invitation=invitation, **context), status


class _Slots:
    """The marks of one rendering's slots: each holds a random nonce, so that no text of the
    page (a round's name, a question typed by the office) can pass for one."""

    NAMES = frozenset({"unit", "person", "action", "hidden", "ref"})

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self._pattern = re.compile(f"\ue000{self.nonce}:([a-z]+)\ue000")

    def __call__(self, name: str) -> Markup:
        return Markup(f"\ue000{self.nonce}:{name}\ue000")

    def split(self, html: str) -> list[str]:
        """The text between the slots and the slots' names, alternately."""
        parts = self._pattern.split(html)
        if not set(parts[1::2]) <= self.NAMES:
            raise ValueError("a slot without a value")
        return parts


class _FormWithSlots:
    """An unanswered form without errors whose hidden fields are a slot."""

    errors: dict = {}

    def __init__(self, slots: _Slots) -> None:
        self._slots = slots

    def draft(self) -> dict:
        return {}

    def answered(self) -> int:
        return 0

    def hidden_tag(self) -> Markup:
        return self._slots("hidden")


def _blank_page(invitation: Visit) -> str | None:
    """The survey page of an unanswered form, from the page kept with slots for what differs
    between the invitations of a round and group (survey.respond.built.Built.blank_page):
    rendering the page was half of its CPU, and all but five values are the same for each of
    them. The key holds everything of the round the page shows, so a renamed round or a new
    deadline is shown at once. None when the page shows more (a message waiting, a signed-in
    staff member's name): it is then rendered in full."""
    if session.get("_flashes") or current_user.is_authenticated:
        return None
    built, lang, seen = _built(invitation), current_language(), invitation.round
    key = (
        lang,
        invitation.round_id,
        seen.name,
        seen.closes_at,
        seen.anonymous,
        bool(invitation.person_name),
    )
    parts = built.blank_page(key, lambda: _with_slots(invitation))
    values = {
        "unit": escape(invitation.unit.name(lang)),
        "person": escape(invitation.person_name or ""),
        "action": escape(url_for("respond.submit", invitation_id=invitation.id)),
        "hidden": blank_hidden_tag(),
        "ref": escape(responses.draft_ref(invitation.id, invitation.token)),
    }
    return "".join(values[part] if n % 2 else part for n, part in enumerate(parts))


def _with_slots(invitation: Visit) -> list[str]:
    slots = _Slots()
    stand_in = dataclasses.replace(
        invitation,
        unit=UnitSeen(slots("unit"), slots("unit")),
        person_name=slots("person") if invitation.person_name else None,
    )
    html, _status = _render(
        stand_in,
        _FormWithSlots(slots),  # type: ignore[arg-type]
        base=responses.draft_fingerprint(None),
        form_action=slots("action"),
        draft_ref=slots("ref"),
    )
    return slots.split(html)


def _not_open(invitation: Visit, status: int):
    return render_template("respond/closed.html", round=invitation.round, now=utcnow()), status


def _submitted(invitation: Visit, status: int = 200):
    return render_template("respond/submitted.html", invitation=invitation), status


@bp.get("/i/<int:invitation_id>")
def page(invitation_id: int):
    # Reads, and at most one single-statement write (the first opening), so on PostgreSQL
    # without BEGIN and COMMIT: each of its statements saw a snapshot of its own already
    # (READ COMMITTED), and the write commits alone (survey.responses.mark_opened). The write
    # comes after the checks of _invitation (the link's mark in the session, against the
    # token read) and once the page is built: not in the invitation's read, which would mark
    # an invitation whose page is then refused.
    reads_only(db.session)
    invitation = _invitation(invitation_id)
    if invitation.status == "submitted":
        return _submitted(invitation)
    if not invitation.round.accepts_answers(utcnow()):
        return _not_open(invitation, 200)
    page = None if invitation.draft else _blank_page(invitation)
    if page is None:
        if invitation.draft:
            form = restore(_built(invitation).form_class(current_language()), invitation.draft)
        else:
            form = SurveyForm(formdata=None)  # the control fields; the questions prerendered
        page = _render(invitation, form, base=responses.draft_fingerprint(invitation.draft))
    if invitation.status == "sent":
        _mark_opened(invitation)
    return page


def _mark_opened(invitation: Visit) -> None:
    """Written once the page is built (on SQLite in a short write transaction of its own).
    Showing the survey needs no write: when this one fails (the write lock busy for too long,
    a full disk) the page is served all the same, and the first save or submit marks it."""
    try:
        responses.mark_opened(invitation.id)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning(
            "invitation %s: the first opening could not be recorded", invitation.id, exc_info=True
        )


def _posted_base(invitation: Visit) -> str:
    """The draft fingerprint the page was built from, carried through a page shown again."""
    if request.method == "POST" and BASE_FIELD in request.form:
        return request.form[BASE_FIELD]
    return responses.draft_fingerprint(invitation.draft)


# POSTs read and validate in a read transaction; survey.responses takes the write lock only to
# store (survey.database.begin_write): holding SQLite's one write lock while the form was
# validated made concurrent submits queue behind each other.
# On PostgreSQL they read in autocommit (survey.database.reads_only), and a submit is then one
# statement that commits alone (survey.responses.submit); a save begins its transaction.
@bp.post("/<token>")
@token_guard
@reads_first
def submit_by_token(token: str):
    """A form posted straight to the link (scripts, old pages): the same as from the page."""
    reads_only(db.session)
    found = _load(_by_token(token))
    tenancy.enter(found.office_id)  # the link itself shown
    return _handle_post(found)


@bp.post("/i/<int:invitation_id>")
@reads_first
def submit(invitation_id: int):
    reads_only(db.session)
    if invitation_id not in session.get(SESSION_KEY, []):
        found = _recovered(invitation_id)
        if found is None:
            return _invitation(invitation_id)  # the page asking for the link again
        return _keep_after_lost_session(found)
    return _handle_post(_invitation(invitation_id))


def _keep_after_lost_session(invitation: Visit, reopened: bool = False):
    """Answers posted after the session was lost: nothing is submitted (the session and its
    CSRF token are gone, and the reference can only save), what was typed is saved as the
    draft, merged with any other, and the page says to open the personal link again; or,
    ``reopened`` (the link was opened again in this browser meanwhile, so only the page's
    token is of the ended session), shows the survey again with them."""
    if invitation.status == "submitted":
        return _submitted(invitation)
    form = _built(invitation).form_class(current_language(), enforce_required=False)(
        formdata=request.form, meta={"csrf": False}
    )
    if form.foreign_fields(request.form.keys()) or not form.validate():
        if reopened:
            return None  # the page again with what is wrong, the refused token included
        return render_template("respond/expired.html", saved=False), 400
    try:
        responses.save_draft(invitation, form.draft(), utcnow(), request.form.get(BASE_FIELD))
    except responses.AlreadySubmitted:
        return _submitted(_load(invitation.id))
    except responses.NotAccepting:
        return _not_open(_load(invitation.id), 409)
    if reopened:
        flash(
            _(
                "Your session had ended (the browser was closed, or the page was open for a "
                "long time), so your answers were not submitted. Everything you typed is "
                "saved: please check it below and submit again."
            ),
            "warning",
        )
        return redirect(url_for("respond.page", invitation_id=invitation.id), code=303)
    return render_template("respond/expired.html", saved=True), 200


def _handle_post(invitation: Visit):
    if invitation.status == "submitted":
        return _submitted(invitation)
    try:
        return _answers_posted(invitation, request.form.get("action", "submit"))
    except responses.AlreadySubmitted:
        # Nothing was stored: submitted or revoked while the form was being checked. Read
        # again, a revoked link is answered as unknown (_load), as everywhere else.
        return _submitted(_load(invitation.id))
    except responses.NotAccepting:
        return _not_open(_load(invitation.id), 409)


def _answers_posted(invitation: Visit, action: str):
    complete = _complete(invitation) if action == "submit" else None
    if complete is not None:
        return _store(invitation, complete)
    form = _form(invitation, final=action == "submit")
    if form.foreign_fields(request.form.keys()):
        flash(
            _(
                "The form contained answers to questions that are not in this survey; "
                "nothing was stored. Please check your answers and send them again."
            ),
            "error",
        )
        return _render(invitation, form, 400)
    if _token_refused(form) and _recovered(invitation.id) is not None:
        kept = _keep_after_lost_session(invitation, reopened=True)
        if kept is not None:
            return kept
    if action == "submit":
        return _submit(invitation, form)
    return _save(invitation, form, action)


def _token_refused(form: SurveyForm) -> bool:
    """The CSRF token is of another session: a page left open across a browser restart, sent
    after the link was opened again (the token is checked again by validate())."""
    field = form._fields.get("csrf_token")
    if field is None:
        return False
    if not field.validate(form):
        return True
    # Flask-WTF's mark of a request whose token is already checked (by CSRFProtect, from which
    # this blueprint is exempt): form.validate() then does not check the same token again.
    g.csrf_valid = True
    return False


def _complete(invitation: Visit) -> Complete | None:
    """The posted answers, when they are a submit the form would accept, read without building
    the form (survey.questionnaire_form.complete_submit); None for anything else (a token of
    another session, a question unanswered, a value refused), which the form then handles."""
    token_field = csrf_field_name()
    if token_field is not None:
        try:
            # What the form's token field checks, with the same settings.
            csrf.validate_csrf(request.form.get(token_field))
        except ValidationError:
            return None
    return complete_submit(_built(invitation).form_class(current_language()), request.form)


def _submit(invitation: Visit, form: SurveyForm):
    if not form.validate():
        # Refused only for unanswered questions? Then what was typed is saved all the same.
        draft_form = _form(invitation, final=False)
        if draft_form.validate():
            merge = _saved(invitation, draft_form.draft())
            if merge:
                return _merged(invitation, merge, 400)
        return _render(invitation, form, 400, base=_base_after_save(invitation))
    return _store(
        invitation,
        Complete(form.answers(), form.comments(), form.draft(), form.submission_key.data),
    )


def _store(invitation: Visit, complete: Complete):
    """Submit answers the form accepts."""
    unseen = responses.merge_drafts(invitation.draft, complete.draft, request.form.get(BASE_FIELD))
    if unseen[1].kept:
        # Another device saved answers this page never showed, and the submit would drop them
        # without a word: they are merged into the draft and shown, and nothing is submitted
        # until the respondent has seen them. (A save between this check and the submit, a
        # few milliseconds, is not caught: the respondent pressed submit on what they saw.)
        return _merged(invitation, _saved(invitation, complete.draft), 409)
    version_id = invitation.round.version_id
    try:
        responses.submit(
            invitation,
            complete.answers,
            complete.comments,
            complete.submission_key,
            utcnow(),
            language=current_language(),
            question_ids=_built(invitation).question_ids(
                lambda: responses.question_ids_of(version_id)
            ),
        )
    except responses.Conflict:
        flash(_("Your answers could not be stored this time. Please send them again."), "error")
        # The page again with what was typed, and a new submission key.
        again = _built(invitation).form_class(current_language())(
            formdata=None, data=complete.draft
        )
        return _render(invitation, again, 409)
    return redirect(url_for("respond.done", invitation_id=invitation.id), code=303)


def _save(invitation: Visit, form: SurveyForm, action: str):
    """Save and continue later; also the language switch, which saves before it reloads."""
    if not form.validate():
        return _render(invitation, form, 400)
    merge = _saved(invitation, form.draft())
    lang = action.removeprefix(SWITCH_PREFIX) if action.startswith(SWITCH_PREFIX) else None
    if merge:
        flash(_merge_message(form, merge), "warning")
    elif lang is None:
        flash(
            _("Your answers are saved. You can come back with the same link to finish."), "success"
        )
    return redirect(url_for("respond.page", invitation_id=invitation.id, lang=lang))


def _saved(invitation: Visit, draft: dict) -> responses.DraftMerge:
    merge = responses.save_draft(invitation, draft, utcnow(), request.form.get(BASE_FIELD))
    g.saved_draft = True
    return merge


def _merged(invitation: Visit, merge: responses.DraftMerge, status: int):
    """The page again, showing the draft just saved with another device's answers merged in
    (this page's own showed only what was typed here: a save from it would then have erased
    the others), and saying what came from there."""
    saved = visit(invitation.id)
    draft = (saved.draft if saved else None) or {}
    formdata = MultiDict(
        (name, value) for name, value in request.form.items(multi=True) if name in CONTROL_FIELDS
    )
    for name, value in draft.items():
        formdata.setlist(name, value if isinstance(value, list) else [value])
    form = _built(invitation).form_class(current_language())(formdata=formdata)
    form.validate()  # the questions still unanswered are marked as on any refused submit
    message = _merge_message(form, merge)
    if status == 409:
        message += " " + _("Nothing was submitted yet: please check them and submit again.")
    flash(message, "warning")
    return _render(invitation, form, status, base=responses.draft_fingerprint(draft))


def _base_after_save(invitation: Visit) -> str | None:
    """After a save the page shows what this device typed; the next save from it replaces the
    merged draft only if nothing else was saved in between."""
    if not g.get("saved_draft"):
        return None
    fresh = visit(invitation.id)
    return responses.draft_fingerprint(fresh.draft if fresh else None)


def _merge_message(form: SurveyForm, merge: responses.DraftMerge) -> str:
    """Tells the second device that answers were saved elsewhere too, and which of them it
    replaced, by the questions' texts."""
    lang = current_language()
    texts = {}
    for q in form.questions:
        texts[field_name(q.code)] = texts[field_name(q.code) + COMMENT_SUFFIX] = q.text.get(lang)
    kept = {texts.get(name, name) for name in merge.kept}
    replaced = sorted({texts.get(name, name) for name in merge.replaced})
    message = ngettext(
        "Answers were also saved from another device or window since this page was opened. "
        "Both are kept: %(num)d answer from there was added. Please check it below.",
        "Answers were also saved from another device or window since this page was opened. "
        "Both are kept: %(num)d answers from there were added. Please check them below.",
        len(kept),
    )
    if replaced:
        message += " " + _(
            "Where both answered the same question, this page's answer was kept: %(questions)s.",
            questions="; ".join(replaced),
        )
    return message


@bp.get("/i/<int:invitation_id>/done")
def done(invitation_id: int):
    reads_only(db.session)  # reads only: no BEGIN and COMMIT on PostgreSQL
    invitation = _invitation(invitation_id)
    if invitation.status != "submitted":
        return redirect(url_for("respond.page", invitation_id=invitation_id))
    return render_template("respond/done.html", invitation=invitation)


@bp.app_template_global()
def you_said_we_did(invitation):
    """The "you said, we did" summary for an invitation's group, for pages that did not look it
    up with the built questionnaire (see templates/actions/_you_said_we_did.html)."""
    return shown_for(invitation) if invitation is not None else None
