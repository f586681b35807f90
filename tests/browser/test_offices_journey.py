"""Several offices on one installation, in a real browser: each office's staff see their own
office only, and the provincial quality lead, who works for all three, switches between them
(`flask demo-offices`, as `make run` loads it)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

PROVINCIAL = ("shaoxing,ningbo,xiacheng", "quality_lead")


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
    expect(switch.locator("option")).to_have_count(3)
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
