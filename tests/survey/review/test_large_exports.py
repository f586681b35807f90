"""Downloads of a large round (more than EXPORT_IN_REQUEST_RESPONSES responses): the raw
answers CSV, the workbook and the report are built by the worker, the page shows the rows
written, and the file is what the request would have sent; a small round's are made in the
request. Who may take them does not change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.extensions import db
from survey.models import ResultExport
from survey.results import export_jobs, exports


class Queue:
    """``export_jobs.build_export`` as the views see it: what was enqueued (no worker runs
    it), and ``call_local`` that builds at once."""

    def __init__(self):
        self.enqueued: list[int] = []

    def __call__(self, export_id: int) -> None:
        self.enqueued.append(export_id)

    def call_local(self, export_id: int) -> None:
        export_jobs.build(export_id)


@pytest.fixture
def queue(monkeypatch) -> Queue:
    queue = Queue()
    monkeypatch.setattr(export_jobs, "build_export", queue)
    return queue


@pytest.fixture
def large(app):
    app.config["EXPORT_IN_REQUEST_RESPONSES"] = 5  # the known round has 10 responses


def test_a_large_rounds_raw_answers_are_built_by_the_worker_with_rows_shown(
    app, client, auth, known_round, queue, large
):
    auth.login(role="quality_lead")
    response = client.get(f"/review/rounds/{known_round.id}/answers.csv?lang=en")
    (export_id,) = queue.enqueued
    assert response.status_code == 302 and response.location.endswith(f"/exports/{export_id}")
    export = db.session.get(ResultExport, export_id)
    export.rows_done, export.rows_total = 4000, 10000
    db.session.commit()
    page = client.get(f"/review/rounds/{known_round.id}/exports/{export_id}?lang=en").text
    assert "Rows of raw answers written" in page and "4,000</span> / <span" in page
    status = client.get(f"/review/rounds/{known_round.id}/exports/{export_id}.json").json
    assert (status["rows"], status["rows_total"]) == (4000, 10000)


def test_the_worker_builds_the_csv_the_request_streamed(
    app, client, auth, known_round, queue, large, monkeypatch
):
    auth.login(role="quality_lead")
    client.get(f"/review/rounds/{known_round.id}/answers.csv?lang=en")
    monkeypatch.setattr(exports, "CHUNK", 3)  # several chunks, each counted
    with app.test_request_context():
        export_jobs.build(queue.enqueued[0])
        streamed = "".join(exports.answers_csv(known_round, "en"))
    export = db.session.get(ResultExport, queue.enqueued[0])
    assert (export.status, export.rows_done, export.rows_total) == ("done", 10, 10)
    download = client.get(f"/review/rounds/{known_round.id}/exports/{export.id}/file")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data.decode("utf-8") == streamed and streamed.count("\n") == 11


def test_a_small_rounds_exports_are_made_in_the_request(client, auth, known_round, queue):
    auth.login(role="quality_lead")
    for name, mimetype in (("results.xlsx", "sheet"), ("report.pdf", "pdf")):
        response = client.get(f"/review/rounds/{known_round.id}/{name}?lang=en")
        assert response.status_code == 200 and mimetype in response.mimetype
    assert client.get(f"/review/rounds/{known_round.id}/answers.csv").mimetype == "text/csv"
    assert queue.enqueued == []
    kinds = db.session.scalars(select(ResultExport.kind)).all()
    assert sorted(kinds) == ["pdf", "xlsx"]  # the small CSV streams: no record


def test_a_large_named_rounds_raw_answers_stay_with_those_who_may_take_them(
    app, client, auth, known_round, queue, large
):
    auth.login(role="quality_lead")
    client.get(f"/review/rounds/{known_round.id}/answers.csv")
    (export_id,) = queue.enqueued
    app.config["RAW_ANSWER_ROLES"] = []
    assert client.get(f"/review/rounds/{known_round.id}/answers.csv").status_code == 403
    for path in ("", ".json", "/file"):
        url = f"/review/rounds/{known_round.id}/exports/{export_id}{path}"
        assert client.get(url).status_code == 403
    assert queue.enqueued == [export_id]
