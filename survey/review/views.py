"""The quality lead's results: the rounds, a round's dashboard, drill-downs, comments, charts
and downloads. Each view parses the URL, calls one function and renders."""

from __future__ import annotations

from functools import wraps

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from survey.converters import parse_id
from survey.extensions import db
from survey.i18n import current_language
from survey.models import ResultExport, Round, utcnow
from survey.permissions import may_take_identified_answers, role_required
from survey.post_form import EmptyForm
from survey.results import charts, export_jobs, exports, round_results, sealed
from survey.review import bp, pages
from survey.review.forms import comment_filter_form

REVIEWERS = ("quality_lead",)  # admin always passes role_required


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _lang() -> str:
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_language()


def _sealed_page(round_: Round):
    """The answer to a page or download of an open round whose figures are sealed for the
    visitor (``survey.results.sealing``): 403, saying why and when they show; else None."""
    if not sealed(round_, current_user):
        return None
    reviewer = current_user.role in (*REVIEWERS, "admin")
    page = render_template("review/sealed.html", round=round_, lang=_lang(), reviewer=reviewer)
    return page, 403


def unsealed(view):
    """Every view of a round's figures but its dashboard (which then shows the response rate
    only) goes through this, after the role check; tests/survey/review/test_sealing.py checks
    that each route with a round in its path does."""

    @wraps(view)
    def wrapped(round_id: int, *args, **kwargs):
        return _sealed_page(_round(round_id)) or view(round_id, *args, **kwargs)

    return wrapped


@bp.get("/")
@role_required(*REVIEWERS)
def index():
    archived = request.args.get("archived") == "1"
    return render_template("review/index.html", **pages.index_page(archived), archived=archived)


@bp.get("/offices")
@role_required(*REVIEWERS)
def offices():
    """The shared questionnaires' items across offices: this office against the others'
    distribution, and the offices the visitor leads side by side."""
    page = pages.offices_page(
        current_user,
        request.args.get("template"),
        _lang(),
        current_app.config["BENCHMARK_MIN_OFFICES"],
    )
    return render_template("review/offices.html", **page)


@bp.get("/rounds/<int:round_id>")
@role_required(*REVIEWERS)
def round(round_id: int):
    """The dashboard; while the round's figures are sealed for the visitor, its response
    rate only (``survey.results.sealing``)."""
    round_ = _round(round_id)
    page = pages.round_page(round_, _lang(), sealed=sealed(round_, current_user))
    return render_template("review/round.html", **page)


@bp.get("/rounds/<int:round_id>/categories/<category>")
@role_required(*REVIEWERS)
@unsealed
def category(round_id: int, category: str):
    page = pages.category_page(_round(round_id), category, _lang())
    return render_template("review/category.html", **page)


@bp.get("/rounds/<int:round_id>/items/<question>")
@role_required(*REVIEWERS)
@unsealed
def item(round_id: int, question: str):
    page = pages.item_page(_round(round_id), question, request.args.get("unit"), _lang())
    return render_template("review/item.html", **page)


@bp.get("/rounds/<int:round_id>/groups/<group>")
@role_required(*REVIEWERS)
@unsealed
def group(round_id: int, group: str):
    return render_template(
        "review/group.html", **pages.group_page(_round(round_id), group, _lang())
    )


@bp.get("/rounds/<int:round_id>/units/<served_unit>")
@login_required
def unit(round_id: int, served_unit: str):
    """A served unit's scorecard: for the quality lead, and for the staff of that unit (a
    division sees its own scorecard, and no other page of the results)."""
    reviewer = current_user.role in (*REVIEWERS, "admin")
    own = current_user.unit is not None and current_user.unit.code == served_unit
    if not (reviewer or own):
        abort(403)
    sealed_page = _sealed_page(_round(round_id))
    if sealed_page:
        return sealed_page
    page = pages.unit_page(_round(round_id), served_unit, _lang())
    return render_template("review/unit.html", reviewer=reviewer, **page)


@bp.get("/rounds/<int:round_id>/comments")
@role_required(*REVIEWERS)
@unsealed
def comments(round_id: int):
    round_ = _round(round_id)
    results = round_results(round_)
    form = comment_filter_form(
        request.args, results.labels[_lang()], results.small_groups(), pages.rating_points(round_)
    )
    filters = form.filters() if form.validate() else {}
    number = min(parse_id(request.args.get("page")) or 1, pages.LAST_PAGE)
    page = pages.comments_page(round_, filters, number, _lang())
    return render_template("review/comments.html", form=form, **page)


@bp.get("/rounds/<int:round_id>/charts/<kind>.<fmt>")
@role_required(*REVIEWERS)
@unsealed
def chart(round_id: int, kind: str, fmt: str):
    results = round_results(_round(round_id))
    category = request.args.get("category") or None
    known = set(results.categories["category"].astype("str"))
    if (
        kind not in charts.CHART_KINDS
        or fmt not in charts.FORMATS
        or category not in known | {None}
    ):
        abort(404)
    data = charts.image(results, charts.Chart(kind, _lang(), category), fmt)
    response = Response(data, mimetype=charts.FORMATS[fmt])
    # The URL carries the data version (?v=), so a browser may keep the image.
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


# Every download below is recorded in the audit log before it leaves (exports.record_download).


@bp.get("/rounds/<int:round_id>/answers.csv")
@role_required(*REVIEWERS)
@unsealed
def export_answers(round_id: int):
    """The raw answers: a named round's name each response's unit, so they need the permission
    to take identified answers (403 without it); an anonymous round's keep no unit."""
    round_ = _round(round_id)
    if exports.identifies_units(round_) and not may_take_identified_answers(current_user):
        abort(403)
    if not export_jobs.in_request(round_):
        return _export(round_, "csv")  # a large round's: built by the worker, with progress
    lang = _lang()
    exports.record_download(round_, "csv", raw=True, language=lang)
    return exports.answers_csv_response(round_, lang)


@bp.get("/rounds/<int:round_id>/tables/<table>.csv")
@role_required(*REVIEWERS)
@unsealed
def export_table(round_id: int, table: str):
    round_, lang = _round(round_id), _lang()
    response = exports.table_csv_response(round_, table, lang)
    exports.record_download(round_, "csv", table=table, language=lang)
    return response


# The workbook and the report are built by a background job into the shared storage
# (survey.results.export_jobs): sent at once when a fresh file exists, else a progress page.


@bp.get("/rounds/<int:round_id>/results.xlsx")
@role_required(*REVIEWERS)
@unsealed
def export_workbook(round_id: int):
    """The workbook; its Raw data sheet only for those who may take the round's raw answers."""
    return _export(_round(round_id), "xlsx")


@bp.get("/rounds/<int:round_id>/report.pdf")
@role_required(*REVIEWERS)
@unsealed
def report_pdf(round_id: int):
    return _export(_round(round_id), "pdf")


def _export(round_: Round, kind: str):
    spec = export_jobs.spec(round_, kind, _lang(), current_user)
    export, enqueue = export_jobs.request(spec, current_user, utcnow())
    if enqueue and export_jobs.in_request(round_):
        export_jobs.build_export.call_local(export.id)  # small: made here and sent at once
    elif enqueue:
        export_jobs.build_export(export.id)
    if export_jobs.ready(export):  # was ready, or built at once (tests run jobs inline)
        return _send(export)
    return redirect(url_for(".export_page", round_id=round_.id, export_id=export.id))


def _export_of(round_id: int, export_id: int) -> ResultExport:
    """The round's export, if the visitor may take it: the workbook with raw answers that name
    units only with the permission to take them (403), like its download."""
    export = db.get_or_404(ResultExport, export_id)
    if export.round_id != round_id:
        abort(404)
    raw_with_units = export.raw and exports.identifies_units(export.round)
    if raw_with_units and not may_take_identified_answers(current_user):
        abort(403)
    return export


def _send(export: ResultExport):
    data = export_jobs.open_file(export)
    exports.record_download(export.round, export.kind, raw=export.raw, language=export.language)
    kind = export_jobs.KINDS[export.kind]
    return send_file(
        data,
        as_attachment=kind.as_attachment,
        download_name=export_jobs.file_name(export),
        mimetype=kind.mimetype,
        max_age=0,
    )


@bp.get("/rounds/<int:round_id>/exports/<int:export_id>")
@role_required(*REVIEWERS)
@unsealed
def export_page(round_id: int, export_id: int):
    """The progress of an export being built, its file when ready, its reason when failed."""
    export = _export_of(round_id, export_id)
    state = export_jobs.status(export, utcnow())
    return render_template(
        "review/export.html", export=export, state=state, kind=export_jobs.KINDS[export.kind],
        round=export.round, retry_form=EmptyForm(),
    )  # fmt: skip


@bp.get("/rounds/<int:round_id>/exports/<int:export_id>.json")
@role_required(*REVIEWERS)
@unsealed
def export_status(round_id: int, export_id: int):
    response = jsonify(export_jobs.status(_export_of(round_id, export_id), utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/rounds/<int:round_id>/exports/<int:export_id>/file")
@role_required(*REVIEWERS)
@unsealed
def export_file(round_id: int, export_id: int):
    """The built file; an export not (or no longer) ready, or made of older data or under
    other settings than the round's now (a progress page left open, a bookmark), goes back to
    its download link, which joins or starts the build of the current data."""
    export = _export_of(round_id, export_id)
    now = export_jobs.spec(export.round, export.kind, export.language, current_user)
    if now.fingerprint != export.fingerprint or not export_jobs.ready(export):
        return redirect(_download_url(export))
    return _send(export)


@bp.post("/rounds/<int:round_id>/exports/<int:export_id>/retry")
@role_required(*REVIEWERS)
@unsealed
def export_retry(round_id: int, export_id: int):
    export = _export_of(round_id, export_id)
    if EmptyForm().validate_on_submit() and export_jobs.requeue(export, utcnow()):
        export_jobs.build_export(export.id)
    return redirect(url_for(".export_page", round_id=round_id, export_id=export_id))


def _download_url(export: ResultExport) -> str:
    endpoint = {"csv": ".export_answers", "xlsx": ".export_workbook"}.get(
        export.kind, ".report_pdf"
    )
    return url_for(endpoint, round_id=export.round_id, lang=export.language)
