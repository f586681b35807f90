"""The workbook built in the background, in a real browser: the quality lead clicks the Excel
button of the dashboard while the export waits for the worker, sees the progress page (the
page's script polls the status), the worker builds the file, the page offers it, and the
download is the workbook. Screenshots of the progress page on a desk PC and a phone.

The live server runs jobs at once, in its request; to see the page that a worker's delay
shows, the test makes the export's record first, as an earlier request would have, and then
plays the worker itself: ``export_jobs.build`` in an app of its own on the server's database
and instance folder.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from survey import create_app, offices, tenancy
from survey.extensions import db
from survey.models import Round, User, utcnow
from survey.results import export_jobs
from tests.browser.conftest import DESKTOP, PHONE


@pytest.fixture
def worker(live_server, monkeypatch) -> Iterator[Flask]:
    """An app on the live server's database and instance folder, as a worker process has."""
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(live_server.instance))
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{live_server.instance / 'survey.sqlite'}",
         "SECRET_KEY": "test", "BASE_URL": live_server.url}
    )  # fmt: skip
    with app.app_context():
        # The server serves three offices; the job works for the office that queued it.
        tenancy.enter(offices.by_code("shaoxing").id)
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_workbook_download_shows_progress_and_offers_the_file(
    live_server, worker, new_page, login, shot, tmp_path
):
    email = live_server.accounts["quality_lead"][0]
    lead = db.session.scalar(select(User).where(User.email == email))
    round_ = db.session.get(Round, live_server.round_id)
    spec = export_jobs.spec(round_, "xlsx", "en", lead)
    export, _ = export_jobs.request(spec, lead, utcnow())  # queued; no worker has taken it yet

    page = new_page(locale="en-US", **DESKTOP)
    login(page, "quality_lead")
    page.goto(f"{live_server.url}/review/rounds/{round_.id}?lang=en")
    page.locator("nav.downloads").get_by_role("link", name="Excel").click()
    expect(page.locator("h1")).to_have_text("Excel workbook")
    expect(page.get_by_role("status")).to_contain_text("Waiting for the worker to start")
    assert page.url.endswith(f"/exports/{export.id}")
    shot(page, "progress-desk")

    phone = new_page(locale="zh-CN", **PHONE)
    login(phone, "quality_lead")
    phone.goto(page.url)
    expect(phone.locator("progress")).to_be_visible()
    shot(phone, "progress-phone")

    export_jobs.build(export.id)  # the worker
    expect(page.get_by_text("The file is ready.")).to_be_visible(timeout=15_000)  # polled
    shot(page, "ready-desk")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download Excel workbook").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.endswith("-results.xlsx")
    assert "Raw data" in load_workbook(io.BytesIO(saved.read_bytes())).sheetnames
