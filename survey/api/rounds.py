"""JSON for other systems: the rounds and a round's results, the same figures as the
dashboard and ``flask analyse``, with the choice questions' counts, the drivers and the
comments, under the same anonymity rules as the review pages (documented in the README and
in the OpenAPI document, ``survey.api.spec``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, jsonify, request, url_for
from flask_login import current_user

from survey import rounds
from survey.api import bp, schemas
from survey.api.spec import operation
from survey.extensions import db
from survey.formatting import plain_value, records
from survey.i18n import current_language
from survey.models import Round
from survey.questionnaire_store import to_model
from survey.results import (
    RoundResults,
    comments_query,
    data_versions,
    exports,
    round_progress,
    round_results,
    sealed,
)

READERS = ("quality_lead", "admin")
ITEM_COLUMNS = (
    "question",
    "category",
    "served_unit",
    "n",
    "respondents",
    "satisfied",
    "rate",
    "ci_low",
    "ci_high",
    "deff",
    "n_eff",
    "mean",
    "sd",
    "dissatisfied_share",
)
CATEGORY_COLUMNS = (
    "category",
    "items",
    "n",
    "respondents",
    "rate",
    "ci_low",
    "ci_high",
    "deff",
    "n_eff",
    "mean",
    "status",
)
GROUP_COLUMNS = (
    "group",
    "respondents",
    "n",
    "satisfied",
    "rate",
    "ci_low",
    "ci_high",
    "deff",
    "n_eff",
    "mean",
    "suppressed",
)
UNIT_COLUMNS = (
    "served_unit",
    "n",
    "respondents",
    "satisfied",
    "rate",
    "ci_low",
    "ci_high",
    "deff",
    "n_eff",
    "mean",
    "status",
)
CHANGE_COLUMNS = (
    "n_before",
    "rate_before",
    "n_after",
    "rate_after",
    "difference",
    "z",
    "p_value",
    "test",
    "p_adjusted",
    "significant",
    "direction",
)


DRIVER_COLUMNS = (
    "question",
    "category",
    "served_unit",
    "n",
    "rate",
    "importance",
    "importance_low",
    "importance_high",
    "pairs",
    "quadrant",
    "reason",
)


def reader_required(view: Callable) -> Callable:
    """Logged-in quality leads and admins; 401 (not a redirect) when not logged in, 403 for
    other roles, both as JSON."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401)
        if current_user.role not in READERS:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


SEALED = (
    "The round is open and its figures are sealed until it closes: two answers taken at "
    "different times would show, by difference, the answers of whoever answered in between."
)
HELD = (
    "The round was reopened and closed again with fewer new responses in some group than its "
    "anonymity threshold: its figures are held back, since they would show those answers by "
    "difference with the figures of its earlier close."
)


def _unsealed(round_id: int) -> Round:
    """The round, if its figures are not sealed for the caller (``survey.results.sealing``):
    403 with the reason when they are."""
    round_ = db.get_or_404(Round, round_id)
    if sealed(round_, current_user):
        abort(403, description=HELD if round_.status == "closed" else SEALED)
    return round_


def _lang() -> str:
    lang = getattr(g.get("api_query"), "lang", None) or request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else current_language()


def round_json(round_: Round, progress: rounds.Progress, responses: int) -> dict[str, Any]:
    version = round_.version
    return {
        "id": round_.id,
        "name": round_.name,
        "status": round_.status,
        "questionnaire": version.questionnaire.code,
        "version": version.number,
        "opens_at": _iso(round_.opens_at),
        "closes_at": _iso(round_.closes_at),
        "anonymous": round_.anonymous,
        "archived_at": _iso(round_.archived_at),
        "invited": progress.invited,
        "submitted": progress.submitted,
        "response_rate": progress.rate,
        "responses": responses,
        "sealed": sealed(round_, current_user),
        "results_url": url_for("api.round_results_json", round_id=round_.id),
        "dashboard_url": url_for("review.round", round_id=round_.id),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@bp.get("/rounds")
@operation(
    summary="The survey rounds, newest first",
    scope="read_results",
    query=schemas.RoundsQuery,
    response=schemas.RoundsOut,
)
@reader_required
def rounds_index():
    """Every round in use (archived ones only with archived=1), with its response rate."""
    # As on the results page: archived rounds only when asked for, so a client can still find them.
    archived = request.args.get("archived") == "1"
    listed = list(db.session.scalars(rounds.newest_first(archived)))
    progress = rounds.progress_by_round()
    counts = data_versions([r.id for r in listed])
    empty = rounds.Progress(0, 0, 0)
    return jsonify(
        {"rounds": [round_json(r, progress.get(r.id, empty), counts[r.id][0]) for r in listed]}
    )


@bp.get("/rounds/<int:round_id>/results")
@operation(
    summary="A round's results",
    scope="read_results",
    query=schemas.ResultsQuery,
    response=schemas.ResultsOut,
)
@reader_required
def round_results_json(round_id: int):
    """The round's figures as on its dashboard: categories, items, groups (small ones without
    figures), served units, the comparison with the previous round, the choice questions'
    counts and the drivers. Each request is recorded in the audit log."""
    round_ = _unsealed(round_id)
    results = round_results(round_)
    lang = _lang()
    body = results_json(results, lang)
    body["choice_questions"] = choice_questions(round_, results, lang)
    body["comments_url"] = url_for("api.round_comments", round_id=round_.id)
    # The dashboard's response rate, recounted every 30 s (a million invitations: a second).
    body["round"] = round_json(round_, round_progress(round_, results)[0], results.responses)
    # Audited once per request, like every other download of results.
    exports.record_download(round_, "json", language=body["language"])
    return jsonify(body)


def results_json(results: RoundResults, lang: str) -> dict[str, Any]:
    """The round's figures: summary, categories, items (lowest rate first, as ``flask
    analyse``), groups (suppressed rows without figures), served units, weighted figures
    and the comparison with the previous round (null when there is none)."""
    labels = results.labels[lang]
    summary = results.summary
    return {
        "data_version": results.version_tag,
        "language": lang,
        "thresholds": {"rate": results.threshold, "anonymity": results.anonymity_threshold},
        "summary": {
            name: plain_value(getattr(summary, name)) for name in summary.__dataclass_fields__
        },
        "categories": _labelled(records(results.categories, CATEGORY_COLUMNS), labels),
        "items": _labelled(records(results.items, ITEM_COLUMNS), labels),
        "below_threshold": _labelled(records(results.below), labels),
        "groups": _labelled(records(results.groups, GROUP_COLUMNS), labels),
        "group_categories": _labelled(
            records(
                results.group_categories,
                (
                    "group",
                    "category",
                    "respondents",
                    "n",
                    "rate",
                    "ci_low",
                    "ci_high",
                    "deff",
                    "n_eff",
                    "suppressed",
                ),
            ),
            labels,
        ),
        "served_units": _labelled(records(results.served_units, UNIT_COLUMNS), labels),
        # Items too few answered to publish (left out of every figure above), and the groups
        # only ever reported together: what the anonymity rule held back.
        "withheld_items": _labelled(
            records(results.disclosure.withheld) if results.disclosure else [], labels
        ),
        "other_groups": sorted(results.small_groups()),
        "weighted": _weighted(results, labels),
        "previous_round": _previous(results, labels),
        "drivers": _labelled(records(results.drivers, DRIVER_COLUMNS), labels),
    }


def _labelled(rows: list[dict[str, Any]], labels) -> list[dict[str, Any]]:
    names = {
        "question": labels.questions,
        "category": labels.categories,
        "group": labels.groups,
        "served_unit": labels.served_units,
    }
    for row in rows:
        for key, mapping in names.items():
            if key in row:
                row[f"{key}_label"] = mapping.get(row[key], row[key]) if row[key] else None
    return rows


def _weighted(results: RoundResults, labels) -> dict[str, Any] | None:
    if not results.weighted:
        return None
    return {
        "round": records(results.weighted["round"])[0],
        "categories": _labelled(records(results.weighted["categories"]), labels),
        "items": _labelled(records(results.weighted["items"]), labels),
    }


def _previous(results: RoundResults, labels) -> dict[str, Any] | None:
    comparison = results.comparison
    if comparison is None:
        return None
    return {
        "id": comparison.round_id,
        "name": comparison.name,
        "categories": _labelled(
            records(comparison.categories, ("category", *CHANGE_COLUMNS)), labels
        ),
        "items": _labelled(
            records(comparison.items, ("question", "category", "served_unit", *CHANGE_COLUMNS)),
            labels,
        ),
    }


def choice_questions(round_: Round, results: RoundResults, lang: str) -> list[dict[str, Any]]:
    """Each choice question of the round with the count of every choice (in the
    questionnaire's order, zero included), for the round as a whole: never by group. A
    question too few answered is ``withheld``, without counts."""
    table = records(results.choices) if results.choices is not None else []
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in table:
        rows.setdefault(row["question"], []).append(row)
    out = []
    for question in to_model(round_.version).questions():
        if question.type not in ("choice", "multi"):
            continue
        found = rows.get(question.code, [])
        withheld = not found or found[0]["withheld"]
        respondents = None if withheld else int(found[0]["respondents"])
        counts = {r["choice"]: int(r["count"]) for r in found if not withheld}
        out.append(
            {
                "question": question.code,
                "question_label": question.text.get(lang) or question.code,
                "type": question.type,
                "respondents": respondents,
                "withheld": withheld,
                "choices": []
                if withheld
                else [
                    {
                        "choice": c.code,
                        "label": c.label.get(lang) or c.code,
                        "count": counts.get(c.code, 0),
                        "share": counts.get(c.code, 0) / respondents if respondents else None,
                    }
                    for c in question.choices
                ],
            }
        )
    return out


COMMENTS_PER_PAGE = 50


@bp.get("/rounds/<int:round_id>/comments")
@operation(
    summary="A round's comments and free-text answers",
    scope="read_results",
    query=schemas.CommentsQuery,
    response=schemas.CommentsOut,
)
@reader_required
def round_comments(round_id: int):
    """The comments on low ratings and the free-text answers, by question, 50 a page, with the
    review page's rules: a group the anonymity rule hides is never named (null: "other
    groups") and filtering on it gives nothing; rated comments of withheld items are left out.
    """
    round_ = _unsealed(round_id)
    results = round_results(round_)
    args: schemas.CommentsQuery = g.api_query
    lang = _lang()
    labels = results.labels[lang]
    query = comments_query(
        round_,
        question=args.question,
        group=args.group,
        rating=args.rating,
        **results.undisclosed(),
    )
    page = db.paginate(query, page=args.page, per_page=COMMENTS_PER_PAGE, error_out=False)
    other = str(OTHER_GROUPS_LABEL[lang])
    comments = []
    for answer in page.items:
        group = answer.response.group.code
        named = results.names_group(group, answer.question_code)
        comments.append(
            {
                "question": answer.question_code,
                "question_label": labels.questions.get(answer.question_code, answer.question_code),
                "group": group if named else None,
                "group_label": labels.groups.get(group, group) if named else other,
                "rating": answer.value,
                "text": answer.comment or answer.text or "",
                "kind": "follow_up" if answer.comment else "free_text",
                "source": answer.response.source,
            }
        )
    return jsonify(
        {
            "round_id": round_.id,
            "language": lang,
            "total": page.total or 0,
            "page": page.page,
            "pages": page.pages,
            "per_page": COMMENTS_PER_PAGE,
            "comments": comments,
        }
    )


# The review page's words for the groups it does not name.
OTHER_GROUPS_LABEL = {"zh": "其他组别", "en": "other groups"}
