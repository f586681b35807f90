"""The quality lead's journey in a real browser, on a desk PC in English: the results of the
demo round with every chart loaded, an item below the threshold, then the corrective-action
queue: one action assigned an owner and a due date and moved one step, its history one event
longer.

The demo runs with 120 responses (see conftest.py), so the round has results, an earlier round
to compare with, corrective actions, and accounts of the served units to own them. Screenshots
of the steps are written to test-artifacts/browser/<test name>/.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import DESKTOP

LOCALE = "en-US"
DEMO_ROUND = "2004 autumn"


# ------------------------------------------------------------------------ navigation helpers


def open_dashboard(page: Page, base: str) -> None:
    """From the results' start page to the demo round's dashboard."""
    if not page.url.rstrip("/").endswith("/review"):
        page.goto(f"{base}/review/")
    expect(page.locator("h1")).to_have_text("Survey results")
    page.get_by_role("link", name=DEMO_ROUND, exact=True).click()
    expect(page.locator("h1")).to_contain_text(DEMO_ROUND)


def chart_images(page: Page) -> Locator:
    return page.locator("figure.chart img")


def load_every_chart(page: Page) -> list[dict]:
    """Scroll each (lazily loaded) chart into view and wait until it has loaded; returns the
    src, naturalWidth and alt of each."""
    images = chart_images(page)
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        image.evaluate("i => i.complete && i.naturalWidth ? null : i.decode().catch(() => null)")
    page.wait_for_function("""() => [...document.querySelectorAll('figure.chart img')]
        .every(i => i.complete)""")
    return images.evaluate_all(
        "imgs => imgs.map(i => ({src: i.getAttribute('src'), width: i.naturalWidth, "
        "alt: (i.getAttribute('alt') || '').trim()}))"
    )


def open_action_to_assign(page: Page, base: str) -> int:
    """From the queue, the first open action that has no owner yet; returns its id."""
    page.goto(f"{base}/actions/")
    expect(page.locator("h1")).to_have_text("Corrective actions")
    rows = page.locator("table.action-table tbody tr").filter(has_text="not assigned")
    row = rows.filter(has=page.locator(".badge", has_text=re.compile(r"^\s*Open\s*$"))).first
    expect(row).to_be_visible()
    number = int(row.locator("td.num").first.inner_text())
    row.get_by_role("link").first.click()
    expect(page.locator(".crumbs")).to_contain_text(f"#{number}")
    return number


def history(page: Page) -> Locator:
    return page.locator("#history .history__event")


# ------------------------------------------------------------------------------- the journey


def test_quality_lead_reviews_results_and_moves_an_action(new_page, login, live_server, shot):
    base = live_server.url
    page = new_page(LOCALE, **DESKTOP)
    login(page, "quality_lead")
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.locator("h1")).to_have_text("Survey results")
    shot(page, "lands-on-results")

    open_dashboard(page, base)
    shot(page, "dashboard")
    charts = load_every_chart(page)
    assert len(charts) >= 4, charts
    broken = [c["src"] for c in charts if not c["width"]]
    assert not broken, f"charts that did not decode: {broken}"
    no_alt = [c["src"] for c in charts if not c["alt"]]
    assert not no_alt, f"charts without a text alternative: {no_alt}"
    shot(page, "dashboard-charts-loaded", full_page=True)

    below = page.locator("#below table tbody tr")
    expect(below.first).to_be_visible()
    item = below.first.locator("th a")
    name = item.inner_text().strip()
    item.click()
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator(".badge--below", has_text="Below threshold")).to_be_visible()
    item_charts = load_every_chart(page)
    assert all(c["width"] and c["alt"] for c in item_charts), item_charts
    shot(page, "item-below-threshold", full_page=True)

    number = open_action_to_assign(page, base)
    expect(page.locator("#status .loop__step--current")).to_have_text("Open")
    shot(page, "action-opened")

    assign = page.locator("#assign form")
    owner = assign.locator("select[name=owner_id]")
    owner_name = owner.locator("option").first.inner_text().strip()
    owner.select_option(index=0)
    due = date.today() + timedelta(days=30)
    assign.locator("input[name=due_date]").fill(due.isoformat())
    shot(page, "assign-filled")
    assign.get_by_role("button", name="Assign").click()
    expect(page.locator(".notice--success")).to_have_text("Owner and due date saved.")
    facts = page.locator("#status dl.facts")
    expect(facts).to_contain_text(owner_name)
    expect(facts).to_contain_text(str(due.year))
    events_before = history(page).count()
    assert events_before >= 1
    shot(page, "assigned")

    page.locator("#status").get_by_role("button", name="Start the investigation").click()
    expect(page.locator(".notice--success")).to_have_text(
        "The action is now: investigating.", ignore_case=True
    )
    expect(page.locator("#status .loop__step--current")).to_have_text(
        re.compile("investigating", re.IGNORECASE)
    )
    expect(history(page)).to_have_count(events_before + 1)
    expect(page.locator("#history")).to_contain_text(re.compile(r"Open → Investigating", re.I))
    assert page.url.split("#")[0].endswith(f"/actions/{number}")
    evidence_charts = load_every_chart(page)
    assert evidence_charts and all(c["width"] and c["alt"] for c in evidence_charts), (
        evidence_charts
    )
    shot(page, "moved-to-investigating", full_page=True)
