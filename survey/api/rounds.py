"""JSON for other systems: the rounds and a round's results, the same figures as the
dashboard and ``flask analyse`` (documented in the README)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, jsonify, request, url_for
from flask_login import current_user

from survey import rounds
from survey.api import bp
from survey.extensions import db
from survey.formatting import plain_value, records
from survey.i18n import current_language
from survey.models import Round
from survey.results import RoundResults, data_versions, exports, round_results

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


def _lang() -> str:
    lang = request.args.get("lang")
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
        "results_url": url_for("api.round_results_json", round_id=round_.id),
        "dashboard_url": url_for("review.round", round_id=round_.id),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@bp.get("/rounds")
@reader_required
def rounds_index():
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
@reader_required
def round_results_json(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    results = round_results(round_)
    body = results_json(results, _lang())
    body["round"] = round_json(round_, rounds.progress_of(round_), results.responses)
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
