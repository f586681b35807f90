"""The quality lead's results: the rounds, a round's dashboard, drill-downs, comments, charts
and downloads. Each view parses the URL, calls one function and renders."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request, send_file
from flask_login import current_user, login_required

from survey.converters import parse_id
from survey.extensions import db
from survey.i18n import current_language
from survey.models import Round
from survey.permissions import may_take_identified_answers, role_required
from survey.results import charts, exports, report, round_results, workbook
from survey.review import bp, pages
from survey.review.forms import comment_filter_form

REVIEWERS = ("quality_lead",)  # admin always passes role_required


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _lang() -> str:
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_language()


@bp.get("/")
@role_required(*REVIEWERS)
def index():
    archived = request.args.get("archived") == "1"
    return render_template("review/index.html", **pages.index_page(archived), archived=archived)


@bp.get("/rounds/<int:round_id>")
@role_required(*REVIEWERS)
def round(round_id: int):
    return render_template("review/round.html", **pages.round_page(_round(round_id), _lang()))


@bp.get("/rounds/<int:round_id>/categories/<category>")
@role_required(*REVIEWERS)
def category(round_id: int, category: str):
    page = pages.category_page(_round(round_id), category, _lang())
    return render_template("review/category.html", **page)


@bp.get("/rounds/<int:round_id>/items/<question>")
@role_required(*REVIEWERS)
def item(round_id: int, question: str):
    page = pages.item_page(_round(round_id), question, request.args.get("unit"), _lang())
    return render_template("review/item.html", **page)


@bp.get("/rounds/<int:round_id>/groups/<group>")
@role_required(*REVIEWERS)
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
    page = pages.unit_page(_round(round_id), served_unit, _lang())
    return render_template("review/unit.html", reviewer=reviewer, **page)


@bp.get("/rounds/<int:round_id>/comments")
@role_required(*REVIEWERS)
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
def export_answers(round_id: int):
    """The raw answers: a named round's name each response's unit, so they need the permission
    to take identified answers (403 without it); an anonymous round's keep no unit."""
    round_ = _round(round_id)
    if exports.identifies_units(round_) and not may_take_identified_answers(current_user):
        abort(403)
    lang = _lang()
    exports.record_download(round_, "csv", raw=True, language=lang)
    return exports.answers_csv_response(round_, lang)


@bp.get("/rounds/<int:round_id>/tables/<table>.csv")
@role_required(*REVIEWERS)
def export_table(round_id: int, table: str):
    round_, lang = _round(round_id), _lang()
    response = exports.table_csv_response(round_, table, lang)
    exports.record_download(round_, "csv", table=table, language=lang)
    return response


@bp.get("/rounds/<int:round_id>/results.xlsx")
@role_required(*REVIEWERS)
def export_workbook(round_id: int):
    """The workbook; its Raw data sheet only for those who may take the round's raw answers."""
    round_, lang = _round(round_id), _lang()
    raw = not exports.identifies_units(round_) or may_take_identified_answers(current_user)
    path, name = workbook.workbook(round_, lang, raw=raw)
    exports.record_download(round_, "xlsx", raw=raw, language=lang)
    return send_file(
        path, as_attachment=True, download_name=name, mimetype=workbook.XLSX_MIMETYPE, max_age=0
    )


@bp.get("/rounds/<int:round_id>/report.pdf")
@role_required(*REVIEWERS)
def report_pdf(round_id: int):
    round_, lang = _round(round_id), _lang()
    path, name = report.pdf(round_, lang)
    exports.record_download(round_, "pdf", language=lang)
    return send_file(
        path, as_attachment=False, download_name=name, mimetype="application/pdf", max_age=0
    )
