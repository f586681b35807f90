"""Exports built in the background: one record per fingerprint of what the file depends on,
built by a plain function into the shared storage with its progress, the same bytes the
download made before, and a failure that says why."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from survey import storage
from survey.extensions import db
from survey.models import Response, ResultExport, utcnow
from survey.results import export_jobs, round_results, workbook
from survey.results.cache import COUNTS, RESULTS, TALLIES


@pytest.fixture
def lead(make_user):
    return make_user(role="quality_lead")


def _queued(round_, lead, kind="xlsx", lang="en") -> ResultExport:
    export, enqueue = export_jobs.request(
        export_jobs.spec(round_, kind, lang, lead), lead, utcnow()
    )
    assert enqueue and export.status == "queued"
    return export


def _sheets(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's rows, but the Summary's time of making."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {
        sheet.title: [row for row in sheet.iter_rows(values_only=True) if row[:1] != ("Generated",)]
        for sheet in book.worksheets
    }


def test_building_stores_the_workbook_the_download_made_and_reports_progress(
    app, known_round, lead, monkeypatch
):
    export = _queued(known_round, lead)
    steps = []
    progress = export_jobs._progress
    monkeypatch.setattr(
        export_jobs, "_progress", lambda e, p, s: (steps.append((p, s)), progress(e, p, s))
    )
    with app.test_request_context():
        export_jobs.build(export.id)
        path, _name = workbook.workbook(known_round, "en", raw=True)
    db.session.refresh(export)
    assert (export.status, export.progress, export.step, export.error) == (
        "done",
        100,
        "done",
        None,
    )
    assert export.finished_at is not None and export.size == len(export_jobs.file(export))
    assert _sheets(export_jobs.file(export)) == _sheets(path.read_bytes())
    assert "Raw data" in _sheets(export_jobs.file(export))
    percents = [p for p, _ in steps]
    assert percents == sorted(percents) and percents[0] == 5 and percents[-1] == 95
    assert [s for _, s in steps][:2] == ["results", "sheets"] and steps[-1][1] == "storing"


def test_building_the_report_stores_a_pdf(app, known_round, lead):
    export = _queued(known_round, lead, kind="pdf")
    with app.test_request_context():
        export_jobs.build(export.id)
    db.session.refresh(export)
    assert export.status == "done" and export_jobs.file(export).startswith(b"%PDF-")


def test_the_worker_lets_the_round_s_answers_go_before_drawing_the_report(app, known_round, lead):
    """The worker keeps nothing of the round's answers for the report's drawing (80 MB at a
    million responses): a page of its own will not ask for them soon."""
    export = _queued(known_round, lead, kind="pdf")
    with app.test_request_context():
        round_results(known_round)
        assert RESULTS.get(known_round.id) is not None  # kept by the results first
        export_jobs.build(export.id)
        assert RESULTS.get(known_round.id) is None and TALLIES.get(known_round.id) is None
        assert not [key for key in COUNTS.values if key[1] == known_round.id]
        # A page of the round afterwards counts them again, the same figures.
        assert round_results(known_round).responses > 0


def test_a_new_response_or_setting_changes_the_fingerprint(app, known_round, lead, answer):
    def fingerprint(**kw):
        return export_jobs.spec(known_round, kw.get("kind", "xlsx"), kw.get("lang", "en"), lead)

    before = fingerprint().fingerprint
    assert fingerprint().fingerprint == before
    assert fingerprint(lang="zh").fingerprint != before
    assert fingerprint(kind="pdf").fingerprint != before
    answer(known_round, "departments", {"doc_timeliness": 5})
    after_response = fingerprint().fingerprint
    assert after_response != before
    known_round.thresholds = {"rate": 0.9}
    db.session.commit()
    assert fingerprint().fingerprint != after_response


def test_the_workbook_without_raw_answers_is_another_export(app, known_round, lead):
    app.config["RAW_ANSWER_ROLES"] = []
    without = export_jobs.spec(known_round, "xlsx", "en", lead)
    app.config["RAW_ANSWER_ROLES"] = ["quality_lead"]
    full = export_jobs.spec(known_round, "xlsx", "en", lead)
    assert (without.raw, full.raw) == (False, True)
    assert without.fingerprint != full.fingerprint


def test_a_second_request_joins_the_queued_or_running_export(app, known_round, lead):
    export = _queued(known_round, lead)
    spec = export_jobs.spec(known_round, "xlsx", "en", lead)
    assert export_jobs.request(spec, lead, utcnow()) == (export, False)
    export.status = "running"
    db.session.commit()
    assert export_jobs.request(spec, lead, utcnow()) == (export, False)
    assert db.session.scalars(select(ResultExport)).all() == [export]


@pytest.mark.parametrize("state", ["failed", "stalled", "file lost"])
def test_a_failed_stalled_or_file_less_export_is_queued_again(app, known_round, lead, state):
    export = _queued(known_round, lead)
    if state == "file lost":
        with app.test_request_context():
            export_jobs.build(export.id)
        storage.delete(export.storage_key)
    elif state == "stalled":
        export.status = "running"
        export.updated_at = utcnow() - timedelta(seconds=export_jobs.STALLED_SECONDS + 1)
    else:
        export.status, export.error = "failed", "incident 1234abcd (OSError)"
    db.session.commit()
    spec = export_jobs.spec(known_round, "xlsx", "en", lead)
    assert export_jobs.request(spec, lead, utcnow()) == (export, True)
    assert (export.status, export.progress, export.error) == ("queued", 0, None)


def test_a_failure_is_recorded_with_an_incident_and_raised(
    app, known_round, lead, monkeypatch, caplog
):
    export = _queued(known_round, lead)

    def broken(export, progress):
        raise OSError("the shared folder is full")

    monkeypatch.setitem(export_jobs.BUILDERS, "xlsx", broken)
    with pytest.raises(OSError):
        export_jobs.build(export.id)
    db.session.refresh(export)
    assert export.status == "failed" and export.finished_at is not None
    incident = export.error.split()[1]
    assert export.error == f"incident {incident} (OSError)"
    assert f"incident {incident}" in caplog.text and "the shared folder is full" in caplog.text
    assert export_jobs.status(export, utcnow())["retry"] is True


def test_an_export_another_worker_is_building_is_left_to_it(app, known_round, lead, monkeypatch):
    export = _queued(known_round, lead)
    export.status, export.progress = "running", 40
    db.session.commit()
    monkeypatch.setitem(export_jobs.BUILDERS, "xlsx", pytest.fail)
    export_jobs.build(export.id)
    db.session.refresh(export)
    assert (export.status, export.progress) == ("running", 40)


def test_a_newer_build_removes_the_older_versions_file(app, known_round, lead, answer):
    with app.test_request_context():
        old = _queued(known_round, lead)
        export_jobs.build(old.id)
        old_id, old_key = old.id, old.storage_key
        answer(known_round, "departments", {"doc_timeliness": 5})
        new = _queued(known_round, lead)
        export_jobs.build(new.id)
    assert db.session.get(ResultExport, old_id) is None and not storage.exists(old_key)
    responses = len(_sheets(export_jobs.file(new))["Raw data"]) - 1  # the header
    assert responses == db.session.scalar(select(func.count(Response.id)).where(
        Response.round_id == known_round.id))  # fmt: skip


def test_two_requests_at_the_same_moment_make_one_record_and_one_job(
    app, known_round, lead, monkeypatch
):
    first = _queued(known_round, lead)
    spec = export_jobs.spec(known_round, "xlsx", "en", lead)
    # The second request looked before the first one's record was committed: it finds none,
    # and its insert meets the unique fingerprint.
    calls, found = [], export_jobs._by_fingerprint

    def too_early(fingerprint):
        calls.append(fingerprint)
        return None if len(calls) == 1 else found(fingerprint)

    monkeypatch.setattr(export_jobs, "_by_fingerprint", too_early)
    assert export_jobs.request(spec, lead, utcnow()) == (first, False)
    assert len(calls) == 2  # looked again after the unique constraint refused the insert
    assert db.session.scalars(select(ResultExport)).all() == [first]
