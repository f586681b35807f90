"""The workbook and report buttons with exports built in the background: a fresh file is sent
at once; otherwise a record and a job, a progress page while it runs (JSON for the script,
a meta refresh without), the reason and a retry button when it failed, a rebuild after a new
response. (Tests run jobs inline, so a new export is done within its request.)"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.extensions import db
from survey.models import AuditEvent, ResultExport, utcnow
from survey.results import export_jobs


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """The export ids the job built, in order."""
    built, build = [], export_jobs.build
    monkeypatch.setattr(export_jobs, "build", lambda i: (built.append(i), build(i)))
    return built


def _exports() -> list[ResultExport]:
    db.session.expire_all()
    return list(db.session.scalars(select(ResultExport).order_by(ResultExport.id)))


def _pending(round_, user, status="running", **values) -> ResultExport:
    """The record of the export ``user`` would ask for, in the given state (another request
    started it; no worker has finished it)."""
    spec = export_jobs.spec(round_, "xlsx", "en", user)
    export = ResultExport(round_id=round_.id, kind="xlsx", language="en", raw=spec.raw,
                          fingerprint=spec.fingerprint, status=status, progress=40,
                          step="sheets", updated_at=utcnow(), **values)  # fmt: skip
    db.session.add(export)
    db.session.commit()
    return export


def test_a_request_makes_the_record_builds_it_and_downloads_the_file(
    client, auth, known_round, builds
):
    auth.login(role="quality_lead")
    url = f"/review/rounds/{known_round.id}/results.xlsx?lang=en"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == export_jobs.KINDS["xlsx"].mimetype
    assert "Raw data" in load_workbook(io.BytesIO(response.data)).sheetnames
    assert response.headers["Content-Disposition"].startswith("attachment")
    (export,) = _exports()
    assert (export.status, export.kind, export.language, export.raw) == ("done", "xlsx", "en", True)
    assert client.get(url).data == response.data  # the fresh file again, not built again
    assert builds == [export.id]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("%downloaded")))
    assert [e.detail["format"] for e in events] == ["xlsx", "xlsx"]  # each download recorded


def test_the_report_opens_in_the_browser(client, auth, known_round):
    auth.login(role="quality_lead")
    response = client.get(f"/review/rounds/{known_round.id}/report.pdf?lang=en")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("inline")


def test_a_running_export_is_joined_and_shows_its_progress(client, auth, known_round, builds):
    lead = auth.login(role="quality_lead")
    export = _pending(known_round, lead)
    response = client.get(f"/review/rounds/{known_round.id}/results.xlsx?lang=en")
    page_url = f"/review/rounds/{known_round.id}/exports/{export.id}"
    assert response.status_code == 302 and response.headers["Location"] == page_url
    page = client.get(page_url).text
    assert '<progress id="export-progress" class="export__bar" max="100" value="40">' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert "export.js" in page and "Writing the sheets" in page and "Try again" not in page
    state = client.get(f"{page_url}.json").json
    assert (state["status"], state["progress"], state["step"]) == (
        "running",
        40,
        "Writing the sheets",
    )
    assert builds == [] and len(_exports()) == 1  # joined: no second job


def test_the_file_link_of_an_unfinished_export_goes_back_to_the_download(client, auth, known_round):
    lead = auth.login(role="quality_lead")
    export = _pending(known_round, lead)
    response = client.get(f"/review/rounds/{known_round.id}/exports/{export.id}/file")
    assert response.headers["Location"].endswith(
        f"/review/rounds/{known_round.id}/results.xlsx?lang=en"
    )


def test_a_failed_export_shows_the_reason_and_retries(client, auth, known_round, builds):
    lead = auth.login(role="quality_lead")
    export = _pending(known_round, lead, status="failed", error="incident 5f0c2a91 (OSError)")
    page_url = f"/review/rounds/{known_round.id}/exports/{export.id}"
    page = client.get(f"{page_url}?lang=en").text  # the page's words, in English
    assert "could not be made" in page and "incident 5f0c2a91 (OSError)" in page
    assert f'action="{page_url}/retry"' in page and "http-equiv" not in page
    assert client.post(f"{page_url}/retry").headers["Location"] == page_url
    page = client.get(page_url).text
    assert builds == [export.id] and "The file is ready." in page
    download = re.search(r'href="([^"]+/file)"', page)[1]
    assert "Raw data" in load_workbook(io.BytesIO(client.get(download).data)).sheetnames


def test_an_export_that_stopped_moving_offers_a_retry(client, auth, known_round):
    lead = auth.login(role="quality_lead")
    export = _pending(known_round, lead)
    export.updated_at = utcnow() - timedelta(seconds=export_jobs.STALLED_SECONDS + 60)
    db.session.commit()
    page = client.get(f"/review/rounds/{known_round.id}/exports/{export.id}?lang=en").text
    assert "worker may not be running" in page and "Try again" in page and "http-equiv" not in page


def test_after_a_new_response_the_workbook_is_built_again(
    client, auth, known_round, answer, builds
):
    auth.login(role="quality_lead")
    url = f"/review/rounds/{known_round.id}/results.xlsx?lang=en"
    before = load_workbook(io.BytesIO(client.get(url).data))["Raw data"].max_row
    answer(known_round, "departments", {"doc_timeliness": 5})
    after = load_workbook(io.BytesIO(client.get(url).data))["Raw data"].max_row
    assert after == before + 1 and len(builds) == 2
    assert [e.status for e in _exports()] == ["done"]  # the older version's file is gone


def test_the_file_link_of_an_export_of_older_data_goes_to_the_current_one(
    client, auth, known_round, answer, builds
):
    auth.login(role="quality_lead")
    url = f"/review/rounds/{known_round.id}/results.xlsx?lang=en"
    client.get(url)
    (export,) = _exports()
    old_file = f"/review/rounds/{known_round.id}/exports/{export.id}/file"
    assert client.get(old_file).status_code == 200  # current: the file itself
    # A new response: an open progress page or a bookmark must not hand out the old figures
    # (nor a file made under settings that hid less).
    answer(known_round, "departments", {"doc_timeliness": 5})
    response = client.get(old_file)
    assert response.status_code == 302 and response.headers["Location"] == url


def test_a_newer_build_is_not_dropped_by_an_older_one_finishing_later(auth, known_round):
    auth.login(role="quality_lead")
    older, newer = (
        ResultExport(round_id=known_round.id, kind="xlsx", language="en", raw=True,
                     fingerprint=name, status="done", progress=100, updated_at=utcnow())
        for name in ("older data", "newer data")
    )  # fmt: skip
    db.session.add_all([older, newer])
    db.session.commit()
    export_jobs._drop_older_versions(older)
    db.session.commit()
    assert [e.id for e in _exports()] == [older.id, newer.id]
    export_jobs._drop_older_versions(newer)
    db.session.commit()
    assert [e.id for e in _exports()] == [newer.id]


def test_a_raw_export_is_refused_to_a_reader_without_the_permission(app, client, auth, known_round):
    lead = auth.login(role="quality_lead")
    export = _pending(known_round, lead, status="done")
    assert export.raw
    app.config["RAW_ANSWER_ROLES"] = []
    for path in ("", ".json", "/file"):
        url = f"/review/rounds/{known_round.id}/exports/{export.id}{path}"
        assert client.get(url).status_code == 403, path
    assert (
        client.post(f"/review/rounds/{known_round.id}/exports/{export.id}/retry").status_code == 403
    )


def test_an_export_is_found_only_under_its_own_round(client, auth, known_round, empty_round):
    lead = auth.login(role="quality_lead")
    export = _pending(known_round, lead)
    assert client.get(f"/review/rounds/{empty_round.id}/exports/{export.id}").status_code == 404
