"""The respondent's journey in a real browser: a phone first, then a desk PC and 200% zoom.

Each test opens its own invitation link from the demo round (see conftest.py); screenshots of
the steps are written to test-artifacts/browser/<test name>/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, ZOOM_200
from tests.browser.survey_page import (
    TEXT,
    answer_the_rest,
    button,
    comment,
    follow_up,
    horizontal_overflow,
    progress_count,
    question,
    radio,
    uncovered,
)

REASON = "会议纪要下发太慢，影响贯彻落实。"


def _open(page: Page, link: str, locale: str) -> None:
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", TEXT[locale]["lang"])
    expect(page.locator("h1")).to_be_visible()
    assert horizontal_overflow(page) == 0


def _tap_some_ratings(page: Page, shot) -> None:
    radio(page, "doc_timeliness", 5).tap()
    radio(page, "doc_accuracy", 4).tap()
    expect(radio(page, "doc_timeliness", 5)).to_be_checked()
    expect(page.locator("#progress-count")).to_have_text("2")
    expect(follow_up(page, "doc_standards")).to_be_hidden()
    radio(page, "doc_standards", 2).tap()
    expect(follow_up(page, "doc_standards")).to_be_visible()
    comment(page, "doc_standards").fill(REASON)
    expect(page.locator("#progress-count")).to_have_text("3")
    expect(page.locator("#progress-bar")).to_have_attribute("value", "3")
    shot(page, "low-rating-asks-why")


def _answers_are_back(page: Page) -> None:
    expect(radio(page, "doc_timeliness", 5)).to_be_checked()
    expect(radio(page, "doc_accuracy", 4)).to_be_checked()
    expect(radio(page, "doc_standards", 2)).to_be_checked()
    expect(follow_up(page, "doc_standards")).to_be_visible()
    expect(comment(page, "doc_standards")).to_have_value(REASON)
    assert progress_count(page) == "3"


def test_respondent_saves_comes_back_and_submits_on_a_phone(new_page, invitation, shot):
    link, locale = invitation(), "zh-CN"
    page = new_page(locale, **PHONE)
    _open(page, link, locale)
    expect(page.locator("#progress-count")).to_have_text("0")
    shot(page, "opened")
    _tap_some_ratings(page, shot)
    button(page, locale, "save").tap()
    expect(page.locator(".notice--success")).to_contain_text(TEXT[locale]["saved"])
    shot(page, "saved")
    page.context.close()

    page = new_page(locale, **PHONE)
    _open(page, link, locale)
    _answers_are_back(page)
    shot(page, "restored-in-a-new-browser")
    assert answer_the_rest(page, tap=True) == 16
    page.locator("#q_comment").fill("希望继续保持，进一步提高办文效率。")
    expect(page.locator("#progress-count")).to_have_text("20")
    shot(page, "all-answered")
    button(page, locale, "submit").tap()
    expect(page.locator("h1")).to_have_text(TEXT[locale]["thanks"])
    assert page.url.endswith("/done")
    shot(page, "thank-you")
    page.goto(link)
    expect(page.locator("h1")).to_have_text(TEXT[locale]["already"])
    shot(page, "second-visit-already-submitted")


def test_answers_sent_after_the_session_ended_come_back_with_the_link(new_page, invitation, shot):
    link, locale = invitation(), "zh-CN"
    page = new_page(locale, **PHONE)
    _open(page, link, locale)
    _tap_some_ratings(page, shot)
    page.context.clear_cookies()  # the browser was restarted: the session is gone
    button(page, locale, "submit").tap()
    expect(page.locator("h1")).to_have_text("请重新打开您的个人链接")
    expect(page.locator(".notice--success")).to_contain_text("您填写的所有内容均已保存")
    assert horizontal_overflow(page) == 0
    shot(page, "session-ended-answers-saved")
    page.go_back()  # Back does not lose them either: the page asks for the link
    expect(page.locator("h1")).to_have_text("请重新打开您的个人链接")
    _open(page, link, locale)
    _answers_are_back(page)
    shot(page, "answers-back-after-opening-the-link")


def test_a_submit_from_a_second_device_first_shows_what_the_first_saved(new_page, invitation, shot):
    link, locale = invitation(), "en-US"
    phone, desk = new_page(locale, **PHONE), new_page(locale, **DESKTOP)
    _open(phone, link, locale)
    _open(desk, link, locale)  # opened before the phone saves
    phone.locator("#q_comment").fill("Please send meeting papers a day earlier.")
    button(phone, locale, "save").tap()
    expect(phone.locator(".notice--success")).to_contain_text(TEXT[locale]["saved"])
    answer_the_rest(desk)
    button(desk, locale, "submit").click()
    # Not submitted yet: the phone's comment is shown, and the page says where it came from.
    expect(desk.locator(".notice--warning")).to_contain_text("another device")
    expect(desk.locator("#q_comment")).to_have_value("Please send meeting papers a day earlier.")
    expect(desk.locator("#progress-count")).to_have_text("20")
    shot(desk, "second-device-shown-the-first-devices-answers")
    desk.set_viewport_size(PHONE["viewport"])
    assert horizontal_overflow(desk) == 0
    shot(desk, "second-device-notice-at-phone-size")
    button(desk, locale, "submit").click()
    expect(desk.locator("h1")).to_have_text(TEXT[locale]["thanks"])


def test_an_old_tab_sent_after_the_link_was_opened_again_keeps_its_answers(
    new_page, invitation, shot
):
    link, locale = invitation(), "en-US"
    old_tab = new_page(locale, **PHONE)
    _open(old_tab, link, locale)
    _tap_some_ratings(old_tab, shot)
    old_tab.context.clear_cookies()  # the browser was restarted...
    new_tab = old_tab.context.new_page()
    _open(new_tab, link, locale)  # ...and the link opened again: a new session
    new_tab.close()
    button(old_tab, locale, "submit").tap()  # the old tab's form carries the old session's token
    expect(old_tab.locator(".notice--warning")).to_contain_text("Everything you typed is saved")
    _answers_are_back(old_tab)
    assert horizontal_overflow(old_tab) == 0
    shot(old_tab, "old-tab-answers-saved-check-and-submit")


def test_rating_with_the_keyboard_only(new_page, invitation, shot):
    page = new_page("en-US", **PHONE)
    _open(page, invitation(), "en-US")
    first = radio(page, "doc_timeliness", 1)
    for _ in range(10):  # skip link, header links, then the first rating group
        page.keyboard.press("Tab")
        if first.evaluate("r => r === document.activeElement"):
            break
    expect(first).to_be_focused()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    expect(follow_up(page, "doc_timeliness")).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    expect(radio(page, "doc_timeliness", 4)).to_be_checked()
    expect(follow_up(page, "doc_timeliness")).to_be_hidden()
    assert (
        page.evaluate("getComputedStyle(document.activeElement.nextElementSibling).outlineStyle")
        == "solid"
    ), "the focused rating shows no focus ring"
    shot(page, "keyboard-focus-on-4")
    page.keyboard.press("Tab")  # the hidden "why" box is skipped: next question
    page.keyboard.press("ArrowRight")
    expect(radio(page, "doc_accuracy", 2)).to_be_checked()
    page.keyboard.press("Tab")  # a low rating opened the "why" box: it is next
    page.keyboard.type("Two drafts came back late.")
    expect(comment(page, "doc_accuracy")).to_have_value("Two drafts came back late.")
    expect(page.locator("#progress-count")).to_have_text("2")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_submit_with_questions_left_shows_what_is_missing(locale, new_page, invitation, shot):
    page = new_page(locale, **PHONE)
    _open(page, invitation(), locale)
    radio(page, "doc_timeliness", 1).tap()
    comment(page, "doc_timeliness").fill(REASON)
    button(page, locale, "submit").tap()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(TEXT[locale]["summary"])
    assert uncovered(summary.get_by_role("heading")), "the summary's heading is hidden"
    expect(summary.get_by_role("link")).to_have_count(18)  # every radio group but the answered one
    expect(question(page, "doc_accuracy").locator(".field-error")).to_have_text(
        re.compile(re.escape(TEXT[locale]["required"]) + "$")
    )
    expect(question(page, "doc_timeliness").locator(".field-error")).to_have_count(0)
    expect(radio(page, "doc_timeliness", 1)).to_be_checked()  # nothing typed is lost
    expect(comment(page, "doc_timeliness")).to_have_value(REASON)
    shot(page, "error-summary")
    summary.get_by_role("link").nth(1).tap()
    expect(question(page, "doc_standards")).to_be_in_viewport()
    # doc_standards is a row of the document grid: its text is the row's, not a legend.
    row_text = question(page, "doc_standards").locator(".grid__row-text")
    assert uncovered(row_text), "question hidden"
    shot(page, "error-next-to-question")


def test_desktop_shows_the_scale_in_one_row(new_page, invitation, shot):
    page = new_page("en-US", **DESKTOP)
    _open(page, invitation(), "en-US")
    tops = {
        round(radio(page, "doc_timeliness", v).locator("..").bounding_box()["y"])
        for v in range(1, 6)
    }
    assert len(tops) == 1, "the five points of a rating should stand side by side"
    shot(page, "survey", full_page=True)
    radio(page, "doc_timeliness", 2).click()
    expect(follow_up(page, "doc_timeliness")).to_be_visible()
    expect(button(page, "en-US", "submit")).to_be_visible()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_at_200_percent_zoom_nothing_overflows_and_submit_is_reachable(
    locale, new_page, invitation, shot
):
    page = new_page(locale, **ZOOM_200)
    _open(page, invitation(), locale)
    submit = button(page, locale, "submit")
    submit.scroll_into_view_if_needed()
    box = submit.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 640
    assert uncovered(submit), "something covers the submit button"
    assert horizontal_overflow(page) == 0
    shot(page, "submit-button")
    submit.focus()
    expect(submit).to_be_focused()
