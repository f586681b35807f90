"""The public's pages: a service point's rating form (its QR code's link) and the thanks.
No account: the link names the service point, and through it the office."""

from __future__ import annotations

from datetime import date

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from limits import parse as parse_limit
from markupsafe import Markup

from survey import feedback_cases, public_ratings
from survey.i18n import current_language
from survey.models import POOR_AT_MOST, utcnow
from survey.public import bp
from survey.public.forms import RatingForm
from survey.security import limiter, never_limited

OUTCOME_KEY = "public_rated"
# No limit for the limiter to look up before these: the thanks page stores nothing, and the
# form counts a rating against its network's limit when it stores one (_take_one).
never_limited("public.thanks", "public.rate")
# A year: the device is known again the next time it rates here.
DEVICE_SECONDS = 365 * 24 * 3600


def _rating_limit() -> str:
    return current_app.config["PUBLIC_RATING_RATE_LIMIT"]


def _network() -> str:
    # Per network and point: a mobile carrier's shared block or a hall's Wi-Fi is one
    # network, and a busy hall should not use up the limit of every other point.
    return f"network:{public_ratings.network(request.remote_addr)}:{request.view_args['link_key']}"


def _take_one() -> None:
    """Count a rating about to be stored against its network's limit, or refuse it (429).
    Checked and counted in one step when the rating is stored, not before the request: ratings
    sent all at once were each checked before any was counted. A form with a mistake in it, a
    resend or a second rating the same day never get here, and do not use the limit up."""
    if not limiter.enabled:
        return
    item = parse_limit(_rating_limit())
    if not limiter.limiter.hit(item, "public-rating", _network()):
        abort(429)


def _point(link_key: str):
    point = public_ratings.enter_by_link(link_key)
    if point is None:
        abort(404)
    return point


def _with_device(response, device: str):
    if request.cookies.get(public_ratings.DEVICE_COOKIE) != device:
        response.set_cookie(
            public_ratings.DEVICE_COOKIE,
            device,
            max_age=DEVICE_SECONDS,
            httponly=True,
            secure=request.is_secure,
            samesite="Lax",
        )
    return response


@bp.route("/<link_key>", methods=["GET", "POST"])
def rate(link_key: str):
    point = _point(link_key)
    point_id = point.id  # read now: the commit of a rating expires the row
    device = request.cookies.get(public_ratings.DEVICE_COOKIE) or public_ratings.new_device()
    form = RatingForm()
    stale = False
    if request.method == "POST":
        nonce = public_ratings.nonce_of(request.form.get("nonce_token", ""), point, device)
        stale = nonce is None
        if form.validate() and not stale:
            rated = public_ratings.submit(
                point,
                public_ratings.Answer(
                    score=form.score.data,
                    reasons=tuple(form.reasons.data or ()),
                    comment=form.comment.data,
                    contact_name=form.contact_name.data,
                    contact=form.contact.data,
                    language=current_language(),
                ),
                nonce=nonce,
                device=device,
                address=request.remote_addr,
                now=utcnow(),
                before_storing=_take_one,
            )
            session[OUTCOME_KEY] = {"point": point_id, **rated.told}
            response = redirect(url_for("public.thanks", link_key=link_key), 303)
            return _with_device(response, device)
    blank = request.method == "GET"
    page = render_template(
        "public/rate.html",
        **({"questions_html": _blank_questions(form)} if blank else {}),
        point=point,
        form=form,
        stale=stale,
        nonce_token=public_ratings.form_token(point, device),
        rated_today=request.method == "GET" and public_ratings.rated_today(point, device, utcnow()),
        poor_at_most=POOR_AT_MOST,
        lang=current_language(),
    )
    status = 400 if request.method == "POST" else 200
    return _with_device(make_response(page, status), device)


def _blank_questions(form: RatingForm) -> Markup:
    """The questions of a blank form, rendered once per language and process: they hold
    nothing of the point or the visitor, and were most of the page's rendering."""
    kept = current_app.extensions.setdefault("survey.public_questions", {})
    lang = current_language()
    html = kept.get(lang)
    if html is None:
        html = kept[lang] = Markup(render_template("public/_questions.html", form=form))
    return html


@bp.errorhandler(404)
def link_not_in_use(_error):
    return render_template("public/unavailable.html", reason="link"), 404


@bp.errorhandler(429)
def too_many(_error):
    return render_template("public/unavailable.html", reason="busy"), 429


@bp.get("/<link_key>/thanks")
def thanks(link_key: str):
    point = _point(link_key)
    shown = session.get(OUTCOME_KEY) or {}
    if shown.get("point") != point.id:
        shown = {}
    return render_template(
        "public/thanks.html",
        point=point,
        shown=shown,
        due=date.fromisoformat(shown["due"]) if shown.get("due") else None,
        days=feedback_cases.deadline_days(point.office_id),
        lang=current_language(),
        title=_("Thank you"),
    )
