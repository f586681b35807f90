"""axe-core on the respondent's pages: no violation of impact "serious" or "critical".

Each run prints axe's summary (`rule (impact) : nodes`) and writes the full report next to the
screenshots, as test-artifacts/browser/axe-<page>.txt.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.survey_page import TEXT, answer_the_rest, button

BLOCKING = {"serious", "critical"}


def assert_accessible(page: Page, name: str) -> None:
    results = Axe().run(page)
    violations = results.response["violations"]
    (ARTIFACTS / f"axe-{name}.txt").write_text(results.generate_report(), encoding="utf-8")
    print(f"axe {name} ({page.url}): {len(violations)} violation(s)")
    print(results.generate_snapshot() or "  none")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, "\n" + "\n".join(
        results.generate_report(violation_id=v["id"]) for v in blocking
    )


@pytest.mark.parametrize(
    ("locale", "screen"), [("zh-CN", PHONE), ("en-US", DESKTOP)], ids=["zh-phone", "en-desktop"]
)
def test_fresh_survey_page_is_accessible(locale, screen, new_page, invitation):
    page = new_page(locale, **screen)
    page.goto(invitation())
    page.locator(".scale__input").first.check()  # a low rating: the "why" box shows too
    assert_accessible(page, f"survey-{locale}")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_survey_page_with_errors_is_accessible(locale, new_page, invitation):
    page = new_page(locale, **PHONE)
    page.goto(invitation())
    button(page, locale, "submit").click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, f"survey-errors-{locale}")


def test_confirmation_and_already_submitted_pages_are_accessible(new_page, invitation):
    link, locale = invitation(), "zh-CN"
    page = new_page(locale, **PHONE)
    page.goto(link)
    answer_the_rest(page)
    button(page, locale, "submit").click()
    expect(page.locator("h1")).to_have_text(TEXT[locale]["thanks"])
    assert_accessible(page, "thank-you")
    page.goto(link)
    expect(page.locator("h1")).to_have_text(TEXT[locale]["already"])
    assert_accessible(page, "already-submitted")
