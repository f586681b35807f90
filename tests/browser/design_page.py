"""What the browser tests of the staff's pages share: a flashed notice, a form's button, and a
scale made in the office's library (in English: the tests' pages are asked for in en-US)."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def notice(page: Page, text: str) -> None:
    """The page shows a flashed message (or other notice) with this text."""
    expect(page.locator(".notice").filter(has_text=text).first).to_be_visible()


def submit(page: Page, label: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def fill_library_scale(
    page: Page,
    base: str,
    code: str,
    names: tuple[str, str],
    points: list[tuple[str, str]],
    low: tuple[int, ...],
    satisfied: tuple[int, ...],
) -> None:
    """Open the library's "New scale" form and fill it in: the code, the name in Chinese and
    English, each point's two labels, and which points count as low and as satisfied."""
    page.goto(f"{base}/design/scales")
    page.get_by_role("link", name="New scale").click()
    page.locator("input[name=code]").fill(code)
    page.locator("input[name=name_zh]").fill(names[0])
    page.locator("input[name=name_en]").fill(names[1])
    for i, (zh, en) in enumerate(points):
        page.get_by_label(f"Chinese label of point {i + 1}", exact=True).fill(zh)
        page.get_by_label(f"English label of point {i + 1}", exact=True).fill(en)
    for point in low:
        page.get_by_label(f"What point {point} counts as").select_option("low")
    for point in satisfied:
        page.get_by_label(f"What point {point} counts as").select_option("satisfied")
