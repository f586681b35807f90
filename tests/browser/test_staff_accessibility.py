"""axe-core on the quality lead's pages: the round's dashboard and a corrective action's page
have no violation of impact "serious" or "critical", in English and in Chinese.

Each run prints axe's summary and writes the full report as test-artifacts/browser/axe-<page>.txt.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_quality_lead_journey import load_every_chart
from tests.browser.test_respondent_accessibility import assert_accessible


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_dashboard_is_accessible(locale, new_page, login, live_server, shot):
    page = new_page(locale, **DESKTOP)
    login(page, "quality_lead")
    page.goto(f"{live_server.url}/review/rounds/{live_server.round_id}")
    load_every_chart(page)
    shot(page, "dashboard", full_page=True)
    assert_accessible(page, f"dashboard-{locale}")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_action_page_is_accessible(locale, new_page, login, live_server, shot):
    page = new_page(locale, **DESKTOP)
    login(page, "quality_lead")
    page.goto(f"{live_server.url}/actions/")
    page.locator("table.action-table tbody tr th a").first.click()
    expect(page.locator("#history")).to_be_visible()
    load_every_chart(page)
    shot(page, "action", full_page=True)
    assert_accessible(page, f"action-{locale}")
