"""Several offices on one installation, in a real browser: each office's staff see their own
office only, and the provincial quality lead, who works for all six, switches between them
(`flask demo-offices`, as `make run` loads it)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

PROVINCIAL = ("shaoxing,ningbo,xiacheng,jiaxing,huzhou,shangyu", "quality_lead")


def _round_of(live_server, office: str, name: str = "2004 autumn") -> int:
    with closing(sqlite3.connect(f"file:{live_server.database}?mode=ro", uri=True)) as conn:
        return conn.execute(
            "SELECT r.id FROM survey_round r JOIN office o ON o.id = r.office_id"
            " WHERE o.code = ? AND r.name = ?",
            (office, name),
        ).fetchone()[0]


def _log_in(page, live_server, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form [type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_each_offices_staff_see_their_own_office_only(live_server, new_page, login, shot):
    shaoxing_round, ningbo_round = live_server.round_id, _round_of(live_server, "ningbo")
    assert shaoxing_round != ningbo_round

    ningbo = new_page(locale="en-US", **DESKTOP)
    _log_in(ningbo, live_server, *live_server.office_accounts[("ningbo", "quality_lead")])
    ningbo.goto(f"{live_server.url}/review/")
    expect(ningbo.locator(".site-header__brand")).to_contain_text("Ningbo Municipal")
    expect(ningbo.locator(f"a[href='/review/rounds/{ningbo_round}']")).to_be_visible()
    expect(ningbo.locator(f"a[href='/review/rounds/{shaoxing_round}']")).to_have_count(0)
    shot(ningbo, "ningbo-results")
    response = ningbo.goto(f"{live_server.url}/review/rounds/{shaoxing_round}")
    assert response.status == 404
    assert ningbo.locator("#office-switch").count() == 0  # one office: nothing to switch

    shaoxing = new_page(locale="en-US", **DESKTOP)
    login(shaoxing, "quality_lead")
    shaoxing.goto(f"{live_server.url}/review/")
    expect(shaoxing.locator(".site-header__brand")).to_contain_text("Shaoxing Municipal")
    expect(shaoxing.locator(f"a[href='/review/rounds/{shaoxing_round}']")).to_be_visible()
    response = shaoxing.goto(f"{live_server.url}/review/rounds/{ningbo_round}")
    assert response.status == 404


def test_the_provincial_lead_switches_between_offices(live_server, new_page, shot):
    shaoxing_round, ningbo_round = live_server.round_id, _round_of(live_server, "ningbo")
    page = new_page(locale="zh-CN", **PHONE)
    _log_in(page, live_server, *live_server.office_accounts[PROVINCIAL])
    page.goto(f"{live_server.url}/review/")
    switch = page.locator("#office-switch")
    expect(switch.locator("option")).to_have_count(6)
    expect(page.locator(".site-header__brand")).to_contain_text("绍兴市人民政府办公室")
    expect(page.locator(f"a[href='/review/rounds/{shaoxing_round}']")).to_be_visible()
    shot(page, "shaoxing")

    switch.select_option("ningbo")
    page.get_by_role("button", name="切换办公室").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/review/")
    expect(page.locator(".site-header__brand")).to_contain_text("宁波市人民政府办公厅")
    expect(page.locator(f"a[href='/review/rounds/{ningbo_round}']")).to_be_visible()
    expect(page.locator(f"a[href='/review/rounds/{shaoxing_round}']")).to_have_count(0)
    shot(page, "ningbo")
    assert page.goto(f"{live_server.url}/review/rounds/{ningbo_round}").status == 200
    assert page.goto(f"{live_server.url}/review/rounds/{shaoxing_round}").status == 404


def test_the_provincial_lead_sees_the_offices_side_by_side(live_server, new_page, shot):
    """The six offices' rounds on the questionnaire Shaoxing shared: the provincial lead sees
    each office named with its figures; Ningbo's lead sees Ningbo against the other five's
    distribution, none of them named."""
    page = new_page(locale="en-US", **DESKTOP)
    _log_in(page, live_server, *live_server.office_accounts[PROVINCIAL])
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name="Across offices").click()
    side = page.locator("section", has=page.get_by_role("heading", name="side by side"))
    names = ["Shaoxing", "Ningbo", "Xiacheng", "Jiaxing", "Huzhou", "Shangyu"]
    summary = side.locator("table").first.locator("tbody tr")
    expect(summary).to_have_count(6)
    for row, name in zip(summary.all(), names):
        expect(row).to_contain_text(name)
        expect(row).to_contain_text("2004 spring")  # the latest round with final results
    items = side.locator("table.table--side-by-side")
    expect(items.locator("thead th")).to_have_count(1 + 6)
    expect(items.locator("tbody tr").first).to_contain_text("%")
    shot(page, "provincial-side-by-side")

    ningbo = new_page(locale="en-US", **PHONE)
    _log_in(ningbo, live_server, *live_server.office_accounts[("ningbo", "quality_lead")])
    ningbo.goto(f"{live_server.url}/review/offices")
    expect(ningbo.get_by_role("heading", name="This office against the others")).to_be_visible()
    expect(ningbo.locator("table.table--benchmark tbody tr").first).to_contain_text("(5 offices)")
    expect(ningbo.get_by_role("heading", name="side by side")).to_have_count(0)
    # (The questionnaire's title is the template's, which names the office that shares it.)
    benchmark = ningbo.locator("table.table--benchmark")
    for other in ("Shaoxing", "Xiacheng", "Jiaxing", "Huzhou", "Shangyu"):
        expect(benchmark).not_to_contain_text(other)
    for other in ("Xiacheng", "Jiaxing", "Huzhou", "Shangyu"):
        expect(ningbo.locator("main")).not_to_contain_text(other)
    shot(ningbo, "ningbo-against-the-others")
