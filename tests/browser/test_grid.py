"""A grid in a real browser: stacked groups tapped on a phone, a table answered by keyboard on a
desk. The office survey asks its four document items as the grid doc_aspects."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.survey_page import (
    TEXT,
    answer_the_rest,
    button,
    comment,
    follow_up,
    horizontal_overflow,
    radio,
)

GRID = "#question-doc_aspects"
GRID_TEXT = {
    "zh-CN": "请对我办公文处理的以下各方面作出评价",
    "en-US": "Please rate each of these aspects of the office's document processing",
}


def row_group(page: Page, locale: str, row_text: str):
    """A grid row as a screen reader finds it: a radio group named by the grid and the row."""
    return page.get_by_role("radiogroup", name=f"{GRID_TEXT[locale]} {row_text}")


def test_a_phone_shows_each_row_as_its_own_group_of_labelled_points(new_page, invitation, shot):
    locale = "zh-CN"
    page = new_page(locale, **PHONE)
    page.goto(invitation())
    expect(page.locator(f"{GRID} .grid__head")).to_be_hidden()
    row = row_group(page, locale, "公文审核把关的准确性")
    expect(row).to_be_visible()
    # The points are stacked one under the other, each with its label, as large targets.
    first, second = row.locator(".scale__point").nth(0), row.locator(".scale__point").nth(1)
    expect(first).to_contain_text("很不满意")
    assert first.bounding_box()["y"] + first.bounding_box()["height"] <= second.bounding_box()["y"]
    assert first.bounding_box()["height"] >= 44
    assert horizontal_overflow(page) == 0
    radio(page, "doc_accuracy", 1).tap()
    expect(follow_up(page, "doc_accuracy")).to_be_visible()
    expect(follow_up(page, "doc_timeliness")).to_be_hidden()
    comment(page, "doc_accuracy").fill("数字有误")
    shot(page, "grid-phone")
    row.scroll_into_view_if_needed()
    shot(page, "grid-phone-row")
    answer_the_rest(page, tap=True)
    button(page, locale, "submit").click()
    expect(page.locator("h1")).to_have_text(TEXT[locale]["thanks"])


def test_a_desk_shows_a_table_answered_by_keyboard(new_page, invitation, shot):
    locale = "en-US"
    page = new_page(locale, **DESKTOP)
    page.goto(invitation())
    head = page.locator(f"{GRID} .grid__head")
    expect(head).to_be_visible()
    # Each point's column head stands above that point's radio in every row.
    column = head.locator(".grid__column").nth(3).bounding_box()
    cell = page.locator("#question-doc_standards .scale__point").nth(3).bounding_box()
    assert abs((column["x"] + column["width"] / 2) - (cell["x"] + cell["width"] / 2)) < 2
    # The cells' own labels are there for screen readers only (clipped to a pixel).
    assert page.locator("#question-doc_standards .scale__label").first.bounding_box()["width"] <= 1

    # Arrow keys choose a point within a row, Tab goes on to the next row.
    radio(page, "doc_timeliness", 1).focus()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(radio(page, "doc_timeliness", 4)).to_be_checked()
    page.keyboard.press("Tab")
    expect(radio(page, "doc_accuracy", 1)).to_be_focused()
    page.keyboard.press("Space")  # very dissatisfied: the row's "why" box opens after it
    expect(follow_up(page, "doc_accuracy")).to_be_visible()
    page.keyboard.press("Tab")
    expect(comment(page, "doc_accuracy")).to_be_focused()
    page.keyboard.type("Figures were wrong")
    page.keyboard.press("Tab")
    expect(radio(page, "doc_standards", 1)).to_be_focused()
    expect(row_group(page, locale, "Conformity of documents")).to_have_count(1)
    shot(page, "grid-desk")

    # A row left open is reported on that row, and what was chosen stays.
    button(page, locale, "submit").click()
    expect(page.locator("#error-summary")).to_contain_text("Conformity of documents")
    expect(page.locator("#question-doc_standards")).to_have_class(
        "question grid__row question--error"
    )
    expect(radio(page, "doc_timeliness", 4)).to_be_checked()
    expect(comment(page, "doc_accuracy")).to_have_value("Figures were wrong")
    page.locator(GRID).scroll_into_view_if_needed()
    shot(page, "grid-desk-errors")
